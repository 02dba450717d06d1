//! The catalogue's storage: publishers, groups, datasets with their
//! resources, API tokens, and the generation counter every node watches to
//! keep its in-memory index current.

use platform::db::{Db, DbBool, WriteTx};
use platform::{StoreError, StoreResult};
use serde_json::{Map, Value};

use crate::model::{self, Dataset, Group, Organization, Resource};

#[derive(sqlx::FromRow)]
struct DatasetRow {
    id: String,
    name: String,
    title: String,
    notes: String,
    owner_org: String,
    license_id: String,
    author: String,
    author_email: String,
    maintainer: String,
    maintainer_email: String,
    url: String,
    version: String,
    #[sqlx(try_from = "DbBool")]
    private: bool,
    state: String,
    tags: String,
    group_ids: String,
    extras: String,
    creator_user_id: String,
    publisher_key: Option<String>,
    created_at: String,
    modified_at: String,
}

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: String,
    dataset_id: String,
    position: i64,
    name: String,
    description: String,
    format: String,
    mimetype: String,
    url: String,
    url_type: String,
    file_key: Option<String>,
    size: Option<i64>,
    hash: String,
    extras: String,
    created_at: String,
    modified_at: String,
}

const DATASET_COLUMNS: &str = "id, name, title, notes, owner_org, license_id, author, author_email, maintainer, maintainer_email, url, version, private, state, tags, group_ids, extras, creator_user_id, publisher_key, created_at, modified_at";
const RESOURCE_COLUMNS: &str = "id, dataset_id, position, name, description, format, mimetype, url, url_type, file_key, size, hash, extras, created_at, modified_at";

fn dataset_of(r: DatasetRow, resources: Vec<Resource>) -> Dataset {
    Dataset {
        id: r.id,
        name: r.name,
        title: r.title,
        notes: r.notes,
        owner_org: r.owner_org,
        license_id: r.license_id,
        author: r.author,
        author_email: r.author_email,
        maintainer: r.maintainer,
        maintainer_email: r.maintainer_email,
        url: r.url,
        version: r.version,
        private: r.private,
        state: r.state,
        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
        group_ids: serde_json::from_str(&r.group_ids).unwrap_or_default(),
        extras: serde_json::from_str(&r.extras).unwrap_or_default(),
        creator_user_id: r.creator_user_id,
        publisher_key: r.publisher_key,
        created_at: r.created_at,
        modified_at: r.modified_at,
        resources,
    }
}

fn resource_of(r: ResourceRow) -> Resource {
    Resource {
        id: r.id,
        dataset_id: r.dataset_id,
        position: r.position,
        name: r.name,
        description: r.description,
        format: r.format,
        mimetype: r.mimetype,
        url: r.url,
        url_type: r.url_type,
        file_key: r.file_key,
        size: r.size,
        hash: r.hash,
        extras: serde_json::from_str::<Map<String, Value>>(&r.extras).unwrap_or_default(),
        created_at: r.created_at,
        modified_at: r.modified_at,
    }
}

/// The generation of the catalogue (moves on every change).
pub async fn generation(db: &Db) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select generation from od_state where id = 1")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Moves the generation on; returns the new value (stamped on what the transaction changes).
pub async fn bump(tx: &mut WriteTx) -> StoreResult<i64> {
    sqlx::query("update od_state set generation = generation + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(
        sqlx::query_scalar("select generation from od_state where id = 1")
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Every dataset changed after generation `seq` (all states), with its resources; and the generation read.
pub async fn datasets_since(db: &Db, seq: i64) -> StoreResult<(Vec<Dataset>, i64)> {
    // Read the generation first: what commits later is picked up next time.
    let generation = generation(db).await?;
    let rows: Vec<DatasetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DATASET_COLUMNS} from od_datasets where seq > $1 and seq <= $2 order by id"
    )))
    .bind(seq)
    .bind(generation)
    .fetch_all(db.pool())
    .await?;
    let resources: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {RESOURCE_COLUMNS} from od_resources where dataset_id in (select id from od_datasets where seq > $1 and seq <= $2) order by dataset_id, position"
    )))
    .bind(seq)
    .bind(generation)
    .fetch_all(db.pool())
    .await?;
    let mut by_dataset: std::collections::HashMap<String, Vec<Resource>> =
        std::collections::HashMap::new();
    for r in resources {
        by_dataset
            .entry(r.dataset_id.clone())
            .or_default()
            .push(resource_of(r));
    }
    let datasets = rows
        .into_iter()
        .map(|r| {
            let res = by_dataset.remove(&r.id).unwrap_or_default();
            dataset_of(r, res)
        })
        .collect();
    Ok((datasets, generation))
}

