//! Yen amounts: parsing what residents type (`１，０００円`, `¥1,000`,
//! `12万3000円`, `1億`) and formatting (`1,234,567円`, `¥1,234,567`).

use thiserror::Error;

use crate::width::{is_dash, normalize_width};

/// The largest accepted amount: 10^15 yen (1000兆円).
pub const MAX_YEN: i64 = 1_000_000_000_000_000;

/// Why an amount was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum YenError {
    /// Nothing was entered.
    #[error("the amount is empty")]
    Empty,
    /// Not an amount: letters, misplaced symbols, bad digit grouping.
    #[error("the amount is not a number")]
    Invalid,
    /// A minus sign (`-`, `−`, `▲`, `△`) was entered.
    #[error("the amount must not be negative")]
    Negative,
    /// More than 10^15 yen.
    #[error("the amount is too large")]
    TooLarge,
    /// Has a decimal point (amounts are whole yen).
    #[error("the amount must be a whole number of yen")]
    NotInteger,
}

impl YenError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            YenError::Empty => "yen.empty",
            YenError::Invalid => "yen.invalid",
            YenError::Negative => "yen.negative",
            YenError::TooLarge => "yen.too_large",
            YenError::NotInteger => "yen.not_integer",
        }
    }

    /// The placeholder values for the message (none of the yen messages
    /// has placeholders).
    pub fn args(&self) -> Vec<(&'static str, String)> {
        vec![]
    }
}

fn strip_yen_sign(s: &str) -> Option<&str> {
    s.strip_prefix(['¥', '￥', '\\'])
}

fn is_minus(c: char) -> bool {
    is_dash(c) || matches!(c, 'ー' | '▲' | '△')
}

/// Significant digits beyond which a part is certainly too large.
const MAX_PART_DIGITS: usize = 20;

/// Parses digits with optional thousands separators (`1,234`).
fn parse_part(part: &str) -> Result<u128, YenError> {
    if part.is_empty() {
        return Err(YenError::Invalid);
    }
    if let Some((whole, fraction)) = part.split_once('.') {
        // A decimal such as `1,000.50` or `1.5`: say so rather than
        // "not a number".
        let whole_ok = parse_part(whole).is_ok_or_too_large();
        let fraction_ok = !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit());
        return Err(if whole_ok && fraction_ok {
            YenError::NotInteger
        } else {
            YenError::Invalid
        });
    }
    let digits: String = if part.contains(',') {
        let mut groups = part.split(',');
        let first = groups.next().unwrap_or_default();
        if first.is_empty() || first.len() > 3 || groups.clone().any(|g| g.len() != 3) {
            return Err(YenError::Invalid);
        }
        part.chars().filter(|&c| c != ',').collect()
    } else {
        part.to_string()
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(YenError::Invalid);
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > MAX_PART_DIGITS {
        return Err(YenError::TooLarge);
    }
    if significant.is_empty() {
        return Ok(0);
    }
    significant.parse().map_err(|_| YenError::Invalid)
}

trait OkOrTooLarge {
    fn is_ok_or_too_large(&self) -> bool;
}

impl OkOrTooLarge for Result<u128, YenError> {
    fn is_ok_or_too_large(&self) -> bool {
        matches!(self, Ok(_) | Err(YenError::TooLarge))
    }
}

/// Splits `s` at the single occurrence of `unit`: `(Some(before), after)`,
/// or `(None, s)` without it. Two occurrences are invalid.
fn split_unit(s: &str, unit: char) -> Result<(Option<&str>, &str), YenError> {
    match s.split_once(unit) {
        Some((_, after)) if after.contains(unit) => Err(YenError::Invalid),
        Some(("", _)) => Err(YenError::Invalid),
        Some((before, after)) => Ok((Some(before), after)),
        None => Ok((None, s)),
    }
}

/// Parses an amount without sign or currency marks: `[A億][B万][C]`.
fn parse_unsigned(s: &str) -> Result<u128, YenError> {
    const MAN: u128 = 10_000;
    const OKU: u128 = 100_000_000;
    let (oku, rest) = split_unit(s, '億')?;
    let (man, rest) = split_unit(rest, '万')?;
    let oku = oku.map(parse_part).transpose()?;
    let man = man.map(parse_part).transpose()?;
    let ones = if rest.is_empty() && (oku.is_some() || man.is_some()) {
        0
    } else {
        parse_part(rest)?
    };
    // Below a unit, each part must be smaller than that unit:
    // `1億2000万` is fine, `1億20000万` and `12万30000` are not.
    if man.is_some() && ones >= MAN {
        return Err(YenError::Invalid);
    }
    if oku.is_some() && (man.is_some_and(|m| m >= MAN) || ones >= OKU) {
        return Err(YenError::Invalid);
    }
    Ok(oku.unwrap_or(0) * OKU + man.unwrap_or(0) * MAN + ones)
}

