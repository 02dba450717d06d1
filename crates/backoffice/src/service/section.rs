//! The section as staff see it: the procedures they can filter their
//! inbox by and their approval routes (organisation admins set them), and
//! the colleagues they can delegate to.

use std::sync::Arc;

use approvals::model::Step;
use approvals::service::{self as approvals_service, ApprovalError};
use platform::accounts::{Role, Staff};
use platform::db::StoreResult;
use procedures::catalogue::Procedure;
use procedures::form::FormDefinition;
use procedures::service::catalogue;

use crate::service::state::Backoffice;

/// The published procedures of `staff`'s section.
pub async fn of_section(state: &Backoffice, staff: &Staff) -> StoreResult<Vec<Procedure>> {
    let all = catalogue::published_procedures(&state.platform.db).await?;
    Ok(all
        .into_iter()
        .filter(|p| p.organisation_id == staff.organisation_id && p.section_id == staff.section_id)
        .collect())
}

/// A procedure online with its form and approval route.
pub struct WithRoute {
    pub procedure: Procedure,
    pub def: Arc<FormDefinition>,
    pub route: Vec<Step>,
}

/// The online procedures whose routes `staff` sees: their section's, or all
/// of their organisation's for an organisation admin.
pub async fn with_routes(state: &Backoffice, staff: &Staff) -> StoreResult<Vec<WithRoute>> {
    let db = &state.platform.db;
    let admin = staff.has(Role::OrgAdmin);
    let mut out = Vec::new();
    for p in catalogue::published_procedures(db).await? {
        let Some(form_id) = p.current_form_id else {
            continue;
        };
        if p.organisation_id != staff.organisation_id
            || !(admin || p.section_id == staff.section_id)
        {
            continue;
        }
        out.push(WithRoute {
            def: state.procedures.forms.get(db, form_id).await?,
            route: approvals_service::route_for(db, p.id).await?,
            procedure: p,
        });
    }
    Ok(out)
}

/// Why a route was not set.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// No such procedure in the staff member's organisation.
    #[error("not found")]
    NotFound,
    /// Only organisation admins set routes.
    #[error("forbidden")]
    Forbidden,
    /// The route is not acceptable: its message key.
    #[error("invalid route: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] platform::db::StoreError),
}

/// Sets the approval route of procedure `id` (an organisation admin of its organisation).
pub async fn set_route(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
    steps: &[Step],
) -> Result<(), RouteError> {
    let p = catalogue::procedure_by_id(&state.platform.db, id)
        .await?
        .filter(|p| p.organisation_id == staff.organisation_id)
        .ok_or(RouteError::NotFound)?;
    if !staff.has(Role::OrgAdmin) {
        return Err(RouteError::Forbidden);
    }
    match approvals_service::set_route(
        &state.platform.db,
        p.organisation_id,
        p.id,
        steps,
        Some(staff.id),
    )
    .await
    {
        Ok(()) => Ok(()),
        Err(ApprovalError::Store(e)) => Err(e.into()),
        Err(e) => Err(RouteError::Invalid(e.key())),
    }
}

/// The other enabled staff of `staff`'s organisation (to delegate to), by name.
pub async fn colleagues(state: &Backoffice, staff: &Staff) -> StoreResult<Vec<(i64, String)>> {
    crate::store::review::colleagues(&state.platform.db, staff).await
}
