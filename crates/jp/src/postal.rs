//! Japanese postal codes (郵便番号): 7 digits, written `514-8570`.

use thiserror::Error;

use crate::width::{DigitsError, strict_digits};

/// Number of digits in a postal code.
pub const POSTAL_CODE_DIGITS: usize = 7;

/// Why a postal code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PostalError {
    /// Nothing was entered.
    #[error("the postal code is empty")]
    Empty,
    /// The number of digits is wrong.
    #[error("the postal code must have {expected} digits, found {found}")]
    WrongLength {
        /// The required number of digits (7).
        expected: usize,
        /// The number of digits entered.
        found: usize,
    },
    /// Contains letters or symbols other than `〒`, spaces and hyphens.
    #[error("the postal code must contain only digits")]
    NotDigits,
}

impl PostalError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            PostalError::Empty => "postal_code.empty",
            PostalError::WrongLength { .. } => "postal_code.wrong_length",
            PostalError::NotDigits => "postal_code.not_digits",
        }
    }

    /// The placeholder values for the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            PostalError::WrongLength { expected, found } => vec![
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
            _ => vec![],
        }
    }
}

/// A postal code, stored as `514-8570`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

impl PostalCode {
    /// Parses a postal code: `5148570`, `514-8570`, `〒514-8570`, with
    /// full-width digits and any hyphen variant (`－`, `ー`, `‐`, …).
    ///
    /// ```
    /// use jp::postal::PostalCode;
    /// assert_eq!(PostalCode::parse("〒５１４ー８５７０").unwrap().as_str(), "514-8570");
    /// ```
    pub fn parse(s: &str) -> Result<PostalCode, PostalError> {
        let digits = strict_digits(s, true).map_err(|e| match e {
            DigitsError::Empty => PostalError::Empty,
            DigitsError::NotDigits => PostalError::NotDigits,
        })?;
        if digits.len() != POSTAL_CODE_DIGITS {
            return Err(PostalError::WrongLength {
                expected: POSTAL_CODE_DIGITS,
                found: digits.len(),
            });
        }
        let (head, tail) = digits.split_at(3);
        Ok(PostalCode(format!("{head}-{tail}")))
    }

    /// The code as `514-8570`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 7 digits without hyphen, e.g. `5148570`.
    pub fn digits(&self) -> String {
        self.0.replace('-', "")
    }
}

impl std::fmt::Display for PostalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for s in [
            "5148570",
            "514-8570",
            "〒514-8570",
            "〒 514-8570",
            "５１４８５７０",
            "５１４－８５７０",
            "５１４ー８５７０",
            "５１４‐８５７０",
            "514−8570",
            "514 8570",
            "〒５１４ｰ８５７０",
            " 514-8570 ",
        ] {
            let code = PostalCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(code.as_str(), "514-8570", "{s}");
        }
        let code = PostalCode::parse("5148570").unwrap();
        assert_eq!(code.digits(), "5148570");
        assert_eq!(code.to_string(), "514-8570");
    }

    #[test]
    fn rejections() {
        assert_eq!(PostalCode::parse(""), Err(PostalError::Empty));
        assert_eq!(PostalCode::parse("〒 "), Err(PostalError::Empty));
        assert_eq!(
            PostalCode::parse("514-857"),
            Err(PostalError::WrongLength {
                expected: 7,
                found: 6
            })
        );
        assert_eq!(
            PostalCode::parse("514-85700"),
            Err(PostalError::WrongLength {
                expected: 7,
                found: 8
            })
        );
        assert_eq!(PostalCode::parse("514-857O"), Err(PostalError::NotDigits));
        assert_eq!(PostalCode::parse("514_8570"), Err(PostalError::NotDigits));
        assert_eq!(PostalCode::parse("ー5148570"), Err(PostalError::NotDigits));
        assert_eq!(PostalCode::parse("514〒8570"), Err(PostalError::NotDigits));
    }
}
