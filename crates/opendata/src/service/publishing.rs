//! The platform publishes itself: every local government with published
//! procedures gets the datasets of [`crate::own_datasets`], kept current by
//! [`run`]. Each CSV resource is replaced only when its content changes, so
//! `metadata_modified` means something to harvesters.

use serde_json::Map;

use super::publishers::default_publisher;
use super::state::OpenData;
use crate::model::{self, Dataset, Organization, Resource};
use crate::own_datasets::{self, OwnDataset};
use crate::store;

/// How often the published datasets are brought up to date.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs [`run`] now and then every [`EVERY`], in the background, on the node
/// holding the `opendata.publishing` lease (one node at a time publishes).
pub fn spawn(state: OpenData) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match platform::lease::acquire(&state.platform.db, LEASE, EVERY * 3).await {
                Ok(true) => match run(&state).await {
                    Ok(changed) => tracing::info!(
                        changed,
                        node = platform::lease::node_id(),
                        "published the platform's own datasets"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "publishing the platform's own datasets failed")
                    }
                },
                Ok(false) => tracing::debug!("another node publishes the platform's own datasets"),
                Err(e) => tracing::warn!(error = %e, "the publishing lease could not be read"),
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

/// The lease of the node that publishes.
pub const LEASE: &str = "opendata.publishing";

/// Brings every organisation's published datasets up to date; returns how many changed.
pub async fn run(state: &OpenData) -> anyhow::Result<usize> {
    let db = &state.platform.db;
    let orgs = platform::orgs::list_organisations(db).await?;
    let mut changed = 0;
    for org in orgs {
        match publish_organisation(state, &org).await {
            Ok(n) => changed += n,
            // One organisation's failure (e.g. another node publishing at the same
            // moment) does not stop the others; the next run tries again.
            Err(e) => tracing::warn!(error = %e, organisation = %org.code, "publishing failed"),
        }
    }
    if changed > 0 {
        state.catalogue.refresh().await?;
    }
    Ok(changed)
}

/// Brings one organisation's published datasets up to date; returns how many changed.
async fn publish_organisation(
    state: &OpenData,
    org: &platform::orgs::Organisation,
) -> anyhow::Result<usize> {
    let db = &state.platform.db;
    let procedures = store::procedures::published_procedures(db, org.id).await?;
    if procedures.is_empty() {
        return Ok(0);
    }
    let publisher = default_publisher(db, org).await?;
    let mut changed = 0;
    let catalogue = own_datasets::procedure_catalogue(
        org,
        &publisher.name,
        &procedures,
        state.catalogue.site_url(),
    );
    if publish_one(state, &publisher, &catalogue).await? {
        changed += 1;
    }
    let online = store::procedures::monthly_applications(db, org.id).await?;
    let paper = store::paper::paper_counts(db, org.id).await?;
    let monthly =
        own_datasets::monthly_applications(org, &publisher.name, &procedures, &online, &paper);
    if publish_one(state, &publisher, &monthly).await? {
        changed += 1;
    }
    Ok(changed)
}

/// Creates or updates one published dataset; true when something changed.
async fn publish_one(
    state: &OpenData,
    publisher: &Organization,
    own: &OwnDataset,
) -> anyhow::Result<bool> {
    let db = &state.platform.db;
    let _writing = state.writing.lock().await;
    let file_key = platform::crypto::sha256_hex(&own.bytes);
    let existing = store::dataset_by_publisher_key(db, &own.key).await?;
    // The resource this module manages: the upload under its file name. Staff
    // may add others, retitle the dataset or delete it (deleted: not published again).
    let managed = |r: &Resource| r.url_type == "upload" && r.url == own.filename;
    if let Some(d) = &existing {
        if d.state == "deleted" {
            return Ok(false);
        }
        if d.resources
            .iter()
            .find(|r| managed(r))
            .is_some_and(|r| r.file_key.as_deref() == Some(file_key.as_str()))
        {
            return Ok(false);
        }
    }
    let stored = state.platform.files.put(&own.bytes).await?;
    let now = model::now();
    let resource = |id: String, created: String| Resource {
        id,
        dataset_id: String::new(),
        position: 0,
        name: own.title.clone(),
        description: "UTF-8 (BOM付き) の CSV です。 / CSV in UTF-8 with a byte order mark.".into(),
        format: "CSV".into(),
        mimetype: "text/csv".into(),
        url: own.filename.to_string(),
        url_type: "upload".into(),
        file_key: Some(stored.clone()),
        size: Some(own.bytes.len() as i64),
        hash: String::new(),
        extras: Map::new(),
        created_at: created,
        modified_at: now.clone(),
    };
    let mut tx = db.begin().await?;
    let seq = store::bump(&mut tx).await?;
    match existing {
        Some(mut d) => {
            let dataset_id = d.id.clone();
            match d.resources.iter_mut().find(|r| managed(r)) {
                Some(old) => {
                    let mut r = resource(old.id.clone(), old.created_at.clone());
                    r.dataset_id = dataset_id;
                    r.position = old.position;
                    r.name = old.name.clone();
                    r.description = old.description.clone();
                    *old = r;
                }
                None => {
                    let mut r = resource(model::new_id(), now.clone());
                    r.dataset_id = dataset_id;
                    d.resources.insert(0, r);
                }
            }
            d.modified_at = now.clone();
            store::save_dataset(&mut tx, &d, seq, false).await?;
        }
        None => {
            let mut unique_name = own.name.clone();
            if store::dataset_exists(&mut tx, &unique_name).await? {
                // The file's hash is hex (ASCII): its first six digits.
                unique_name = format!("{}-{}", own.name, file_key.get(..6).unwrap_or_default());
            }
            let id = model::new_id();
            let mut r = resource(model::new_id(), now.clone());
            r.dataset_id = id.clone();
            let d = Dataset {
                id,
                name: unique_name,
                title: own.title.clone(),
                notes: own.notes.clone(),
                owner_org: publisher.id.clone(),
                license_id: model::DEFAULT_LICENCE.into(),
                author: String::new(),
                author_email: String::new(),
                maintainer: String::new(),
                maintainer_email: String::new(),
                url: String::new(),
                version: String::new(),
                private: false,
                state: "active".into(),
                tags: own.tags.iter().map(|t| t.to_string()).collect(),
                group_ids: Vec::new(),
                extras: vec![("publisher".into(), "madoguchi".into())],
                creator_user_id: model::id_for("user", "madoguchi"),
                publisher_key: Some(own.key.clone()),
                created_at: now.clone(),
                modified_at: now.clone(),
                resources: vec![r],
            };
            store::save_dataset(&mut tx, &d, seq, true).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
