//! The applications an export reads, a page at a time.

use platform::db::{Db, StoreResult, Timestamp};
use procedures::catalogue::Procedure;
use sqlx::{AssertSqlSafe, Row};

use crate::model::{Selection, day_start};

/// One application as exported: id, receipt number, status, sent time, answers (JSON).
pub struct ExportedRow {
    pub id: i64,
    pub receipt_number: Option<String>,
    pub status: String,
    pub submitted_at: Option<Timestamp>,
    pub answers: String,
}

/// The next `limit` applications of `procedure` after id `after`, by id.
pub async fn next_page(
    db: &Db,
    procedure: &Procedure,
    sel: &Selection,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<ExportedRow>> {
    let mut sql = String::from(
        "select id, receipt_number, status, submitted_at, answers from applications \
         where procedure_id = $1 and organisation_id = $2 and status <> 'draft' and id > $3",
    );
    let mut n = 4;
    if sel.status.is_some() {
        sql.push_str(&format!(" and status = ${n}"));
        n += 1;
    }
    if sel.received_from.is_some() {
        sql.push_str(&format!(" and submitted_at >= ${n}"));
        n += 1;
    }
    // Received on or before that day: before the start of the next (the
    // last day of the calendar has none; day_start stops at 9999 anyway).
    let until = sel
        .received_to
        .map(|d| day_start(d.succ_opt().unwrap_or(d)));
    if until.is_some() {
        sql.push_str(&format!(" and submitted_at < ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" order by id limit ${n}"));
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(procedure.id)
        .bind(procedure.organisation_id)
        .bind(after);
    if let Some(s) = sel.status {
        q = q.bind(s.code());
    }
    if let Some(d) = sel.received_from {
        q = q.bind(day_start(d));
    }
    if let Some(t) = until {
        q = q.bind(t);
    }
    let rows = q.bind(limit).fetch_all(db.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(ExportedRow {
                id: r.try_get(0)?,
                receipt_number: r.try_get(1)?,
                status: r.try_get(2)?,
                submitted_at: r.try_get(3)?,
                answers: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}
