//! The platform's own figures a KPI can be bound to, counted in the other
//! modules' tables (procedures, applications, FAQ entries): read here so that
//! plans need not depend on those modules.

use platform::db::{Db, StoreResult};

/// Published procedures of the organisation that accept applications online.
pub async fn procedures_online(db: &Db, organisation_id: i64) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from procedures where organisation_id = $1 and status = 'published' \
         and online = $2 and current_form_id is not null",
    )
    .bind(organisation_id)
    .bind(true)
    .fetch_one(db.pool())
    .await?)
}

/// Applications the organisation received online in fiscal year `fy` (drafts aside).
pub async fn applications_received(db: &Db, organisation_id: i64, fy: i32) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from applications where organisation_id = $1 and fiscal_year = $2 and status <> 'draft'",
    )
    .bind(organisation_id)
    .bind(i64::from(fy))
    .fetch_one(db.pool())
    .await?)
}

/// Business areas with at least one published FAQ entry of the organisation
/// (the FAQ module's table, crates/faq).
pub async fn faq_areas_covered(db: &Db, organisation_id: i64) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "select count(distinct area) from faq_entries where organisation_id = $1 and status = 'published'",
    )
    .bind(organisation_id)
    .fetch_one(db.pool())
    .await?)
}
