//! Who may manage the catalogue, as whom the service sees them, and what
//! the staff's pages read first: the local government's publishers and one
//! of its datasets (in any state).

use platform::accounts::{Role, Staff};
use platform::web::{AppError, FormData, parse_urlencoded};

use crate::model::{Actor, Dataset, Organization};
use crate::service::{self, OpenData};

/// Who may manage the catalogue: the local government's administrators and its DX office.
pub(super) fn opendata_staff(staff: &Staff) -> Result<(), AppError> {
    if staff.has(Role::OrgAdmin) || staff.has(Role::DxOffice) {
        Ok(())
    } else {
        Err(AppError::Forbidden { code: "forbidden" })
    }
}

/// The staff member as the catalogue's writer.
pub(super) fn actor(staff: &Staff) -> Actor {
    Actor {
        organisation_id: staff.organisation_id,
        label: format!("staff:{}", staff.id),
    }
}

/// The local government's publishers (its default one is created on first use).
pub(super) async fn own_publishers(
    state: &OpenData,
    staff: &Staff,
) -> Result<Vec<Organization>, AppError> {
    state.catalogue.current().await?;
    Ok(service::publishers::of_organisation(state, staff.organisation_id).await?)
}

/// A dataset of the staff member's local government, in any state.
pub(super) async fn own_dataset(
    state: &OpenData,
    staff: &Staff,
    id: &str,
) -> Result<Dataset, AppError> {
    state.catalogue.current().await?;
    service::datasets::owned(state, staff.organisation_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A page's query string.
pub(super) fn query(raw: Option<String>) -> FormData {
    parse_urlencoded(raw.unwrap_or_default().as_bytes())
}

/// A choice of a `<select>`.
pub(super) struct Opt {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}
