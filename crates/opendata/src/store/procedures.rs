//! What the platform publishes about itself, read from the procedures
//! crate's tables (`procedures`, `sections`, `applications`): its published
//! procedures and the applications received online per month.
//!
//! These reads belong with the procedures crate's own storage; they live
//! here until that crate offers them.

use platform::StoreResult;
use platform::db::Db;
use sqlx::Row;

use crate::model::{MonthlyApplications, PublishedProcedure};

/// A local government's published procedures: (code, name), by code.
pub async fn published_procedure_names(
    db: &Db,
    organisation_id: i64,
) -> StoreResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "select code, name from procedures where organisation_id = $1 and status = 'published' order by code",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

/// A local government's published procedures with their section, by code.
pub async fn published_procedures(
    db: &Db,
    organisation_id: i64,
) -> StoreResult<Vec<PublishedProcedure>> {
    let rows = sqlx::query(
        "select p.id, p.code, p.name, p.name_en, p.category, p.online, p.fee_yen, p.annual_volume, s.name as section, s.department \
         from procedures p join sections s on s.id = p.section_id \
         where p.organisation_id = $1 and p.status = 'published' order by p.code",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for p in &rows {
        // An integer on SQLite, a boolean on PostgreSQL.
        let online: i64 = p
            .try_get::<i64, _>("online")
            .or_else(|_| p.try_get::<bool, _>("online").map(i64::from))?;
        out.push(PublishedProcedure {
            id: p.try_get("id")?,
            code: p.try_get("code")?,
            name: p.try_get("name")?,
            name_en: p.try_get("name_en")?,
            category: p.try_get("category")?,
            online: online != 0,
            fee_yen: p.try_get("fee_yen")?,
            annual_volume: p.try_get("annual_volume")?,
            section: p.try_get("section")?,
            department: p.try_get("department")?,
        });
    }
    Ok(out)
}

/// Applications submitted online per procedure and month of submission
/// (UTC, as stored), by month then code.
pub async fn monthly_applications(
    db: &Db,
    organisation_id: i64,
) -> StoreResult<Vec<MonthlyApplications>> {
    let rows = sqlx::query(
        "select p.code, p.name, substr(a.submitted_at, 1, 7) as month, count(*) as n \
         from applications a join procedures p on p.id = a.procedure_id \
         where a.organisation_id = $1 and a.submitted_at is not null \
         group by p.code, p.name, substr(a.submitted_at, 1, 7) order by 3, 1",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(MonthlyApplications {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            month: r.try_get("month")?,
            count: r.try_get("n")?,
        });
    }
    Ok(out)
}
