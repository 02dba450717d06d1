//! Datasets: `package_create`, `package_update`/`_patch` and
//! `package_delete` (the dataset stays, `deleted`), with CKAN's validation
//! rules; and what only a dataset's owner may read: its deleted and draft
//! datasets.

use serde_json::{Map, Value, json};

use super::changes::{audit, owner, refreshed, save, writable};
use super::error::{ReadError, WriteError};
use super::publishers::default_owner;
use super::state::OpenData;
use crate::dictionary::{
    self, Problems, apply_template, boolean, parse_extras, parse_groups, parse_resources,
    parse_tags, text, unsafe_url,
};
use crate::model::{self, Actor, Dataset, Group, HiddenDataset};
use crate::store;

/// `package_create`: returns the new dataset's id.
pub async fn create(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<String, WriteError> {
    let mut errors = Problems::new();
    let name = text(data.get("name")).trim().to_string();
    if let Some(p) = model::name_problem(&name) {
        errors.add("name", p);
    }
    let owner_key = text(data.get("owner_org"));
    let org = if owner_key.trim().is_empty() {
        Some(default_owner(state, actor.organisation_id).await?)
    } else {
        owner(state, actor, &owner_key, &mut errors)?
    };
    let now = model::now();
    let id_given = text(data.get("id")).trim().to_string();
    let mut d = Dataset {
        id: if model::is_uuid(&id_given) {
            id_given.clone()
        } else {
            model::new_id()
        },
        name: name.clone(),
        title: text(data.get("title")).trim().to_string(),
        notes: text(data.get("notes")),
        owner_org: org.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        license_id: text(data.get("license_id")).trim().to_string(),
        author: text(data.get("author")),
        author_email: text(data.get("author_email")),
        maintainer: text(data.get("maintainer")),
        maintainer_email: text(data.get("maintainer_email")),
        url: text(data.get("url")).trim().to_string(),
        version: text(data.get("version")),
        private: boolean(data.get("private")).unwrap_or(false),
        state: match text(data.get("state")).as_str() {
            "draft" => "draft".into(),
            _ => "active".into(),
        },
        tags: parse_tags(data, &mut errors).unwrap_or_default(),
        group_ids: parse_groups(data, |g| state.catalogue.group(g), &mut errors)
            .unwrap_or_default(),
        extras: parse_extras(data, &mut errors).unwrap_or_default(),
        creator_user_id: model::id_for("user", &actor.label),
        publisher_key: None,
        created_at: now.clone(),
        modified_at: now,
        resources: Vec::new(),
    };
    if d.title.is_empty() {
        d.title = d.name.clone();
    }
    if unsafe_url(&d.url) {
        errors.add("url", "Please provide a valid URL");
    }
    let licence_given = !d.license_id.is_empty();
    if !licence_given {
        d.license_id = model::DEFAULT_LICENCE.to_string();
    }
    apply_template(&mut d, &mut errors, licence_given);
    d.resources = parse_resources(data, &[], &d.id, &mut errors).unwrap_or_default();
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let _writing = state.writing.lock().await;
    let mut tx = state.platform.db.begin().await?;
    store::free_deleted_name(&mut tx, &d.name).await?;
    if store::dataset_exists(&mut tx, &d.name).await? {
        tx.rollback().await?;
        return Err(WriteError::invalid("name", "That URL is already in use."));
    }
    if id_given == d.id && store::dataset_exists(&mut tx, &d.id).await? {
        tx.rollback().await?;
        return Err(WriteError::invalid("id", "Dataset id already exists"));
    }
    for r in &mut d.resources {
        if store::resource_owner_in(&mut tx, &r.id).await?.is_some() {
            r.id = model::new_id();
        }
    }
    let seq = store::bump(&mut tx).await?;
    store::save_dataset(&mut tx, &d, seq, true).await?;
    audit(
        &mut tx,
        actor,
        "dataset.created",
        "dataset",
        json!({"id": d.id, "name": d.name, "private": d.private}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(d.id)
}

/// `package_update` (`patch` = false: omitted fields are reset, except resources) and `package_patch`.
pub async fn update(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    patch: bool,
) -> Result<String, WriteError> {
    let _writing = state.writing.lock().await;
    let old = writable(state, actor, id).await?;
    let mut errors = Problems::new();
    let mut d = old.clone();
    let field = |k: &str, current: &str| dictionary::field(data, k, current, patch);
    if data.contains_key("name") || !patch {
        let name = text(data.get("name")).trim().to_string();
        let name = if name.is_empty() && !data.contains_key("name") {
            old.name.clone()
        } else {
            name
        };
        if let Some(p) = model::name_problem(&name) {
            errors.add("name", p);
        }
        d.name = name;
    }
    d.title = field("title", &old.title).trim().to_string();
    if d.title.is_empty() {
        d.title = d.name.clone();
    }
    d.notes = field("notes", &old.notes);
    d.author = field("author", &old.author);
    d.author_email = field("author_email", &old.author_email);
    d.maintainer = field("maintainer", &old.maintainer);
    d.maintainer_email = field("maintainer_email", &old.maintainer_email);
    d.url = field("url", &old.url).trim().to_string();
    if unsafe_url(&d.url) {
        errors.add("url", "Please provide a valid URL");
    }
    d.version = field("version", &old.version);
    // As CKAN: an update without a licence clears it (only a new dataset gets the default).
    d.license_id = field("license_id", &old.license_id).trim().to_string();
    let licence_given = !d.license_id.is_empty();
    // `private` and `state` keep their values unless given (as CKAN's update does).
    if let Some(p) = boolean(data.get("private")) {
        d.private = p;
    }
    if let Some(s) = data.get("state") {
        d.state = match text(Some(s)).as_str() {
            "draft" => "draft".into(),
            "deleted" => "deleted".into(),
            _ => "active".into(),
        };
    }
    if data.contains_key("owner_org") {
        let key = text(data.get("owner_org"));
        if key.trim().is_empty() {
            errors.add("owner_org", "Missing value");
        } else if let Some(o) = owner(state, actor, &key, &mut errors)? {
            d.owner_org = o.id;
        }
    }
    match parse_tags(data, &mut errors) {
        Some(t) => d.tags = t,
        None if !patch => d.tags = Vec::new(),
        None => {}
    }
    match parse_groups(data, |g| state.catalogue.group(g), &mut errors) {
        Some(g) => d.group_ids = g,
        None if !patch => d.group_ids = Vec::new(),
        None => {}
    }
    match parse_extras(data, &mut errors) {
        Some(e) => d.extras = e,
        None if !patch => d.extras = Vec::new(),
        None => {}
    }
    apply_template(&mut d, &mut errors, licence_given);
    if let Some(r) = parse_resources(data, &old.resources, &d.id, &mut errors) {
        d.resources = r;
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if d.name != old.name {
        let mut tx = state.platform.db.begin().await?;
        let taken = store::dataset_exists(&mut tx, &d.name).await?;
        tx.rollback().await?;
        if taken {
            return Err(WriteError::invalid("name", "That URL is already in use."));
        }
    }
    d.modified_at = model::now();
    save(state, actor, "dataset.updated", &d, &old.modified_at).await?;
    Ok(d.id)
}

/// `package_delete`: the dataset stays, with state `deleted`.
pub async fn delete(state: &OpenData, actor: &Actor, id: &str) -> Result<(), WriteError> {
    let _writing = state.writing.lock().await;
    let mut d = writable(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    d.state = "deleted".into();
    d.modified_at = model::now();
    save(state, actor, "dataset.deleted", &d, &read_at).await
}

/// A dataset in any state, if the local government owns it (through its
/// publisher); read from the store, since deleted and draft datasets are
/// not in the catalogue.
pub async fn owned(
    state: &OpenData,
    organisation_id: i64,
    id: &str,
) -> Result<Option<Dataset>, ReadError> {
    let Some(d) = store::dataset(&state.platform.db, id).await? else {
        return Ok(None);
    };
    let org = state.catalogue.organization(&d.owner_org);
    Ok((org.map(|o| o.organisation_id) == Some(organisation_id)).then_some(d))
}

/// `package_show`'s dictionary of a dataset the catalogue does not hold
/// (deleted or draft), with its publisher and groups as the catalogue has
/// them.
pub fn dictionary_of(state: &OpenData, d: &Dataset) -> Value {
    let org = state.catalogue.organization(&d.owner_org);
    let groups: Vec<Group> = d
        .group_ids
        .iter()
        .filter_map(|g| state.catalogue.group(g))
        .collect();
    let refs: Vec<&Group> = groups.iter().collect();
    model::package_dict(d, org.as_ref(), &refs, state.catalogue.site_url())
}

/// A local government's datasets that are not in the public catalogue
/// (deleted or draft), latest change first.
pub async fn hidden_of(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<HiddenDataset>, ReadError> {
    Ok(store::hidden_datasets_of(&state.platform.db, organisation_id).await?)
}
