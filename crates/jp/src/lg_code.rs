//! The local-government code (全国地方公共団体コード): 6 digits — a
//! 2-digit prefecture code, a 3-digit municipality code (`000` for the
//! prefecture itself) and a check digit.
//!
//! Check digit (総務省 rule): with the weights 6, 5, 4, 3, 2 on the first
//! five digits, `s = Σ d_i·w_i` and `r = s mod 11`; the check digit is the
//! last digit of `11 − r`, i.e. `(11 − r) mod 10`. When `s < 11` this is
//! `11 − s` (since `r = s`), and `r = 0` gives 1, `r = 1` gives 0.

use thiserror::Error;

use crate::width::{DigitsError, digit_values, strict_digits};

/// Number of digits in a local-government code, check digit included.
pub const LG_CODE_DIGITS: usize = 6;

/// Number of prefectures (prefecture codes are 01..=47).
pub const PREFECTURES: u8 = 47;

/// Why a local-government code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LgCodeError {
    /// Nothing was entered.
    #[error("the local government code is empty")]
    Empty,
    /// The number of digits is wrong.
    #[error("the local government code must have {expected} digits, found {found}")]
    WrongLength {
        /// The required number of digits.
        expected: usize,
        /// The number of digits entered.
        found: usize,
    },
    /// Contains letters or symbols other than spaces and hyphens.
    #[error("the local government code must contain only digits")]
    NotDigits,
    /// The check digit does not match.
    #[error("the local government code has a wrong check digit")]
    BadCheckDigit,
    /// The first two digits are not a prefecture code (01..=47).
    #[error("{code:02} is not a prefecture code")]
    UnknownPrefecture {
        /// The first two digits.
        code: u8,
    },
}

impl LgCodeError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            LgCodeError::Empty => "lg_code.empty",
            LgCodeError::WrongLength { .. } => "lg_code.wrong_length",
            LgCodeError::NotDigits => "lg_code.not_digits",
            LgCodeError::BadCheckDigit => "lg_code.bad_check_digit",
            LgCodeError::UnknownPrefecture { .. } => "lg_code.unknown_prefecture",
        }
    }

    /// The placeholder values for the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            LgCodeError::WrongLength { expected, found } => vec![
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
            LgCodeError::UnknownPrefecture { code } => vec![("code", format!("{code:02}"))],
            _ => vec![],
        }
    }
}

/// The check digit of a local-government code from its first five digits
/// (see the module documentation). Digits above 9 are taken modulo 10.
///
/// ```
/// assert_eq!(jp::lg_code::check_digit(&[2, 4, 2, 0, 1]), 2); // 242012 津市
/// ```
pub fn check_digit(first5: &[u8; 5]) -> u8 {
    let sum: u32 = first5
        .iter()
        .zip([6u32, 5, 4, 3, 2])
        .map(|(&d, w)| u32::from(d % 10) * w)
        .sum();
    ((11 - sum % 11) % 10) as u8
}

/// A valid local-government code, e.g. `242012` (津市).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalGovernmentCode(String);

impl LocalGovernmentCode {
    /// Parses a 6-digit local-government code (full-width digits work).
    /// Checks the check digit, then that the prefecture code is 01..=47.
    ///
    /// ```
    /// use jp::lg_code::LocalGovernmentCode;
    /// let tsu = LocalGovernmentCode::parse("２４２０１２").unwrap();
    /// assert_eq!(tsu.prefecture_code(), 24);
    /// assert!(!tsu.is_prefecture());
    /// ```
    pub fn parse(s: &str) -> Result<LocalGovernmentCode, LgCodeError> {
        let digits = strict_digits(s, false).map_err(|e| match e {
            DigitsError::Empty => LgCodeError::Empty,
            DigitsError::NotDigits => LgCodeError::NotDigits,
        })?;
        if digits.len() != LG_CODE_DIGITS {
            return Err(LgCodeError::WrongLength {
                expected: LG_CODE_DIGITS,
                found: digits.len(),
            });
        }
        let values = digit_values(&digits);
        let (first5, check) = values.split_at(5);
        let first5: &[u8; 5] = first5.try_into().map_err(|_| LgCodeError::NotDigits)?;
        if check.first() != Some(&check_digit(first5)) {
            return Err(LgCodeError::BadCheckDigit);
        }
        let prefecture = first5[0] * 10 + first5[1];
        if !(1..=PREFECTURES).contains(&prefecture) {
            return Err(LgCodeError::UnknownPrefecture { code: prefecture });
        }
        Ok(LocalGovernmentCode(digits))
    }

    /// Builds a code from the 5-digit form without check digit (団体コード
    /// 5桁), appending the check digit. Errors as for [`Self::parse`], with
    /// 5 expected digits.
    ///
    /// ```
    /// use jp::lg_code::LocalGovernmentCode;
    /// assert_eq!(LocalGovernmentCode::from_five_digits("24201").unwrap().as_str(), "242012");
    /// ```
    pub fn from_five_digits(s: &str) -> Result<LocalGovernmentCode, LgCodeError> {
        let digits = strict_digits(s, false).map_err(|e| match e {
            DigitsError::Empty => LgCodeError::Empty,
            DigitsError::NotDigits => LgCodeError::NotDigits,
        })?;
        let values = digit_values(&digits);
        let first5: &[u8; 5] =
            values
                .as_slice()
                .try_into()
                .map_err(|_| LgCodeError::WrongLength {
                    expected: 5,
                    found: digits.len(),
                })?;
        LocalGovernmentCode::parse(&format!("{digits}{}", check_digit(first5)))
    }

