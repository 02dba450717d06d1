//! The Japanese era calendar (和暦).
//!
//! Supported eras are 明治 (from 1873-01-01, when Japan adopted the
//! Gregorian calendar), 大正, 昭和, 平成 and 令和. [`parse_date`] accepts the
//! era and Western notations residents commonly type; the `format_*`
//! functions produce the notations used on notices.
//!
//! Dates are supported from 1873-01-01 to 9999-12-31, both for era and
//! Western input.

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

use crate::width::{normalize_dashes, normalize_width};

/// Builds a date in a constant context (evaluated at compile time, so an
/// invalid constant is a compile error, never a runtime panic).
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date constant"),
    }
}

/// The first supported date: Japan adopted the Gregorian calendar on
/// 明治6年1月1日 (1873-01-01). Earlier dates are rejected by [`parse_date`].
pub const FIRST_SUPPORTED_DATE: NaiveDate = ymd(1873, 1, 1);

/// The last supported date.
pub const LAST_SUPPORTED_DATE: NaiveDate = ymd(9999, 12, 31);

/// A Japanese era (元号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    /// 明治 (supported from 1873-01-01).
    Meiji,
    /// 大正.
    Taisho,
    /// 昭和.
    Showa,
    /// 平成.
    Heisei,
    /// 令和.
    Reiwa,
}

impl Era {
    /// All supported eras, oldest first.
    pub const ALL: [Era; 5] = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// The era name in kanji, e.g. `"令和"`.
    pub fn name_ja(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The era name in Latin letters, e.g. `"Reiwa"`.
    pub fn name_en(self) -> &'static str {
        match self {
            Era::Meiji => "Meiji",
            Era::Taisho => "Taisho",
            Era::Showa => "Showa",
            Era::Heisei => "Heisei",
            Era::Reiwa => "Reiwa",
        }
    }

    /// The one-letter abbreviation, e.g. `'R'` (as in `R7.4.1`).
    pub fn initial(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// The one-kanji abbreviation, e.g. `'令'` (as in `令7.4.1`).
    pub fn abbreviation_ja(self) -> char {
        match self {
            Era::Meiji => '明',
            Era::Taisho => '大',
            Era::Showa => '昭',
            Era::Heisei => '平',
            Era::Reiwa => '令',
        }
    }

    /// The first supported day of the era. For 明治 this is 1873-01-01
    /// (Gregorian calendar adoption), not the historical start of the era.
    pub fn start(self) -> NaiveDate {
        match self {
            Era::Meiji => FIRST_SUPPORTED_DATE,
            Era::Taisho => ymd(1912, 7, 30),
            Era::Showa => ymd(1926, 12, 25),
            Era::Heisei => ymd(1989, 1, 8),
            Era::Reiwa => ymd(2019, 5, 1),
        }
    }

    /// The last day of the era, or `None` for the current era.
    pub fn end(self) -> Option<NaiveDate> {
        match self {
            Era::Meiji => Some(ymd(1912, 7, 29)),
            Era::Taisho => Some(ymd(1926, 12, 24)),
            Era::Showa => Some(ymd(1989, 1, 7)),
            Era::Heisei => Some(ymd(2019, 4, 30)),
            Era::Reiwa => None,
        }
    }

    /// The Western year of the era's first year (元年), e.g. 2019 for 令和.
    pub fn first_year(self) -> i32 {
        match self {
            Era::Meiji => 1868,
            Era::Taisho => 1912,
            Era::Showa => 1926,
            Era::Heisei => 1989,
            Era::Reiwa => 2019,
        }
    }

    /// The era in force on `date`, or `None` before 1873-01-01.
    pub fn of(date: NaiveDate) -> Option<Era> {
        Era::ALL
            .iter()
            .rev()
            .copied()
            .find(|era| era.start() <= date)
    }

    /// Whether `date` lies within the era's supported range.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start() <= date && self.end().is_none_or(|end| date <= end)
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name_ja())
    }
}

