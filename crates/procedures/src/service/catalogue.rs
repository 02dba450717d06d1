//! The catalogue's use cases: the published catalogue every node keeps in
//! memory (rebuilt when the generation number moves, so several nodes stay
//! consistent without a search server), a procedure with the organisation and
//! section that own it, and adding procedures and publishing their forms.

use std::sync::Arc;

use platform::db::{Db, StoreError, StoreResult, Timestamp};
use platform::orgs::{self, Organisation, Section};
use tokio::sync::RwLock;

use crate::catalogue::{FormVersion, Procedure, ProcedureInput};
use crate::form::FormDefinition;
use crate::search::{Index, Readings};
use crate::store::catalogue as store;

/// The shared, lazily refreshed index.
#[derive(Debug, Default)]
pub struct Catalogue {
    index: RwLock<Arc<Index>>,
    /// Readings of Japanese (the FAQ chatbot's dictionary), once it is loaded.
    readings: std::sync::OnceLock<Arc<dyn Readings>>,
}

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue::default()
    }

    /// Matches names by their readings from now on (the next search rebuilds
    /// the index with them).
    pub fn set_readings(&self, readings: Arc<dyn Readings>) {
        let _ = self.readings.set(readings);
    }

    /// The current index, rebuilt first if the catalogue changed since it was
    /// built (or readings arrived since).
    pub async fn index(&self, db: &Db) -> StoreResult<Arc<Index>> {
        let generation = store::generation(db).await?;
        let readings = self.readings.get().cloned();
        let fresh =
            |i: &Index| i.generation() == generation && i.has_readings() == readings.is_some();
        {
            let current = self.index.read().await;
            if fresh(&current) {
                return Ok(current.clone());
            }
        }
        let mut slot = self.index.write().await;
        if !fresh(&slot) {
            let procedures = store::published_procedures(db).await?;
            *slot = Arc::new(Index::build(generation, procedures, readings.clone()));
        }
        Ok(slot.clone())
    }
}

/// A procedure with the organisation and section that own it.
#[derive(Debug, Clone)]
pub struct Owned {
    pub procedure: Procedure,
    pub organisation: Organisation,
    pub section: Section,
}

/// The organisation and section that own `p` (None if either is gone).
pub async fn owned(db: &Db, p: &Procedure) -> StoreResult<Option<Owned>> {
    let Some(organisation) = orgs::organisation_by_id(db, p.organisation_id).await? else {
        return Ok(None);
    };
    let Some(section) = orgs::section_by_id(db, p.section_id).await? else {
        return Ok(None);
    };
    Ok(Some(Owned {
        procedure: p.clone(),
        organisation,
        section,
    }))
}

/// Every organisation, the prefecture first (for browsing).
pub async fn organisations(db: &Db) -> StoreResult<Vec<Organisation>> {
    orgs::list_organisations(db).await
}

/// One organisation.
pub async fn organisation(db: &Db, id: i64) -> StoreResult<Option<Organisation>> {
    orgs::organisation_by_id(db, id).await
}

/// Every section of every organisation (for listing procedures).
pub async fn sections(db: &Db) -> StoreResult<Vec<Section>> {
    orgs::list_sections(db).await
}

/// Adds the procedure, or updates the one with the same organisation and
/// code. Refused (Conflict, with every problem) if the input does not check
/// or names a section the organisation does not have.
pub async fn upsert_procedure(
    db: &Db,
    organisation_id: i64,
    input: &ProcedureInput,
) -> StoreResult<Procedure> {
    let problems = input.check();
    if !problems.is_empty() {
        return Err(StoreError::Conflict(
            problems
                .into_iter()
                .map(|(f, m)| format!("{f}: {m}"))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let section = orgs::section_by_code(db, organisation_id, &input.section)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "section {:?} does not exist in the organisation",
                input.section
            ))
        })?;
    let mut tx = db.begin().await?;
    let id = store::upsert_procedure(
        &mut tx,
        organisation_id,
        section.id,
        input,
        Timestamp::now(),
    )
    .await?;
    store::bump_generation(&mut tx).await?;
    tx.commit().await?;
    store::procedure_by_id(db, id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Stores a checked definition as the procedure's new current form version,
/// with its audit record; every node's index follows.
pub async fn publish_form(
    db: &Db,
    procedure: &Procedure,
    source: &str,
    definition: &FormDefinition,
    by_staff: Option<i64>,
) -> StoreResult<FormVersion> {
    let json =
        serde_json::to_string(definition).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut tx = db.begin().await?;
    let form = store::insert_form_version(&mut tx, procedure, source, &json, by_staff).await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(procedure.organisation_id),
            actor: by_staff
                .map(platform::audit::Actor::Staff)
                .unwrap_or(platform::audit::Actor::Cli),
            action: "procedure.form_published",
            subject_kind: "procedure",
            subject_id: Some(procedure.id),
            detail: serde_json::json!({"form_version": form.version}),
        },
    )
    .await?;
    store::bump_generation(&mut tx).await?;
    tx.commit().await?;
    Ok(form)
}

/// A procedure, published or not (staff, imports, the back office).
pub async fn procedure_by_id(db: &Db, id: i64) -> StoreResult<Option<Procedure>> {
    store::procedure_by_id(db, id).await
}

pub async fn procedure_by_code(
    db: &Db,
    organisation_id: i64,
    code: &str,
) -> StoreResult<Option<Procedure>> {
    store::procedure_by_code(db, organisation_id, code).await
}

/// Every published procedure.
pub async fn published_procedures(db: &Db) -> StoreResult<Vec<Procedure>> {
    store::published_procedures(db).await
}

/// The catalogue's generation number (any publish moves it).
pub async fn generation(db: &Db) -> StoreResult<i64> {
    store::generation(db).await
}

pub async fn form_version(db: &Db, id: i64) -> StoreResult<Option<FormVersion>> {
    store::form_version(db, id).await
}
