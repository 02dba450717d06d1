//! The submission writer's statements: each takes the whole batch, so a
//! batch costs a handful of round trips whatever its size (see
//! `service::writer` for the order they run in, inside one transaction).

use std::collections::HashMap;

use platform::db::{StoreResult, Timestamp, WriteTx};
use sqlx::{AssertSqlSafe, FromRow, Row};

use crate::application_columns;
use crate::applications::{Application, Status};
use crate::submission::NewSubmission;

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `cols` columns.
fn values(rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * cols + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// `$1, $2, …, $n`.
fn list(n: usize, from: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The applications `ids` with their organisation's code, by id.
pub async fn drafts(
    tx: &mut WriteTx,
    ids: &[i64],
) -> StoreResult<HashMap<i64, (Application, String)>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "select a.id, a.organisation_id, a.section_id, a.procedure_id, a.form_version_id, a.resident_id, a.status, \
         a.answers, a.pending, a.receipt_number, a.fiscal_year, a.version, a.created_at, a.updated_at, a.submitted_at, \
         o.code from applications a join organisations o on o.id = a.organisation_id where a.id in ({})",
        list(ids.len(), 1)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(*id);
    }
    for row in q.fetch_all(&mut **tx).await? {
        let app = Application {
            id: row.try_get(0)?,
            organisation_id: row.try_get(1)?,
            section_id: row.try_get(2)?,
            procedure_id: row.try_get(3)?,
            form_version_id: row.try_get(4)?,
            resident_id: row.try_get(5)?,
            status: row.try_get(6)?,
            answers: row.try_get(7)?,
            pending: row.try_get(8)?,
            receipt_number: row.try_get(9)?,
            fiscal_year: row.try_get(10)?,
            version: row.try_get(11)?,
            created_at: row.try_get(12)?,
            updated_at: row.try_get(13)?,
            submitted_at: row.try_get(14)?,
        };
        let code: String = row.try_get(15)?;
        out.insert(app.id, (app, code));
    }
    Ok(out)
}

/// The applications written earlier under these (resident, idempotency key)
/// pairs, with the hash of the request that wrote them.
pub async fn by_idempotency_keys(
    tx: &mut WriteTx,
    keys: &[(i64, &str)],
) -> StoreResult<HashMap<(i64, String), (Application, Option<String>)>> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    // Exact pairs, each one probe of the unique index: a list of residents
    // times a list of keys read every application of those residents (an
    // agent filing for many has thousands) and grew with the batch squared.
    let pairs: Vec<String> = (0..keys.len())
        .map(|i| {
            format!(
                "(resident_id = ${} and idempotency_key = ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    let sql = format!(
        concat!(
            "select ",
            application_columns!(),
            ", idempotency_key, request_hash from applications where {}"
        ),
        pairs.join(" or ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (resident, key) in keys {
        q = q.bind(*resident).bind(key.to_string());
    }
    for row in q.fetch_all(&mut **tx).await? {
        let app = Application::from_row(&row)?;
        let key: String = row.try_get("idempotency_key")?;
        let hash: Option<String> = row.try_get("request_hash")?;
        out.insert((app.resident_id, key), (app, hash));
    }
    Ok(out)
}

/// Reserves `count` receipt numbers of the organisation for fiscal year
/// `fy`; returns the last one reserved.
pub async fn reserve_receipt_numbers(
    tx: &mut WriteTx,
    organisation_id: i64,
    fy: i64,
    count: i64,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "insert into receipt_counters (organisation_id, fiscal_year, last_number) values ($1, $2, $3) \
         on conflict (organisation_id, fiscal_year) do update set last_number = receipt_counters.last_number + $3 \
         returning last_number",
    )
    .bind(organisation_id)
    .bind(fy)
    .bind(count)
    .fetch_one(&mut **tx)
    .await?)
}

/// Inserts new submitted applications (one statement), each with its receipt
/// number; returns those inserted by (resident, idempotency key). A key
/// another transaction wrote meanwhile (another node, the same retry) is
/// skipped, not an error: the caller reads what was written under it.
pub async fn insert_submitted(
    tx: &mut WriteTx,
    rows: &[(&NewSubmission, String)],
    fy: i64,
    now: Timestamp,
) -> StoreResult<HashMap<(i64, String), Application>> {
    let mut out = HashMap::new();
    if rows.is_empty() {
        return Ok(out);
    }
    const COLS: usize = 15;
    let sql = format!(
        concat!(
            "insert into applications (organisation_id, section_id, procedure_id, form_version_id, resident_id, status, \
             answers, receipt_number, fiscal_year, idempotency_key, request_hash, created_at, updated_at, submitted_at, \
             identified_by) \
             values {} on conflict (resident_id, idempotency_key) do nothing returning ",
            application_columns!(),
            ", idempotency_key"
        ),
        values(rows.len(), COLS)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (n, receipt) in rows {
        q = q
            .bind(n.organisation_id)
            .bind(n.section_id)
            .bind(n.procedure_id)
            .bind(n.form_version_id)
            .bind(n.resident_id)
            .bind(Status::Submitted.code())
            .bind(n.answers.as_str())
            .bind(receipt.as_str())
            .bind(fy)
            .bind(n.idempotency_key.as_str())
            .bind(n.request_hash.as_str())
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(n.identified_by.as_str());
    }
    for row in q.fetch_all(&mut **tx).await? {
        let app = Application::from_row(&row)?;
        let key: String = row.try_get("idempotency_key")?;
        out.insert((app.resident_id, key), app);
    }
    Ok(out)
}

/// Sends a draft: its answers, receipt number and fiscal year, if it is still
/// at the version read; None if it changed meanwhile.
pub async fn send_draft(
    tx: &mut WriteTx,
    app: &Application,
    answers: &str,
    receipt: &str,
    fiscal_year: i64,
    now: Timestamp,
) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "update applications set status = 'submitted', answers = $1, pending = '{}', receipt_number = $2, \
         fiscal_year = $3, submitted_at = coalesce(submitted_at, $4), updated_at = $4, version = version + 1 \
         where id = $5 and version = $6 returning ",
        application_columns!()
    ))
    .bind(answers)
    .bind(receipt)
    .bind(fiscal_year)
    .bind(now)
    .bind(app.id)
    .bind(app.version)
    .fetch_optional(&mut **tx)
    .await?)
}

/// One submission for the history: the application, the status it came from
/// (None for a new one) and the answers sent.
pub struct SentEvent<'a> {
    pub app: &'a Application,
    pub from: Option<Status>,
    pub answers: &'a str,
}

/// The history events of the submissions written (one statement).
pub async fn insert_submission_events(
    tx: &mut WriteTx,
    events: &[SentEvent<'_>],
    now: Timestamp,
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    const COLS: usize = 9;
    let sql = format!(
        "insert into application_events (application_id, organisation_id, at, actor_kind, actor_id, kind, status_from, \
         status_to, answers) values {}",
        values(events.len(), COLS)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for e in events {
        let resubmitted = e.from == Some(Status::Returned);
        q = q
            .bind(e.app.id)
            .bind(e.app.organisation_id)
            .bind(now)
            .bind("resident")
            .bind(e.app.resident_id)
            .bind(if resubmitted {
                "resubmitted"
            } else {
                "submitted"
            })
            .bind(e.from.map(Status::code))
            .bind(Status::Submitted.code())
            .bind(e.answers);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value() {
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list(3, 4), "$4, $5, $6");
    }
}
