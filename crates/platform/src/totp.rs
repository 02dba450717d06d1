//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 30-second steps, six
//! digits), the second factor every staff account signs in with, and the
//! recovery codes that stand in for a lost authenticator. No I/O: the
//! accounts module keeps the secrets (sealed), the steps used (so a code is
//! good once) and the codes' hashes.

use hmac::{KeyInit, Mac};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Steps either side of now that are accepted (clock drift, typing time).
pub const DRIFT_STEPS: i64 = 1;
/// Recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (how authenticator apps take a secret).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let i = ((buffer >> bits) & 31) as usize;
            out.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let i = ((buffer << (5 - bits)) & 31) as usize;
        out.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'A')));
    }
    out
}

/// Decodes base32 (case, spaces and padding ignored); None if not base32.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
    {
        let c = c.to_ascii_uppercase();
        let v = ALPHABET.iter().position(|&a| char::from(a) == c)? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The step `unix_secs` falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The six-digit code of `secret` at `step` (RFC 4226's dynamic truncation).
#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length (RFC 2104): new_from_slice never fails for it"
)]
pub fn code(secret: &[u8], step: i64) -> String {
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    let part = |i: usize| u32::from(digest.get(offset + i).copied().unwrap_or(0));
    let binary = ((part(0) & 0x7f) << 24) | (part(1) << 16) | (part(2) << 8) | part(3);
    format!("{:06}", binary % 1_000_000)
}

/// The step whose code `typed` is (within the drift allowed), if any. The
/// caller must still refuse a step already used.
pub fn matching_step(secret: &[u8], typed: &str, unix_secs: i64) -> Option<i64> {
    let typed: String = jp::width::normalize_width(typed)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    // Every candidate is computed, so the time taken does not tell which matched.
    let mut found = None;
    for step in now - DRIFT_STEPS..=now + DRIFT_STEPS {
        if crate::crypto::constant_time_eq(code(secret, step).as_bytes(), typed.as_bytes()) {
            found = found.or(Some(step));
        }
    }
    found
}

/// A new 160-bit secret (RFC 4226 recommends 160 bits).
pub fn new_secret() -> [u8; 20] {
    crate::crypto::random_bytes::<20>()
}

/// The `otpauth://` URI authenticator apps read (also from a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = percent_encode(&format!("{issuer}:{account}"));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        base32(secret),
        percent_encode(issuer)
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// New recovery codes, as shown once (`xxxxx-xxxxx`, lower case, no 0/1/8/9).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let text = base32(&crate::crypto::random_bytes::<7>()).to_ascii_lowercase();
            let chars: Vec<char> = text.chars().take(10).collect();
            let (a, b) = chars.split_at(5.min(chars.len()));
            format!(
                "{}-{}",
                a.iter().collect::<String>(),
                b.iter().collect::<String>()
            )
        })
        .collect()
}

/// What is stored of a recovery code: its SHA-256, of its normal form.
pub fn recovery_hash(typed: &str) -> String {
    let normal: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::crypto::sha256_hex(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vectors_hold() {
        // RFC 6238 appendix B, SHA-1, eight digits there; the last six here.
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code(secret, step_of(t)), eight.get(2..).unwrap(), "t = {t}");
        }
    }

    #[test]
    fn codes_match_within_the_drift_only() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let c = code(&secret, step_of(now));
        assert_eq!(matching_step(&secret, &c, now), Some(step_of(now)));
        assert_eq!(matching_step(&secret, &c, now + 30), Some(step_of(now)));
        assert_eq!(matching_step(&secret, &c, now + 90), None);
        // Full-width digits and spaces as typed on a Japanese keyboard.
        let wide: String = c
            .chars()
            .map(|d| char::from_u32(d as u32 - 0x30 + 0xFF10).unwrap())
            .collect();
        assert_eq!(
            matching_step(&secret, &format!(" {wide} "), now),
            Some(step_of(now))
        );
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn base32_round_trips_and_recovery_codes_are_normalised() {
        for n in 0..25 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let text = base32(&bytes);
            if n > 0 {
                assert_eq!(from_base32(&text.to_lowercase()).unwrap(), bytes);
            }
        }
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert!(from_base32("not base32 0189").is_none());
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        assert_eq!(recovery_hash("ABCDE-FGHIJ"), recovery_hash("abcde fghij"));
    }
}
