//! Values taken from a request's path.

use crate::web::error::AppError;

/// A path segment as an id; anything else is a page that does not exist
/// (404, the same answer as an id that is not the requester's).
pub fn parse_id(s: &str) -> Result<i64, AppError> {
    s.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_integers_are_ids() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for bad in ["0", "-1", "1e3", "", "x", "99999999999999999999"] {
            assert!(matches!(parse_id(bad), Err(AppError::NotFound)), "{bad}");
        }
    }
}
