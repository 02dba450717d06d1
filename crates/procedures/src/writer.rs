//! The submission writer: every submission goes through one task that writes
//! whatever submissions are waiting in one transaction (group commit).
//!
//! A submission is acknowledged only after its transaction committed, and a
//! commit is durable (see `platform::db`). One commit costs about one fsync;
//! sharing it between the submissions that arrived meanwhile is what lets a
//! single SQLite writer, or PostgreSQL with its two hot rows per organisation
//! (the receipt counter and the audit chain's head), take many submissions a
//! second. Within the batch the writes are multi-row statements, so a batch
//! costs a handful of round trips whatever its size:
//!
//! 1. find the applications the batch refers to (drafts being sent; earlier
//!    submissions under the same idempotency keys);
//! 2. decide each submission: written, replayed (the same draft sent again, or
//!    the same key with the same request) or refused (the key reused with
//!    another request, an application no longer a draft);
//! 3. reserve receipt numbers, one counter update per organisation and fiscal year;
//! 4. insert the new applications, update the sent drafts;
//! 5. insert their history events (with the answers), audit records (one
//!    chain extension) and outbox jobs (notify the resident).
//!
//! Refusals are decided before anything is written, so they never disturb the
//! rest of the batch. If the transaction fails, every submission of the batch
//! gets the error and none is acknowledged: clients retry with the same key.

use std::collections::HashMap;

use platform::audit::{self, Actor};
use platform::db::{StoreError, Timestamp};
use serde_json::json;
use sqlx::AssertSqlSafe;
use tokio::sync::{mpsc, oneshot};

use crate::application_columns;
use crate::applications::{Application, Status};

/// The most submissions written in one transaction.
const MAX_BATCH: usize = 256;

/// What to submit.
#[derive(Debug, Clone)]
pub enum Submission {
    /// An existing draft (or an application returned for correction) of the resident.
    Existing {
        application_id: i64,
        resident_id: i64,
        answers: String,
    },
    /// A new application, created and submitted at once (API), under an idempotency key.
    New(NewSubmission),
}

#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub resident_id: i64,
    pub organisation_id: i64,
    pub organisation_code: String,
    pub section_id: i64,
    pub procedure_id: i64,
    pub form_version_id: i64,
    pub answers: String,
    pub idempotency_key: String,
    /// SHA-256 of the request, to tell a retry from another request under the same key.
    pub request_hash: String,
}

/// A submission that was written (or had been written before: `replayed`).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub application: Application,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("not found")]
    NotFound,
    #[error("not submittable in status {0:?}")]
    InvalidTransition(Status),
    #[error("idempotency key reused with a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the submission writer has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<Submitted, SubmitError>>;

/// The handle handlers submit through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Submission, Reply)>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: platform::Db) -> Writer {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run(db, rx));
        Writer { tx }
    }

    /// Submits and waits until the submission is durable (or refused).
    pub async fn submit(&self, s: Submission) -> Result<Submitted, SubmitError> {
        let (reply, wait) = oneshot::channel();
        self.tx
            .send((s, reply))
            .await
            .map_err(|_| SubmitError::Stopped)?;
        wait.await.map_err(|_| SubmitError::Stopped)?
    }
}

async fn run(db: platform::Db, mut rx: mpsc::Receiver<(Submission, Reply)>) {
    let mut batch: Vec<(Submission, Reply)> = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every sender is gone: shutting down
        }
        let (submissions, replies): (Vec<Submission>, Vec<Reply>) =
            std::mem::take(&mut batch).into_iter().unzip();
        let results = match write_batch(&db, &submissions).await {
            Ok(results) => results,
            Err(e) => {
                tracing::error!(error = %e, size = submissions.len(), "submission batch failed");
                submissions
                    .iter()
                    .map(|_| {
                        Err(SubmitError::Store(StoreError::Conflict(
                            "the batch failed".into(),
                        )))
                    })
                    .collect()
            }
        };
        for (result, reply) in results.into_iter().zip(replies) {
            let _ = reply.send(result);
        }
    }
}

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

/// What the batch will do with one submission.
enum Plan {
    /// Already decided (replayed or refused).
    Done(Result<Submitted, SubmitError>),
    /// Send the draft `app` (receipt number kept if it has one).
    SendDraft {
        app: Application,
        org_code: String,
        answers: String,
    },
    /// Insert a new application.
    Insert(usize),
    /// The same key as an earlier submission of the batch, same request: its result.
    SameAs(usize),
}

