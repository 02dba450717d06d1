//! Submissions: what is sent (a draft, or a new application with an
//! idempotency key), what comes back, and why one can be refused. The
//! group-commit writer that takes them is `service::writer`.

use platform::db::StoreError;

use crate::applications::{Application, Status};

/// What to submit.
#[derive(Debug, Clone)]
pub enum Submission {
    /// An existing draft (or an application returned for correction) of the resident.
    Existing {
        application_id: i64,
        resident_id: i64,
        answers: String,
    },
    /// A new application, created and submitted at once (API), under an idempotency key.
    New(NewSubmission),
}

#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub resident_id: i64,
    pub organisation_id: i64,
    pub organisation_code: String,
    pub section_id: i64,
    pub procedure_id: i64,
    pub form_version_id: i64,
    pub answers: String,
    pub idempotency_key: String,
    /// SHA-256 of the request, to tell a retry from another request under the same key.
    pub request_hash: String,
    /// How the applicant was identified (`platform::identity::Verified` as JSON).
    pub identified_by: String,
}

/// A submission that was written (or had been written before: `replayed`).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub application: Application,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("not found")]
    NotFound,
    #[error("not submittable in status {0:?}")]
    InvalidTransition(Status),
    #[error("idempotency key reused with a different request")]
    KeyReused,
    /// The draft changed while it was being sent (saved again from another
    /// tab or device): nothing was sent; the resident checks it and sends again.
    #[error("the application changed while it was being sent")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the submission writer has stopped")]
    Stopped,
    /// The procedure needs the applicant identified otherwise (the My
    /// Number card, gBizID) than the session was.
    #[error("the procedure requires identification by {}", .0.code())]
    IdentityRequired(platform::identity::Requirement),
    /// The resident has not proved their e-mail address yet.
    #[error("the e-mail address is not verified")]
    EmailUnverified,
}