/// Why a date could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DateError {
    /// Nothing was entered.
    #[error("the date is empty")]
    Empty,
    /// Not a recognised date notation.
    #[error("the date is not in a recognised format")]
    InvalidFormat,
    /// The notation is fine but no such day exists (month 13, day 32,
    /// 29 February in a common year…).
    #[error("there is no such date")]
    NoSuchDate {
        /// The date as it was understood, e.g. `令和5年2月29日`.
        date: String,
    },
    /// Year 0 of an era (the first year is 元年 or 1).
    #[error("era years start at 1")]
    EraYearZero {
        /// The era that was entered.
        era: Era,
    },
    /// The date is before the first day of the era that was entered.
    #[error("the date is before the start of the {} era", .era.name_en())]
    BeforeEraStart {
        /// The era that was entered.
        era: Era,
        /// The first day of that era.
        first: NaiveDate,
        /// The date that was entered (to show it in the correct era).
        suggestion: NaiveDate,
    },
    /// The date is after the last day of the era that was entered.
    #[error("the {} era had already ended on that date", .era.name_en())]
    EraEnded {
        /// The era that was entered.
        era: Era,
        /// The last day of that era.
        last: NaiveDate,
        /// The date that was entered (to show it in the correct era).
        suggestion: NaiveDate,
    },
    /// Before 1873-01-01 (Gregorian calendar adoption).
    #[error("dates before 1873-01-01 are not supported")]
    TooEarly,
    /// After 9999-12-31.
    #[error("dates after 9999-12-31 are not supported")]
    TooLate,
}

impl DateError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            DateError::Empty => "date.empty",
            DateError::InvalidFormat => "date.invalid_format",
            DateError::NoSuchDate { .. } => "date.no_such_date",
            DateError::EraYearZero { .. } => "date.era_year_zero",
            DateError::BeforeEraStart { .. } => "date.before_era_start",
            DateError::EraEnded { .. } => "date.era_ended",
            DateError::TooEarly => "date.too_early",
            DateError::TooLate => "date.too_late",
        }
    }

    /// The placeholder values for the message.
    ///
    /// Dates are given in era notation (`first`, `last`, `suggestion`) and
    /// in ISO notation (`iso`, the date that was entered), both of which
    /// [`parse_date`] accepts.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            DateError::Empty
            | DateError::InvalidFormat
            | DateError::TooEarly
            | DateError::TooLate => vec![],
            DateError::NoSuchDate { date } => vec![("date", date.clone())],
            DateError::EraYearZero { era } => vec![("era", era.name_ja().to_string())],
            DateError::BeforeEraStart {
                era,
                first,
                suggestion,
            } => vec![
                ("era", era.name_ja().to_string()),
                ("first", format_wareki(*first)),
                ("suggestion", format_wareki(*suggestion)),
                ("iso", suggestion.format("%Y-%m-%d").to_string()),
            ],
            DateError::EraEnded {
                era,
                last,
                suggestion,
            } => vec![
                ("era", era.name_ja().to_string()),
                ("last", format_wareki(*last)),
                ("suggestion", format_wareki(*suggestion)),
                ("iso", suggestion.format("%Y-%m-%d").to_string()),
            ],
        }
    }
}

/// Converts a date to (era, era year, month, day), or `None` before
/// 1873-01-01.
///
/// ```
/// use chrono::NaiveDate;
/// use jp::wareki::{to_wareki, Era};
/// let d = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
/// assert_eq!(to_wareki(d), Some((Era::Reiwa, 1, 5, 1)));
/// ```
pub fn to_wareki(date: NaiveDate) -> Option<(Era, u32, u32, u32)> {
    let era = Era::of(date)?;
    let year = u32::try_from(date.year() - era.first_year() + 1).ok()?;
    Some((era, year, date.month(), date.day()))
}

fn era_year_ja(year: u32) -> String {
    if year == 1 {
        "元".to_string()
    } else {
        year.to_string()
    }
}

/// Formats a date in era notation, e.g. `令和7年4月1日`; the first year is
/// written `元年` (`令和元年5月1日`). Dates before 1873 fall back to
/// [`format_western_ja`].
pub fn format_wareki(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some((era, year, month, day)) => format!(
            "{}{}年{}月{}日",
            era.name_ja(),
            era_year_ja(year),
            month,
            day
        ),
        None => format_western_ja(date),
    }
}

