//! The Individual Number (マイナンバー / 個人番号): 12 digits, the last of
//! which is a check digit.
//!
//! [`MyNumber`] never shows its value in `Debug` output, and the errors
//! never contain it, so it cannot leak into logs by accident.

use std::fmt;

use crate::number::read_digits;
pub use crate::number::{MY_NUMBER_DIGITS, NumberError, NumberKind};
use crate::width::digit_values;

/// The check digit of a My Number from its first 11 digits.
///
/// With `P_n` the n-th digit counting from the right (n = 1..=11) and
/// `Q_n = n + 1` for 1 ≤ n ≤ 6, `n − 5` for 7 ≤ n ≤ 11:
/// `r = Σ P_n·Q_n mod 11`, check digit = 0 if r ≤ 1, else 11 − r.
/// Digits above 9 are taken modulo 10.
///
/// ```
/// assert_eq!(jp::my_number::check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), 8);
/// ```
pub fn check_digit(first11: &[u8; 11]) -> u8 {
    let sum: u32 = first11
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(p % 10) * q
        })
        .sum();
    let r = sum % 11;
    if r <= 1 { 0 } else { (11 - r) as u8 }
}

/// A valid Individual Number (個人番号): 12 ASCII digits with a correct
/// check digit.
///
/// `Debug` shows only the masked form (`MyNumber("********9018")`); there
/// is deliberately no `Display`. Use [`MyNumber::as_str`] only where the
/// full number is really needed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MyNumber(String);

impl MyNumber {
    /// Parses a My Number. Full-width digits and spaces or hyphens between
    /// digit groups (`1234 5678 9018`, `1234-5678-9018`) are accepted;
    /// letters and other symbols are rejected.
    ///
    /// ```
    /// use jp::my_number::MyNumber;
    /// let n = MyNumber::parse("１２３４ ５６７８ ９０１８").unwrap();
    /// assert_eq!(n.as_str(), "123456789018");
    /// assert_eq!(n.masked(), "********9018");
    /// assert!(MyNumber::parse("123456789012").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<MyNumber, NumberError> {
        let kind = NumberKind::MyNumber;
        let digits = read_digits(s, kind)?;
        let values = digit_values(&digits);
        let (body, check) = values.split_at(11);
        let body: &[u8; 11] = body
            .try_into()
            .map_err(|_| NumberError::NotDigits { kind })?;
        if check.first() != Some(&check_digit(body)) {
            return Err(NumberError::BadCheckDigit { kind });
        }
        Ok(MyNumber(digits))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but the last 4 digits hidden: `********9018`.
    pub fn masked(&self) -> String {
        let visible = self.0.get(self.0.len().saturating_sub(4)..).unwrap_or("");
        format!("{}{}", "*".repeat(self.0.len() - visible.len()), visible)
    }
}

impl fmt::Debug for MyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MyNumber").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_number() {
        // Digits from the right: 1 0 9 8 7 6 5 4 3 2 1, weights 2..7, 2..6:
        // 2+0+36+40+42+42+10+12+12+10+6 = 212; 212 mod 11 = 3; 11 − 3 = 8.
        assert_eq!(check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), 8);
        let n = MyNumber::parse("123456789018").unwrap();
        assert_eq!(n.as_str(), "123456789018");
        for last in (0..=9).filter(|&d| d != 8) {
            assert_eq!(
                MyNumber::parse(&format!("12345678901{last}")),
                Err(NumberError::BadCheckDigit {
                    kind: NumberKind::MyNumber
                })
            );
        }
    }

    #[test]
    fn remainders_zero_and_one_give_zero() {
        // All zeros: r = 0.
        assert_eq!(check_digit(&[0; 11]), 0);
        // P_1 = 5 → 5·2 = 10 ≡ 10 → 1.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]), 1);
        // P_1 = 6 → 12 ≡ 1 → 0.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6]), 0);
        // P_1 = 1 → 2 → 9.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 9);
    }

    #[test]
    fn accepts_separators_and_full_width() {
        let expected = "123456789018";
        for s in [
            "1234 5678 9018",
            "1234-5678-9018",
            "１２３４５６７８９０１８",
            "１２３４－５６７８－９０１８",
            "１２３４　５６７８　９０１８",
            " 1234ー5678ー9018 ",
        ] {
            assert_eq!(MyNumber::parse(s).unwrap().as_str(), expected, "{s}");
        }
    }

    #[test]
    fn rejections() {
        let kind = NumberKind::MyNumber;
        assert_eq!(MyNumber::parse(""), Err(NumberError::Empty { kind }));
        assert_eq!(MyNumber::parse("　"), Err(NumberError::Empty { kind }));
        assert_eq!(
            MyNumber::parse("12345678901"),
            Err(NumberError::WrongLength {
                kind,
                expected: 12,
                found: 11
            })
        );
        assert_eq!(
            MyNumber::parse("1234567890180"),
            Err(NumberError::WrongLength {
                kind,
                expected: 12,
                found: 13
            })
        );
        assert_eq!(
            MyNumber::parse("12345678901a"),
            Err(NumberError::NotDigits { kind })
        );
        assert_eq!(
            MyNumber::parse("1234.5678.9018"),
            Err(NumberError::NotDigits { kind })
        );
        assert_eq!(
            MyNumber::parse("１２３４５６７８９０１８😀"),
            Err(NumberError::NotDigits { kind })
        );
    }

    #[test]
    fn masking() {
        let n = MyNumber::parse("123456789018").unwrap();
        assert_eq!(n.masked(), "********9018");
        let debug = format!("{n:?}");
        assert_eq!(debug, "MyNumber(\"********9018\")");
        assert!(!debug.contains("12345678"));
        let debug = format!("{:?}", Some(n));
        assert!(!debug.contains("12345678"));
    }

    #[test]
    fn errors_do_not_contain_the_number() {
        let err = MyNumber::parse("123456789012").unwrap_err();
        assert!(!err.to_string().contains("1234"));
        assert!(!format!("{err:?}").contains("1234"));
    }
}