/// One dataset by id or name, in any state.
pub async fn dataset(db: &Db, id_or_name: &str) -> StoreResult<Option<Dataset>> {
    let row: Option<DatasetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DATASET_COLUMNS} from od_datasets where id = $1 or name = $1"
    )))
    .bind(id_or_name)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let resources: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {RESOURCE_COLUMNS} from od_resources where dataset_id = $1 order by position"
    )))
    .bind(&row.id)
    .fetch_all(db.pool())
    .await?;
    Ok(Some(dataset_of(
        row,
        resources.into_iter().map(resource_of).collect(),
    )))
}

/// The dataset the platform publishes under `key`, if any.
pub async fn dataset_by_publisher_key(db: &Db, key: &str) -> StoreResult<Option<Dataset>> {
    let id: Option<String> =
        sqlx::query_scalar("select id from od_datasets where publisher_key = $1")
            .bind(key)
            .fetch_optional(db.pool())
            .await?;
    match id {
        Some(id) => dataset(db, &id).await,
        None => Ok(None),
    }
}

/// Frees the name of a deleted dataset (it is renamed to its id), as CKAN
/// 2.10 does, so that a new dataset may take it; true if one was renamed.
pub async fn free_deleted_name(tx: &mut WriteTx, name: &str) -> StoreResult<bool> {
    let done =
        sqlx::query("update od_datasets set name = id where name = $1 and state = 'deleted'")
            .bind(name)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a dataset of this name or id exists (in any state).
pub async fn dataset_exists(tx: &mut WriteTx, name: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("select count(*) from od_datasets where name = $1 or id = $1")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

/// Inserts or replaces a dataset and its resources (resources not listed are removed).
pub async fn save_dataset(
    tx: &mut WriteTx,
    d: &Dataset,
    seq: i64,
    insert: bool,
) -> StoreResult<()> {
    let tags = serde_json::to_string(&d.tags).unwrap_or_else(|_| "[]".into());
    let groups = serde_json::to_string(&d.group_ids).unwrap_or_else(|_| "[]".into());
    let extras = serde_json::to_string(&d.extras).unwrap_or_else(|_| "[]".into());
    let sql = if insert {
        "insert into od_datasets (name, title, notes, owner_org, license_id, author, author_email, maintainer, maintainer_email, url, version, private, state, tags, group_ids, extras, publisher_key, seq, created_at, modified_at, id, creator_user_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    } else {
        "update od_datasets set name = $1, title = $2, notes = $3, owner_org = $4, license_id = $5, author = $6, author_email = $7, maintainer = $8, maintainer_email = $9, url = $10, version = $11, private = $12, state = $13, tags = $14, group_ids = $15, extras = $16, publisher_key = $17, seq = $18, created_at = $19, modified_at = $20, creator_user_id = $22 where id = $21"
    };
    let done = sqlx::query(sql)
        .bind(&d.name)
        .bind(&d.title)
        .bind(&d.notes)
        .bind(&d.owner_org)
        .bind(&d.license_id)
        .bind(&d.author)
        .bind(&d.author_email)
        .bind(&d.maintainer)
        .bind(&d.maintainer_email)
        .bind(&d.url)
        .bind(&d.version)
        .bind(d.private)
        .bind(&d.state)
        .bind(tags)
        .bind(groups)
        .bind(extras)
        .bind(&d.publisher_key)
        .bind(seq)
        .bind(&d.created_at)
        .bind(&d.modified_at)
        .bind(&d.id)
        .bind(&d.creator_user_id)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("delete from od_resources where dataset_id = $1")
        .bind(&d.id)
        .execute(&mut **tx)
        .await?;
    for (i, r) in d.resources.iter().enumerate() {
        sqlx::query(
            "insert into od_resources (id, dataset_id, position, name, description, format, mimetype, url, url_type, file_key, size, hash, extras, created_at, modified_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(&d.id)
        .bind(i as i64)
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.format)
        .bind(&r.mimetype)
        .bind(&r.url)
        .bind(&r.url_type)
        .bind(&r.file_key)
        .bind(r.size)
        .bind(&r.hash)
        .bind(serde_json::to_string(&r.extras).unwrap_or_else(|_| "{}".into()))
        .bind(&r.created_at)
        .bind(&r.modified_at)
        .persistent(false)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Whether the dataset still carries the `modified_at` it was read with.
pub async fn unchanged_since(tx: &mut WriteTx, id: &str, modified_at: &str) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("select count(*) from od_datasets where id = $1 and modified_at = $2")
            .bind(id)
            .bind(modified_at)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n == 1)
}

/// The dataset a resource id belongs to, read inside a write.
pub async fn resource_owner_in(tx: &mut WriteTx, resource_id: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select dataset_id from od_resources where id = $1")
            .bind(resource_id)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Whether a resource id is taken (by any dataset).
pub async fn resource_dataset(db: &Db, resource_id: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select dataset_id from od_resources where id = $1")
            .bind(resource_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

const ORG_COLUMNS: &str =
    "id, name, title, description, image_url, organisation_id, state, created_at";

pub async fn organizations(db: &Db) -> StoreResult<Vec<Organization>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORG_COLUMNS} from od_organizations order by name"
    )))
    .fetch_all(db.pool())
    .await?)
}