/// Formats a date in the short era notation, e.g. `R7.4.1` (the first year
/// is `R1`). Dates before 1873 fall back to ISO notation.
pub fn format_wareki_short(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some((era, year, month, day)) => {
            format!("{}{}.{}.{}", era.initial(), year, month, day)
        }
        None => date.format("%Y-%m-%d").to_string(),
    }
}

/// Formats a date in Western notation with Japanese units, e.g.
/// `2025年4月1日`.
pub fn format_western_ja(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// Formats a date in Western notation followed by the era notation, e.g.
/// `2025年4月1日（令和7年4月1日）`. Before 1873 only the Western notation is
/// given.
pub fn format_both(date: NaiveDate) -> String {
    if to_wareki(date).is_some() {
        format!("{}（{}）", format_western_ja(date), format_wareki(date))
    } else {
        format_western_ja(date)
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats a date in English (GOV.UK style), e.g. `1 April 2025`.
pub fn format_en(date: NaiveDate) -> String {
    let month = MONTHS_EN
        .get(date.month0() as usize)
        .copied()
        .unwrap_or_default();
    format!("{} {} {}", date.day(), month, date.year())
}

/// A lexical token of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of ASCII digits.
    Num(&'a str),
    /// 元 (the first year of an era).
    Gan,
    /// One of 年 月 日 . / -
    Sym(char),
}

/// At most this many tokens make a date (`Y 年 M 月 D 日`).
const MAX_TOKENS: usize = 6;

fn tokenize(s: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if tokens.len() >= MAX_TOKENS {
            return None;
        }
        if c.is_ascii_digit() {
            let end = rest
                .find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len());
            let (digits, after) = rest.split_at_checked(end)?;
            tokens.push(Token::Num(digits));
            rest = after;
            continue;
        }
        match c {
            '元' => tokens.push(Token::Gan),
            '年' | '月' | '日' | '.' | '/' | '-' => tokens.push(Token::Sym(c)),
            _ => return None,
        }
        rest = rest.get(c.len_utf8()..)?;
    }
    Some(tokens)
}

/// A number as typed: its value, or `None` when it has more than nine
/// significant digits.
fn number_value(digits: &str) -> Option<u32> {
    let significant = digits.trim_start_matches('0');
    if significant.len() > 9 {
        return None;
    }
    if significant.is_empty() {
        return Some(0);
    }
    significant.parse().ok()
}

/// Splits a leading era designator (name, one-kanji abbreviation or Latin
/// initial) off `s`.
fn strip_era(s: &str) -> (Option<Era>, &str) {
    for era in Era::ALL {
        if let Some(rest) = s.strip_prefix(era.name_ja()) {
            return (Some(era), rest);
        }
    }
    for era in Era::ALL {
        if let Some(rest) = s.strip_prefix(era.abbreviation_ja()) {
            return (Some(era), rest);
        }
        let initial = era.initial();
        if let Some(rest) = s
            .strip_prefix(initial)
            .or_else(|| s.strip_prefix(initial.to_ascii_lowercase()))
        {
            return (Some(era), rest);
        }
    }
    (None, s)
}

/// The year part of a date as typed.
#[derive(Debug, Clone, Copy)]
enum YearToken<'a> {
    Gan,
    Num(&'a str),
}

/// Matches `Y年M月D日` (final 日 optional), `Y.M.D`, `Y/M/D` or `Y-M-D`.
fn match_ymd<'a>(tokens: &[Token<'a>]) -> Option<(YearToken<'a>, &'a str, &'a str)> {
    use Token::{Gan, Num, Sym};
    let year = |t: Token<'a>| match t {
        Gan => Some(YearToken::Gan),
        Num(n) => Some(YearToken::Num(n)),
        Sym(_) => None,
    };
    match *tokens {
        [y, Sym('年'), Num(m), Sym('月'), Num(d)]
        | [y, Sym('年'), Num(m), Sym('月'), Num(d), Sym('日')] => Some((year(y)?, m, d)),
        [y, Sym(s1), Num(m), Sym(s2), Num(d)] if s1 == s2 && matches!(s1, '.' | '/' | '-') => {
            Some((year(y)?, m, d))
        }
        _ => None,
    }
}

