//! The plans' domain errors, one per family of use cases: reading plans,
//! KPIs and the inventory ([`PlansError`]), the DX office's entries
//! ([`EntryError`]), plan files ([`PlanFileError`]) and inventory imports
//! ([`ImportError`]). Each names its message in the catalogue (`key()`); the
//! web layer decides the status and the field it is about.

use platform::db::StoreError;

use crate::inventory::RowError;

fn store_key(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound => "error.not_found",
        StoreError::Conflict(_) => "error.conflict",
        _ => "error.internal_error",
    }
}

/// Why a plan, a KPI or an inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlansError {
    /// No such plan, project, KPI, measure or organisation (or not the
    /// staff member's organisation's).
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PlansError {
    /// The message's key in the catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            PlansError::NotFound => "error.not_found",
            PlansError::Store(e) => store_key(e),
        }
    }
}

/// Why an entry of the DX office (an actual, a target revision, a grade, a
/// roadmap entry) was refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// No such KPI, plan or measure, or not the staff member's organisation's.
    #[error("not found")]
    NotFound,
    /// The entry is not valid: the key of the message saying why
    /// (`plans.error.*`).
    #[error("invalid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EntryError {
    /// The message's key in the catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            EntryError::NotFound => "error.not_found",
            EntryError::Invalid(key) => key,
            EntryError::Store(e) => store_key(e),
        }
    }
}

impl From<PlansError> for EntryError {
    fn from(e: PlansError) -> EntryError {
        match e {
            PlansError::NotFound => EntryError::NotFound,
            PlansError::Store(e) => EntryError::Store(e),
        }
    }
}

/// Why a plan file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// The staff member's organisation does not exist.
    #[error("not found")]
    NotFound,
    /// The file names another organisation than the staff member's (whose
    /// code this is).
    #[error("the plan file is another organisation's (organisation must be {0})")]
    OtherOrganisation(String),
    /// The file's problems, each as `place: problem` (or its organisation
    /// does not exist).
    #[error("the plan file has problems: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PlanFileError {
    /// The message's key in the catalogue (for [`PlanFileError::Invalid`],
    /// the problems are in English, as the file's fields are).
    pub fn key(&self) -> &'static str {
        match self {
            PlanFileError::NotFound => "error.not_found",
            PlanFileError::OtherOrganisation(_) => "plans.error.plan_organisation",
            PlanFileError::Invalid(_) => "error.validation_failed",
            PlanFileError::Store(e) => store_key(e),
        }
    }
}

/// Why an inventory file was not imported: its problems, each with its line
/// and column and the key of its message (`plans.row.*`).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} problem(s) in the file", .0.len())]
    Rows(Vec<RowError>),
}

impl ImportError {
    /// The message's key in the catalogue (each row's own `code` names its message).
    pub fn key(&self) -> &'static str {
        "error.validation_failed"
    }
}

/// A database failure is logged and reported as the file's problem
/// `plans.row.database` (nothing was imported).
impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> ImportError {
        tracing::error!(error = %e, "inventory import failed");
        ImportError::Rows(vec![RowError::new(0, "", "plans.row.database", "")])
    }
}

impl From<Vec<RowError>> for ImportError {
    fn from(rows: Vec<RowError>) -> ImportError {
        ImportError::Rows(rows)
    }
}
