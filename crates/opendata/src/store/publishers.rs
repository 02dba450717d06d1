//! Publishers (CKAN organizations, each under one local government) and
//! groups (themes across publishers).

use platform::StoreResult;
use platform::db::{Db, WriteTx};

use crate::model::{Group, Organization};

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

/// The first publisher of a local government (the oldest, then by name).
pub async fn first_organization_of(
    db: &Db,
    organisation_id: i64,
) -> StoreResult<Option<Organization>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {ORG_COLUMNS} from od_organizations where organisation_id = $1 order by created_at, name limit 1"
    )))
    .bind(organisation_id)
    .fetch_optional(db.pool())
    .await?)
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
