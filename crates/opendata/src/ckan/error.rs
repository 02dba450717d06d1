//! CKAN's error classes and how the service's errors become them: CKAN's
//! `__type` strings and status codes are what clients branch on.

use serde_json::{Map, Value, json};

use crate::dictionary::Problems;
use crate::service::{ReadError, TokenError, WriteError};

/// CKAN's error classes.
#[derive(Debug)]
pub enum CkanError {
    NotFound(String),
    Authorization(String),
    /// Field-keyed messages.
    Validation(Map<String, Value>),
    SearchQuery(String),
    /// A malformed request (bad JSON, unknown action): CKAN answers 400 with a bare string.
    BadRequest(String),
    Internal,
}

impl CkanError {
    pub fn validation(field: &str, message: impl Into<String>) -> CkanError {
        let mut m = Map::new();
        m.insert(field.into(), json!([message.into()]));
        CkanError::Validation(m)
    }

    pub fn not_found() -> CkanError {
        CkanError::NotFound("Not found".into())
    }
}

/// CKAN's validation dictionary of field problems: `{"name": ["Missing value"]}`.
fn validation_fields(problems: &Problems) -> Map<String, Value> {
    problems
        .iter()
        .map(|(field, messages)| (field.to_string(), json!(messages)))
        .collect()
}

impl From<WriteError> for CkanError {
    fn from(e: WriteError) -> CkanError {
        match e {
            WriteError::NotFound => CkanError::not_found(),
            WriteError::NotAuthorized(m) => CkanError::Authorization(m),
            WriteError::Invalid(p) => CkanError::Validation(validation_fields(&p)),
            WriteError::Files(e) => {
                tracing::error!(error = %e, "storing an upload failed");
                CkanError::Internal
            }
            WriteError::Store(e) => {
                tracing::error!(error = %e, "catalogue storage failed");
                CkanError::Internal
            }
        }
    }
}

impl From<ReadError> for CkanError {
    fn from(e: ReadError) -> CkanError {
        tracing::error!(error = %e, "reading the catalogue failed");
        CkanError::Internal
    }
}

impl From<TokenError> for CkanError {
    fn from(e: TokenError) -> CkanError {
        match e {
            TokenError::NotFound => CkanError::not_found(),
            TokenError::Store(e) => {
                tracing::error!(error = %e, "catalogue storage failed");
                CkanError::Internal
            }
        }
    }
}
