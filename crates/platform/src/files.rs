//! File storage for attachments and data files, and verification of what a
//! file really is.
//!
//! Files are content-addressed: the key is the SHA-256 of the bytes, so the
//! same file uploaded twice is stored once and a key can be checked against
//! its contents. They are encrypted at rest (attachments may be copies of a
//! My Number card): each file with its own AES-256-GCM key, derived from the
//! installation's files key and the file's SHA-256, so duplicates still
//! store once and nothing on disk or in the bucket reads without the master
//! key. Files written before encryption (no header) are read as they are.
//! Two backends:
//! - local (the default): under `data_dir/files/ab/cd/…`, written to a
//!   temporary name, synced, then renamed, so a crash never leaves a
//!   half-written file under a real key;
//! - S3-compatible object storage ([`s3`]), for installations with several
//!   nodes: every node reads and writes the same bucket.

mod s3;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crypto;

pub use s3::Bucket;

/// The content of a stored file read back from its bytes as stored (backups
/// check files this way): decrypted with `files_key` when encrypted, and
/// checked against its key (its SHA-256).
pub fn open_stored(
    files_key: Option<&[u8; 32]>,
    key: &str,
    stored: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    let content = open(files_key, key, stored)?;
    if crypto::sha256_hex(&content) != key {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file does not match its digest",
        ));
    }
    Ok(content)
}

/// Files asked to be deleted at least `grace` ago (table `file_deletions`,
/// filled by the modules when a file stops being wanted), oldest first.
pub async fn pending_deletions(
    db: &crate::db::Db,
    grace: std::time::Duration,
    limit: i64,
) -> crate::db::StoreResult<Vec<String>> {
    let before = crate::db::Timestamp(
        chrono::Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default(),
    );
    Ok(sqlx::query_scalar(
        "select storage_key from file_deletions where requested_at <= $1 \
         order by requested_at limit $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Forgets a deletion request (the file is deleted, or still in use).
pub async fn deletion_done(db: &crate::db::Db, key: &str) -> crate::db::StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("delete from file_deletions where storage_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Where files live.
#[derive(Clone)]
pub struct FileStore {
    backend: Backend,
    /// The files key ([`crypto::Keys::files_key`]); None stores plaintext (tests of the store itself).
    key: Option<Arc<[u8; 32]>>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("backend", &self.backend)
            .field("encrypted", &self.key.is_some())
            .finish()
    }
}

/// What an encrypted file starts with.
const SEALED_HEADER: &[u8] = b"MDGF1\0";

/// The file's own key and nonce: derived from the files key and its SHA-256
/// (a key is used for one plaintext only, so a derived nonce is safe).
fn object_key(files_key: &[u8; 32], sha: &str) -> ([u8; 32], [u8; 12]) {
    let key = crypto::hmac_sha256(files_key, format!("object:{sha}").as_bytes());
    let n = crypto::hmac_sha256(files_key, format!("nonce:{sha}").as_bytes());
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(n.get(..12).unwrap_or(&[0u8; 12]));
    (key, nonce)
}

fn seal(files_key: &[u8; 32], sha: &str, plaintext: &[u8]) -> std::io::Result<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit};
    let (key, nonce) = object_key(files_key, sha);
    let cipher = aes_gcm::Aes256Gcm::new(&key.into());
    let ct = cipher
        .encrypt(&aes_gcm::Nonce::from(nonce), plaintext)
        .map_err(|_| std::io::Error::other("the file could not be encrypted"))?;
    let mut out = Vec::with_capacity(SEALED_HEADER.len() + ct.len());
    out.extend_from_slice(SEALED_HEADER);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(files_key: Option<&[u8; 32]>, sha: &str, stored: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit};
    let Some(ct) = stored.strip_prefix(SEALED_HEADER) else {
        // Written before files were encrypted.
        return Ok(stored);
    };
    let files_key = files_key.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is encrypted and no key is configured",
        )
    })?;
    let (key, nonce) = object_key(files_key, sha);
    aes_gcm::Aes256Gcm::new(&key.into())
        .decrypt(&aes_gcm::Nonce::from(nonce), ct)
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the file does not open with this installation's key",
            )
        })
}

#[derive(Debug, Clone)]
enum Backend {
    Local(PathBuf),
    S3(Arc<Bucket>),
}

