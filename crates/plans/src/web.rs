//! What the plans' pages and JSON API share at the HTTP edge: who may enter
//! figures (the DX office), the fiscal-year query, and the domain errors as
//! [`AppError`].

use platform::accounts::{Role, Staff};
use platform::i18n::Tr;
use platform::web::{AppError, FieldError, RequestContext};
use serde::Deserialize;

use crate::service::{EntryError, PlansError};

/// The DX office (or the organisation's administrators): who enters the
/// figures, revises targets, decides grades and imports the inventory.
pub fn dx_office(staff: &Staff) -> Result<(), AppError> {
    if staff.has(Role::DxOffice) || staff.has(Role::OrgAdmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden { code: "forbidden" })
    }
}

/// The signed-in DX office staff member of `organisation_id`, if the visitor is one.
pub fn dx_staff_of(req: &RequestContext, organisation_id: i64) -> Option<&Staff> {
    req.session
        .as_ref()?
        .staff_ready()
        .filter(|s| s.organisation_id == organisation_id && dx_office(s).is_ok())
}

/// `?fy=2023`: the fiscal year a plan's figures are shown for.
#[derive(Deserialize, Default)]
pub struct FyQuery {
    #[serde(default)]
    pub fy: String,
}

impl From<PlansError> for AppError {
    fn from(e: PlansError) -> AppError {
        match e {
            PlansError::NotFound => AppError::NotFound,
            PlansError::Store(e) => e.into(),
        }
    }
}

/// A validation error about one field, its message `key` in `tr`'s language.
pub fn invalid(field: String, key: &str, tr: &Tr) -> AppError {
    AppError::Validation {
        fields: vec![FieldError {
            field,
            code: key.to_string(),
            message: tr.t(key).to_string(),
        }],
    }
}

/// [`EntryError`] as an [`AppError`]: a refused entry is about the field its
/// message names, else `field`.
pub fn entry_error(e: EntryError, field: &str, tr: &Tr) -> AppError {
    match e {
        EntryError::NotFound => AppError::NotFound,
        EntryError::Store(e) => e.into(),
        EntryError::Invalid(key) => invalid(field_of(key, field), key, tr),
    }
}

/// The field an entry error is about.
fn field_of(key: &str, default: &str) -> String {
    match key {
        "plans.error.year_outside_plan" => "fiscal_year",
        "plans.error.source_required" => "source",
        "plans.error.reason_required" => "reason",
        "plans.error.unknown_series" => "series",
        _ => default,
    }
    .to_string()
}
