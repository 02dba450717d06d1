//! The submission writer: every submission goes through one task that writes
//! whatever submissions are waiting in one transaction (group commit).
//!
//! A submission is acknowledged only after its transaction committed, and a
//! commit is durable (see `platform::db`). One commit costs about one fsync;
//! sharing it between the submissions that arrived meanwhile is what lets a
//! single SQLite writer, or PostgreSQL with its two hot rows per organisation
//! (the receipt counter and the audit chain's head), take many submissions a
//! second. Within the batch the writes are multi-row statements
//! (`store::submissions`), so a batch costs a handful of round trips whatever
//! its size. [`write_batch`] runs these steps, each a function below:
//!
//! 1. [`find`] the applications the batch refers to (drafts being sent; earlier
//!    submissions under the same idempotency keys);
//! 2. [`decide`] each submission: written, replayed (the same draft sent again, or
//!    the same key with the same request) or refused (the key reused with
//!    another request, an application no longer a draft);
//! 3. [`reserve_receipts`], one counter update per organisation and fiscal year;
//! 4. [`write`] the new applications and the sent drafts (a key another
//!    transaction wrote meanwhile, or a draft saved again meanwhile, settles
//!    that submission alone: replayed, refused, or [`SubmitError::Changed`]);
//! 5. [`record`] their history events (with the answers), audit records (one
//!    chain extension) and outbox jobs (notify the resident);
//!
//! and then [`results`] answers every submission in the batch's order.
//!
//! Refusals are decided before anything is written, or settled one by one
//! while writing, so one submission never fails the rest of its batch. Only a
//! failure of the transaction itself (the database gone) fails every
//! submission of the batch, and then none is acknowledged: clients retry with
//! the same key.
//!
//! Rows are locked in one order everywhere: receipt counters (by
//! organisation), then applications (by id), then the audit chain's head.
//! Receipt numbers are unique per organisation and fiscal year and increase
//! with time, but may have gaps: a number reserved for a submission that
//! turns out, while writing, to be a replay or to be refused is not reused
//! (reusing it would need the counter to be locked until commit across a
//! whole batch on every node).

use std::collections::HashMap;
use std::sync::Arc;

use platform::audit::{self, Actor};
use platform::db::{StoreError, StoreResult, Timestamp, WriteTx};
use platform::metrics::Metrics;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::applications::{Application, Status};
use crate::store::submissions::{self, SentEvent};
pub use crate::submission::{NewSubmission, Submission, SubmitError, Submitted};

/// The most submissions written in one transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Submitted, SubmitError>>;

