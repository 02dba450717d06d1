//! What every change to the catalogue shares: whether the actor may write
//! a dataset or a publisher, the optimistic save of a dataset, the audit
//! record written in the same transaction, and this node's refresh after
//! the commit.

use serde_json::{Value, json};

use super::error::WriteError;
use super::state::OpenData;
use crate::dictionary::Problems;
use crate::model::{Actor, Dataset, Organization};
use crate::store;

/// Appends the audit record of a catalogue change inside its transaction.
pub(super) async fn audit(
    tx: &mut platform::db::WriteTx,
    actor: &Actor,
    action: &str,
    kind: &str,
    detail: Value,
) -> Result<(), WriteError> {
    platform::audit::append(
        tx,
        platform::audit::Entry {
            organisation_id: Some(actor.organisation_id),
            actor: actor.audit(),
            action,
            subject_kind: kind,
            subject_id: None,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Brings this node's copy up to date after a committed write. A failure is
/// logged, not returned: the write happened, and the next read retries.
pub(super) async fn refreshed(state: &OpenData) {
    if let Err(e) = state.catalogue.refresh().await {
        tracing::warn!(error = %e, "refreshing the catalogue after a write failed");
    }
}

/// The publisher `key` names, which `actor` must be allowed to write to;
/// `None` (with the problem noted) when there is none.
pub(super) fn owner(
    state: &OpenData,
    actor: &Actor,
    key: &str,
    errors: &mut Problems,
) -> Result<Option<Organization>, WriteError> {
    match state.catalogue.organization(key.trim()) {
        Some(o) if o.organisation_id == actor.organisation_id => Ok(Some(o)),
        Some(o) => Err(WriteError::NotAuthorized(format!(
            "User {} not authorized to add dataset to organization {}",
            actor.label, o.name
        ))),
        None => {
            errors.add("owner_org", "Organization does not exist");
            Ok(None)
        }
    }
}

/// The dataset `id` for writing by `actor` (any state but purged).
pub(super) async fn writable(
    state: &OpenData,
    actor: &Actor,
    id: &str,
) -> Result<Dataset, WriteError> {
    let d = store::dataset(&state.platform.db, id)
        .await?
        .ok_or(WriteError::NotFound)?;
    let org = state.catalogue.organization(&d.owner_org);
    if org.map(|o| o.organisation_id) != Some(actor.organisation_id) {
        return Err(WriteError::NotAuthorized(format!(
            "User {} not authorized to edit package {}",
            actor.label, d.name
        )));
    }
    Ok(d)
}

/// Writes a changed dataset, if nobody changed it since it was read
/// (`read_at`: its `metadata_modified` then); another node's concurrent write
/// gets CKAN's 409 instead of being lost.
pub(super) async fn save(
    state: &OpenData,
    actor: &Actor,
    action: &str,
    d: &Dataset,
    read_at: &str,
) -> Result<(), WriteError> {
    let mut tx = state.platform.db.begin().await?;
    if !store::unchanged_since(&mut tx, &d.id, read_at).await? {
        return Err(WriteError::invalid(
            "id",
            "The dataset was changed by someone else at the same time: read it again and retry.",
        ));
    }
    // Client-given resource ids must not be another dataset's.
    for r in &d.resources {
        if let Some(owner) = store::resource_owner_in(&mut tx, &r.id).await?
            && owner != d.id
        {
            return Err(WriteError::invalid(
                "resources",
                format!("Resource id {} is already in use", r.id),
            ));
        }
    }
    let seq = store::bump(&mut tx).await?;
    store::save_dataset(&mut tx, d, seq, false).await?;
    let resources: Vec<&str> = d.resources.iter().map(|r| r.id.as_str()).collect();
    audit(&mut tx, actor, action, "dataset", json!({"id": d.id, "name": d.name, "state": d.state, "private": d.private, "resources": resources})).await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(())
}