pub async fn organization(db: &Db, id_or_name: &str) -> StoreResult<Option<Organization>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORG_COLUMNS} from od_organizations where id = $1 or name = $1"
    )))
    .bind(id_or_name)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn insert_organization(tx: &mut WriteTx, o: &Organization) -> StoreResult<()> {
    sqlx::query(
        "insert into od_organizations (id, name, title, description, image_url, organisation_id, state, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&o.id)
    .bind(&o.name)
    .bind(&o.title)
    .bind(&o.description)
    .bind(&o.image_url)
    .bind(o.organisation_id)
    .bind(&o.state)
    .bind(&o.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The publisher every local government has, created on first use and named
/// after its English name (`mie-prefecture`), else `lg-<code>`.
pub async fn default_organization(
    db: &Db,
    org: &platform::orgs::Organisation,
) -> StoreResult<Organization> {
    let existing: Option<Organization> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORG_COLUMNS} from od_organizations where organisation_id = $1 order by created_at, name limit 1"
    )))
    .bind(org.id)
    .fetch_optional(db.pool())
    .await?;
    if let Some(o) = existing {
        return Ok(o);
    }
    let mut name = model::slug(&org.name_en);
    if model::name_problem(&name).is_some() || organization(db, &name).await?.is_some() {
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
    insert_organization(&mut tx, &o).await?;
    bump(&mut tx).await?;
    tx.commit().await?;
    Ok(o)
}

