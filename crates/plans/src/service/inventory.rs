//! The procedure inventory: importing a file (every row, or with errors
//! nothing unless only the valid rows are asked for), and its figures: the
//! shares online by count and by annual volume (computed at the time of
//! asking), the share planned by each fiscal year, and the items.

use std::collections::HashSet;
use std::sync::Arc;

use platform::accounts::Staff;
use platform::audit::Actor;
use platform::db::{Db, Timestamp};
use platform::orgs::Organisation;

use super::error::{ImportError, PlansError};
use super::state::Plans;
use crate::inventory::{ImportReport, Item, RowError, Shares, parse, rows};
use crate::store;

/// Imports an inventory file for an organisation: every row or, when the file
/// has errors, nothing (unless `valid_rows_only`, which imports the rows
/// without errors and reports the others).
pub async fn import(
    db: &Db,
    organisation_id: i64,
    bytes: &[u8],
    name: &str,
    valid_rows_only: bool,
    by: Actor,
) -> Result<ImportReport, ImportError> {
    // Reading and checking a file is CPU work: off the async threads.
    let (bytes_owned, name_owned) = (bytes.to_vec(), name.to_string());
    let read = tokio::task::spawn_blocking(move || {
        rows(&bytes_owned, &name_owned).map(|all| {
            let parsed = parse(&all);
            (all, parsed)
        })
    })
    .await
    .map_err(|e| {
        vec![RowError::new(
            0,
            "",
            "plans.row.unreadable",
            format!("reading the file did not finish: {e}"),
        )]
    })?;
    let (all, parsed) =
        read.map_err(|detail| vec![RowError::new(0, "", "plans.row.unreadable", detail)])?;
    let (items, skipped) = match parsed {
        Ok(items) => (items, Vec::new()),
        Err(errors) if valid_rows_only && !errors.iter().any(|e| e.line == 1) => {
            let bad: HashSet<usize> = errors.iter().map(|e| e.line).collect();
            let good: Vec<(usize, Vec<String>)> = all
                .iter()
                .enumerate()
                .filter(|(i, (line, _))| *i == 0 || !bad.contains(line))
                .map(|(_, r)| r.clone())
                .collect();
            (parse(&good)?, errors)
        }
        Err(errors) => return Err(errors.into()),
    };
    let mut tx = db.begin().await?;
    store::inventory::upsert_items_in(&mut tx, organisation_id, &items, Timestamp::now()).await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: by,
            action: "inventory.imported",
            subject_kind: "organisation",
            subject_id: Some(organisation_id),
            detail: serde_json::json!({"file": name, "rows": items.len(), "skipped": skipped.len()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ImportReport {
        imported: items.len(),
        skipped,
    })
}

/// Imports an inventory file for the staff member's organisation.
pub async fn import_for_staff(
    state: &Plans,
    staff: &Staff,
    bytes: &[u8],
    name: &str,
    valid_rows_only: bool,
) -> Result<ImportReport, ImportError> {
    import(
        &state.platform.db,
        staff.organisation_id,
        bytes,
        name,
        valid_rows_only,
        Actor::Staff(staff.id),
    )
    .await
}

/// The organisation's inventory, with whether each item is online now.
pub async fn items(db: &Db, organisation_id: i64) -> Result<Vec<(Item, bool)>, PlansError> {
    Ok(store::inventory::items(db, organisation_id).await?)
}

/// The organisations that have an inventory.
pub async fn organisations(state: &Plans) -> Result<Vec<Arc<Organisation>>, PlansError> {
    let db = &state.platform.db;
    let mut out = Vec::new();
    for id in store::inventory::organisations(db).await? {
        out.push(
            state
                .platform
                .orgs
                .get(db, id)
                .await?
                .ok_or(PlansError::NotFound)?,
        );
    }
    Ok(out)
}

/// An organisation's inventory with its figures.
#[derive(Debug, Clone)]
pub struct Figures {
    pub organisation: Organisation,
    /// The shares online of every procedure, and of the priority ones.
    pub all: Shares,
    pub priority: Shares,
    /// The share of the priority procedures' annual volume planned to be
    /// online by each fiscal year, from 2022 to this year (or 2026, if later).
    pub planned: Vec<(i32, Option<f64>)>,
    /// The items, with whether each is online now.
    pub items: Vec<(Item, bool)>,
}

/// The inventory of the organisation with the code `code`.
pub async fn figures(state: &Plans, code: &str) -> Result<Figures, PlansError> {
    let db = &state.platform.db;
    let organisation = platform::orgs::organisation_by_code(db, code)
        .await?
        .ok_or(PlansError::NotFound)?;
    let all = store::inventory::shares(db, organisation.id, false).await?;
    let priority = store::inventory::shares(db, organisation.id, true).await?;
    let current = jp::fiscal::fiscal_year_of(Timestamp::now().jst().date_naive());
    let planned =
        store::inventory::planned_shares(db, organisation.id, true, 2022..=current.max(2026))
            .await?;
    let items = store::inventory::items(db, organisation.id).await?;
    Ok(Figures {
        organisation,
        all,
        priority,
        planned,
        items,
    })
}
