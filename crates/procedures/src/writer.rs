//! The submission writer: every submission goes through one task that writes
//! whatever submissions are waiting in one transaction (group commit).
//!
//! A submission is acknowledged only after its transaction committed, and a
//! commit is durable (see `platform::db`). One commit costs about one fsync;
//! sharing it between the submissions that arrived meanwhile is what lets a
//! single SQLite writer, or PostgreSQL with its two hot rows per organisation
//! (the receipt counter and the audit chain's head), take many submissions a
//! second. Each submission runs inside its own savepoint, so one that fails
//! (another request already used its idempotency key with other data, the
//! application is no longer a draft) is rolled back alone and the others
//! commit. If the commit itself fails, every submission of the batch gets the
//! error and none is acknowledged: the client retries with the same key.
//!
//! In one submission's transaction: the receipt number (unique per
//! organisation and fiscal year, from `receipt_counters`), the application row,
//! its history event with a snapshot of the answers, the audit record, and the
//! outbox job that will notify the resident.

use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, Timestamp, WriteTx};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::applications::{Application, Status, application_columns, insert_event};

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
    pub fn start(db: Db) -> Writer {
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

async fn run(db: Db, mut rx: mpsc::Receiver<(Submission, Reply)>) {
    let mut batch: Vec<(Submission, Reply)> = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every sender is gone: shutting down
        }
        write_batch(&db, std::mem::take(&mut batch)).await;
    }
}

async fn write_batch(db: &Db, batch: Vec<(Submission, Reply)>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin a submission transaction");
            for (_, reply) in batch {
                let _ = reply.send(Err(SubmitError::Store(StoreError::Conflict(
                    "database unavailable".into(),
                ))));
            }
            return;
        }
    };
    let mut results = Vec::with_capacity(batch.len());
    for (submission, reply) in batch {
        let result = write_one(&mut tx, &submission).await;
        results.push((result, reply));
    }
    match tx.commit().await {
        Ok(()) => {
            for (result, reply) in results {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "submission batch failed to commit");
            for (_, reply) in results {
                let _ = reply.send(Err(SubmitError::Store(StoreError::Conflict(
                    "commit failed".into(),
                ))));
            }
        }
    }
}

/// One submission inside its own savepoint.
async fn write_one(tx: &mut WriteTx, s: &Submission) -> Result<Submitted, SubmitError> {
    sqlx::query("savepoint submission")
        .execute(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    let result = match s {
        Submission::Existing {
            application_id,
            resident_id,
            answers,
        } => submit_existing(tx, *application_id, *resident_id, answers).await,
        Submission::New(n) => submit_new(tx, n).await,
    };
    let end = if result.is_ok() {
        "release savepoint submission"
    } else {
        "rollback to savepoint submission"
    };
    sqlx::query(end)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    if result.is_err() {
        sqlx::query("release savepoint submission")
            .execute(&mut **tx)
            .await
            .map_err(StoreError::from)?;
    }
    result
}

/// The next receipt number of the organisation in the fiscal year.
async fn next_receipt_number(
    tx: &mut WriteTx,
    organisation_id: i64,
    organisation_code: &str,
    fy: i32,
) -> Result<String, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "insert into receipt_counters (organisation_id, fiscal_year, last_number) values ($1, $2, 1) \
         on conflict (organisation_id, fiscal_year) do update set last_number = receipt_counters.last_number + 1 \
         returning last_number",
    )
    .bind(organisation_id)
    .bind(i64::from(fy))
    .fetch_one(&mut **tx)
    .await?;
    Ok(format!(
        "{}-{}-{:06}",
        organisation_code,
        jp::fiscal::fiscal_year_short(fy),
        n
    ))
}

fn fiscal_year_now(now: Timestamp) -> i32 {
    jp::fiscal::fiscal_year_of(now.jst().date_naive())
}

async fn enqueue_receipt_notice(tx: &mut WriteTx, app: &Application) -> Result<(), StoreError> {
    platform::jobs::enqueue(
        tx,
        "notify.application_received",
        &json!({"application_id": app.id}),
        Some(&format!("application-received:{}:{}", app.id, app.version)),
    )
    .await
}