    /// The prefecture code (the first two digits), 1..=47.
    pub fn prefecture_code(&self) -> u8 {
        let values = digit_values(&self.0);
        match values.as_slice() {
            [a, b, ..] => a * 10 + b,
            _ => 0,
        }
    }

    /// Whether this is the code of a prefecture itself (digits 3 to 5 are
    /// `000`), e.g. `240001` (三重県).
    pub fn is_prefecture(&self) -> bool {
        self.0.get(2..5) == Some("000")
    }

    /// The 6 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LocalGovernmentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real codes published by 総務省.
    const REAL_CODES: [(&str, &str, u8, bool); 9] = [
        ("240001", "三重県", 24, true),
        ("160008", "富山県", 16, true),
        ("070009", "福島県", 7, true),
        ("242012", "津市", 24, false),
        ("011002", "札幌市", 1, false),
        ("131016", "東京都千代田区", 13, false),
        ("271004", "大阪市", 27, false),
        ("130001", "東京都", 13, true),
        ("012025", "函館市", 1, false),
    ];

    #[test]
    fn real_codes_are_valid() {
        for (code, name, prefecture, is_prefecture) in REAL_CODES {
            let parsed =
                LocalGovernmentCode::parse(code).unwrap_or_else(|e| panic!("{code} {name}: {e}"));
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.prefecture_code(), prefecture, "{name}");
            assert_eq!(parsed.is_prefecture(), is_prefecture, "{name}");
            let five = code.get(..5).unwrap();
            assert_eq!(
                LocalGovernmentCode::from_five_digits(five)
                    .unwrap()
                    .as_str(),
                code
            );
        }
    }

    #[test]
    fn hand_computed_check_digits() {
        // 24000: 2·6 + 4·5 = 32; 32 mod 11 = 10; 11 − 10 = 1.
        assert_eq!(check_digit(&[2, 4, 0, 0, 0]), 1);
        // 16000: 6 + 30 = 36; r = 3; 8.
        assert_eq!(check_digit(&[1, 6, 0, 0, 0]), 8);
        // 07000: 35; r = 2; 9.
        assert_eq!(check_digit(&[0, 7, 0, 0, 0]), 9);
        // 24201: 12 + 20 + 8 + 0 + 2 = 42; r = 9; 2.
        assert_eq!(check_digit(&[2, 4, 2, 0, 1]), 2);
        // 01100: 5 + 4 = 9 < 11, so 11 − 9 = 2.
        assert_eq!(check_digit(&[0, 1, 1, 0, 0]), 2);
        // 13101: 6 + 15 + 4 + 0 + 2 = 27; r = 5; 6.
        assert_eq!(check_digit(&[1, 3, 1, 0, 1]), 6);
        // 27100: 12 + 35 + 4 = 51; r = 7; 4.
        assert_eq!(check_digit(&[2, 7, 1, 0, 0]), 4);
        // 13000: 21; r = 10; 1.
        assert_eq!(check_digit(&[1, 3, 0, 0, 0]), 1);
        // 01202: 5 + 8 + 4 = 17; r = 6; 5.
        assert_eq!(check_digit(&[0, 1, 2, 0, 2]), 5);
    }

    #[test]
    fn two_digit_results_keep_the_last_digit() {
        // r = 0 → 11 − 0 = 11 → 1. 11000: 1·6 + 1·5 = 11.
        assert_eq!(check_digit(&[1, 1, 0, 0, 0]), 1);
        // 22000: 12 + 10 = 22.
        assert_eq!(check_digit(&[2, 2, 0, 0, 0]), 1);
        // r = 1 → 11 − 1 = 10 → 0. 00300: 3·4 = 12.
        assert_eq!(check_digit(&[0, 0, 3, 0, 0]), 0);
        // s < 11 → 11 − s. 00001: 2 → 9; 00000: 0 → 11 → 1.
        assert_eq!(check_digit(&[0, 0, 0, 0, 1]), 9);
        assert_eq!(check_digit(&[0, 0, 0, 0, 0]), 1);
    }

    #[test]
    fn rejections() {
        assert_eq!(LocalGovernmentCode::parse(""), Err(LgCodeError::Empty));
        assert_eq!(
            LocalGovernmentCode::parse("24201"),
            Err(LgCodeError::WrongLength {
                expected: 6,
                found: 5
            })
        );
        assert_eq!(
            LocalGovernmentCode::parse("24201a"),
            Err(LgCodeError::NotDigits)
        );
        assert_eq!(
            LocalGovernmentCode::parse("242013"),
            Err(LgCodeError::BadCheckDigit)
        );
        // 00000 has check digit 1; 48000: 24 + 40 = 64, r = 9 → 2.
        assert_eq!(
            LocalGovernmentCode::parse("000001"),
            Err(LgCodeError::UnknownPrefecture { code: 0 })
        );
        assert_eq!(
            LocalGovernmentCode::parse("480002"),
            Err(LgCodeError::UnknownPrefecture { code: 48 })
        );
        assert_eq!(
            LocalGovernmentCode::from_five_digits("242012"),
            Err(LgCodeError::WrongLength {
                expected: 5,
                found: 6
            })
        );
        assert_eq!(
            LocalGovernmentCode::parse("２４２０１２").unwrap().as_str(),
            "242012"
        );
    }
}