/// Whether `key` is a SHA-256 hex digest (lowercase), the only keys there are.
fn is_key(key: &str) -> bool {
    key.len() == 64
        && key
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl FileStore {
    /// Files in a local directory.
    pub fn local(root: impl Into<PathBuf>) -> FileStore {
        FileStore {
            backend: Backend::Local(root.into()),
            key: None,
        }
    }

    /// Files in an S3-compatible bucket.
    pub fn s3(bucket: Bucket) -> FileStore {
        FileStore {
            backend: Backend::S3(Arc::new(bucket)),
            key: None,
        }
    }

    /// Encrypts what it stores under `files_key` ([`crypto::Keys::files_key`]).
    pub fn encrypted(mut self, files_key: [u8; 32]) -> FileStore {
        self.key = Some(Arc::new(files_key));
        self
    }

    /// The local directory, if files are kept locally (backups copy it).
    pub fn local_root(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Local(root) => Some(root),
            Backend::S3(_) => None,
        }
    }

    /// `local` or `s3`, for logs and `/healthz`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Local(_) => "local",
            Backend::S3(_) => "s3",
        }
    }

    /// Checks that the store can be used: the bucket answers and accepts
    /// the signature (S3); nothing to check locally (the directory is
    /// created on first write).
    pub async fn check(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Local(_) => Ok(()),
            Backend::S3(bucket) => bucket.check().await,
        }
    }

    fn path_of(root: &Path, key: &str) -> Option<PathBuf> {
        if !is_key(key) {
            return None;
        }
        Some(root.join(key.get(0..2)?).join(key.get(2..4)?).join(key))
    }

    /// Stores `bytes`; returns their key.
    pub async fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let key = crypto::sha256_hex(bytes);
        let stored = match &self.key {
            Some(files_key) => seal(files_key, &key, bytes)?,
            None => bytes.to_vec(),
        };
        let bytes = stored.as_slice();
        match &self.backend {
            Backend::Local(root) => {
                let path = Self::path_of(root, &key).ok_or_else(|| {
                    std::io::Error::other("a file key must be a SHA-256 hex digest")
                })?;
                if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                    return Ok(key);
                }
                let dir = path
                    .parent()
                    .ok_or_else(|| std::io::Error::other("a file key's path has a directory"))?
                    .to_path_buf();
                let bytes = bytes.to_vec();
                tokio::task::spawn_blocking(move || write_atomically(&dir, &path, &bytes))
                    .await
                    .map_err(std::io::Error::other)??;
            }
            Backend::S3(bucket) => bucket.put(&key, bytes.to_vec()).await?,
        }
        Ok(key)
    }

    /// The bytes stored under `key`, or `None`.
    pub async fn get(&self, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        let stored = self.get_stored(key).await?;
        stored
            .map(|b| open(self.key.as_deref(), key, b))
            .transpose()
    }

    /// Deletes the file under `key` (gone already is fine). Callers make sure
    /// nothing refers to it (see [`pending_deletions`]).
    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(root) => {
                let Some(path) = Self::path_of(root, key) else {
                    return Ok(());
                };
                match tokio::fs::remove_file(&path).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                }
            }
            Backend::S3(bucket) => {
                if !is_key(key) {
                    return Ok(());
                }
                bucket.delete(key).await
            }
        }
    }

    /// The bytes as they are on disk or in the bucket.
    async fn get_stored(&self, key: &str) -> std::io::Result<Option<Vec<u8>>> {
        match &self.backend {
            Backend::Local(root) => {
                let Some(path) = Self::path_of(root, key) else {
                    return Ok(None);
                };
                match tokio::fs::read(&path).await {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Backend::S3(bucket) => {
                if !is_key(key) {
                    return Ok(None);
                }
                bucket.get(key).await
            }
        }
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", crypto::random_token()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// A file type the server recognises from the bytes themselves (never from
/// the name or the type the browser claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    Gif,
    Webp,
    Heic,
    Docx,
    Xlsx,
    Zip,
    Csv,
    Text,
}

impl FileKind {
    pub const ALL: [FileKind; 11] = [
        FileKind::Pdf,
        FileKind::Jpeg,
        FileKind::Png,
        FileKind::Gif,
        FileKind::Webp,
        FileKind::Heic,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Zip,
        FileKind::Csv,
        FileKind::Text,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Gif => "gif",
            FileKind::Webp => "webp",
            FileKind::Heic => "heic",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Zip => "zip",
            FileKind::Csv => "csv",
            FileKind::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        let s = s.trim().trim_start_matches('.').to_ascii_lowercase();
        let s = match s.as_str() {
            "jpg" => "jpeg",
            "txt" => "text",
            other => other,
        };
        FileKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Heic => "image/heic",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Zip => "application/zip",
            FileKind::Csv => "text/csv",
            FileKind::Text => "text/plain",
        }
    }

    /// The name shown to people (`PDF`, `JPEG` …).
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF",
            FileKind::Jpeg => "JPEG",
            FileKind::Png => "PNG",
            FileKind::Gif => "GIF",
            FileKind::Webp => "WebP",
            FileKind::Heic => "HEIC",
            FileKind::Docx => "Word (.docx)",
            FileKind::Xlsx => "Excel (.xlsx)",
            FileKind::Zip => "ZIP",
            FileKind::Csv => "CSV",
            FileKind::Text => "テキスト",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            FileKind::Text => "txt",
            other => other.code(),
        }
    }
}