async fn submit_existing(
    tx: &mut WriteTx,
    id: i64,
    resident_id: i64,
    answers: &str,
) -> Result<Submitted, SubmitError> {
    let app: Application = sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and resident_id = $2"
    ))
    .bind(id)
    .bind(resident_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(StoreError::from)?
    .ok_or(SubmitError::NotFound)?;
    let from = app.status();
    match from {
        Status::Draft | Status::Returned => {}
        // Sent twice (a double tap, a retry after a lost response): the first one stands.
        Status::Submitted if app.receipt_number.is_some() => {
            return Ok(Submitted {
                application: app,
                replayed: true,
            });
        }
        other => return Err(SubmitError::InvalidTransition(other)),
    }
    let now = Timestamp::now();
    let org_code: String = sqlx::query_scalar("select code from organisations where id = $1")
        .bind(app.organisation_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    // A returned application keeps its receipt number when it is sent again.
    let (receipt, fy) = match (&app.receipt_number, app.fiscal_year) {
        (Some(r), Some(fy)) => (r.clone(), fy),
        _ => {
            let fy = fiscal_year_now(now);
            (
                next_receipt_number(tx, app.organisation_id, &org_code, fy).await?,
                i64::from(fy),
            )
        }
    };
    let updated: Application = sqlx::query_as(concat!(
        "update applications set status = 'submitted', answers = $1, pending = '{}', receipt_number = $2, \
         fiscal_year = $3, submitted_at = coalesce(submitted_at, $4), updated_at = $4, version = version + 1 \
         where id = $5 and version = $6 returning ",
        application_columns!()
    ))
    .bind(answers)
    .bind(&receipt)
    .bind(fy)
    .bind(now)
    .bind(id)
    .bind(app.version)
    .fetch_optional(&mut **tx)
    .await
    .map_err(StoreError::from)?
    .ok_or_else(|| SubmitError::Store(StoreError::Conflict("application changed meanwhile".into())))?;
    let kind = if from == Status::Returned {
        "resubmitted"
    } else {
        "submitted"
    };
    insert_event(
        tx,
        &updated,
        Actor::Resident(resident_id),
        kind,
        Some(from),
        Some(Status::Submitted),
        "",
        Some(answers),
    )
    .await?;
    audit::append(
        tx,
        audit::Entry {
            organisation_id: Some(updated.organisation_id),
            actor: Actor::Resident(resident_id),
            action: if from == Status::Returned {
                "application.resubmitted"
            } else {
                "application.submitted"
            },
            subject_kind: "application",
            subject_id: Some(id),
            detail: json!({"receipt_number": receipt, "procedure_id": updated.procedure_id}),
        },
    )
    .await?;
    enqueue_receipt_notice(tx, &updated).await?;
    Ok(Submitted {
        application: updated,
        replayed: false,
    })
}

async fn submit_new(tx: &mut WriteTx, n: &NewSubmission) -> Result<Submitted, SubmitError> {
    let existing: Option<(Application, Option<String>)> = {
        let row: Option<Application> = sqlx::query_as(concat!(
            "select ",
            application_columns!(),
            " from applications where resident_id = $1 and idempotency_key = $2"
        ))
        .bind(n.resident_id)
        .bind(&n.idempotency_key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::from)?;
        match row {
            Some(app) => {
                let hash: Option<String> =
                    sqlx::query_scalar("select request_hash from applications where id = $1")
                        .bind(app.id)
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(StoreError::from)?;
                Some((app, hash))
            }
            None => None,
        }
    };
    if let Some((app, hash)) = existing {
        return if hash.as_deref() == Some(n.request_hash.as_str()) {
            Ok(Submitted {
                application: app,
                replayed: true,
            })
        } else {
            Err(SubmitError::KeyReused)
        };
    }
    let now = Timestamp::now();
    let fy = fiscal_year_now(now);
    let receipt = next_receipt_number(tx, n.organisation_id, &n.organisation_code, fy).await?;
    let app: Application = sqlx::query_as(concat!(
        "insert into applications (organisation_id, section_id, procedure_id, form_version_id, resident_id, status, \
         answers, receipt_number, fiscal_year, idempotency_key, request_hash, created_at, updated_at, submitted_at) \
         values ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10, $11, $11, $11) returning ",
        application_columns!()
    ))
    .bind(n.organisation_id)
    .bind(n.section_id)
    .bind(n.procedure_id)
    .bind(n.form_version_id)
    .bind(n.resident_id)
    .bind(&n.answers)
    .bind(&receipt)
    .bind(i64::from(fy))
    .bind(&n.idempotency_key)
    .bind(&n.request_hash)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(StoreError::from)?;
    insert_event(
        tx,
        &app,
        Actor::Resident(n.resident_id),
        "submitted",
        None,
        Some(Status::Submitted),
        "",
        Some(&n.answers),
    )
    .await?;
    audit::append(
        tx,
        audit::Entry {
            organisation_id: Some(app.organisation_id),
            actor: Actor::Resident(n.resident_id),
            action: "application.submitted",
            subject_kind: "application",
            subject_id: Some(app.id),
            detail: json!({"receipt_number": receipt, "procedure_id": app.procedure_id}),
        },
    )
    .await?;
    enqueue_receipt_notice(tx, &app).await?;
    Ok(Submitted {
        application: app,
        replayed: false,
    })
}
