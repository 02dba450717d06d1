//! What the two identifying numbers share: which kind a number is, why one
//! was rejected, and reading its digits. [`crate::my_number`] and
//! [`crate::corporate_number`] re-export the public part.

use thiserror::Error;

use crate::width::{DigitsError, strict_digits};

/// Number of digits in a My Number.
pub const MY_NUMBER_DIGITS: usize = 12;

/// Number of digits in a corporate number, check digit included.
pub const CORPORATE_NUMBER_DIGITS: usize = 13;

/// Which kind of number a [`NumberError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    /// The Individual Number (個人番号), 12 digits.
    MyNumber,
    /// The Corporate Number (法人番号), 13 digits.
    CorporateNumber,
}

impl NumberKind {
    /// The number of digits of this kind of number.
    pub fn digits(self) -> usize {
        match self {
            NumberKind::MyNumber => MY_NUMBER_DIGITS,
            NumberKind::CorporateNumber => CORPORATE_NUMBER_DIGITS,
        }
    }

    fn name_en(self) -> &'static str {
        match self {
            NumberKind::MyNumber => "My Number",
            NumberKind::CorporateNumber => "corporate number",
        }
    }
}

/// Why a My Number or corporate number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NumberError {
    /// Nothing was entered.
    #[error("the {} is empty", .kind.name_en())]
    Empty {
        /// Which number.
        kind: NumberKind,
    },
    /// The number of digits is wrong.
    #[error("the {} must have {expected} digits, found {found}", .kind.name_en())]
    WrongLength {
        /// Which number.
        kind: NumberKind,
        /// The required number of digits.
        expected: usize,
        /// The number of digits entered.
        found: usize,
    },
    /// Contains letters or symbols other than spaces and hyphens.
    #[error("the {} must contain only digits", .kind.name_en())]
    NotDigits {
        /// Which number.
        kind: NumberKind,
    },
    /// The check digit does not match (a typing error).
    #[error("the {} has a wrong check digit", .kind.name_en())]
    BadCheckDigit {
        /// Which number.
        kind: NumberKind,
    },
}

impl NumberError {
    /// Which kind of number the error is about.
    pub fn kind(&self) -> NumberKind {
        match self {
            NumberError::Empty { kind }
            | NumberError::WrongLength { kind, .. }
            | NumberError::NotDigits { kind }
            | NumberError::BadCheckDigit { kind } => *kind,
        }
    }

    /// The stable message key (`my_number.*` or `corporate_number.*`).
    pub fn key(&self) -> &'static str {
        match (self.kind(), self) {
            (NumberKind::MyNumber, NumberError::Empty { .. }) => "my_number.empty",
            (NumberKind::MyNumber, NumberError::WrongLength { .. }) => "my_number.wrong_length",
            (NumberKind::MyNumber, NumberError::NotDigits { .. }) => "my_number.not_digits",
            (NumberKind::MyNumber, NumberError::BadCheckDigit { .. }) => {
                "my_number.bad_check_digit"
            }
            (NumberKind::CorporateNumber, NumberError::Empty { .. }) => "corporate_number.empty",
            (NumberKind::CorporateNumber, NumberError::WrongLength { .. }) => {
                "corporate_number.wrong_length"
            }
            (NumberKind::CorporateNumber, NumberError::NotDigits { .. }) => {
                "corporate_number.not_digits"
            }
            (NumberKind::CorporateNumber, NumberError::BadCheckDigit { .. }) => {
                "corporate_number.bad_check_digit"
            }
        }
    }

    /// The placeholder values for the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            NumberError::WrongLength {
                expected, found, ..
            } => vec![
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
            _ => vec![],
        }
    }
}

/// Reads the digits of a number of `kind`, checking characters and length.
pub(crate) fn read_digits(s: &str, kind: NumberKind) -> Result<String, NumberError> {
    let digits = strict_digits(s, false).map_err(|e| match e {
        DigitsError::Empty => NumberError::Empty { kind },
        DigitsError::NotDigits => NumberError::NotDigits { kind },
    })?;
    let expected = kind.digits();
    if digits.len() != expected {
        return Err(NumberError::WrongLength {
            kind,
            expected,
            found: digits.len(),
        });
    }
    Ok(digits)
}
