//! Errors at the HTTP edge.
//!
//! Which error type where: storage code returns [`crate::db::StoreError`];
//! handlers return [`AppError`] (with `?` on store calls: `NotFound` becomes
//! 404, a conflict 409, anything else 500); startup, CLI and jobs use `anyhow`.
//!
//! `AppError::into_response` does not render anything itself: it attaches the
//! error to the response, and the `error_pages::render_errors` middleware, which knows the
//! request (its language, whether it is an API call), renders it once: JSON
//! `{"error": {"code", "message", "fields"}}` under `/api/`, an HTML page
//! elsewhere, a redirect to the sign-in page for a signed-out visitor. The same
//! middleware gives every other error response (an unknown route, a body over
//! the size limit, a request the framework refused) the same shape, and logs
//! 5xx once. No internal detail ever reaches a client.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::StoreError;

/// An error about one field of a form or a JSON body, already in the
/// requester's language.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (a form field name, or a JSON path such as `answers.birth_date`).
    pub field: String,
    /// A stable machine-readable code (the message key).
    pub code: String,
    pub message: String,
}

impl FieldError {
    /// The id of the element the error summary links to (dots become hyphens).
    pub fn anchor(&self) -> String {
        self.field.replace('.', "-")
    }
}

#[derive(Debug)]
pub enum AppError {
    /// Unknown, or not the requester's to see: the same answer for both.
    NotFound,
    /// A thing named in the request does not exist, said with its own code
    /// (`unknown_organisation`), so the client can tell what was not found.
    NoSuch {
        code: &'static str,
    },
    /// Not signed in.
    Unauthorized,
    /// Signed in but not allowed, or a missing/wrong CSRF token (`code`).
    Forbidden {
        code: &'static str,
    },
    /// A request that cannot be understood (`code`, with an optional detail such as a JSON error position).
    BadRequest {
        code: &'static str,
        detail: Option<String>,
    },
    /// Input that was understood but is not valid.
    Validation {
        fields: Vec<FieldError>,
    },
    /// The request conflicts with the current state (`code`: e.g. `invalid_transition`).
    Conflict {
        code: &'static str,
    },
    TooManyRequests,
    PayloadTooLarge,
    /// The server cannot take the request now (`busy`, `timeout`); try again later.
    Unavailable {
        code: &'static str,
    },
    Internal(anyhow::Error),
}

impl AppError {
    pub fn internal(e: impl Into<anyhow::Error>) -> AppError {
        AppError::Internal(e.into())
    }

    pub fn bad_request(code: &'static str) -> AppError {
        AppError::BadRequest { code, detail: None }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::NoSuch { .. } => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::NoSuch { code } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden { code } => code,
            AppError::BadRequest { code, .. } => code,
            AppError::Validation { .. } => "validation_failed",
            AppError::Conflict { code } => code,
            AppError::TooManyRequests => "too_many_requests",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Unavailable { code } => code,
            AppError::Internal(_) => "internal_error",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(c) => {
                tracing::info!(constraint = %c, "conflict");
                AppError::Conflict { code: "conflict" }
            }
            StoreError::Database(e) => AppError::Internal(e.into()),
            StoreError::Other(e) => AppError::Internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

/// Marks an error response whose body is already what the client should see
/// (a form page shown again with its errors, with status 422).
#[derive(Clone, Copy)]
pub struct Rendered;

/// What travels in the response extensions from a handler to the error
/// renderer (`error_pages::render_errors`).
#[derive(Clone)]
pub struct ErrorMarker(pub Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status().into_response();
        res.extensions_mut().insert(ErrorMarker(Arc::new(self)));
        res
    }
}

/// The errors of one form, in the order they are shown (the order of the fields).
#[derive(Debug, Clone, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Errors {
        Errors::default()
    }

    pub fn add(
        &mut self,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        });
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn list(&self) -> &[FieldError] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}
