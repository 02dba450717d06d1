//! Publishers (CKAN organizations) and groups: a local government's
//! default publisher, created on first use, and `organization_create`,
//! `organization_update`/`_patch` and `group_create`.

use platform::StoreResult;
use platform::db::Db;
use serde_json::{Map, Value, json};

use super::changes::{audit, refreshed};
use super::error::WriteError;
use super::state::OpenData;
use crate::dictionary::{self, new_group};
use crate::model::{self, Actor, Group, Organization};
use crate::store;

/// The publisher every local government has, created on first use and named
/// after its English name (`mie-prefecture`), else `lg-<code>`. Over the
/// database alone (the CLI and the benchmark call it before any node runs);
/// a running node's catalogue catches up with its next read.
pub async fn default_publisher(
    db: &Db,
    org: &platform::orgs::Organisation,
) -> StoreResult<Organization> {
    if let Some(o) = store::first_organization_of(db, org.id).await? {
        return Ok(o);
    }
    let mut name = model::slug(&org.name_en);
    if model::name_problem(&name).is_some() || store::organization(db, &name).await?.is_some() {
        name = format!("lg-{}", org.code);
    }
    let o = Organization {
        id: model::new_id(),
        name,
        title: org.name.clone(),
        description: String::new(),
        image_url: String::new(),
        organisation_id: org.id,
        state: "active".into(),
        created_at: model::now(),
    };
    let mut tx = db.begin().await?;
    store::insert_organization(&mut tx, &o).await?;
    store::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(o)
}

/// The publisher of a local government (its default one), created on first use.
pub async fn default_owner(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Organization, WriteError> {
    if let Some(o) = state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.organisation_id == organisation_id)
        .min_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.name.cmp(&b.name))
        })
    {
        return Ok(o);
    }
    let org = platform::orgs::organisation_by_id(&state.platform.db, organisation_id)
        .await?
        .ok_or_else(|| WriteError::NotAuthorized("Unknown organisation".into()))?;
    let o = default_publisher(&state.platform.db, &org).await?;
    refreshed(state).await;
    Ok(o)
}

/// A local government's publishers as this node's catalogue has them, the
/// oldest first (its default one is created on first use).
pub async fn of_organisation(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<Organization>, WriteError> {
    let mut list: Vec<Organization> = state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.organisation_id == organisation_id)
        .collect();
    if list.is_empty() {
        list.push(default_owner(state, organisation_id).await?);
    }
    list.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(list)
}

/// Whether a name or id is already a publisher's or a group's (they share
/// one namespace, as in CKAN).
fn taken(state: &OpenData, key: &str) -> bool {
    state.catalogue.organization(key).is_some() || state.catalogue.group(key).is_some()
}

/// `organization_create`: a publisher under the actor's local government.
pub async fn create_organization(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<Organization, WriteError> {
    let _writing = state.writing.lock().await;
    let g = new_group(data, |key| taken(state, key))?;
    let o = Organization {
        id: g.id,
        name: g.name,
        title: g.title,
        description: g.description,
        image_url: g.image_url,
        organisation_id: actor.organisation_id,
        state: "active".into(),
        created_at: model::now(),
    };
    let mut tx = state.platform.db.begin().await?;
    store::insert_organization(&mut tx, &o).await?;
    store::bump(&mut tx).await?;
    audit(
        &mut tx,
        actor,
        "publisher.created",
        "publisher",
        json!({"id": o.id, "name": o.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(o)
}

/// `group_create`.
pub async fn create_group(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<Group, WriteError> {
    let _writing = state.writing.lock().await;
    let n = new_group(data, |key| taken(state, key))?;
    let g = Group {
        id: n.id,
        name: n.name,
        title: n.title,
        description: n.description,
        image_url: n.image_url,
        state: "active".into(),
        created_at: model::now(),
    };
    let mut tx = state.platform.db.begin().await?;
    store::insert_group(&mut tx, &g).await?;
    store::bump(&mut tx).await?;
    audit(
        &mut tx,
        actor,
        "group.created",
        "group",
        json!({"id": g.id, "name": g.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(g)
}

/// `organization_update` and `organization_patch`: title, description and image of a publisher.
pub async fn update_organization(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    patch: bool,
) -> Result<Organization, WriteError> {
    let mut o = state
        .catalogue
        .organization(id)
        .ok_or(WriteError::NotFound)?;
    if o.organisation_id != actor.organisation_id {
        return Err(WriteError::NotAuthorized(format!(
            "User {} not authorized to edit organization {}",
            actor.label, o.name
        )));
    }
    let field = |k: &str, current: &str| dictionary::field(data, k, current, patch);
    o.title = field("title", &o.title).trim().to_string();
    if o.title.is_empty() {
        o.title = o.name.clone();
    }
    o.description = field("description", &o.description);
    o.image_url = field("image_url", &o.image_url).trim().to_string();
    let mut tx = state.platform.db.begin().await?;
    store::update_organization(&mut tx, &o).await?;
    let seq = store::bump(&mut tx).await?;
    // Its datasets' dictionaries name it: every node rebuilds them.
    store::touch_datasets_of(&mut tx, &o.id, seq).await?;
    audit(
        &mut tx,
        actor,
        "publisher.updated",
        "publisher",
        json!({"id": o.id, "name": o.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(o)
}
