//! Orion's answers: its error bodies ([`ApiError`]), JSON with the
//! `Fiware-Total-Count` header, JSON in Orion's key order ([`Out`]), and
//! the 405 and "service not found" answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

/// An Orion error.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) description: String,
}

impl ApiError {
    pub(super) fn bad_request(description: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "BadRequest",
            description: description.into(),
        }
    }

    pub(super) fn not_found(description: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: "NotFound",
            description: description.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "description": self.description});
        json_response(self.status, &body, None)
    }
}

pub(super) fn json_response(
    status: StatusCode,
    body: &impl Serialize,
    count: Option<usize>,
) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(count) = count
        && let Ok(value) = HeaderValue::from_str(&count.to_string())
    {
        headers.insert("fiware-total-count", value);
    }
    response
}

/// JSON rendered in a fixed key order (Orion's: `id`, `type`, then the
/// attributes as stored; `type`, `value`, `metadata`).
pub(super) enum Out {
    Value(Value),
    Map(Vec<(String, Out)>),
    List(Vec<Out>),
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Value(v) => v.serialize(serializer),
            Out::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

pub(super) async fn method_not_allowed() -> Response {
    let mut response = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "MethodNotAllowed",
        description: "method not allowed".to_string(),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

pub(super) async fn service_not_found() -> Response {
    ApiError::bad_request("Service not found. Check your URL as probably it is wrong.")
        .into_response()
}
