//! Text normalisation for matching: NFKC, lowercase, katakana folded to
//! hiragana, whitespace collapsed; and the substring scan that scores
//! occurrences.

use unicode_normalization::UnicodeNormalization;

/// Separates values and fields in normalised text; never occurs inside it
/// because normalisation turns control characters into spaces.
pub(super) const SEP: char = '\u{1f}';

/// Katakana to hiragana, so `コウエン` and `こうえん` are the same.
fn fold_kana(c: char) -> char {
    let u = c as u32;
    if (0x30A1..=0x30F6).contains(&u) || u == 0x30FD || u == 0x30FE {
        char::from_u32(u - 0x60).unwrap_or(c)
    } else {
        c
    }
}

fn fold_into(out: &mut String, chars: impl Iterator<Item = char>, trim: bool) {
    let mut space = false;
    for c in chars {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && (!trim || !out.is_empty()) {
            out.push(' ');
        }
        space = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            for l in c.to_lowercase() {
                out.push(fold_kana(l));
            }
        }
    }
    if space && !trim {
        out.push(' ');
    }
}

/// Normalises text for free-text matching: NFKC, lowercase, katakana folded
/// to hiragana, runs of whitespace and control characters collapsed to one
/// space (and trimmed when `trim`).
pub(super) fn norm_text(s: &str, trim: bool) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        fold_into(&mut out, s.chars(), trim);
    } else {
        fold_into(&mut out, s.nfkc(), trim);
    }
    out
}

/// NFKC only: how exact-match (Solr `string`) fields are compared.
pub(super) fn nfkc(s: &str) -> String {
    if s.is_ascii() {
        s.to_owned()
    } else {
        s.nfkc().collect()
    }
}

/// Shortens user input quoted in an error message.
pub(super) fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

/// Calls `f` with the byte offset of every non-overlapping occurrence of
/// `needle` in `hay`. Jumps between occurrences of the needle's first
/// character, which `str::find(char)` locates with a fast byte scan.
pub(super) fn for_each_match(hay: &str, needle: &str, mut f: impl FnMut(usize)) {
    let Some(first) = needle.chars().next() else {
        return;
    };
    let mut from = 0;
    while let Some(rest) = hay.get(from..)
        && let Some(i) = rest.find(first)
    {
        let at = from + i;
        if hay.get(at..).is_some_and(|h| h.starts_with(needle)) {
            f(at);
            from = at + needle.len();
        } else {
            from = at + first.len_utf8();
        }
    }
}