/// Parses a date typed by a resident.
///
/// After width normalisation (full-width digits and letters work) and
/// removal of all whitespace, the following notations are accepted:
///
/// - era: `令和7年4月1日`, `令和元年5月1日`, `令7.4.1`, `R7.4.1`, `r7.4.1`,
///   `R07/04/01`, `R7-4-1`, `R7年4月1日`; eras 明治 (明, M), 大正 (大, T),
///   昭和 (昭, S), 平成 (平, H) and 令和 (令, R);
/// - Western: `2025-04-01`, `2025/4/1`, `2025.4.1`, `2025年4月1日`,
///   `20250401`.
///
/// The final `日` may be left out. Hyphen variants (`－`, `‐`, `−`, and `ー`
/// between digits) count as `-`.
///
/// Era boundaries are exact: `平成31年4月30日` is accepted while
/// `平成31年5月1日` is rejected with [`DateError::EraEnded`] suggesting
/// `令和元年5月1日`. Dates before 1873-01-01 are rejected with
/// [`DateError::TooEarly`].
///
/// ```
/// use chrono::NaiveDate;
/// use jp::wareki::parse_date;
/// let d = NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
/// assert_eq!(parse_date("令和７年４月１日"), Ok(d));
/// assert_eq!(parse_date("R7.4.1"), Ok(d));
/// assert_eq!(parse_date("20250401"), Ok(d));
/// ```
pub fn parse_date(input: &str) -> Result<NaiveDate, DateError> {
    let compact: String = normalize_width(input)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(DateError::Empty);
    }
    let normalized = normalize_dashes(&compact);
    let (era, body) = strip_era(&normalized);
    let tokens = tokenize(body).ok_or(DateError::InvalidFormat)?;

    let (year_token, month_digits, day_digits) = match (era, tokens.as_slice()) {
        // `20250401`: the digits are ASCII (the tokenizer keeps only those), so byte offsets are characters.
        (None, [Token::Num(n)]) if n.len() == 8 => match (n.get(..4), n.get(4..6), n.get(6..8)) {
            (Some(y), Some(m), Some(d)) => (YearToken::Num(y), m, d),
            _ => return Err(DateError::InvalidFormat),
        },
        _ => match_ymd(&tokens).ok_or(DateError::InvalidFormat)?,
    };

    // Month and day: one or two digits, so that typos such as `R7.401.1`
    // are not read as a month.
    let small = |digits: &str| {
        if digits.len() > 2 {
            None
        } else {
            number_value(digits)
        }
    };
    let month = small(month_digits).ok_or(DateError::InvalidFormat)?;
    let day = small(day_digits).ok_or(DateError::InvalidFormat)?;

    let (western_year, era_year) = match (era, year_token) {
        (Some(_), YearToken::Gan) => (None, 1),
        (Some(era), YearToken::Num(n)) => match number_value(n) {
            Some(0) => return Err(DateError::EraYearZero { era }),
            Some(y) => (None, y),
            None => return Err(DateError::TooLate),
        },
        (None, YearToken::Gan) => return Err(DateError::InvalidFormat),
        (None, YearToken::Num(n)) => {
            // A Western year needs four digits: `25-4-1` is ambiguous.
            if n.len() < 4 {
                return Err(DateError::InvalidFormat);
            }
            (Some(number_value(n).ok_or(DateError::TooLate)?), 0)
        }
    };

    let year: i64 = match (era, western_year) {
        (Some(era), _) => i64::from(era.first_year()) + i64::from(era_year) - 1,
        (None, Some(y)) => i64::from(y),
        (None, None) => return Err(DateError::InvalidFormat),
    };
    if year > i64::from(LAST_SUPPORTED_DATE.year()) {
        return Err(DateError::TooLate);
    }

    let as_typed = || match era {
        Some(era) => format!(
            "{}{}年{}月{}日",
            era.name_ja(),
            era_year_ja(era_year),
            month,
            day
        ),
        None => format!("{year}年{month}月{day}日"),
    };
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .ok_or_else(|| DateError::NoSuchDate { date: as_typed() })?;

    if date < FIRST_SUPPORTED_DATE {
        return Err(DateError::TooEarly);
    }
    if let Some(era) = era {
        if date < era.start() {
            return Err(DateError::BeforeEraStart {
                era,
                first: era.start(),
                suggestion: date,
            });
        }
        if let Some(last) = era.end()
            && date > last
        {
            return Err(DateError::EraEnded {
                era,
                last,
                suggestion: date,
            });
        }
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn era_boundaries_are_contiguous() {
        for pair in Era::ALL.windows(2) {
            let end = pair[0].end().unwrap();
            assert_eq!(end.succ_opt().unwrap(), pair[1].start());
            assert!(pair[0].contains(end));
            assert!(!pair[1].contains(end));
        }
        assert_eq!(Era::Reiwa.end(), None);
        for era in Era::ALL {
            assert_eq!(to_wareki(era.start()).unwrap().0, era);
            assert!(era.start().year() >= era.first_year());
        }
    }

    #[test]
    fn era_names() {
        let names: Vec<_> = Era::ALL.iter().map(|e| e.name_ja()).collect();
        assert_eq!(names, ["明治", "大正", "昭和", "平成", "令和"]);
        let initials: String = Era::ALL.iter().map(|e| e.initial()).collect();
        assert_eq!(initials, "MTSHR");
        assert_eq!(Era::Reiwa.to_string(), "令和");
    }

    #[test]
    fn parses_era_forms() {
        let april = d(2025, 4, 1);
        for s in [
            "令和7年4月1日",
            "令和 7 年 4 月 1 日",
            "令和７年４月１日",
            "　令和７年４月１日　",
            "令和7年4月1",
            "R7.4.1",
            "r7.4.1",
            "Ｒ７．４．１",
            "R07/04/01",
            "R7-4-1",
            "R7－4－1",
            "R7年4月1日",
            "令7.4.1",
            "令和07年04月01日",
        ] {
            assert_eq!(parse_date(s), Ok(april), "{s}");
        }
        assert_eq!(parse_date("令和元年5月1日"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_date("R元.5.1"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_date("R1.5.1"), Ok(d(2019, 5, 1)));
        assert_eq!(parse_date("H31.4.30"), Ok(d(2019, 4, 30)));
        assert_eq!(parse_date("平31.4.30"), Ok(d(2019, 4, 30)));
        assert_eq!(parse_date("平成31年4月30日"), Ok(d(2019, 4, 30)));
        assert_eq!(parse_date("S64.1.7"), Ok(d(1989, 1, 7)));
        assert_eq!(parse_date("昭和64年1月7日"), Ok(d(1989, 1, 7)));
        assert_eq!(parse_date("昭64.1.7"), Ok(d(1989, 1, 7)));
        assert_eq!(parse_date("平成元年1月8日"), Ok(d(1989, 1, 8)));
        assert_eq!(parse_date("大正元年7月30日"), Ok(d(1912, 7, 30)));
        assert_eq!(parse_date("大15.12.24"), Ok(d(1926, 12, 24)));
        assert_eq!(parse_date("T15.12.24"), Ok(d(1926, 12, 24)));
        assert_eq!(parse_date("昭和元年12月25日"), Ok(d(1926, 12, 25)));
        assert_eq!(parse_date("明治45年7月29日"), Ok(d(1912, 7, 29)));
        assert_eq!(parse_date("明6.1.1"), Ok(d(1873, 1, 1)));
        assert_eq!(parse_date("M6.1.1"), Ok(d(1873, 1, 1)));
        assert_eq!(parse_date("m45.7.29"), Ok(d(1912, 7, 29)));
    }

    #[test]
    fn parses_western_forms() {
        let april = d(2025, 4, 1);
        for s in [
            "2025-04-01",
            "2025-4-1",
            "2025/4/1",
            "2025.4.1",
            "2025年4月1日",
            "2025年04月01日",
            "20250401",
            "２０２５年４月１日",
            "２０２５－０４－０１",
            "2025ー04ー01",
            "2025 - 04 - 01",
        ] {
            assert_eq!(parse_date(s), Ok(april), "{s}");
        }
        assert_eq!(parse_date("2024-02-29"), Ok(d(2024, 2, 29)));
        assert_eq!(parse_date("9999-12-31"), Ok(d(9999, 12, 31)));
    }

    #[test]
    fn era_ended_suggests_the_next_era() {
        let err = parse_date("平成31年5月1日").unwrap_err();
        assert_eq!(
            err,
            DateError::EraEnded {
                era: Era::Heisei,
                last: d(2019, 4, 30),
                suggestion: d(2019, 5, 1)
            }
        );
        assert_eq!(
            err.args(),
            vec![
                ("era", "平成".to_string()),
                ("last", "平成31年4月30日".to_string()),
                ("suggestion", "令和元年5月1日".to_string()),
                ("iso", "2019-05-01".to_string()),
            ]
        );
        let err = parse_date("昭和64年1月8日").unwrap_err();
        assert_eq!(
            err,
            DateError::EraEnded {
                era: Era::Showa,
                last: d(1989, 1, 7),
                suggestion: d(1989, 1, 8)
            }
        );
        assert!(
            err.args()
                .contains(&("suggestion", "平成元年1月8日".to_string()))
        );
        assert!(matches!(
            parse_date("H35.1.1"),
            Err(DateError::EraEnded { suggestion, .. }) if suggestion == d(2023, 1, 1)
        ));
        assert!(matches!(
            parse_date("明治45年7月30日"),
            Err(DateError::EraEnded {
                era: Era::Meiji,
                ..
            })
        ));
        assert!(matches!(
            parse_date("大正15年12月25日"),
            Err(DateError::EraEnded {
                era: Era::Taisho,
                ..
            })
        ));
    }

    #[test]
    fn before_era_start() {
        let err = parse_date("平成元年1月7日").unwrap_err();
        assert_eq!(
            err,
            DateError::BeforeEraStart {
                era: Era::Heisei,
                first: d(1989, 1, 8),
                suggestion: d(1989, 1, 7)
            }
        );
        assert!(
            err.args()
                .contains(&("first", "平成元年1月8日".to_string()))
        );
        assert!(
            err.args()
                .contains(&("suggestion", "昭和64年1月7日".to_string()))
        );
        assert!(matches!(
            parse_date("令和元年4月30日"),
            Err(DateError::BeforeEraStart {
                era: Era::Reiwa,
                ..
            })
        ));
        assert!(matches!(
            parse_date("昭和元年12月24日"),
            Err(DateError::BeforeEraStart {
                era: Era::Showa,
                ..
            })
        ));
    }

    #[test]
    fn before_gregorian_adoption() {
        assert_eq!(parse_date("明治5年12月2日"), Err(DateError::TooEarly));
        assert_eq!(parse_date("明治元年1月1日"), Err(DateError::TooEarly));
        assert_eq!(parse_date("1872-12-31"), Err(DateError::TooEarly));
        assert_eq!(parse_date("0000-01-01"), Err(DateError::TooEarly));
        assert_eq!(parse_date("1873-01-01"), Ok(d(1873, 1, 1)));
    }

    #[test]
    fn invalid_dates() {
        assert_eq!(
            parse_date("令和0年4月1日"),
            Err(DateError::EraYearZero { era: Era::Reiwa })
        );
        assert_eq!(
            parse_date("R0.4.1"),
            Err(DateError::EraYearZero { era: Era::Reiwa })
        );
        assert!(parse_date("令和0年").is_err());
        assert_eq!(
            parse_date("令和5年2月29日"),
            Err(DateError::NoSuchDate {
                date: "令和5年2月29日".into()
            })
        );
        assert_eq!(
            parse_date("2025-13-01"),
            Err(DateError::NoSuchDate {
                date: "2025年13月1日".into()
            })
        );
        assert!(matches!(
            parse_date("2025-01-32"),
            Err(DateError::NoSuchDate { .. })
        ));
        assert!(matches!(
            parse_date("R7.0.1"),
            Err(DateError::NoSuchDate { .. })
        ));
        assert!(matches!(
            parse_date("R7.4.0"),
            Err(DateError::NoSuchDate { .. })
        ));
        assert!(matches!(
            parse_date("20251301"),
            Err(DateError::NoSuchDate { .. })
        ));
    }

    #[test]
    fn unparseable_and_empty() {
        assert_eq!(parse_date(""), Err(DateError::Empty));
        assert_eq!(parse_date(" 　\t"), Err(DateError::Empty));
        for s in [
            "令和",
            "R7",
            "R7.4",
            "R7.4/1",
            "7年4月1日",
            "25-04-01",
            "2025-04-01T00:00",
            "2025/04/01/",
            "令和七年四月一日",
            "X7.4.1",
            "2025-0401",
            "R7.004.01",
            "元年5月1日",
            "202541",
            "😀",
            "\u{0}",
            "令和\u{3099}7年4月1日",
            "-2025-04-01",
        ] {
            assert_eq!(parse_date(s), Err(DateError::InvalidFormat), "{s}");
        }
    }

    #[test]
    fn absurd_numbers_do_not_overflow() {
        assert_eq!(parse_date("10000-01-01"), Err(DateError::TooLate));
        assert_eq!(
            parse_date("99999999999999999999-01-01"),
            Err(DateError::TooLate)
        );
        assert_eq!(parse_date("R7981.12.31"), Ok(d(9999, 12, 31)));
        assert_eq!(parse_date("R7982.1.1"), Err(DateError::TooLate));
        assert_eq!(
            parse_date("令和4294967295年1月1日"),
            Err(DateError::TooLate)
        );
        assert_eq!(
            parse_date("令和99999999999999999999年1月1日"),
            Err(DateError::TooLate)
        );
        assert_eq!(parse_date("R0000000000000000007.4.1"), Ok(d(2025, 4, 1)));
        assert_eq!(
            parse_date("R7.99999999999999999999.1"),
            Err(DateError::InvalidFormat)
        );
        let huge = "1".repeat(1_000_000);
        assert!(parse_date(&huge).is_err());
        assert!(parse_date(&format!("R{huge}.1.1")).is_err());
    }

    #[test]
    fn to_wareki_examples() {
        assert_eq!(to_wareki(d(1872, 12, 31)), None);
        assert_eq!(to_wareki(d(1873, 1, 1)), Some((Era::Meiji, 6, 1, 1)));
        assert_eq!(to_wareki(d(1912, 7, 29)), Some((Era::Meiji, 45, 7, 29)));
        assert_eq!(to_wareki(d(1912, 7, 30)), Some((Era::Taisho, 1, 7, 30)));
        assert_eq!(to_wareki(d(1989, 1, 7)), Some((Era::Showa, 64, 1, 7)));
        assert_eq!(to_wareki(d(1989, 1, 8)), Some((Era::Heisei, 1, 1, 8)));
        assert_eq!(to_wareki(d(2019, 4, 30)), Some((Era::Heisei, 31, 4, 30)));
        assert_eq!(to_wareki(d(2025, 4, 1)), Some((Era::Reiwa, 7, 4, 1)));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_wareki(d(2025, 4, 1)), "令和7年4月1日");
        assert_eq!(format_wareki(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(format_wareki(d(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(format_wareki(d(1872, 12, 31)), "1872年12月31日");
        assert_eq!(format_wareki_short(d(2025, 4, 1)), "R7.4.1");
        assert_eq!(format_wareki_short(d(2019, 5, 1)), "R1.5.1");
        assert_eq!(format_wareki_short(d(1989, 1, 7)), "S64.1.7");
        assert_eq!(format_wareki_short(d(1872, 12, 31)), "1872-12-31");
        assert_eq!(format_western_ja(d(2025, 4, 1)), "2025年4月1日");
        assert_eq!(format_both(d(2025, 4, 1)), "2025年4月1日（令和7年4月1日）");
        assert_eq!(format_both(d(1872, 12, 31)), "1872年12月31日");
        assert_eq!(format_en(d(2025, 4, 1)), "1 April 2025");
        assert_eq!(format_en(d(2019, 12, 31)), "31 December 2019");
    }

    #[test]
    fn every_supported_day_round_trips() {
        let mut date = FIRST_SUPPORTED_DATE;
        let last = d(2100, 12, 31);
        while date <= last {
            assert_eq!(parse_date(&format_wareki(date)), Ok(date));
            assert_eq!(parse_date(&format_wareki_short(date)), Ok(date));
            assert_eq!(parse_date(&format_western_ja(date)), Ok(date));
            assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Ok(date));
            date = date.succ_opt().unwrap();
        }
    }
}
