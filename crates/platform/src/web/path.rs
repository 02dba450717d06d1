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

/// A page key of a list ordered by time then id, newest first: the
/// `next_before` a page ends with, which asks for the next one. Written as
/// `<microseconds since 1970>_<id>`, so any two integers in range make a key
/// (the API's document can describe it exactly).
pub fn page_key(at: crate::db::Timestamp, id: i64) -> String {
    format!("{}_{}", at.0.timestamp_micros(), id)
}

/// Reads a [`page_key`]; `None` if it is not one.
pub fn parse_page_key(s: &str) -> Option<(crate::db::Timestamp, i64)> {
    let (micros, id) = s.split_once('_')?;
    let digits = |t: &str| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(micros) || !digits(id) {
        return None;
    }
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((crate::db::Timestamp(at), id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_round_trip_and_every_well_formed_key_reads() {
        let at = crate::db::Timestamp::now();
        assert_eq!(parse_page_key(&page_key(at, 42)), Some((at, 42)));
        assert!(parse_page_key("999999999999999999_999999999999999999").is_some());
        assert!(parse_page_key("0_0").is_some());
        for bad in [
            "",
            "_",
            "1_",
            "_1",
            "1_2_3",
            "-1_2",
            "1e3_2",
            "2026-11-21T09:30:00.000000Z_1",
            "1234567890123456789_1",
        ] {
            assert_eq!(parse_page_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_positive_integers_are_ids() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for bad in ["0", "-1", "1e3", "", "x", "99999999999999999999"] {
            assert!(matches!(parse_id(bad), Err(AppError::NotFound)), "{bad}");
        }
    }
}