/// Parses a yen amount.
///
/// Accepts `1000`, `1,000`, `１，０００円`, `¥1,000`, `￥1,000`, `1000円`,
/// `12万3000円`, `12万円`, `1億`, `1億2000万円` (spaces are ignored).
/// Rejects negative amounts ([`YenError::Negative`]), decimals
/// ([`YenError::NotInteger`]), amounts above 10^15 yen
/// ([`YenError::TooLarge`]) and anything else ([`YenError::Invalid`]).
///
/// ```
/// use jp::yen::parse_yen;
/// assert_eq!(parse_yen("１，０００円"), Ok(1000));
/// assert_eq!(parse_yen("12万3000円"), Ok(123_000));
/// assert!(parse_yen("-500").is_err());
/// ```
pub fn parse_yen(s: &str) -> Result<i64, YenError> {
    let compact: String = normalize_width(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(YenError::Empty);
    }
    let mut rest = compact.as_str();
    let mut had_sign = false;
    if let Some(r) = strip_yen_sign(rest) {
        rest = r;
        had_sign = true;
    }
    let negative = rest.starts_with(is_minus);
    if negative {
        rest = rest.trim_start_matches(is_minus);
        if !had_sign {
            rest = strip_yen_sign(rest).unwrap_or(rest);
        }
    }
    let body = rest.strip_suffix('円').unwrap_or(rest);
    if body.is_empty() {
        return Err(YenError::Invalid);
    }
    let value = parse_unsigned(body);
    if negative {
        return Err(match value {
            Err(YenError::Invalid) => YenError::Invalid,
            _ => YenError::Negative,
        });
    }
    let value = value?;
    if value > MAX_YEN as u128 {
        return Err(YenError::TooLarge);
    }
    i64::try_from(value).map_err(|_| YenError::TooLarge)
}

/// Groups the digits of `v` with commas: `1234567` → `1,234,567`.
fn group_thousands(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats an amount in Japanese notation: `1,234,567円` (negative amounts
/// as `-1,234,567円`).
pub fn format_yen(v: i64) -> String {
    format!("{}円", group_thousands(v))
}

/// Formats an amount in English notation: `¥1,234,567` (negative amounts
/// as `-¥1,234,567`).
pub fn format_yen_en(v: i64) -> String {
    let grouped = group_thousands(v);
    match grouped.strip_prefix('-') {
        Some(abs) => format!("-¥{abs}"),
        None => format!("¥{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (s, v) in [
            ("1000", 1000),
            ("1,000", 1000),
            ("１，０００円", 1000),
            ("¥1,000", 1000),
            ("￥1,000", 1000),
            ("\\1,000", 1000),
            ("1000円", 1000),
            ("1,000 円", 1000),
            (" ￥ １，０００ ", 1000),
            ("12万3000円", 123_000),
            ("12万円", 120_000),
            ("12万", 120_000),
            ("１２万３，０００円", 123_000),
            ("1億", 100_000_000),
            ("1億円", 100_000_000),
            ("1億2000万円", 120_000_000),
            ("1億2000万3000円", 120_003_000),
            ("1億5000", 100_005_000),
            ("1,000万円", 10_000_000),
            ("0", 0),
            ("0円", 0),
            ("007", 7),
            ("1234567", 1_234_567),
            ("1,234,567", 1_234_567),
            ("10000000億", 1_000_000_000_000_000),
            ("1000000000000000", MAX_YEN),
        ] {
            assert_eq!(parse_yen(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn rejections() {
        assert_eq!(parse_yen(""), Err(YenError::Empty));
        assert_eq!(parse_yen("　"), Err(YenError::Empty));
        for s in [
            "-1000",
            "−1,000円",
            "▲1,000",
            "△500",
            "¥-1000",
            "-¥1,000",
            "－１０００",
        ] {
            assert_eq!(parse_yen(s), Err(YenError::Negative), "{s}");
        }
        for s in ["1000.5", "1,000.50円", "1.5万", "０．５"] {
            assert_eq!(parse_yen(s), Err(YenError::NotInteger), "{s}");
        }
        for s in [
            "1000000000000001",
            "10000001億",
            "99999999999999999999999999999999999999999",
            "1億1億",
        ] {
            assert!(parse_yen(s).is_err(), "{s}");
        }
        assert_eq!(parse_yen("1000000000000001"), Err(YenError::TooLarge));
        assert_eq!(parse_yen("10000001億"), Err(YenError::TooLarge));
        assert_eq!(
            parse_yen("99999999999999999999999999999999999999999"),
            Err(YenError::TooLarge)
        );
        for s in [
            "abc",
            "1000yen",
            "1000ドル",
            "円",
            "¥",
            "万",
            "万円",
            "億",
            "1万2億",
            "1万1万",
            "1億1億",
            "12万30000",
            "1億20000万",
            "1,00",
            "10,000,00",
            ",100",
            "1,,000",
            "1000,",
            "+1000",
            "1000円円",
            "円1000",
            "1000¥",
            "1.2.3",
            "1.",
            ".5",
            "-abc",
            "😀",
            "1e3",
            "12 万 3000 円 也",
        ] {
            assert_eq!(parse_yen(s), Err(YenError::Invalid), "{s}");
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format_yen(1_234_567), "1,234,567円");
        assert_eq!(format_yen(0), "0円");
        assert_eq!(format_yen(999), "999円");
        assert_eq!(format_yen(1000), "1,000円");
        assert_eq!(format_yen(-1000), "-1,000円");
        assert_eq!(format_yen(i64::MIN), "-9,223,372,036,854,775,808円");
        assert_eq!(format_yen(i64::MAX), "9,223,372,036,854,775,807円");
        assert_eq!(format_yen_en(1_234_567), "¥1,234,567");
        assert_eq!(format_yen_en(-5), "-¥5");
        assert_eq!(format_yen_en(100), "¥100");
    }

    #[test]
    fn format_then_parse_round_trips() {
        for v in [0, 1, 12, 123, 1234, 12_345, 1_234_567, MAX_YEN] {
            assert_eq!(parse_yen(&format_yen(v)), Ok(v));
            assert_eq!(parse_yen(&format_yen_en(v)), Ok(v));
        }
    }
}
