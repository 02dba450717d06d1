//! Checks the message catalogues against the error types: every key that
//! an error can return exists in both `ja.toml` and `en.toml`, every
//! argument appears as a `{placeholder}` in both messages (and vice versa),
//! and the catalogues hold no stale keys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use jp::Localized;
use jp::kana::KanaError;
use jp::lg_code::LgCodeError;
use jp::my_number::{NumberError, NumberKind};
use jp::phone::PhoneError;
use jp::postal::PostalError;
use jp::wareki::{DateError, Era};
use jp::yen::YenError;

/// A tiny parser for the flat catalogue format: comments, blank lines and
/// `"quoted.key" = "basic string"` lines.
fn parse_catalogue(name: &str, text: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |why: &str| -> ! { panic!("{name}:{}: {why}: {raw}", number + 1) };
        let rest = line
            .strip_prefix('"')
            .unwrap_or_else(|| fail("key must be quoted"));
        let (key, rest) = rest
            .split_once('"')
            .unwrap_or_else(|| fail("unterminated key"));
        let rest = rest
            .trim_start()
            .strip_prefix('=')
            .unwrap_or_else(|| fail("missing ="))
            .trim();
        let body = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or_else(|| fail("value must be a basic string"));
        let mut value = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('"') => value.push('"'),
                    Some('\\') => value.push('\\'),
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    _ => fail("unsupported escape"),
                },
                '"' => fail("unescaped quote in value"),
                _ => value.push(c),
            }
        }
        assert!(
            key.split('.').all(|part| !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')),
            "{name}: malformed key {key}"
        );
        assert!(!value.trim().is_empty(), "{name}: empty message for {key}");
        if map.insert(key.to_string(), value).is_some() {
            fail("duplicate key");
        }
    }
    map
}

/// The `{name}` placeholders of a message.
fn placeholders(message: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = message;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .unwrap_or_else(|| panic!("unclosed placeholder in {message}"));
        found.insert(after[..end].to_string());
        rest = &after[end + 1..];
    }
    found
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// One value of every error variant (with every `NumberKind`).
fn all_errors() -> Vec<Box<dyn Localized>> {
    let mut errors: Vec<Box<dyn Localized>> = vec![
        Box::new(KanaError::Empty),
        Box::new(KanaError::TooLong { max: 50 }),
        Box::new(KanaError::NotKatakana {
            found: "山".into()
        }),
        Box::new(DateError::Empty),
        Box::new(DateError::InvalidFormat),
        Box::new(DateError::NoSuchDate {
            date: "令和5年2月29日".into(),
        }),
        Box::new(DateError::EraYearZero { era: Era::Reiwa }),
        Box::new(DateError::BeforeEraStart {
            era: Era::Heisei,
            first: date(1989, 1, 8),
            suggestion: date(1989, 1, 7),
        }),
        Box::new(DateError::EraEnded {
            era: Era::Heisei,
            last: date(2019, 4, 30),
            suggestion: date(2019, 5, 1),
        }),
        Box::new(DateError::TooEarly),
        Box::new(DateError::TooLate),
        Box::new(LgCodeError::Empty),
        Box::new(LgCodeError::WrongLength {
            expected: 6,
            found: 5,
        }),
        Box::new(LgCodeError::NotDigits),
        Box::new(LgCodeError::BadCheckDigit),
        Box::new(LgCodeError::UnknownPrefecture { code: 48 }),
        Box::new(PostalError::Empty),
        Box::new(PostalError::WrongLength {
            expected: 7,
            found: 6,
        }),
        Box::new(PostalError::NotDigits),
        Box::new(PhoneError::Empty),
        Box::new(PhoneError::Invalid),
        Box::new(PhoneError::WrongLength { found: 9 }),
        Box::new(PhoneError::NoLeadingZero),
        Box::new(YenError::Empty),
        Box::new(YenError::Invalid),
        Box::new(YenError::Negative),
        Box::new(YenError::TooLarge),
        Box::new(YenError::NotInteger),
    ];
    for kind in [NumberKind::MyNumber, NumberKind::CorporateNumber] {
        errors.push(Box::new(NumberError::Empty { kind }));
        errors.push(Box::new(NumberError::WrongLength {
            kind,
            expected: kind.digits(),
            found: 3,
        }));
        errors.push(Box::new(NumberError::NotDigits { kind }));
        errors.push(Box::new(NumberError::BadCheckDigit { kind }));
    }
    errors
}

#[test]
fn every_error_key_and_placeholder_is_in_both_catalogues() {
    let catalogues = [
        ("ja.toml", parse_catalogue("ja.toml", jp::CATALOGUE_JA)),
        ("en.toml", parse_catalogue("en.toml", jp::CATALOGUE_EN)),
    ];
    let mut used_keys = BTreeSet::new();
    for error in all_errors() {
        let key = error.key();
        assert!(used_keys.insert(key), "two samples share the key {key}");
        let arg_names: BTreeSet<String> = error.args().iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(
            arg_names.len(),
            error.args().len(),
            "{key}: duplicate argument names"
        );
        for (name, catalogue) in &catalogues {
            let message = catalogue
                .get(key)
                .unwrap_or_else(|| panic!("{key} is missing from {name}"));
            let used = placeholders(message);
            for arg in &arg_names {
                assert!(
                    used.contains(arg),
                    "{name}: message for {key} does not use {{{arg}}}"
                );
            }
            for placeholder in &used {
                assert!(
                    arg_names.contains(placeholder),
                    "{name}: message for {key} uses {{{placeholder}}}, which args() does not give"
                );
            }
        }
    }
    for (name, catalogue) in &catalogues {
        for key in catalogue.keys() {
            assert!(
                used_keys.contains(key.as_str()),
                "{name}: {key} is not returned by any error"
            );
        }
    }
}

#[test]
fn catalogues_have_the_same_keys() {
    let ja = parse_catalogue("ja.toml", jp::CATALOGUE_JA);
    let en = parse_catalogue("en.toml", jp::CATALOGUE_EN);
    let ja_keys: Vec<_> = ja.keys().collect();
    let en_keys: Vec<_> = en.keys().collect();
    assert_eq!(ja_keys, en_keys);
}

#[test]
fn error_keys_are_namespaced_by_module() {
    for error in all_errors() {
        let key = error.key();
        let namespace = key.split('.').next().unwrap_or_default();
        assert!(
            [
                "kana",
                "date",
                "my_number",
                "corporate_number",
                "lg_code",
                "postal_code",
                "phone",
                "yen"
            ]
            .contains(&namespace),
            "{key}"
        );
    }
}

#[test]
fn rendered_messages_read_naturally() {
    let render = |template: &str, args: &[(&'static str, String)]| {
        args.iter()
            .fold(template.to_string(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    };
    let ja = parse_catalogue("ja.toml", jp::CATALOGUE_JA);
    let en = parse_catalogue("en.toml", jp::CATALOGUE_EN);
    let err = jp::wareki::parse_date("平成31年5月1日").unwrap_err();
    assert_eq!(
        render(&ja[err.key()], &err.args()),
        "平成は平成31年4月30日までです。この日付は「令和元年5月1日」または「2019-05-01」と入力してください"
    );
    assert_eq!(
        render(&en[err.key()], &err.args()),
        "The 平成 era ended on 平成31年4月30日 – enter this date as 令和元年5月1日 or 2019-05-01"
    );
    let err = jp::my_number::MyNumber::parse("1234").unwrap_err();
    assert_eq!(
        render(&ja[err.key()], &err.args()),
        "マイナンバー（個人番号）は12桁の数字で入力してください（入力された数字は4桁です）"
    );
}
