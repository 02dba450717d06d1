//! Datasets and their resources: tags, group ids and extras are JSON in one
//! row per dataset, resources a row each.

use platform::db::{Db, DbBool, WriteTx};
use platform::{StoreError, StoreResult};
use serde_json::{Map, Value};

use super::generation::generation;
use crate::model::{Dataset, HiddenDataset, Resource};

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

/// The datasets of a local government that are not in the public catalogue
/// (deleted or draft), latest change first.
pub async fn hidden_datasets_of(db: &Db, organisation_id: i64) -> StoreResult<Vec<HiddenDataset>> {
    Ok(sqlx::query_as(
        "select d.id, d.name, d.title, d.state, d.modified_at, d.owner_org from od_datasets d \
         join od_organizations o on o.id = d.owner_org \
         where o.organisation_id = $1 and d.state <> 'active' order by d.modified_at desc",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

/// Whether any resource refers to the stored file `key`.
pub async fn file_in_use(db: &Db, key: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("select count(*) from od_resources where file_key = $1")
        .bind(key)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}
