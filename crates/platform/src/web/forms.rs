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
use crate::web::url::{FormData, parse_urlencoded};

/// The name of the hidden field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

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
        let mut value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest {
                code: "malformed_json",
                detail: Some(format!("line {} column {}", e.line(), e.column())),
            })?;
        whole_numbers_as_integers(&mut value);
        let t = serde_json::from_value(value).map_err(|e| AppError::BadRequest {
            code: "invalid_body",
            detail: Some(e.to_string()),
        })?;
        Ok(ApiJson(t))
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

/// Query parameters for the JSON API: strict, unlike [`PageQuery`]. A
/// parameter that does not parse as its type, or is given twice, is refused
/// with 400 `invalid_query` (and what was wrong in `detail`), as the API's
/// OpenAPI document promises; unknown parameters are ignored.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| AppError::BadRequest {
                code: "invalid_query",
                detail: Some(e.to_string()),
            })
    }
}

/// A yes/no query parameter of the API: absent, `0` or `false` is no; `1` or
/// `true` is yes; anything else is refused (400 `invalid_query`).
pub fn api_flag(value: Option<&str>, name: &str) -> Result<bool, AppError> {
    match value {
        None | Some("0" | "false") => Ok(false),
        Some("1" | "true") => Ok(true),
        Some(_) => Err(AppError::BadRequest {
            code: "invalid_query",
            detail: Some(format!("{name} must be 1, true, 0 or false")),
        }),
    }
}

/// JSON does not tell `49.0` from `49`, and JSON Schema's `integer` accepts
/// both; serde does not. Numbers with no fraction that fit an `i64` become
/// integers before a body is read into its type (a float field still takes
/// an integer).
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && n.is_f64()
                && f.fract() == 0.0
                && (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0).contains(&f)
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a whole number within ±2^53 converts to i64 exactly"
                )]
                let i = f as i64;
                *value = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Refuses a multipart body with a field the operation does not take
/// (400 `invalid_body`), as the API's document says of its bodies.
pub fn only_fields(form: &CsrfMultipart, allowed: &[&str]) -> Result<(), AppError> {
    let unknown = form
        .fields
        .names()
        .chain(form.files.iter().map(|f| f.field.as_str()))
        .find(|name| !allowed.contains(name));
    match unknown {
        None => Ok(()),
        Some(name) => Err(AppError::BadRequest {
            code: "invalid_body",
            detail: Some(format!("unknown field {name:?}")),
        }),
    }
}