/// What `bytes` are, judged by their content; `None` when unrecognised.
/// `name` only separates CSV from other plain text.
pub fn sniff(bytes: &[u8], name: &str) -> Option<FileKind> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(FileKind::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(FileKind::Gif);
    }
    let at = |range: std::ops::Range<usize>| bytes.get(range).unwrap_or_default();
    if at(0..4) == b"RIFF" && at(8..12) == b"WEBP" {
        return Some(FileKind::Webp);
    }
    if at(4..8) == b"ftyp" {
        let brand = at(8..12);
        if [b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"]
            .iter()
            .any(|b| brand == *b)
        {
            return Some(FileKind::Heic);
        }
    }
    if starts(b"PK\x03\x04") {
        // Office Open XML packages name their parts in the local file headers.
        let head = head_of(bytes);
        if contains(head, b"word/") {
            return Some(FileKind::Docx);
        }
        if contains(head, b"xl/") {
            return Some(FileKind::Xlsx);
        }
        return Some(FileKind::Zip);
    }
    if looks_like_text(bytes) {
        let lower = name.to_ascii_lowercase();
        return Some(if lower.ends_with(".csv") {
            FileKind::Csv
        } else {
            FileKind::Text
        });
    }
    None
}

/// The first 64 KiB, which is where the sniffers look.
fn head_of(bytes: &[u8]) -> &[u8] {
    bytes.get(..64 * 1024).unwrap_or(bytes)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// UTF-8 (with or without BOM) or Shift_JIS-looking text without NULs or
/// other control characters than tab, CR and LF.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let sample = head_of(bytes);
    if sample
        .iter()
        .any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')))
    {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        // A sample cut in the middle of a multi-byte character is still UTF-8.
        Err(e) if e.error_len().is_none() => true,
        Err(_) => is_shift_jis_like(sample),
    }
}

/// Whether every byte fits Shift_JIS (CP932): ASCII, half-width katakana, or
/// a lead byte followed by a valid trail byte.
fn is_shift_jis_like(bytes: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            0x00..=0x7F | 0xA1..=0xDF => i += 1,
            0x81..=0x9F | 0xE0..=0xFC => {
                match bytes.get(i + 1) {
                    Some(0x40..=0x7E | 0x80..=0xFC) => i += 2,
                    // Cut at the end of the sample.
                    None => return true,
                    Some(_) => return false,
                }
            }
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n...", "photo.jpg"), Some(FileKind::Pdf));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "x.pdf"),
            Some(FileKind::Png)
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "x"),
            Some(FileKind::Jpeg)
        );
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0", "report.pdf"),
            None,
            "an executable is not a PDF"
        );
        assert_eq!(sniff(b"a,b\n1,2\n", "list.csv"), Some(FileKind::Csv));
        assert_eq!(sniff(b"", "empty.pdf"), None);
    }

    #[tokio::test]
    async fn stored_files_come_back_by_key() {
        let dir = std::env::temp_dir().join(format!("madoguchi-files-{}", crypto::random_token()));
        let store = FileStore::local(&dir);
        let key = store.put(b"hello").await.unwrap();
        assert_eq!(key, crypto::sha256_hex(b"hello"));
        assert_eq!(store.put(b"hello").await.unwrap(), key);
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(store.get("../../etc/passwd").await.unwrap(), None);
        assert_eq!(store.get(&"0".repeat(64)).await.unwrap(), None);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn files_are_encrypted_at_rest_and_open_only_with_the_key() {
        let dir = std::env::temp_dir().join(format!("madoguchi-files-{}", crypto::random_token()));
        let keys = crypto::Keys::from_master(b"0123456789abcdef0123456789abcdef");
        let store = FileStore::local(&dir).encrypted(keys.files_key());
        let card =
            b"%PDF-1.7 \xe5\x80\x8b\xe4\xba\xba\xe7\x95\xaa\xe5\x8f\xb7 123456789018 MIE TARO"
                .to_vec();
        let key = store.put(&card).await.unwrap();
        assert_eq!(key, crypto::sha256_hex(&card), "still addressed by content");
        // On disk: not the file, nothing of it readable.
        let path = FileStore::path_of(&dir, &key).unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert!(on_disk.starts_with(SEALED_HEADER));
        assert!(
            !on_disk.windows(12).any(|w| w == b"123456789018"),
            "the number is not on disk"
        );
        assert!(!on_disk.windows(8).any(|w| w == b"%PDF-1.7"));
        assert_eq!(store.get(&key).await.unwrap(), Some(card.clone()));
        // Another installation's key does not open it; no key does not either.
        let other = crypto::Keys::from_master(b"fedcba9876543210fedcba9876543210");
        let wrong = FileStore::local(&dir).encrypted(other.files_key());
        assert_eq!(
            wrong.get(&key).await.unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
        assert!(FileStore::local(&dir).get(&key).await.is_err());
        // A file stored before encryption is still read.
        let plain = FileStore::local(&dir);
        let old = plain.put(b"written in 2025").await.unwrap();
        assert_eq!(
            store.get(&old).await.unwrap().as_deref(),
            Some(&b"written in 2025"[..])
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
