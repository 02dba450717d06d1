//! The Corporate Number (法人番号): 13 digits, the FIRST of which is a
//! check digit over the following 12.
//!
//! Errors use [`NumberError`] (shared with [`crate::my_number`]) with
//! [`NumberKind::CorporateNumber`], whose keys are under
//! `corporate_number.`.

use crate::number::read_digits;
pub use crate::number::{CORPORATE_NUMBER_DIGITS, NumberError, NumberKind};
use crate::width::digit_values;

/// The check digit of a corporate number from its 12-digit base (the
/// digits after the check digit).
///
/// With `P_n` the n-th digit of the base counting from the right
/// (n = 1..=12) and `Q_n` = 1 for odd n, 2 for even n:
/// check digit = 9 − (Σ P_n·Q_n mod 9). It is never 0.
/// Digits above 9 are taken modulo 10.
///
/// ```
/// // 8700110005901: base 700110005901.
/// assert_eq!(
///     jp::corporate_number::check_digit(&[7, 0, 0, 1, 1, 0, 0, 0, 5, 9, 0, 1]),
///     8
/// );
/// ```
pub fn check_digit(base12: &[u8; 12]) -> u8 {
    let sum: u32 = base12
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &p)| {
            let q = if i % 2 == 0 { 1 } else { 2 };
            u32::from(p % 10) * q
        })
        .sum();
    (9 - sum % 9) as u8
}

/// A valid Corporate Number (法人番号): 13 ASCII digits whose first digit
/// is the correct check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorporateNumber(String);

impl CorporateNumber {
    /// Parses a corporate number. Full-width digits and spaces or hyphens
    /// between digit groups are accepted; letters and other symbols are
    /// rejected.
    ///
    /// ```
    /// use jp::corporate_number::CorporateNumber;
    /// assert_eq!(CorporateNumber::parse("８７００１１０００５９０１").unwrap().as_str(), "8700110005901");
    /// assert!(CorporateNumber::parse("1700110005901").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<CorporateNumber, NumberError> {
        let kind = NumberKind::CorporateNumber;
        let digits = read_digits(s, kind)?;
        let values = digit_values(&digits);
        let (check, base) = values.split_at(1);
        let base: &[u8; 12] = base
            .try_into()
            .map_err(|_| NumberError::NotDigits { kind })?;
        if check.first() != Some(&check_digit(base)) {
            return Err(NumberError::BadCheckDigit { kind });
        }
        Ok(CorporateNumber(digits))
    }

    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CorporateNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_number() {
        // 8700110005901, base 700110005901. Digits of the base from the
        // right: 1 0 9 5 0 0 0 1 1 0 0 7, weights 1 2 1 2 …:
        // 1 + 0 + 9 + 10 + 0 + 0 + 0 + 2 + 1 + 0 + 0 + 14 = 37;
        // 37 mod 9 = 1; 9 − 1 = 8.
        assert_eq!(check_digit(&[7, 0, 0, 1, 1, 0, 0, 0, 5, 9, 0, 1]), 8);
        let n = CorporateNumber::parse("8700110005901").unwrap();
        assert_eq!(n.as_str(), "8700110005901");
        assert_eq!(n.to_string(), "8700110005901");
        for first in (0..=9).filter(|&d| d != 8) {
            assert_eq!(
                CorporateNumber::parse(&format!("{first}700110005901")),
                Err(NumberError::BadCheckDigit {
                    kind: NumberKind::CorporateNumber
                })
            );
        }
    }

    #[test]
    fn more_hand_computed_examples() {
        // Base 000000000000: sum 0 → 9 − 0 = 9.
        assert_eq!(check_digit(&[0; 12]), 9);
        assert!(CorporateNumber::parse("9000000000000").is_ok());
        // Base 000000000001: sum 1 → 8.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 8);
        // Base 000000000010: P_2 = 1, weight 2 → 7.
        assert_eq!(check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), 7);
        // Base 123456789012: from the right 2 1 0 9 8 7 6 5 4 3 2 1 with
        // weights 1 2 1 2 …: 2+2+0+18+8+14+6+10+4+6+2+2 = 74; 74 mod 9 = 2;
        // check 7.
        assert_eq!(check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]), 7);
        assert!(CorporateNumber::parse("7123456789012").is_ok());
    }

    #[test]
    fn rejections() {
        let kind = NumberKind::CorporateNumber;
        assert_eq!(
            CorporateNumber::parse(" "),
            Err(NumberError::Empty { kind })
        );
        assert_eq!(
            CorporateNumber::parse("870011000590"),
            Err(NumberError::WrongLength {
                kind,
                expected: 13,
                found: 12
            })
        );
        assert_eq!(
            CorporateNumber::parse("T8700110005901"),
            Err(NumberError::NotDigits { kind })
        );
        assert_eq!(
            NumberError::BadCheckDigit { kind }.key(),
            "corporate_number.bad_check_digit"
        );
    }

    #[test]
    fn separators_and_full_width() {
        for s in [
            "8-7001-1000-5901",
            "8 7001 1000 5901",
            "８７００１１０００５９０１",
        ] {
            assert_eq!(CorporateNumber::parse(s).unwrap().as_str(), "8700110005901");
        }
    }
}
