//! Stored files sent back as downloads.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::files::{FileKind, FileStore};
use crate::web::error::AppError;
use crate::web::url::encode_component;

/// A file of the content-addressed store as an attachment download: the
/// type the server verified when it was stored (never the browser's), the
/// name it was given (UTF-8, with an ASCII fallback), never cached.
pub async fn stored_file(
    files: &FileStore,
    storage_key: &str,
    filename: &str,
    kind: FileKind,
) -> Result<Response, AppError> {
    let bytes = files
        .get(storage_key)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind.mime()));
    let disposition = format!(
        "attachment; filename=\"file.{}\"; filename*=UTF-8''{}",
        kind.extension(),
        encode_component(filename)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}