struct Written {
    app: Application,
    from: Option<Status>,
    answers: String,
}

async fn write_batch(
    db: &platform::Db,
    batch: &[Submission],
) -> Result<Vec<Result<Submitted, SubmitError>>, StoreError> {
    let mut tx = db.begin().await?;
    let now = Timestamp::now();
    let fy = jp::fiscal::fiscal_year_of(now.jst().date_naive());

    // 1. The drafts being sent.
    let draft_ids: Vec<i64> = batch
        .iter()
        .filter_map(|s| match s {
            Submission::Existing { application_id, .. } => Some(*application_id),
            Submission::New(_) => None,
        })
        .collect();
    let mut drafts: HashMap<i64, (Application, String)> = HashMap::new();
    if !draft_ids.is_empty() {
        let sql = format!(
            "select a.id, a.organisation_id, a.section_id, a.procedure_id, a.form_version_id, a.resident_id, a.status, \
             a.answers, a.pending, a.receipt_number, a.fiscal_year, a.version, a.created_at, a.updated_at, a.submitted_at, \
             o.code from applications a join organisations o on o.id = a.organisation_id where a.id in ({})",
            list(draft_ids.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in &draft_ids {
            q = q.bind(*id);
        }
        use sqlx::Row;
        for row in q.fetch_all(&mut *tx).await? {
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
            drafts.insert(app.id, (app, code));
        }
    }

    // The earlier submissions under the batch's idempotency keys.
    let news: Vec<&NewSubmission> = batch
        .iter()
        .filter_map(|s| match s {
            Submission::New(n) => Some(n),
            Submission::Existing { .. } => None,
        })
        .collect();
    let mut earlier: HashMap<(i64, String), (Application, Option<String>)> = HashMap::new();
    if !news.is_empty() {
        let mut keys: Vec<(i64, &str)> = news
            .iter()
            .map(|n| (n.resident_id, n.idempotency_key.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let residents: Vec<i64> = {
            let mut r: Vec<i64> = keys.iter().map(|k| k.0).collect();
            r.dedup();
            r
        };
        let sql = format!(
            concat!(
                "select ",
                application_columns!(),
                ", idempotency_key, request_hash from applications \
             where resident_id in ({}) and idempotency_key in ({})"
            ),
            list(residents.len(), 1),
            list(keys.len(), residents.len() + 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in &residents {
            q = q.bind(*r);
        }
        for k in &keys {
            q = q.bind(k.1.to_string());
        }
        use sqlx::{FromRow, Row};
        for row in q.fetch_all(&mut *tx).await? {
            let app = Application::from_row(&row)?;
            let key: String = row.try_get("idempotency_key")?;
            let hash: Option<String> = row.try_get("request_hash")?;
            earlier.insert((app.resident_id, key), (app, hash));
        }
    }

    // 2. Decide.
    let mut plans = Vec::with_capacity(batch.len());
    let mut in_batch: HashMap<(i64, &str), (usize, &str)> = HashMap::new();
    let mut inserts: Vec<&NewSubmission> = Vec::new();
    for (i, s) in batch.iter().enumerate() {
        let plan = match s {
            Submission::Existing {
                application_id,
                resident_id,
                answers,
            } => match drafts.get(application_id) {
                Some((app, _)) if app.resident_id != *resident_id => {
                    Plan::Done(Err(SubmitError::NotFound))
                }
                None => Plan::Done(Err(SubmitError::NotFound)),
                Some((app, code)) => match app.status() {
                    Status::Draft | Status::Returned => {
                        // The same draft twice in one batch: the second is a replay of the first.
                        match batch[..i]
                            .iter()
                            .position(|p| matches!(p, Submission::Existing { application_id: a, .. } if a == application_id))
                        {
                            Some(first) => Plan::SameAs(first),
                            None => Plan::SendDraft { app: app.clone(), org_code: code.clone(), answers: answers.clone() },
                        }
                    }
                    // Sent twice (a double tap, a retry after a lost response): the first one stands.
                    Status::Submitted if app.receipt_number.is_some() => {
                        Plan::Done(Ok(Submitted {
                            application: app.clone(),
                            replayed: true,
                        }))
                    }
                    other => Plan::Done(Err(SubmitError::InvalidTransition(other))),
                },
            },
            Submission::New(n) => {
                if let Some((app, hash)) = earlier.get(&(n.resident_id, n.idempotency_key.clone()))
                {
                    if hash.as_deref() == Some(n.request_hash.as_str()) {
                        Plan::Done(Ok(Submitted {
                            application: app.clone(),
                            replayed: true,
                        }))
                    } else {
                        Plan::Done(Err(SubmitError::KeyReused))
                    }
                } else if let Some((first, hash)) =
                    in_batch.get(&(n.resident_id, n.idempotency_key.as_str()))
                {
                    if *hash == n.request_hash {
                        Plan::SameAs(*first)
                    } else {
                        Plan::Done(Err(SubmitError::KeyReused))
                    }
                } else {
                    in_batch.insert(
                        (n.resident_id, n.idempotency_key.as_str()),
                        (i, n.request_hash.as_str()),
                    );
                    inserts.push(n);
                    Plan::Insert(inserts.len() - 1)
                }
            }
        };
        plans.push(plan);
    }

    // 3. Receipt numbers: new applications, and drafts sent for the first time.
    let mut needed: HashMap<(i64, String), i64> = HashMap::new();
    for n in &inserts {
        *needed
            .entry((n.organisation_id, n.organisation_code.clone()))
            .or_default() += 1;
    }
    for p in &plans {
        if let Plan::SendDraft { app, org_code, .. } = p
            && app.receipt_number.is_none()
        {
            *needed
                .entry((app.organisation_id, org_code.clone()))
                .or_default() += 1;
        }
    }
    let mut next_number: HashMap<i64, (String, i64)> = HashMap::new();
    let mut orgs: Vec<(&(i64, String), &i64)> = needed.iter().collect();
    orgs.sort(); // a fixed lock order across concurrent writers
    for ((org_id, code), count) in orgs {
        let last: i64 = sqlx::query_scalar(
            "insert into receipt_counters (organisation_id, fiscal_year, last_number) values ($1, $2, $3) \
             on conflict (organisation_id, fiscal_year) do update set last_number = receipt_counters.last_number + $3 \
             returning last_number",
        )
        .bind(*org_id)
        .bind(i64::from(fy))
        .bind(*count)
        .fetch_one(&mut *tx)
        .await?;
        next_number.insert(*org_id, (code.clone(), last - count + 1));
    }
    let mut take_receipt = |org_id: i64| -> String {
        let (code, n) = next_number.get_mut(&org_id).expect("reserved above");
        let receipt = format!("{}-{}-{:06}", code, jp::fiscal::fiscal_year_short(fy), n);
        *n += 1;
        receipt
    };

    // 4. Insert the new applications (one statement), update the sent drafts.
    let mut written: HashMap<usize, Written> = HashMap::new();
    if !inserts.is_empty() {
        const COLS: usize = 14;
        let sql = format!(
            concat!(
                "insert into applications (organisation_id, section_id, procedure_id, form_version_id, resident_id, status, \
                 answers, receipt_number, fiscal_year, idempotency_key, request_hash, created_at, updated_at, submitted_at) \
                 values {} returning ",
                application_columns!(),
                ", idempotency_key"
            ),
            values(inserts.len(), COLS)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for n in &inserts {
            q = q
                .bind(n.organisation_id)
                .bind(n.section_id)
                .bind(n.procedure_id)
                .bind(n.form_version_id)
                .bind(n.resident_id)
                .bind(Status::Submitted.code())
                .bind(n.answers.as_str())
                .bind(take_receipt(n.organisation_id))
                .bind(i64::from(fy))
                .bind(n.idempotency_key.as_str())
                .bind(n.request_hash.as_str())
                .bind(now)
                .bind(now)
                .bind(now);
        }
        use sqlx::{FromRow, Row};
        let mut by_key: HashMap<(i64, String), Application> = HashMap::new();
        for row in q.fetch_all(&mut *tx).await? {
            let app = Application::from_row(&row)?;
            let key: String = row.try_get("idempotency_key")?;
            by_key.insert((app.resident_id, key), app);
        }
        for (i, plan) in plans.iter().enumerate() {
            if let Plan::Insert(k) = plan {
                let n = inserts[*k];
                let app = by_key
                    .remove(&(n.resident_id, n.idempotency_key.clone()))
                    .ok_or_else(|| {
                        StoreError::Conflict("inserted application not returned".into())
                    })?;
                written.insert(
                    i,
                    Written {
                        app,
                        from: None,
                        answers: n.answers.clone(),
                    },
                );
            }
        }
    }
    for (i, plan) in plans.iter().enumerate() {
        let Plan::SendDraft { app, answers, .. } = plan else {
            continue;
        };
        let (receipt, fiscal_year) = match (&app.receipt_number, app.fiscal_year) {
            (Some(r), Some(f)) => (r.clone(), f),
            _ => (take_receipt(app.organisation_id), i64::from(fy)),
        };
        let updated: Application = sqlx::query_as(concat!(
            "update applications set status = 'submitted', answers = $1, pending = '{}', receipt_number = $2, \
             fiscal_year = $3, submitted_at = coalesce(submitted_at, $4), updated_at = $4, version = version + 1 \
             where id = $5 and version = $6 returning ",
            application_columns!()
        ))
        .bind(answers.as_str())
        .bind(&receipt)
        .bind(fiscal_year)
        .bind(now)
        .bind(app.id)
        .bind(app.version)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict("application changed meanwhile".into()))?;
        written.insert(
            i,
            Written {
                app: updated,
                from: Some(app.status()),
                answers: answers.clone(),
            },
        );
    }

    // 5. History, audit and outbox for everything written.
    let mut order: Vec<usize> = written.keys().copied().collect();
    order.sort_unstable();
    if !order.is_empty() {
        const COLS: usize = 9;
        let sql = format!(
            "insert into application_events (application_id, organisation_id, at, actor_kind, actor_id, kind, status_from, \
             status_to, answers) values {}",
            values(order.len(), COLS)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for i in &order {
            let w = &written[i];
            let resubmitted = w.from == Some(Status::Returned);
            q = q
                .bind(w.app.id)
                .bind(w.app.organisation_id)
                .bind(now)
                .bind("resident")
                .bind(w.app.resident_id)
                .bind(if resubmitted {
                    "resubmitted"
                } else {
                    "submitted"
                })
                .bind(w.from.map(Status::code))
                .bind(Status::Submitted.code())
                .bind(w.answers.as_str());
        }
        q.execute(&mut *tx).await?;

        let entries: Vec<audit::Entry<'_>> = order
            .iter()
            .map(|i| {
                let w = &written[i];
                audit::Entry {
                    organisation_id: Some(w.app.organisation_id),
                    actor: Actor::Resident(w.app.resident_id),
                    action: if w.from == Some(Status::Returned) { "application.resubmitted" } else { "application.submitted" },
                    subject_kind: "application",
                    subject_id: Some(w.app.id),
                    detail: json!({"receipt_number": w.app.receipt_number, "procedure_id": w.app.procedure_id}),
                }
            })
            .collect();
        audit::append_many(&mut tx, &entries).await?;

        // The resident is told once that the application arrived; a corrected
        // application sent again is not announced a second time.
        let jobs: Vec<(String, serde_json::Value, String)> = order
            .iter()
            .filter(|i| written[*i].from != Some(Status::Returned))
            .map(|i| {
                let app = &written[i].app;
                (
                    "notify.application_received".to_string(),
                    json!({"application_id": app.id}),
                    format!("application-received:{}", app.id),
                )
            })
            .collect();
        platform::jobs::enqueue_many(&mut tx, &jobs).await?;
    }
    tx.commit().await?;

    // Results, in the batch's order.
    let mut results: Vec<Result<Submitted, SubmitError>> = Vec::with_capacity(batch.len());
    for (i, plan) in plans.into_iter().enumerate() {
        let result = match plan {
            Plan::Done(r) => r,
            Plan::Insert(_) | Plan::SendDraft { .. } => {
                let w = written.remove(&i).ok_or_else(|| {
                    StoreError::Conflict("a written submission is missing".into())
                })?;
                Ok(Submitted {
                    application: w.app,
                    replayed: false,
                })
            }
            Plan::SameAs(first) => match &results[first] {
                Ok(s) => Ok(Submitted {
                    application: s.application.clone(),
                    replayed: true,
                }),
                Err(_) => Err(SubmitError::NotFound),
            },
        };
        results.push(result);
    }
    Ok(results)
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