pub async fn update_organization(tx: &mut WriteTx, o: &Organization) -> StoreResult<()> {
    sqlx::query(
        "update od_organizations set title = $1, description = $2, image_url = $3 where id = $4",
    )
    .bind(&o.title)
    .bind(&o.description)
    .bind(&o.image_url)
    .bind(&o.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a publisher's datasets as changed at `seq` (their dictionaries embed it).
pub async fn touch_datasets_of(tx: &mut WriteTx, owner_org: &str, seq: i64) -> StoreResult<()> {
    sqlx::query("update od_datasets set seq = $1 where owner_org = $2")
        .bind(seq)
        .bind(owner_org)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const GROUP_COLUMNS: &str = "id, name, title, description, image_url, state, created_at";

pub async fn groups(db: &Db) -> StoreResult<Vec<Group>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {GROUP_COLUMNS} from od_groups order by name"
    )))
    .fetch_all(db.pool())
    .await?)
}

pub async fn insert_group(tx: &mut WriteTx, g: &Group) -> StoreResult<()> {
    sqlx::query(
        "insert into od_groups (id, name, title, description, image_url, state, created_at) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&g.id)
    .bind(&g.name)
    .bind(&g.title)
    .bind(&g.description)
    .bind(&g.image_url)
    .bind(&g.state)
    .bind(&g.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An API token's holder: a local government, with its administrator's rights.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Issues a token; returns it (shown once) and its record.
pub async fn create_token(
    db: &Db,
    organisation_id: i64,
    name: &str,
    created_by: &str,
) -> StoreResult<String> {
    let token = format!("mdg_{}", platform::crypto::random_token());
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into od_tokens (organisation_id, name, token_hash, created_by, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(organisation_id)
    .bind(name)
    .bind(platform::crypto::sha256_hex(&token))
    .bind(created_by)
    .bind(model::now())
    .execute(&mut *tx)
    .await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: token_audit_actor(created_by),
            action: "api_token.issued",
            subject_kind: "api_token",
            subject_id: None,
            detail: serde_json::json!({"name": name}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The token's record, if it is valid and not revoked.
pub async fn token(db: &Db, token: &str) -> StoreResult<Option<Token>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, name, created_by, created_at, last_used_at, revoked_at from od_tokens where token_hash = $1 and revoked_at is null",
    )
    .bind(platform::crypto::sha256_hex(token))
    .fetch_optional(db.pool())
    .await?)
}

/// Notes when a token was last used (at most once an hour, so reads stay reads).
pub async fn touch_token(db: &Db, t: &Token) {
    let now = model::now();
    let stale = t
        .last_used_at
        .as_deref()
        .and_then(model::parse_ckan_time)
        .is_none_or(|at| chrono::Utc::now() - at > chrono::Duration::hours(1));
    if !stale {
        return;
    }
    let result = async {
        let mut tx = db.begin().await?;
        sqlx::query("update od_tokens set last_used_at = $1 where id = $2")
            .bind(&now)
            .bind(t.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "noting a token's use failed");
    }
}

fn token_audit_actor(label: &str) -> platform::audit::Actor {
    match label.split_once(':') {
        Some(("staff", id)) => id
            .parse()
            .map(platform::audit::Actor::Staff)
            .unwrap_or(platform::audit::Actor::System),
        _ if label == "cli" => platform::audit::Actor::Cli,
        _ => platform::audit::Actor::System,
    }
}

pub async fn tokens(db: &Db, organisation_id: i64) -> StoreResult<Vec<Token>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, name, created_by, created_at, last_used_at, revoked_at from od_tokens where organisation_id = $1 order by id desc",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn revoke_token(db: &Db, organisation_id: i64, id: i64) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "update od_tokens set revoked_at = $1 where id = $2 and organisation_id = $3 and revoked_at is null",
    )
    .bind(model::now())
    .bind(id)
    .bind(organisation_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        platform::audit::append(
            &mut tx,
            platform::audit::Entry {
                organisation_id: Some(organisation_id),
                actor: platform::audit::Actor::System,
                action: "api_token.revoked",
                subject_kind: "api_token",
                subject_id: Some(id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}
