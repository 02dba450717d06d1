//! Keys and small cryptographic helpers: random tokens, hashes, CSRF tokens and
//! sealing of values that must be encrypted at rest (My Number).
//!
//! One master secret (configured, or generated once into `<data_dir>-keys/secret.key`)
//! is expanded with HMAC-SHA-256 into a key per purpose, so that a token of one
//! kind can never stand in for another.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// `n` random bytes from the operating system.
#[expect(
    clippy::expect_used,
    reason = "without the operating system's random source no token, nonce or key can be made safely: stopping beats continuing with a weak secret"
)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

/// A random 256-bit token, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(data.as_ref()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |n: u8| char::from(DIGITS.get(usize::from(n & 15)).copied().unwrap_or(b'0'));
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 15));
    }
    s
}

#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length (RFC 2104): new_from_slice never fails for it"
)]
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Plain HMAC-SHA-256 of `data` under `key` (as protocols such as AWS
/// Signature Version 4 define it; [`Keys`] derive their own keys otherwise).
#[expect(
    clippy::expect_used,
    reason = "HMAC takes keys of any length (RFC 2104): new_from_slice never fails for it"
)]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The installation's keys, derived from the master secret.
#[derive(Clone)]
pub struct Keys {
    csrf: [u8; 32],
    seal: [u8; 32],
    files: [u8; 32],
    check: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    pub fn from_master(master: &[u8]) -> Keys {
        Keys {
            csrf: hmac(master, &[b"madoguchi/csrf/v1"]),
            seal: hmac(master, &[b"madoguchi/seal/v1"]),
            files: hmac(master, &[b"madoguchi/files/v1"]),
            check: hmac(master, &[b"madoguchi/key-check/v1"]),
        }
    }

    /// The key files are encrypted under (each file with its own key derived
    /// from it, see `files`).
    pub fn files_key(&self) -> [u8; 32] {
        self.files
    }

    /// A value that tells whether two nodes hold the same master key without
    /// revealing it (kept in the database; a node with another key refuses
    /// to start).
    pub fn check_value(&self) -> String {
        hex(&hmac(&self.check, &[b"madoguchi"]))
    }

    /// Uses `configured` if given; otherwise reads the key file `path`,
    /// creating it (mode 0600, its folder too) with a fresh random secret the
    /// first time.
    pub fn load_or_create(configured: Option<&str>, path: &Path) -> anyhow::Result<Keys> {
        if let Some(secret) = configured {
            anyhow::ensure!(
                secret.len() >= 32,
                "the secret key must be at least 32 characters"
            );
            return Ok(Keys::from_master(secret.as_bytes()));
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = text.trim();
                anyhow::ensure!(text.len() >= 32, "{} is too short", path.display());
                Ok(Keys::from_master(text.as_bytes()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder)?;
                }
                let secret = hex(&random_bytes::<32>());
                write_private(path, &secret)?;
                Ok(Keys::from_master(secret.as_bytes()))
            }
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    /// The CSRF token for a session (or an anonymous visitor's nonce).
    pub fn csrf_token(&self, binding: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac(&self.csrf, &[binding.as_bytes()]))
    }

    pub fn verify_csrf(&self, binding: &str, token: &str) -> bool {
        constant_time_eq(self.csrf_token(binding).as_bytes(), token.as_bytes())
    }

    /// Encrypts `plaintext` (AES-256-GCM, random nonce): `v1:` + base64(nonce ‖ ciphertext).
    #[expect(
        clippy::expect_used,
        reason = "AES-GCM refuses only plaintexts over 64 GiB; the values sealed here are a few bytes"
    )]
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new(&self.seal.into());
        let nonce_bytes = random_bytes::<12>();
        let nonce = Nonce::from(nonce_bytes);
        let ct = cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Decrypts what [`Keys::seal`] produced; `None` if it was altered or sealed with another key.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let data = STANDARD.decode(sealed.strip_prefix("v1:")?).ok()?;
        if data.len() < 12 + 16 {
            return None;
        }
        let cipher = Aes256Gcm::new(&self.seal.into());
        let (nonce, ciphertext) = data.split_at_checked(12)?;
        let nonce = Nonce::try_from(nonce).ok()?;
        let pt = cipher.decrypt(&nonce, ciphertext).ok()?;
        String::from_utf8(pt).ok()
    }
}

/// Checks that `keys` are the installation's: the first node writes the key's
/// check value into the database, every later start compares it. A node
/// started with another master key (a wrong `secret_key`, a lost
/// `secret.key`) stops here with a clear message instead of writing data the
/// other nodes cannot read.
pub async fn verify_key(db: &crate::db::Db, keys: &Keys) -> anyhow::Result<()> {
    let mine = keys.check_value();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into key_check (id, check_value, created_at) values (1, $1, $2) \
         on conflict (id) do nothing",
    )
    .bind(&mine)
    .bind(crate::db::Timestamp::now())
    .execute(&mut *tx)
    .await?;
    let stored: String = sqlx::query_scalar("select check_value from key_check where id = 1")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    if !constant_time_eq(stored.as_bytes(), mine.as_bytes()) {
        anyhow::bail!(
            "the master key is not this installation's: the database was set up with another \
             secret_key (or another secret.key). Start with the key it was created with; \
             data sealed under one key cannot be read with another"
        );
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_untouched() {
        let keys = Keys::from_master(b"0123456789abcdef0123456789abcdef");
        let sealed = keys.seal("123456789018");
        assert!(!sealed.contains("123456789018"));
        assert_eq!(keys.open(&sealed).as_deref(), Some("123456789018"));
        assert_ne!(keys.seal("123456789018"), sealed, "a fresh nonce each time");
        let other = Keys::from_master(b"fedcba9876543210fedcba9876543210");
        assert_eq!(other.open(&sealed), None);
        let mut tampered = sealed.clone();
        tampered.replace_range(
            10..11,
            if sealed.get(10..11) == Some("A") {
                "B"
            } else {
                "A"
            },
        );
        assert_eq!(keys.open(&tampered), None);
        assert_eq!(keys.open("garbage"), None);
        assert_eq!(keys.open("v1:%%%"), None);
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let keys = Keys::from_master(b"0123456789abcdef0123456789abcdef");
        let t = keys.csrf_token("session-a");
        assert!(keys.verify_csrf("session-a", &t));
        assert!(!keys.verify_csrf("session-b", &t));
        assert!(!keys.verify_csrf("session-a", ""));
    }
}
