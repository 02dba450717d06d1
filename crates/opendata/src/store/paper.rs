//! 紙の申請件数: the applications a section received on paper, per
//! procedure and month, as it recorded them.

use platform::StoreResult;
use platform::db::{Db, WriteTx};

use crate::model::PaperCount;

/// Records (or corrects) the paper applications of a procedure in a month.
pub async fn save_paper_count(
    tx: &mut WriteTx,
    organisation_id: i64,
    procedure_code: &str,
    month: &str,
    count: i64,
    recorded_by: &str,
    recorded_at: &str,
) -> StoreResult<()> {
    sqlx::query(
        "insert into od_paper_counts (organisation_id, procedure_code, month, count, recorded_by, recorded_at) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (organisation_id, procedure_code, month) do update set \
         count = excluded.count, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(organisation_id)
    .bind(procedure_code)
    .bind(month)
    .bind(count)
    .bind(recorded_by)
    .bind(recorded_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The latest 300 counts recorded, the latest month first.
pub async fn recent_paper_counts(db: &Db, organisation_id: i64) -> StoreResult<Vec<PaperCount>> {
    Ok(sqlx::query_as(
        "select procedure_code, month, count, recorded_by, recorded_at from od_paper_counts \
         where organisation_id = $1 order by month desc, procedure_code limit 300",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

/// Every count a local government recorded.
pub async fn paper_counts(db: &Db, organisation_id: i64) -> StoreResult<Vec<PaperCount>> {
    Ok(sqlx::query_as(
        "select procedure_code, month, count, recorded_by, recorded_at from od_paper_counts where organisation_id = $1",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}
