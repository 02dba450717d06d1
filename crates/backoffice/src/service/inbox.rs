//! The section's inbox, the same for the page and the API.

use platform::accounts::Staff;
use platform::db::StoreResult;
use platform::orgs::Section;
use procedures::applications::Status;

use crate::model::{Filter, InboxRow, applicant_name};
use crate::service::state::Backoffice;
use crate::store::inbox as store;

/// A row of the inbox with what staff read in it.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub row: InboxRow,
    /// The applicant's name, from the form's first name question ("" if none).
    pub applicant: String,
    pub status: Status,
}

/// The staff member's section (the inbox's heading).
pub async fn section(state: &Backoffice, staff: &Staff) -> StoreResult<Option<Section>> {
    platform::orgs::section_by_id(&state.platform.db, staff.section_id).await
}

/// One page of `staff`'s inbox (`limit` rows, newest first) and the count of
/// applications in each status (the status filter itself ignored).
pub async fn inbox(
    state: &Backoffice,
    staff: &Staff,
    filter: &Filter,
    limit: i64,
) -> StoreResult<(Vec<InboxItem>, Vec<(Status, i64)>)> {
    let db = &state.platform.db;
    // Applicants' names are personal data: only those who handle applications see the list.
    if !staff.handles_applications() {
        return Ok((Vec::new(), Vec::new()));
    }
    let rows = store::page(db, staff, filter, limit).await?;
    let counts = store::counts(db, staff, filter).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let answers: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&row.answers).unwrap_or_default();
        let applicant = state
            .procedures
            .forms
            .get(db, row.form_version_id)
            .await
            .map(|def| applicant_name(&def, &answers))
            .unwrap_or_default();
        let status = Status::parse(&row.status).unwrap_or(Status::Submitted);
        items.push(InboxItem {
            row,
            applicant,
            status,
        });
    }
    Ok((items, counts))
}
