//! The catalogue as every reader sees it: an in-memory copy of the active
//! datasets (their CKAN dictionaries and the search index), kept current on
//! every node by the generation counter: a node's own writes refresh it at
//! once, other nodes' writes within [`CHECK_EVERY`].
//!
//! It is the service's read model: the pages, the CKAN adapter, DCAT and
//! NGSI read published datasets from it, never from the store.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use platform::db::Db;
use serde_json::Value;

use super::error::ReadError;
use crate::model::{self, Dataset, Group, Organization};
use crate::search;
use crate::store;

/// How often a reader checks whether another node changed the catalogue.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// An active dataset as readers see it.
#[derive(Debug)]
pub struct Entry {
    pub dataset: Dataset,
    /// `package_show`'s dictionary.
    pub dict: Value,
    /// The local government that owns it (through its publisher).
    pub organisation_id: i64,
}

#[derive(Default)]
struct Snapshot {
    generation: i64,
    datasets: HashMap<String, Arc<Entry>>,
    names: HashMap<String, String>,
    index: search::Index,
    organizations: Vec<Organization>,
    groups: Vec<Group>,
}

/// A search's count, the page of entries in order, and the facets.
pub type Found = (usize, Vec<Arc<Entry>>, Vec<(String, Vec<(String, usize)>)>);

/// The in-memory catalogue.
pub struct Catalogue {
    db: Db,
    site_url: String,
    snapshot: RwLock<Snapshot>,
    refreshing: tokio::sync::Mutex<Instant>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("site_url", &self.site_url)
            .finish_non_exhaustive()
    }
}

impl Catalogue {
    pub fn new(db: Db, site_url: String) -> Catalogue {
        Catalogue {
            db,
            site_url,
            snapshot: RwLock::new(Snapshot {
                generation: -1,
                ..Snapshot::default()
            }),
            refreshing: tokio::sync::Mutex::new(Instant::now() - CHECK_EVERY * 2),
        }
    }

    /// The URL the catalogue's links start with (no trailing slash).
    pub fn site_url(&self) -> &str {
        &self.site_url
    }

    /// Brings the copy up to date now (after this node's own write).
    pub async fn refresh(&self) -> Result<(), ReadError> {
        let mut last = self.refreshing.lock().await;
        self.refresh_locked().await?;
        *last = Instant::now();
        Ok(())
    }

