//! The FAQ's domain errors, one per family of use cases: answering residents
//! ([`AskError`]) and the staff's entries ([`EntryError`]). Each names its
//! message in the catalogue ([`AskError::key`], [`EntryError::key`]); the web
//! layer decides the status and the field it is about.

use platform::db::StoreError;

use crate::entry::RowError;

/// Why a question (or the coverage, or feedback) was not answered.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The question is blank.
    #[error("the question is empty")]
    QuestionEmpty,
    /// The number of results asked for is not between 1 and 50.
    #[error("the limit is not between 1 and 50")]
    BadLimit,
    /// No organisation has the code given.
    #[error("no organisation has that code")]
    UnknownOrganisation,
    /// The index could not be built (or searched).
    #[error(transparent)]
    Engine(anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AskError {
    /// The message's key in the catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            AskError::QuestionEmpty => "faq.error.question_empty",
            AskError::BadLimit => "faq.error.bad_limit",
            AskError::UnknownOrganisation => "faq.error.unknown_organisation",
            AskError::Engine(_) => "error.internal_error",
            AskError::Store(e) => store_key(e),
        }
    }
}

/// Why a staff member's entry (or import, or group) was refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// Not the staff member's organisation's, or no such entry or organisation.
    #[error("not found")]
    NotFound,
    /// The entry (or the import's rows) did not pass the checks: each
    /// problem names its column and message key.
    #[error("{} problem(s) in the entry", .0.len())]
    Invalid(Vec<RowError>),
    /// A new entry's id is already used.
    #[error("the id is already used")]
    IdTaken,
    /// Someone else saved the entry since the editor read it.
    #[error("the entry was changed since it was read")]
    Stale,
    /// The index could not be built (grouping needs its analyser).
    #[error(transparent)]
    Engine(anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EntryError {
    /// The message's key in the catalogue (for [`EntryError::Invalid`], each
    /// row's own `code` names its message).
    pub fn key(&self) -> &'static str {
        match self {
            EntryError::NotFound => "error.not_found",
            EntryError::Invalid(_) => "error.validation_failed",
            EntryError::IdTaken => "faq.error.id_taken",
            EntryError::Stale => "faq.error.stale",
            EntryError::Engine(_) => "error.internal_error",
            EntryError::Store(e) => store_key(e),
        }
    }
}

fn store_key(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound => "error.not_found",
        StoreError::Conflict(_) => "error.conflict",
        _ => "error.internal_error",
    }
}
