//! The staff's entries: their organisation's entries and sections, one entry
//! with its versions, creating and updating an entry (every version kept, a
//! stale edit refused), importing a CSV file and exporting one. Every write
//! bumps the entries' generation (every node rebuilds its index) and is
//! audited in its transaction.

use platform::accounts::Staff;
use platform::audit::Actor;
use platform::db::{Db, StoreError};
use platform::orgs::Section;

use super::error::EntryError;
use super::state::Faq;
use crate::entry::{self, Entry, RowError};
use crate::model::{ImportReport, StaffEntries, Stored, Version};
use crate::store;

/// Every entry (any status) of one organisation or, with `None`, all.
pub async fn list(db: &Db, organisation_id: Option<i64>) -> Result<Vec<Stored>, EntryError> {
    Ok(store::entries(db, organisation_id).await?)
}

/// The staff member's organisation's entries, and its code.
pub async fn of_staff(faq: &Faq, staff: &Staff) -> Result<StaffEntries, EntryError> {
    let db = &faq.platform.db;
    let entries = store::entries(db, Some(staff.organisation_id)).await?;
    let organisation = platform::orgs::organisation_by_id(db, staff.organisation_id)
        .await?
        .map(|o| o.code)
        .unwrap_or_default();
    Ok(StaffEntries {
        entries,
        organisation,
    })
}

/// The sections of the staff member's organisation (an entry names one).
pub async fn sections(faq: &Faq, staff: &Staff) -> Result<Vec<Section>, EntryError> {
    Ok(platform::orgs::sections_of(&faq.platform.db, staff.organisation_id).await?)
}

/// One of the staff member's organisation's entries, by its external id.
pub async fn own(faq: &Faq, staff: &Staff, id: &str) -> Result<Stored, EntryError> {
    match store::entry(&faq.platform.db, id).await? {
        Some(s) if s.organisation_id == Some(staff.organisation_id) => Ok(s),
        _ => Err(EntryError::NotFound),
    }
}

/// The versions of an entry, newest first.
pub async fn versions(faq: &Faq, entry: &Stored) -> Result<Vec<Version>, EntryError> {
    Ok(store::versions(&faq.platform.db, entry.db_id).await?)
}

/// Creates an entry of the staff member's organisation (its organisation is
/// set here); returns its database id.
pub async fn create(faq: &Faq, staff: &Staff, entry: &Entry) -> Result<i64, EntryError> {
    let org = platform::orgs::organisation_by_id(&faq.platform.db, staff.organisation_id)
        .await?
        .ok_or(EntryError::NotFound)?;
    let mut e = entry.clone();
    e.organisation = org.code;
    insert(faq, staff, &e).await
}

/// Checks and inserts a new entry of the staff member's organisation
/// (`entry.organisation` already set); an id already used is
/// [`EntryError::IdTaken`].
pub(super) async fn insert(faq: &Faq, staff: &Staff, entry: &Entry) -> Result<i64, EntryError> {
    check(entry)?;
    let saved = save(
        &faq.platform.db,
        staff.organisation_id,
        entry,
        None,
        Actor::Staff(staff.id),
    )
    .await;
    let id = match saved {
        Err(StoreError::Conflict(_)) => return Err(EntryError::IdTaken),
        other => other?,
    };
    faq.engine.invalidate();
    Ok(id)
}

/// Updates `old` (one of the staff member's organisation's entries) with
/// `entry`'s fields, from the version the editor saw: a stale one is
/// [`EntryError::Stale`].
pub async fn update(
    faq: &Faq,
    staff: &Staff,
    old: &Stored,
    entry: &Entry,
    expected_version: i64,
) -> Result<(), EntryError> {
    let mut e = entry.clone();
    e.id = old.entry.id.clone();
    e.organisation = old.entry.organisation.clone();
    check(&e)?;
    let saved = save(
        &faq.platform.db,
        staff.organisation_id,
        &e,
        Some(expected_version),
        Actor::Staff(staff.id),
    )
    .await;
    if let Err(StoreError::Conflict(_)) = saved {
        return Err(EntryError::Stale);
    }
    saved?;
    faq.engine.invalidate();
    Ok(())
}

/// The checks every entry passes ([`entry::check`]).
fn check(entry: &Entry) -> Result<(), EntryError> {
    let mut problems = Vec::new();
    entry::check(entry, 0, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EntryError::Invalid(problems))
    }
}

