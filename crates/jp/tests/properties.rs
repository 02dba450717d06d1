//! Property tests (proptest) for the parsers and formatters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use chrono::{Datelike, Duration, NaiveDate};
use jp::corporate_number::{self, CorporateNumber};
use jp::kana::{is_halfwidth_katakana, is_hiragana, to_fullwidth_katakana, to_hiragana};
use jp::lg_code::{self, LocalGovernmentCode};
use jp::my_number::{self, MyNumber};
use jp::wareki::{
    Era, FIRST_SUPPORTED_DATE, LAST_SUPPORTED_DATE, format_wareki, format_wareki_short,
    format_western_ja, parse_date, to_wareki,
};
use proptest::prelude::*;

const IDEOGRAPHIC_SPACE: char = '\u{3000}';
const DOUBLE_SPACE: &str = "\u{3000}\u{3000}";

fn last_tested_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2100, 12, 31).unwrap()
}

/// Any date from 1873-01-01 to 2100-12-31, with the era boundaries (and
/// the days around them) drawn more often.
fn supported_date() -> impl Strategy<Value = NaiveDate> {
    let span = (last_tested_date() - FIRST_SUPPORTED_DATE).num_days();
    let any_day = (0..=span).prop_map(|offset| FIRST_SUPPORTED_DATE + Duration::days(offset));
    let near_boundary = (0..Era::ALL.len(), -3i64..=3).prop_map(|(era, offset)| {
        let start = Era::ALL[era].start();
        let date = start + Duration::days(offset);
        date.max(FIRST_SUPPORTED_DATE)
    });
    prop_oneof![4 => any_day, 1 => near_boundary]
}

/// Converts ASCII to full-width (the reverse of `normalize_width`).
fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// Strings made of the characters that matter to date parsing, to reach
/// deep into the parser.
fn date_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0", "1", "2", "3", "4", "5", "7", "9", "12", "31", "64", "2019", "1989", "99999", "年",
        "月", "日", "元", "元年", ".", "/", "-", "ー", "－", " ", "　", "令和", "平成", "昭和",
        "大正", "明治", "令", "平", "昭", "大", "明", "R", "H", "S", "T", "M", "r", "ｒ", "７",
        "\u{3099}", "😀", "\u{0}",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}

fn digit_array<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    prop::array::uniform(0u8..=9)
}

