//! Japanese phone numbers (domestic notation, 10 or 11 digits starting with
//! 0).

use thiserror::Error;

use crate::width::{is_separator_at, normalize_width};

/// Why a phone number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// Nothing was entered.
    #[error("the phone number is empty")]
    Empty,
    /// Contains letters or symbols other than spaces, hyphens, parentheses
    /// and a leading `+81`.
    #[error("the phone number contains characters other than digits and hyphens")]
    Invalid,
    /// Not 10 or 11 digits.
    #[error("the phone number must have 10 or 11 digits, found {found}")]
    WrongLength {
        /// The number of digits entered (after converting `+81` to `0`).
        found: usize,
    },
    /// Does not start with 0 (area code or mobile prefix).
    #[error("the phone number must start with 0")]
    NoLeadingZero,
}

impl PhoneError {
    /// The stable message key.
    pub fn key(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone.empty",
            PhoneError::Invalid => "phone.invalid",
            PhoneError::WrongLength { .. } => "phone.wrong_length",
            PhoneError::NoLeadingZero => "phone.no_leading_zero",
        }
    }

    /// The placeholder values for the message.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            PhoneError::WrongLength { found } => vec![("found", found.to_string())],
            _ => vec![],
        }
    }
}

/// Normalises a Japanese phone number.
///
/// After width normalisation, the digit groups the resident typed are kept
/// and joined with `-` (any hyphen variant, spaces and parentheses count as
/// group separators: `03(1234)5678` → `03-1234-5678`); without separators
/// only the digits are returned. A leading `+81` is converted to `0`
/// (`+81 90-1234-5678` → `090-1234-5678`, also `+81 (0)3-…`). The result
/// must have 10 or 11 digits and start with 0.
///
/// ```
/// use jp::phone::normalize_phone;
/// assert_eq!(normalize_phone("０９０－１２３４－５６７８").unwrap(), "090-1234-5678");
/// assert_eq!(normalize_phone("0312345678").unwrap(), "0312345678");
/// assert_eq!(normalize_phone("+81-3-1234-5678").unwrap(), "03-1234-5678");
/// ```
pub fn normalize_phone(s: &str) -> Result<String, PhoneError> {
    let normalized = normalize_width(s);
    let trimmed = normalized.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let (international, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => match rest.strip_prefix("81") {
            Some(rest) => (true, rest),
            None => return Err(PhoneError::Invalid),
        },
        None => (false, trimmed),
    };

    let chars: Vec<char> = rest.chars().collect();
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            current.push(c);
        } else if c.is_whitespace() || c == '(' || c == ')' || is_separator_at(&chars, i) {
            if !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
        } else {
            return Err(PhoneError::Invalid);
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }

    if international {
        // `+81 (0)3-…`: the trunk prefix written separately.
        if groups.first().is_some_and(|g| g == "0") {
            groups.remove(0);
        }
        match groups.first_mut() {
            Some(first) if !first.starts_with('0') => first.insert(0, '0'),
            Some(_) => {}
            None => return Err(PhoneError::Invalid),
        }
    }

    let digit_count: usize = groups.iter().map(String::len).sum();
    if digit_count == 0 {
        return Err(PhoneError::Invalid);
    }
    if !groups.first().is_some_and(|g| g.starts_with('0')) {
        return Err(PhoneError::NoLeadingZero);
    }
    if !(10..=11).contains(&digit_count) {
        return Err(PhoneError::WrongLength { found: digit_count });
    }
    Ok(groups.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_grouping() {
        assert_eq!(normalize_phone("059-224-2001"), Ok("059-224-2001".into()));
        assert_eq!(
            normalize_phone("０５９－２２４－２００１"),
            Ok("059-224-2001".into())
        );
        assert_eq!(normalize_phone("059ー224ー2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("059‐224‐2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("059−224−2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("059 224 2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("059(224)2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("(059)224-2001"), Ok("059-224-2001".into()));
        assert_eq!(normalize_phone("090-1234-5678"), Ok("090-1234-5678".into()));
        assert_eq!(normalize_phone("0120-123-456"), Ok("0120-123-456".into()));
        assert_eq!(
            normalize_phone("059 - 224 - 2001"),
            Ok("059-224-2001".into())
        );
    }

    #[test]
    fn digits_only_without_separators() {
        assert_eq!(normalize_phone("0592242001"), Ok("0592242001".into()));
        assert_eq!(
            normalize_phone("０９０１２３４５６７８"),
            Ok("09012345678".into())
        );
    }

    #[test]
    fn international_prefix() {
        assert_eq!(
            normalize_phone("+81 90-1234-5678"),
            Ok("090-1234-5678".into())
        );
        assert_eq!(normalize_phone("+819012345678"), Ok("09012345678".into()));
        assert_eq!(
            normalize_phone("＋８１－３－１２３４－５６７８"),
            Ok("03-1234-5678".into())
        );
        assert_eq!(
            normalize_phone("+81 (0)3-1234-5678"),
            Ok("03-1234-5678".into())
        );
        assert_eq!(
            normalize_phone("+81-03-1234-5678"),
            Ok("03-1234-5678".into())
        );
        assert_eq!(normalize_phone("+1 555 123 4567"), Err(PhoneError::Invalid));
        assert_eq!(normalize_phone("+81"), Err(PhoneError::Invalid));
    }

    #[test]
    fn rejections() {
        assert_eq!(normalize_phone(""), Err(PhoneError::Empty));
        assert_eq!(normalize_phone("　"), Err(PhoneError::Empty));
        // Only the digit count is checked, not the operator's numbering plan.
        assert_eq!(normalize_phone("090-1234-567"), Ok("090-1234-567".into()));
        assert_eq!(
            normalize_phone("090-123-567"),
            Err(PhoneError::WrongLength { found: 9 })
        );
        assert_eq!(
            normalize_phone("090-1234-56789"),
            Err(PhoneError::WrongLength { found: 12 })
        );
        assert_eq!(
            normalize_phone("90-1234-5678"),
            Err(PhoneError::NoLeadingZero)
        );
        assert_eq!(
            normalize_phone("090-1234-5678 内線12"),
            Err(PhoneError::Invalid)
        );
        assert_eq!(normalize_phone("090.1234.5678"), Err(PhoneError::Invalid));
        assert_eq!(normalize_phone("---"), Err(PhoneError::Invalid));
        assert_eq!(normalize_phone("ー09012345678"), Err(PhoneError::Invalid));
    }
}
