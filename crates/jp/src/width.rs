//! Character-width normalisation.
//!
//! Japanese input methods often produce full-width ASCII (`１２３`, `Ｒ`,
//! `－`) and the ideographic space `U+3000`. [`normalize_width`] folds these
//! to ASCII; [`digits_only`] extracts the digits of an identifier typed with
//! spaces and hyphens.

/// Converts full-width ASCII (`U+FF01..=U+FF5E`) to ASCII and the
/// ideographic space `U+3000` to an ASCII space. Everything else is kept
/// as is.
///
/// ```
/// assert_eq!(jp::width::normalize_width("ＡＢＣ　１２３－４"), "ABC 123-4");
/// assert_eq!(jp::width::normalize_width("カナ"), "カナ");
/// ```
pub fn normalize_width(s: &str) -> String {
    s.chars().map(normalize_char).collect()
}

/// Width normalisation of a single character (see [`normalize_width`]).
pub(crate) fn normalize_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Returns true for the hyphen and dash characters residents type between
/// digit groups, except `ー` (U+30FC), which is only a separator between
/// digits (see [`is_separator_at`]).
pub(crate) fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' // ‐ hyphen
            | '\u{2011}' // ‑ non-breaking hyphen
            | '\u{2012}' // ‒ figure dash
            | '\u{2013}' // – en dash
            | '\u{2014}' // — em dash
            | '\u{2015}' // ― horizontal bar
            | '\u{2212}' // − minus sign (macOS IME's full-width hyphen)
            | '\u{FE63}' // ﹣ small hyphen-minus
            | '\u{FF0D}' // － full-width hyphen-minus
            | '\u{FF70}' // ｰ half-width prolonged sound mark
    )
}

/// The nearest non-whitespace neighbours of `chars[i]` are both ASCII
/// digits.
fn between_digits(chars: &[char], i: usize) -> bool {
    let before = chars
        .get(..i)
        .and_then(|head| head.iter().rev().find(|c| !c.is_whitespace()));
    let after = chars
        .get(i + 1..)
        .and_then(|rest| rest.iter().find(|c| !c.is_whitespace()));
    matches!((before, after), (Some(b), Some(a)) if b.is_ascii_digit() && a.is_ascii_digit())
}

/// Whether `chars[i]` is a hyphen-like separator: any [`is_dash`]
/// character, or the katakana prolonged sound mark `ー` when it stands
/// between digits (a common typing slip for a hyphen).
pub(crate) fn is_separator_at(chars: &[char], i: usize) -> bool {
    match chars.get(i) {
        Some(&c) if is_dash(c) => true,
        Some('\u{30FC}') => between_digits(chars, i),
        _ => false,
    }
}

/// Width-normalises `s` and replaces every hyphen-like separator (see
/// [`is_separator_at`]) with an ASCII `-`.
pub(crate) fn normalize_dashes(s: &str) -> String {
    let chars: Vec<char> = s.chars().map(normalize_char).collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if is_separator_at(&chars, i) { '-' } else { c })
        .collect()
}

/// After width normalisation, keeps only the ASCII digits, dropping
/// spaces, hyphens (`-`, `‐`, `‑`, `–`, `—`, `－`, `ｰ`, and `ー` between
/// digits), the postal mark `〒` and anything else.
///
/// This is a lenient helper; the identifier parsers in this crate reject
/// letters and other symbols instead of dropping them.
///
/// ```
/// assert_eq!(jp::width::digits_only("〒５１４－８５７０"), "5148570");
/// assert_eq!(jp::width::digits_only("1234 5678 9018"), "123456789018");
/// ```
pub fn digits_only(s: &str) -> String {
    s.chars()
        .map(normalize_char)
        .filter(char::is_ascii_digit)
        .collect()
}

/// Why a string could not be read as a run of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigitsError {
    /// Nothing but whitespace.
    Empty,
    /// A letter or symbol other than the allowed separators, or no digit at
    /// all.
    NotDigits,
}

/// Strict digit extraction for identifiers: after width normalisation and
/// trimming, allows ASCII digits, whitespace and hyphen-like separators
/// (and, when `postal_mark` is true, one leading `〒`); anything else is
/// rejected. Returns the digits.
pub(crate) fn strict_digits(s: &str, postal_mark: bool) -> Result<String, DigitsError> {
    let normalized = normalize_width(s);
    let mut trimmed = normalized.trim();
    if trimmed.is_empty() {
        return Err(DigitsError::Empty);
    }
    if postal_mark && let Some(rest) = trimmed.strip_prefix('〒') {
        trimmed = rest.trim_start();
        if trimmed.is_empty() {
            return Err(DigitsError::Empty);
        }
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let mut any_digit = false;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            any_digit = true;
        } else if !(c.is_whitespace() || is_separator_at(&chars, i)) {
            return Err(DigitsError::NotDigits);
        }
    }
    if !any_digit {
        return Err(DigitsError::NotDigits);
    }
    Ok(digits_only(trimmed))
}

/// Converts a string of ASCII digits to their numeric values.
pub(crate) fn digit_values(digits: &str) -> Vec<u8> {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_full_width_ascii_and_ideographic_space() {
        assert_eq!(normalize_width("！～"), "!~");
        assert_eq!(normalize_width("Ｒ７．４．１"), "R7.4.1");
        assert_eq!(normalize_width("山田　太郎"), "山田 太郎");
        assert_eq!(normalize_width(""), "");
        assert_eq!(normalize_width("ｶﾀｶﾅ😀"), "ｶﾀｶﾅ😀");
    }

    #[test]
    fn digits_only_drops_separators() {
        assert_eq!(digits_only("〒514-8570"), "5148570");
        assert_eq!(digits_only("514‐8570"), "5148570");
        assert_eq!(digits_only("514ー8570"), "5148570");
        assert_eq!(digits_only("５１４ｰ８５７０"), "5148570");
        assert_eq!(digits_only("1234–5678—9018"), "123456789018");
        assert_eq!(digits_only(""), "");
    }

    #[test]
    fn strict_digits_rejects_letters() {
        assert_eq!(strict_digits("1234-5678", false), Ok("12345678".into()));
        assert_eq!(strict_digits("12ー34", false), Ok("1234".into()));
        assert_eq!(strict_digits("12 ー 34", false), Ok("1234".into()));
        assert_eq!(strict_digits("ー1234", false), Err(DigitsError::NotDigits));
        assert_eq!(strict_digits("12a34", false), Err(DigitsError::NotDigits));
        assert_eq!(strict_digits("12.34", false), Err(DigitsError::NotDigits));
        assert_eq!(strict_digits(" 　", false), Err(DigitsError::Empty));
        assert_eq!(strict_digits("--", false), Err(DigitsError::NotDigits));
        assert_eq!(
            strict_digits("〒1234567", false),
            Err(DigitsError::NotDigits)
        );
        assert_eq!(strict_digits("〒 123-4567", true), Ok("1234567".into()));
        assert_eq!(
            strict_digits("123〒4567", true),
            Err(DigitsError::NotDigits)
        );
    }

    #[test]
    fn dashes_are_normalized_only_between_digits_for_choonpu() {
        assert_eq!(normalize_dashes("2025ー04ー01"), "2025-04-01");
        assert_eq!(normalize_dashes("ラーメン"), "ラーメン");
        assert_eq!(normalize_dashes("1－2−3"), "1-2-3");
    }
}