/// The handle handlers submit through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Submission, Reply)>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub fn start(db: platform::Db) -> Writer {
        Writer::start_counted(db, Arc::new(Metrics::new()))
    }

    /// Starts the writer task, counting its batch sizes in `metrics`. The
    /// task is supervised: were it to panic outside a batch, it is started
    /// again on the same queue (and the panic logged).
    pub fn start_counted(db: platform::Db, metrics: Arc<Metrics>) -> Writer {
        use futures_util::FutureExt;
        let (tx, mut rx) = mpsc::channel(4096);
        tokio::spawn(async move {
            loop {
                let running = std::panic::AssertUnwindSafe(run(&db, &mut rx, &metrics))
                    .catch_unwind()
                    .await;
                match running {
                    Ok(()) => return,
                    Err(_) => tracing::error!("the submission writer panicked; starting it again"),
                }
            }
        });
        Writer { tx }
    }

    /// Whether the writer task is running (for `/healthz`).
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// A check of [`Writer::is_running`] that does not keep the writer alive.
    pub fn probe(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let weak = self.tx.downgrade();
        move || weak.upgrade().is_some_and(|tx| !tx.is_closed())
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

/// The writer task: a batch at a time until every sender is gone. A batch
/// that fails, or whose writing panics, fails its own submissions (none is
/// acknowledged, nothing of it is committed) and the task goes on with the
/// next: it never stops while the server runs.
async fn run(db: &platform::Db, rx: &mut mpsc::Receiver<(Submission, Reply)>, metrics: &Metrics) {
    use futures_util::FutureExt;
    let mut batch: Vec<(Submission, Reply)> = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return; // every sender is gone: shutting down
        }
        let (submissions, replies): (Vec<Submission>, Vec<Reply>) =
            std::mem::take(&mut batch).into_iter().unzip();
        metrics.batch(submissions.len());
        let written = std::panic::AssertUnwindSafe(write_batch(db, &submissions))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Other(
                    "writing a submission batch panicked".into(),
                ))
            });
        let results = match written {
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

/// Writes one batch in one transaction; the result of each submission, in
/// order. The writer task calls it; it is public so tests and tools can write
/// a batch they made themselves.
pub async fn write_batch(
    db: &platform::Db,
    batch: &[Submission],
) -> StoreResult<Vec<Result<Submitted, SubmitError>>> {
    let mut tx = db.begin().await?;
    let now = Timestamp::now();
    let fy = jp::fiscal::fiscal_year_of(now.jst().date_naive());
    let found = find(&mut tx, batch).await?;
    let plan = decide(batch, &found);
    let mut receipts = reserve_receipts(&mut tx, &plan, fy).await?;
    let outcome = write(&mut tx, &plan, &mut receipts, now).await?;
    record(&mut tx, &outcome.written, now).await?;
    tx.commit().await?;
    results(plan, outcome)
}

/// What the batch refers to that is already stored.
struct Found {
    /// The drafts being sent, with their organisation's code.
    drafts: HashMap<i64, (Application, String)>,
    /// Earlier submissions under the batch's idempotency keys, with their request hash.
    earlier: HashMap<(i64, String), (Application, Option<String>)>,
}

/// Step 1: the drafts being sent and the earlier submissions under the batch's keys.
async fn find(tx: &mut WriteTx, batch: &[Submission]) -> StoreResult<Found> {
    let draft_ids: Vec<i64> = batch
        .iter()
        .filter_map(|s| match s {
            Submission::Existing { application_id, .. } => Some(*application_id),
            Submission::New(_) => None,
        })
        .collect();
    let mut keys: Vec<(i64, &str)> = batch
        .iter()
        .filter_map(|s| match s {
            Submission::New(n) => Some((n.resident_id, n.idempotency_key.as_str())),
            Submission::Existing { .. } => None,
        })
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Ok(Found {
        drafts: submissions::drafts(tx, &draft_ids).await?,
        earlier: submissions::by_idempotency_keys(tx, &keys).await?,
    })
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
    /// Insert a new application: the index into [`BatchPlan::inserts`].
    Insert(usize),
    /// The same key as an earlier submission of the batch, same request: its result.
    SameAs(usize),
}

/// The decision for each submission of a batch, in order, and the new
/// applications to insert.
struct BatchPlan<'a> {
    plans: Vec<Plan>,
    inserts: Vec<&'a NewSubmission>,
}

