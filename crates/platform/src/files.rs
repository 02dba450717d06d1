//! File storage for attachments and data files, and verification of what a
//! file really is.
//!
//! Files are content-addressed: the key is the SHA-256 of the bytes, so the
//! same file uploaded twice is stored once and a key can be checked against
//! its contents. Two backends:
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

/// Where files live.
#[derive(Debug, Clone)]
pub struct FileStore {
    backend: Backend,
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
        }
    }

    /// Files in an S3-compatible bucket.
    pub fn s3(bucket: Bucket) -> FileStore {
        FileStore {
            backend: Backend::S3(Arc::new(bucket)),
        }
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
}