/// Creates an entry (`expected_version` `None`) or updates it (the version
/// the editor saw: a stale one is a conflict). Returns the database id.
async fn save(
    db: &Db,
    organisation_id: i64,
    entry: &Entry,
    expected_version: Option<i64>,
    by: Actor,
) -> Result<i64, StoreError> {
    let existing = store::entry(db, &entry.id).await?;
    let mut tx = db.begin().await?;
    let id = match (existing, expected_version) {
        (Some(old), Some(v)) => {
            if old.organisation_id != Some(organisation_id) {
                return Err(StoreError::NotFound);
            }
            if old.version != v {
                return Err(StoreError::Conflict("faq_entries.version".into()));
            }
            store::update_in(&mut tx, &old, entry, &by).await?;
            old.db_id
        }
        (Some(_), None) => return Err(StoreError::Conflict("faq_entries.external_id".into())),
        (None, Some(_)) => return Err(StoreError::NotFound),
        (None, None) => store::insert_in(&mut tx, Some(organisation_id), entry, &by).await?,
    };
    store::bump_in(&mut tx).await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: by,
            action: if expected_version.is_some() {
                "faq.entry_updated"
            } else {
                "faq.entry_created"
            },
            subject_kind: "faq_entry",
            subject_id: Some(id),
            detail: serde_json::json!({"id": entry.id}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Imports a CSV file for the staff member's organisation: rows without an
/// organisation are its, rows of another are refused.
pub async fn import_file(
    faq: &Faq,
    staff: &Staff,
    bytes: &[u8],
    valid_rows_only: bool,
) -> Result<ImportReport, EntryError> {
    // Parsing a file is CPU work: off the async threads.
    let owned = bytes.to_vec();
    let (rows, errors) = tokio::task::spawn_blocking(move || entry::parse_csv(&owned))
        .await
        .map_err(|e| {
            EntryError::Invalid(vec![RowError::new(
                0,
                "",
                "faq.row.unreadable",
                format!("reading the file did not finish: {e}"),
            )])
        })?;
    let org = platform::orgs::organisation_by_id(&faq.platform.db, staff.organisation_id)
        .await
        .ok()
        .flatten();
    // Rows without an organisation are the staff member's organisation's.
    let rows = rows
        .into_iter()
        .map(|(line, mut e)| {
            if e.organisation.is_empty()
                && let Some(o) = &org
            {
                e.organisation = o.code.clone();
            }
            (line, e)
        })
        .collect();
    let report = import(
        &faq.platform.db,
        rows,
        errors,
        Some(staff.organisation_id),
        Some(staff.organisation_id),
        valid_rows_only,
        Actor::Staff(staff.id),
    )
    .await?;
    faq.engine.invalidate();
    Ok(report)
}

/// A problem that is no row's: the file could not be read or written.
fn unreadable(e: impl std::fmt::Display) -> RowError {
    RowError {
        line: 0,
        column: String::new(),
        code: "faq.row.unreadable",
        value: e.to_string(),
    }
}

/// Imports parsed rows. Each row's organisation (its column, else
/// `default_organisation`) must exist, and with `only_organisation` (a staff
/// member's import) must be that one; an id already used by another
/// organisation is refused. Nothing is written if a row is bad, unless
/// `valid_rows_only`. Every problem, the database's included, is an
/// [`EntryError::Invalid`] row.
pub async fn import(
    db: &Db,
    rows: Vec<(usize, Entry)>,
    mut errors: Vec<RowError>,
    default_organisation: Option<i64>,
    only_organisation: Option<i64>,
    valid_rows_only: bool,
    by: Actor,
) -> Result<ImportReport, EntryError> {
    let orgs = platform::orgs::list_organisations(db)
        .await
        .map_err(|e| EntryError::Invalid(vec![unreadable(e)]))?;
    let mut accepted = Vec::new();
    for (line, mut entry) in rows {
        let organisation_id = if entry.organisation.is_empty() {
            default_organisation
        } else {
            match orgs.iter().find(|o| o.code == entry.organisation) {
                Some(o) => Some(o.id),
                None => {
                    errors.push(RowError {
                        line,
                        column: "organisation".into(),
                        code: "faq.row.unknown_organisation",
                        value: entry.organisation.clone(),
                    });
                    continue;
                }
            }
        };
        if let Some(only) = only_organisation
            && organisation_id != Some(only)
        {
            errors.push(RowError {
                line,
                column: "organisation".into(),
                code: "faq.row.other_organisation",
                value: entry.organisation.clone(),
            });
            continue;
        }
        entry.organisation = organisation_id
            .and_then(|id| orgs.iter().find(|o| o.id == id))
            .map(|o| o.code.clone())
            .unwrap_or_default();
        accepted.push((line, organisation_id, entry));
    }
    // Ids that belong to another organisation.
    let mut checked = Vec::new();
    for (line, organisation_id, entry) in accepted {
        match store::entry(db, &entry.id).await {
            Ok(Some(existing)) if existing.organisation_id != organisation_id => {
                errors.push(RowError {
                    line,
                    column: "id".into(),
                    code: "faq.row.id_taken",
                    value: entry.id.clone(),
                });
            }
            Ok(existing) => checked.push((organisation_id, entry, existing)),
            Err(e) => errors.push(unreadable(e)),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() && !valid_rows_only {
        return Err(EntryError::Invalid(errors));
    }
    let mut report = ImportReport {
        skipped: errors,
        ..ImportReport::default()
    };
    let write = async {
        let mut tx = db.begin().await?;
        for (organisation_id, entry, existing) in &checked {
            match existing {
                Some(old) if &old.entry == entry => report.unchanged += 1,
                Some(old) => {
                    store::update_in(&mut tx, old, entry, &by).await?;
                    report.updated += 1;
                }
                None => {
                    store::insert_in(&mut tx, *organisation_id, entry, &by).await?;
                    report.created += 1;
                }
            }
        }
        store::bump_in(&mut tx).await?;
        platform::audit::append(
            &mut tx,
            platform::audit::Entry {
                organisation_id: default_organisation.or(only_organisation),
                actor: by,
                action: "faq.imported",
                subject_kind: "faq",
                subject_id: None,
                detail: serde_json::json!({"created": report.created, "updated": report.updated, "skipped": report.skipped.len()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    };
    write
        .await
        .map_err(|e| EntryError::Invalid(vec![unreadable(e)]))?;
    Ok(report)
}

/// The staff member's organisation's entries in the import format (UTF-8
/// with BOM, or Shift_JIS).
pub async fn export_csv(faq: &Faq, staff: &Staff, shift_jis: bool) -> Result<Vec<u8>, EntryError> {
    let entries: Vec<Entry> = store::entries(&faq.platform.db, Some(staff.organisation_id))
        .await?
        .into_iter()
        .map(|s| s.entry)
        .collect();
    Ok(entry::write_csv(&entries, shift_jis))
}
