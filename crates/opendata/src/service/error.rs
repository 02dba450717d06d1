//! The service's errors, one per family of use cases. Each says what went
//! wrong in the catalogue's terms and names its message ([`WriteError::key`]
//! …, an `error.{key}` of the platform's catalogue); none knows an HTTP
//! status. The web layer maps them: to the platform's HTTP errors for the pages
//! (`crate::web`), to CKAN's error classes in the CKAN adapter.

use platform::StoreError;

use crate::dictionary::Problems;

/// Why a change to the catalogue (a dataset, a resource, a publisher or a
/// group) was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// No such dataset, resource or publisher.
    #[error("not found")]
    NotFound,
    /// The actor may not change it; CKAN's message
    /// (`User … not authorized to edit package …`).
    #[error("{0}")]
    NotAuthorized(String),
    /// What is wrong with the dictionary, field by field.
    #[error("invalid: {0:?}")]
    Invalid(Problems),
    /// Storing an uploaded file failed.
    #[error("storing a file failed: {0}")]
    Files(#[source] std::io::Error),
    /// The catalogue's storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteError {
    /// One problem with one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> WriteError {
        WriteError::Invalid(Problems::one(field, message))
    }

    /// The error's message key.
    pub fn key(&self) -> &'static str {
        match self {
            WriteError::NotFound => "not_found",
            WriteError::NotAuthorized(_) => "forbidden",
            WriteError::Invalid(_) => "validation_failed",
            WriteError::Files(_) | WriteError::Store(_) => "internal_error",
        }
    }
}

impl From<Problems> for WriteError {
    fn from(p: Problems) -> WriteError {
        WriteError::Invalid(p)
    }
}

/// Why the catalogue could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The catalogue's storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading a stored file failed.
    #[error("reading a stored file failed: {0}")]
    Files(#[source] std::io::Error),
}

impl ReadError {
    /// The error's message key.
    pub fn key(&self) -> &'static str {
        match self {
            ReadError::Store(StoreError::NotFound) => "not_found",
            ReadError::Store(StoreError::Conflict(_)) => "conflict",
            ReadError::Store(_) | ReadError::Files(_) => "internal_error",
        }
    }
}

/// Why an API token could not be issued, found or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No such active token of this local government.
    #[error("no such token")]
    NotFound,
    /// The tokens' storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenError {
    /// The error's message key.
    pub fn key(&self) -> &'static str {
        match self {
            TokenError::NotFound => "not_found",
            TokenError::Store(_) => "internal_error",
        }
    }
}

/// Why paper counts could not be read or recorded.
#[derive(Debug, thiserror::Error)]
pub enum PaperCountError {
    /// The counts' (or the procedures') storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The count was recorded, but publishing the monthly dataset again failed.
    #[error("republishing the monthly dataset failed: {0}")]
    Publishing(anyhow::Error),
}

impl PaperCountError {
    /// The error's message key.
    pub fn key(&self) -> &'static str {
        match self {
            PaperCountError::Store(StoreError::NotFound) => "not_found",
            PaperCountError::Store(StoreError::Conflict(_)) => "conflict",
            PaperCountError::Store(_) | PaperCountError::Publishing(_) => "internal_error",
        }
    }
}
