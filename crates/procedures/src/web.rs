//! What the resident's pages and the JSON API share at the HTTP edge: the
//! module's errors as HTTP errors, validation problems worded in the
//! resident's language, and attachments as downloads.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Redirect, Response};
use platform::files::FileKind;
use platform::i18n::Tr;
use platform::identity::{Method, Requirement};
use platform::web::assets::{Asset, versioned_href};
use platform::web::{AppError, Errors};

use crate::applications::Attachment;
use crate::form::Issue;
use crate::service::Procedures;
use crate::service::applications::ActionError;
use crate::service::postal::{Filled, LookupError};
use crate::submission::SubmitError;

/// Words `issues` in the resident's language (the first problem of each field).
pub fn localize(issues: &[Issue], tr: &Tr) -> Errors {
    let mut errors = Errors::new();
    for i in issues {
        if !errors.has(&i.field) {
            errors.add(i.field.clone(), i.key, tr.f(i.key, &i.args));
        }
    }
    errors
}

/// An attachment as a download, with the type the server verified.
pub async fn download(state: &Procedures, att: &Attachment) -> Result<Response, AppError> {
    let kind = FileKind::parse(&att.kind).unwrap_or(FileKind::Text);
    platform::web::stored_file(&state.platform.files, &att.storage_key, &att.filename, kind).await
}

impl From<ActionError> for AppError {
    fn from(e: ActionError) -> AppError {
        match e {
            ActionError::NotFound => AppError::NotFound,
            ActionError::InvalidTransition(_) => AppError::Conflict {
                code: "invalid_transition",
            },
            ActionError::IdentityRequired(_) => AppError::Forbidden {
                code: "identity_required",
            },
            ActionError::Store(e) => e.into(),
        }
    }
}

impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> AppError {
        match e {
            SubmitError::NotFound => AppError::NotFound,
            SubmitError::InvalidTransition(_) => AppError::Conflict {
                code: "invalid_transition",
            },
            SubmitError::KeyReused => AppError::Conflict {
                code: "idempotency_key_reused",
            },
            SubmitError::Changed => AppError::Conflict {
                code: "application_changed",
            },
            SubmitError::IdentityRequired(_) => AppError::Forbidden {
                code: "identity_required",
            },
            SubmitError::EmailUnverified => AppError::Forbidden {
                code: "email_unverified",
            },
            SubmitError::Store(e) => AppError::internal(e),
            SubmitError::Stopped => {
                AppError::internal(anyhow::anyhow!("submission writer stopped"))
            }
        }
    }
}

/// Where a resident goes to sign in the way `requirement` asks, then back
/// into procedure `procedure_id`'s form.
pub fn identity_redirect(requirement: Requirement, procedure_id: i64) -> Response {
    let provider = match requirement.method() {
        Some(Method::GBizId) => "gbizid",
        _ => "mynumber",
    };
    Redirect::to(&format!(
        "/signin/{provider}?require={}&next=%2Fprocedures%2F{procedure_id}%2Fapply",
        requirement.code()
    ))
    .into_response()
}

/// The module's own static files (served under `/assets/`).
pub const ASSETS: &[Asset] = &[Asset {
    name: "postal.js",
    content_type: "text/javascript; charset=utf-8",
    bytes: include_bytes!("../assets/postal.js"),
}];

/// The postal-code script's URL (versioned by its content).
pub fn postal_script_href() -> String {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| ASSETS.first().map(versioned_href).unwrap_or_default())
        .clone()
}

/// "The address for 〒… was filled in" (or "the code covers several towns").
pub fn postal_notice(tr: &Tr, filled: &Filled) -> String {
    if filled.several_towns() {
        let towns: Vec<&str> = filled
            .found
            .iter()
            .map(|f| f.town.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        tr.f(
            "postal_lookup.several",
            &[
                ("code", filled.code.to_string()),
                ("towns", towns.join("、")),
            ],
        )
    } else {
        tr.f(
            "postal_lookup.filled",
            &[
                ("code", filled.code.to_string()),
                (
                    "address",
                    format!(
                        "{}{}",
                        filled.place.prefecture,
                        filled.place.city_and_town()
                    ),
                ),
            ],
        )
    }
}

/// Why a postal code filled nothing, in the resident's language.
pub fn postal_error(tr: &Tr, err: &LookupError) -> String {
    match err {
        LookupError::Invalid(e) => tr.f(e.key(), &e.args()),
        other => tr.t(other.key()).to_string(),
    }
}