/// Step 2: decides each submission (no I/O).
fn decide<'a>(batch: &'a [Submission], found: &Found) -> BatchPlan<'a> {
    let mut plans = Vec::with_capacity(batch.len());
    let mut in_batch: HashMap<(i64, &str), (usize, &str)> = HashMap::new();
    let mut inserts: Vec<&NewSubmission> = Vec::new();
    for (i, s) in batch.iter().enumerate() {
        let plan = match s {
            Submission::Existing {
                application_id,
                resident_id,
                answers,
            } => match found.drafts.get(application_id) {
                Some((app, _)) if app.resident_id != *resident_id => {
                    Plan::Done(Err(SubmitError::NotFound))
                }
                None => Plan::Done(Err(SubmitError::NotFound)),
                Some((app, code)) => match app.status() {
                    Status::Draft | Status::Returned => {
                        // The same draft twice in one batch: the second is a replay of the first.
                        let first = batch.iter().take(i).position(|p| {
                            matches!(p, Submission::Existing { application_id: a, .. } if a == application_id)
                        });
                        match first {
                            Some(first) => Plan::SameAs(first),
                            None => Plan::SendDraft {
                                app: app.clone(),
                                org_code: code.clone(),
                                answers: answers.clone(),
                            },
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
                if let Some((app, hash)) = found
                    .earlier
                    .get(&(n.resident_id, n.idempotency_key.clone()))
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
    BatchPlan { plans, inserts }
}

/// The receipt numbers reserved for a batch: the next one per organisation.
struct Receipts {
    fy: i32,
    next: HashMap<i64, (String, i64)>,
}

impl Receipts {
    /// The next receipt number of the organisation (`240001-R7-000123`).
    fn take(&mut self, organisation_id: i64) -> StoreResult<String> {
        let (code, n) = self
            .next
            .get_mut(&organisation_id)
            .ok_or_else(|| StoreError::Conflict("no receipt number was reserved".into()))?;
        let receipt = format!("{code}-{}-{n:06}", jp::fiscal::fiscal_year_short(self.fy));
        *n += 1;
        Ok(receipt)
    }
}

/// Step 3: one counter update per organisation for the new applications and
/// the drafts sent for the first time.
async fn reserve_receipts(
    tx: &mut WriteTx,
    plan: &BatchPlan<'_>,
    fy: i32,
) -> StoreResult<Receipts> {
    let mut needed: HashMap<(i64, String), i64> = HashMap::new();
    for n in &plan.inserts {
        *needed
            .entry((n.organisation_id, n.organisation_code.clone()))
            .or_default() += 1;
    }
    for p in &plan.plans {
        if let Plan::SendDraft { app, org_code, .. } = p
            && app.receipt_number.is_none()
        {
            *needed
                .entry((app.organisation_id, org_code.clone()))
                .or_default() += 1;
        }
    }
    let mut orgs: Vec<(&(i64, String), &i64)> = needed.iter().collect();
    orgs.sort(); // a fixed lock order across concurrent writers
    let mut next = HashMap::new();
    for ((org_id, code), count) in orgs {
        let last = submissions::reserve_receipt_numbers(tx, *org_id, i64::from(fy), *count).await?;
        next.insert(*org_id, (code.clone(), last - count + 1));
    }
    Ok(Receipts { fy, next })
}

/// A submission written in this batch.
struct Written {
    app: Application,
    from: Option<Status>,
    answers: String,
}

/// What step 4 did: the submissions written, by position in the batch, and
/// those that turned out, while writing, not to need writing (another
/// transaction wrote their key meanwhile) or not to be writable (the draft
/// changed meanwhile). Only these fail or replay; the rest of the batch commits.
struct Outcome {
    written: HashMap<usize, Written>,
    decided: HashMap<usize, Result<Submitted, SubmitError>>,
}

/// Step 4: inserts the new applications (one statement) and sends the drafts.
async fn write(
    tx: &mut WriteTx,
    plan: &BatchPlan<'_>,
    receipts: &mut Receipts,
    now: Timestamp,
) -> StoreResult<Outcome> {
    let mut out = Outcome {
        written: HashMap::new(),
        decided: HashMap::new(),
    };
    let mut rows = Vec::with_capacity(plan.inserts.len());
    for n in &plan.inserts {
        rows.push((*n, receipts.take(n.organisation_id)?));
    }
    let mut inserted =
        submissions::insert_submitted(tx, &rows, i64::from(receipts.fy), now).await?;
    // Keys another transaction wrote between step 1 and the insert (the
    // same request sent to two nodes at once): what it wrote is the answer.
    let skipped: Vec<(i64, &str)> = plan
        .inserts
        .iter()
        .filter(|n| !inserted.contains_key(&(n.resident_id, n.idempotency_key.clone())))
        .map(|n| (n.resident_id, n.idempotency_key.as_str()))
        .collect();
    let meanwhile = submissions::by_idempotency_keys(tx, &skipped).await?;
    // Drafts in one order (by id) across concurrent writers.
    let mut sends: Vec<(usize, &Application, &String)> = plan
        .plans
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match p {
            Plan::SendDraft { app, answers, .. } => Some((i, app, answers)),
            _ => None,
        })
        .collect();
    sends.sort_by_key(|(_, app, _)| app.id);
    for (i, p) in plan.plans.iter().enumerate() {
        let Plan::Insert(k) = p else {
            continue;
        };
        let n = plan
            .inserts
            .get(*k)
            .ok_or_else(|| StoreError::Conflict("a planned insert is missing".into()))?;
        let key = (n.resident_id, n.idempotency_key.clone());
        match inserted.remove(&key) {
            Some(app) => {
                out.written.insert(
                    i,
                    Written {
                        app,
                        from: None,
                        answers: n.answers.clone(),
                    },
                );
            }
            None => {
                let result = match meanwhile.get(&key) {
                    Some((app, hash)) if hash.as_deref() == Some(n.request_hash.as_str()) => {
                        Ok(Submitted {
                            application: app.clone(),
                            replayed: true,
                        })
                    }
                    Some(_) => Err(SubmitError::KeyReused),
                    None => Err(SubmitError::Store(StoreError::Conflict(
                        "an application under this key was neither written nor found".into(),
                    ))),
                };
                out.decided.insert(i, result);
            }
        }
    }
    for (i, app, answers) in sends {
        let (receipt, fiscal_year) = match (&app.receipt_number, app.fiscal_year) {
            (Some(r), Some(f)) => (r.clone(), f),
            _ => (receipts.take(app.organisation_id)?, i64::from(receipts.fy)),
        };
        match submissions::send_draft(tx, app, answers, &receipt, fiscal_year, now).await? {
            Some(updated) => {
                out.written.insert(
                    i,
                    Written {
                        app: updated,
                        from: Some(app.status()),
                        answers: answers.clone(),
                    },
                );
            }
            // Saved again while it was being sent: this one alone is refused.
            None => {
                out.decided.insert(i, Err(SubmitError::Changed));
            }
        }
    }
    Ok(out)
}

/// Step 5: history, audit and outbox for everything written.
async fn record(
    tx: &mut WriteTx,
    written: &HashMap<usize, Written>,
    now: Timestamp,
) -> StoreResult<()> {
    let mut order: Vec<(&usize, &Written)> = written.iter().collect();
    order.sort_unstable_by_key(|(i, _)| **i);
    if order.is_empty() {
        return Ok(());
    }
    let events: Vec<SentEvent<'_>> = order
        .iter()
        .map(|(_, w)| SentEvent {
            app: &w.app,
            from: w.from,
            answers: &w.answers,
        })
        .collect();
    submissions::insert_submission_events(tx, &events, now).await?;

    let entries: Vec<audit::Entry<'_>> = order
        .iter()
        .map(|(_, w)| audit::Entry {
            organisation_id: Some(w.app.organisation_id),
            actor: Actor::Resident(w.app.resident_id),
            action: if w.from == Some(Status::Returned) {
                "application.resubmitted"
            } else {
                "application.submitted"
            },
            subject_kind: "application",
            subject_id: Some(w.app.id),
            detail: json!({"receipt_number": w.app.receipt_number, "procedure_id": w.app.procedure_id}),
        })
        .collect();
    audit::append_many(tx, &entries).await?;

    // The resident is told once that the application arrived; a corrected
    // application sent again is not announced a second time.
    let jobs: Vec<(String, serde_json::Value, String)> = order
        .iter()
        .filter(|(_, w)| w.from != Some(Status::Returned))
        .map(|(_, w)| {
            (
                "notify.application_received".to_string(),
                json!({"application_id": w.app.id}),
                format!("application-received:{}", w.app.id),
            )
        })
        .collect();
    platform::jobs::enqueue_many(tx, &jobs).await?;
    Ok(())
}

/// The result of every submission, in the batch's order.
fn results(
    plan: BatchPlan<'_>,
    outcome: Outcome,
) -> StoreResult<Vec<Result<Submitted, SubmitError>>> {
    let Outcome {
        mut written,
        mut decided,
    } = outcome;
    let mut out: Vec<Result<Submitted, SubmitError>> = Vec::with_capacity(plan.plans.len());
    for (i, p) in plan.plans.into_iter().enumerate() {
        let result = match p {
            Plan::Done(r) => r,
            Plan::Insert(_) | Plan::SendDraft { .. } => {
                match (written.remove(&i), decided.remove(&i)) {
                    (Some(w), _) => Ok(Submitted {
                        application: w.app,
                        replayed: false,
                    }),
                    (None, Some(r)) => r,
                    (None, None) => Err(SubmitError::Store(StoreError::Conflict(
                        "a written submission is missing".into(),
                    ))),
                }
            }
            Plan::SameAs(first) => match out.get(first) {
                Some(Ok(s)) => Ok(Submitted {
                    application: s.application.clone(),
                    replayed: true,
                }),
                _ => Err(SubmitError::NotFound),
            },
        };
        out.push(result);
    }
    Ok(out)
}