fn digits_to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// My Number check-digit remainder (before mapping 0 and 1 to 0).
fn my_number_remainder(first11: &[u8; 11]) -> u32 {
    first11
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| {
            let n = i as u32 + 1;
            u32::from(p) * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum::<u32>()
        % 11
}

proptest! {
    // ---- wareki ----

    #[test]
    fn wareki_round_trips(date in supported_date()) {
        prop_assert_eq!(parse_date(&format_wareki(date)), Ok(date));
        prop_assert_eq!(parse_date(&format_wareki_short(date)), Ok(date));
        prop_assert_eq!(parse_date(&format_western_ja(date)), Ok(date));
        prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Ok(date));
        prop_assert_eq!(parse_date(&date.format("%Y%m%d").to_string()), Ok(date));
        prop_assert_eq!(parse_date(&to_full_width(&format_wareki(date))), Ok(date));
        prop_assert_eq!(parse_date(&to_full_width(&format_wareki_short(date))), Ok(date));
        prop_assert_eq!(
            parse_date(&format_wareki_short(date).to_lowercase()),
            Ok(date)
        );
    }

    #[test]
    fn to_wareki_gives_the_containing_era(date in supported_date()) {
        let (era, year, month, day) = to_wareki(date).expect("supported date");
        prop_assert!(era.start() <= date);
        prop_assert!(era.end().is_none_or(|end| date <= end));
        prop_assert!(era.contains(date));
        prop_assert!(year >= 1);
        prop_assert_eq!(i64::from(era.first_year()) + i64::from(year) - 1, i64::from(date.year()));
        prop_assert_eq!((month, day), (date.month(), date.day()));
        for other in Era::ALL.into_iter().filter(|&e| e != era) {
            prop_assert!(!other.contains(date));
        }
    }

    #[test]
    fn wrong_era_is_rejected_with_a_correct_suggestion(date in supported_date(), era_index in 0..5usize) {
        // Write the date with an era that was not in force on that day.
        let (actual, ..) = to_wareki(date).expect("supported date");
        let candidates: Vec<Era> = Era::ALL
            .into_iter()
            .filter(|&e| e != actual && e.first_year() <= date.year())
            .collect();
        let Some(&era) = candidates.get(era_index % candidates.len().max(1)) else {
            // Only 明治 had begun by then: nothing to test.
            return Ok(());
        };
        let year = i64::from(date.year()) - i64::from(era.first_year()) + 1;
        let typed = format!("{}{}年{}月{}日", era.name_ja(), year, date.month(), date.day());
        match parse_date(&typed) {
            Err(jp::wareki::DateError::EraEnded { era: e, last, suggestion }) => {
                prop_assert_eq!(e, era);
                prop_assert_eq!(Some(last), era.end());
                prop_assert_eq!(suggestion, date);
            }
            Err(jp::wareki::DateError::BeforeEraStart { era: e, first, suggestion }) => {
                prop_assert_eq!(e, era);
                prop_assert_eq!(first, era.start());
                prop_assert_eq!(suggestion, date);
            }
            other => prop_assert!(false, "{typed}: {other:?}"),
        }
    }

    #[test]
    fn parse_date_never_panics(s in any::<String>()) {
        if let Ok(date) = parse_date(&s) {
            prop_assert!(FIRST_SUPPORTED_DATE <= date && date <= LAST_SUPPORTED_DATE);
        }
    }

    #[test]
    fn parse_date_never_panics_on_date_like_input(s in date_like()) {
        if let Ok(date) = parse_date(&s) {
            prop_assert!(FIRST_SUPPORTED_DATE <= date && date <= LAST_SUPPORTED_DATE);
        }
        // Every error has a key and its arguments are cheap to build.
        if let Err(e) = parse_date(&s) {
            prop_assert!(e.key().starts_with("date."));
            let _ = e.args();
        }
    }

    // ---- kana ----

    #[test]
    fn katakana_conversion_is_idempotent(s in any::<String>()) {
        let once = to_fullwidth_katakana(&s);
        prop_assert_eq!(to_fullwidth_katakana(&once), once.clone());
    }

    #[test]
    fn katakana_conversion_is_idempotent_on_kana(
        s in "[ぁ-ゟァ-ヿｦ-ﾟ\u{3099}-\u{309C} 　\ta-z]{0,24}"
    ) {
        let once = to_fullwidth_katakana(&s);
        prop_assert_eq!(to_fullwidth_katakana(&once), once.clone());
        prop_assert!(!once.chars().any(|c| is_hiragana(c) || is_halfwidth_katakana(c)), "{once}");
        prop_assert!(!once.starts_with(IDEOGRAPHIC_SPACE) && !once.ends_with(IDEOGRAPHIC_SPACE));
        prop_assert!(!once.contains(DOUBLE_SPACE));
        prop_assert!(!once.chars().any(|c| c != IDEOGRAPHIC_SPACE && c.is_whitespace()));
    }

    #[test]
    fn katakana_output_has_no_hiragana_or_halfwidth(s in any::<String>()) {
        let out = to_fullwidth_katakana(&s);
        prop_assert!(!out.chars().any(|c| is_hiragana(c) || is_halfwidth_katakana(c)));
        let _ = jp::kana::validate_katakana_name(&s);
    }

    #[test]
    fn hiragana_round_trips(s in "[ぁ-ゖゝゞ]{0,40}") {
        let katakana = to_fullwidth_katakana(&s);
        prop_assert_eq!(katakana.chars().count(), s.chars().count());
        prop_assert_eq!(to_hiragana(&katakana), s);
    }

    #[test]
    fn validated_names_are_katakana(s in "[ぁ-ゖァ-ヺｦ-ﾟー・ 　山a]{0,60}") {
        match jp::kana::validate_katakana_name(&s) {
            Ok(name) => {
                let count = name.chars().count();
                prop_assert!((1..=50).contains(&count));
                prop_assert!(name.chars().all(jp::kana::is_name_katakana));
                prop_assert_eq!(jp::kana::validate_katakana_name(&name), Ok(name.clone()));
            }
            Err(e) => prop_assert!(e.key().starts_with("kana.")),
        }
    }

    // ---- check digits ----

    #[test]
    fn my_number_check_digit(body in digit_array::<11>()) {
        let check = my_number::check_digit(&body);
        prop_assert!(check <= 9);
        for last in 0..=9u8 {
            let s = format!("{}{}", digits_to_string(&body), last);
            prop_assert_eq!(MyNumber::parse(&s).is_ok(), last == check, "{}", s);
        }
    }

    /// The check digit is 0 both for remainder 0 and for remainder 1, so a
    /// single-digit substitution that moves the remainder between 0 and 1
    /// goes undetected. Every other single-digit substitution is detected
    /// (11 is prime and every weight is 2..=7, so a substitution always
    /// changes the remainder).
    #[test]
    fn my_number_single_substitutions(body in digit_array::<11>(), position in 0..12usize, delta in 1..=9u8) {
        let check = my_number::check_digit(&body);
        let mut digits: Vec<u8> = body.to_vec();
        digits.push(check);
        let valid = digits_to_string(&digits);
        prop_assert!(MyNumber::parse(&valid).is_ok());
        let mut typo = digits.clone();
        typo[position] = (typo[position] + delta) % 10;
        let detected = MyNumber::parse(&digits_to_string(&typo)).is_err();
        if position == 11 {
            prop_assert!(detected, "check digit substitution must be detected");
        } else {
            let typo_body: [u8; 11] = typo[..11].try_into().unwrap();
            let r_before = my_number_remainder(&body);
            let r_after = my_number_remainder(&typo_body);
            prop_assert_ne!(r_before, r_after);
            let undetectable = r_before <= 1 && r_after <= 1;
            prop_assert_eq!(detected, !undetectable);
        }
    }

    #[test]
    fn corporate_number_check_digit(base in digit_array::<12>()) {
        let check = corporate_number::check_digit(&base);
        prop_assert!((1..=9).contains(&check));
        for first in 0..=9u8 {
            let s = format!("{}{}", first, digits_to_string(&base));
            prop_assert_eq!(CorporateNumber::parse(&s).is_ok(), first == check, "{}", s);
        }
    }

    #[test]
    fn lg_code_check_digit(prefecture in 1..=47u8, rest in digit_array::<3>()) {
        let first5 = [prefecture / 10, prefecture % 10, rest[0], rest[1], rest[2]];
        let check = lg_code::check_digit(&first5);
        prop_assert!(check <= 9);
        for last in 0..=9u8 {
            let s = format!("{}{}", digits_to_string(&first5), last);
            let parsed = LocalGovernmentCode::parse(&s);
            prop_assert_eq!(parsed.is_ok(), last == check, "{}", s);
            if let Ok(code) = parsed {
                prop_assert_eq!(code.prefecture_code(), prefecture);
                prop_assert_eq!(code.is_prefecture(), rest == [0, 0, 0]);
            }
        }
    }

    #[test]
    fn my_number_debug_never_shows_the_number(body in digit_array::<11>()) {
        let check = my_number::check_digit(&body);
        let s = format!("{}{}", digits_to_string(&body), check);
        let n = MyNumber::parse(&s).unwrap();
        let debug = format!("{n:?}");
        prop_assert!(!debug.contains(&s[..8]));
        prop_assert!(debug.contains(&s[8..]));
        prop_assert_eq!(n.masked().len(), 12);
    }

    #[test]
    fn number_parsers_never_panic(s in any::<String>()) {
        let _ = MyNumber::parse(&s);
        let _ = CorporateNumber::parse(&s);
        let _ = LocalGovernmentCode::parse(&s);
        let _ = LocalGovernmentCode::from_five_digits(&s);
        let _ = jp::postal::PostalCode::parse(&s);
        let _ = jp::phone::normalize_phone(&s);
        let _ = jp::yen::parse_yen(&s);
        let _ = jp::width::digits_only(&s);
        let _ = jp::width::normalize_width(&s);
    }

    #[test]
    fn number_parsers_never_panic_on_digit_like_input(
        s in "[0-9０-９ 　\\-－ー‐−〒()+,，.万億円¥￥a]{0,20}"
    ) {
        let _ = MyNumber::parse(&s);
        let _ = CorporateNumber::parse(&s);
        let _ = LocalGovernmentCode::parse(&s);
        if let Ok(code) = jp::postal::PostalCode::parse(&s) {
            prop_assert_eq!(code.as_str().len(), 8);
        }
        if let Ok(phone) = jp::phone::normalize_phone(&s) {
            let digits = jp::width::digits_only(&phone);
            prop_assert!(digits.starts_with('0'));
            prop_assert!((10..=11).contains(&digits.len()));
        }
        if let Ok(v) = jp::yen::parse_yen(&s) {
            prop_assert!((0..=jp::yen::MAX_YEN).contains(&v));
        }
    }

    // ---- yen ----

    #[test]
    fn yen_format_round_trips(v in 0..=jp::yen::MAX_YEN) {
        prop_assert_eq!(jp::yen::parse_yen(&jp::yen::format_yen(v)), Ok(v));
        prop_assert_eq!(jp::yen::parse_yen(&jp::yen::format_yen_en(v)), Ok(v));
        prop_assert_eq!(jp::yen::parse_yen(&v.to_string()), Ok(v));
    }

    #[test]
    fn yen_man_notation(man in 1..10_000i64, ones in 0..10_000i64) {
        let s = format!("{man}万{ones}円");
        prop_assert_eq!(jp::yen::parse_yen(&s), Ok(man * 10_000 + ones));
    }

    // ---- fiscal ----

    #[test]
    fn fiscal_year_contains_the_date(date in supported_date()) {
        let fy = jp::fiscal::fiscal_year_of(date);
        let start = NaiveDate::from_ymd_opt(fy, 4, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(fy + 1, 3, 31).unwrap();
        prop_assert!(start <= date && date <= end);
        let label = jp::fiscal::fiscal_year_label_ja(fy);
        prop_assert!(label.ends_with("年度"));
        prop_assert_ne!(label, "平成31年度");
    }
}

#[test]
fn a_single_substitution_can_go_undetected() {
    // Body 00000000000: r = 0, check 0. Changing the last body digit to 6
    // gives r = 6·2 mod 11 = 1, also check 0: both numbers are valid.
    assert!(MyNumber::parse("000000000000").is_ok());
    assert!(MyNumber::parse("000000000060").is_ok());
}
