//! Request bodies: HTML forms (URL-encoded or multipart), always checked for
//! their CSRF token, and JSON for the API, with errors in our own shape.
//!
//! Handlers that change state take [`CsrfForm`] or [`CsrfMultipart`]; there is
//! no other form extractor, so a form handler cannot forget the check.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Multipart, Request};
use serde::de::DeserializeOwned;

use crate::Platform;
use crate::web::context::RequestContext;
use crate::web::error::AppError;

/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// Submitted form fields in order; a name may repeat (check boxes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of `name`, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }
}

/// Parses `application/x-www-form-urlencoded` bytes (invalid UTF-8 is replaced, never fatal).
pub fn parse_urlencoded(body: &[u8]) -> FormData {
    FormData(
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// Percent-encodes a URL query component.
pub fn encode_component(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Only local paths may be redirect targets (no `//evil.example`, no scheme).
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains(['\r', '\n']) =>
        {
            n.to_string()
        }
        _ => default.to_string(),
    }
}

fn verify(platform: &Platform, ctx: &RequestContext, token: Option<&str>) -> Result<(), AppError> {
    match token {
        Some(t) if platform.keys.verify_csrf(&ctx.csrf_binding, t) => Ok(()),
        _ => Err(AppError::Forbidden {
            code: "csrf_failed",
        }),
    }
}

/// A URL-encoded form whose CSRF token was checked.
#[derive(Debug, Clone)]
pub struct CsrfForm(pub FormData);

impl<S> FromRequest<S> for CsrfForm
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let platform = Platform::from_ref(state);
        let (mut parts, body) = req.into_parts();
        let ctx = RequestContext::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::bad_request("bad_request")
            }
        })?;
        let form = parse_urlencoded(&bytes);
        verify(&platform, &ctx, form.get(CSRF_FIELD))?;
        Ok(CsrfForm(form))
    }
}

/// An uploaded file, as received.
#[derive(Debug, Clone)]
pub struct Upload {
    pub field: String,
    pub filename: String,
    pub bytes: Bytes,
}

/// A multipart form whose CSRF token was checked. Files with an empty name and
/// no content (a file input left empty) are dropped.
#[derive(Debug, Clone, Default)]
pub struct CsrfMultipart {
    pub fields: FormData,
    pub files: Vec<Upload>,
}

impl<S> FromRequest<S> for CsrfMultipart
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let platform = Platform::from_ref(state);
        let (mut parts, body) = req.into_parts();
        let ctx = RequestContext::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| AppError::bad_request("bad_request"))?;
        let mut out = CsrfMultipart::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e)),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            match filename {
                Some(filename) => {
                    if !(filename.is_empty() && bytes.is_empty()) {
                        out.files.push(Upload {
                            field: name,
                            filename,
                            bytes,
                        });
                    }
                }
                None => out
                    .fields
                    .push(name, String::from_utf8_lossy(&bytes).into_owned()),
            }
        }
        verify(&platform, &ctx, out.fields.get(CSRF_FIELD))?;
        Ok(out)
    }
}

/// A form that may be URL-encoded or multipart (a page with a file question),
/// with its CSRF token checked either way.
#[derive(Debug, Clone, Default)]
pub struct CsrfAnyForm(pub CsrfMultipart);

impl<S> FromRequest<S> for CsrfAnyForm
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if multipart {
            Ok(CsrfAnyForm(CsrfMultipart::from_request(req, state).await?))
        } else {
            let CsrfForm(fields) = CsrfForm::from_request(req, state).await?;
            Ok(CsrfAnyForm(CsrfMultipart {
                fields,
                files: Vec::new(),
            }))
        }
    }
}

/// A multipart body for the API (bearer tokens need no CSRF token; a browser
/// session's API calls are checked for the `X-CSRF-Token` header by the
/// authentication extractors).
#[derive(Debug, Clone, Default)]
pub struct ApiMultipart(pub CsrfMultipart);

impl<S> FromRequest<S> for ApiMultipart
where
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|_| AppError::bad_request("multipart_expected"))?;
        let mut out = CsrfMultipart::default();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e)),
            };
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            match filename {
                Some(filename) => out.files.push(Upload {
                    field: name,
                    filename,
                    bytes,
                }),
                None => out
                    .fields
                    .push(name, String::from_utf8_lossy(&bytes).into_owned()),
            }
        }
        Ok(ApiMultipart(out))
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::bad_request("bad_request")
    }
}

/// A JSON body. Malformed JSON is a 400 `malformed_json` with the parser's
/// position; a body of the wrong shape a 400 `invalid_body`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::bad_request("bad_request")
            }
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest {
                code: "malformed_json",
                detail: Some(format!("line {} column {}", e.line(), e.column())),
            })?;
        let t = serde_json::from_value(value).map_err(|e| AppError::BadRequest {
            code: "invalid_body",
            detail: Some(e.to_string()),
        })?;
        Ok(ApiJson(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_kept_and_bad_bytes_are_not_fatal() {
        let f = parse_urlencoded(b"a=1&b=%E3%81%82&a=2&c=%FF");
        assert_eq!(f.get_all("a"), vec!["1", "2"]);
        assert_eq!(f.get("b"), Some("あ"));
        assert!(f.get("c").is_some());
    }

    #[test]
    fn only_local_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/applications"), "/"), "/applications");
        assert_eq!(safe_next(Some("//evil.example/"), "/"), "/");
        assert_eq!(safe_next(Some("https://evil.example/"), "/"), "/");
        assert_eq!(safe_next(Some("/\\evil.example"), "/"), "/");
        assert_eq!(safe_next(None, "/x"), "/x");
    }
}

/// Query parameters for pages: parameters that do not parse fall back to the
/// defaults (a page with a mangled link still shows), never an error.
#[derive(Debug, Clone, Default)]
pub struct PageQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for PageQuery<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(PageQuery(
            serde_urlencoded::from_str(query).unwrap_or_default(),
        ))
    }
}