    /// Brings the copy up to date if it was last checked a while ago.
    pub async fn current(&self) -> Result<(), ReadError> {
        let mut last = self.refreshing.lock().await;
        if last.elapsed() < CHECK_EVERY && self.read().generation >= 0 {
            return Ok(());
        }
        self.refresh_locked().await?;
        *last = Instant::now();
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner())
    }

    async fn refresh_locked(&self) -> Result<(), ReadError> {
        let seen = self.read().generation;
        let current = store::generation(&self.db).await?;
        if current == seen {
            return Ok(());
        }
        let (changed, generation) = store::datasets_since(&self.db, seen.max(0)).await?;
        let organizations = store::organizations(&self.db).await?;
        let groups = store::groups(&self.db).await?;
        let orgs_by_id: HashMap<&str, &Organization> =
            organizations.iter().map(|o| (o.id.as_str(), o)).collect();
        let groups_by_id: HashMap<&str, &Group> =
            groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let mut built = Vec::with_capacity(changed.len());
        for d in changed {
            if d.state != "active" {
                built.push((d.id.clone(), d.name.clone(), None));
                continue;
            }
            let org = orgs_by_id.get(d.owner_org.as_str()).copied();
            let gs: Vec<&Group> = d
                .group_ids
                .iter()
                .filter_map(|id| groups_by_id.get(id.as_str()).copied())
                .collect();
            let dict = model::package_dict(&d, org, &gs, &self.site_url);
            let doc = search_doc(&d, org, &gs);
            let entry = Entry {
                organisation_id: org.map(|o| o.organisation_id).unwrap_or(0),
                dataset: d,
                dict,
            };
            built.push((
                entry.dataset.id.clone(),
                entry.dataset.name.clone(),
                Some((Arc::new(entry), doc)),
            ));
        }
        let mut snap = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        for (id, name, entry) in built {
            // A renamed (or deleted) dataset leaves its old name behind.
            if let Some(old) = snap.datasets.get(&id).map(|e| e.dataset.name.clone())
                && snap.names.get(&old) == Some(&id)
            {
                snap.names.remove(&old);
            }
            match entry {
                Some((entry, doc)) => {
                    snap.names.insert(name, id.clone());
                    snap.datasets.insert(id, entry);
                    snap.index.upsert(doc);
                }
                None => {
                    snap.datasets.remove(&id);
                    snap.index.remove(&id);
                }
            }
        }
        snap.organizations = organizations;
        snap.groups = groups;
        snap.generation = generation;
        Ok(())
    }

    /// An active dataset by id or name.
    pub fn get(&self, id_or_name: &str) -> Option<Arc<Entry>> {
        let snap = self.read();
        if let Some(e) = snap.datasets.get(id_or_name) {
            return Some(e.clone());
        }
        let id = snap.names.get(id_or_name)?;
        snap.datasets.get(id).cloned()
    }

    /// Every active dataset (in no particular order).
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.read().datasets.values().cloned().collect()
    }

    pub fn organizations(&self) -> Vec<Organization> {
        self.read().organizations.clone()
    }

    pub fn groups(&self) -> Vec<Group> {
        self.read().groups.clone()
    }

    pub fn organization(&self, id_or_name: &str) -> Option<Organization> {
        self.read()
            .organizations
            .iter()
            .find(|o| o.id == id_or_name || o.name == id_or_name)
            .cloned()
    }

    pub fn group(&self, id_or_name: &str) -> Option<Group> {
        self.read()
            .groups
            .iter()
            .find(|g| g.id == id_or_name || g.name == id_or_name)
            .cloned()
    }

    /// Runs a search; returns the count, the matching entries in order and the facets.
    pub fn search(&self, req: &search::SearchRequest) -> Result<Found, search::SearchError> {
        let snap = self.read();
        let found = snap.index.search(req, chrono::Utc::now())?;
        let entries = found
            .ids
            .iter()
            .filter_map(|id| snap.datasets.get(id).cloned())
            .collect();
        Ok((found.count, entries, found.facets))
    }

    /// The generation this node's copy reflects.
    pub fn generation(&self) -> i64 {
        self.read().generation
    }

    /// The number of active datasets.
    pub fn len(&self) -> usize {
        self.read().datasets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the search index needs of a dataset.
pub fn search_doc(d: &Dataset, org: Option<&Organization>, groups: &[&Group]) -> search::Doc {
    search::Doc {
        id: d.id.clone(),
        name: d.name.clone(),
        title: d.title.clone(),
        notes: d.notes.clone(),
        organization: org.map(|o| o.name.clone()).unwrap_or_default(),
        organization_title: org.map(|o| o.title.clone()).unwrap_or_default(),
        owner_org: d.owner_org.clone(),
        license_id: d.license_id.clone(),
        tags: d.tags.clone(),
        groups: groups.iter().map(|g| g.name.clone()).collect(),
        res_format: d.resources.iter().map(|r| r.format.clone()).collect(),
        res_name: d.resources.iter().map(|r| r.name.clone()).collect(),
        res_description: d.resources.iter().map(|r| r.description.clone()).collect(),
        res_url: d.resources.iter().map(|r| r.url.clone()).collect(),
        extras: d.extras.clone(),
        metadata_created: model::parse_ckan_time(&d.created_at).unwrap_or_default(),
        metadata_modified: model::parse_ckan_time(&d.modified_at).unwrap_or_default(),
        private: d.private,
        author: d.author.clone(),
        maintainer: d.maintainer.clone(),
        url: d.url.clone(),
        version: d.version.clone(),
    }
}
