//! The job queue and outbox: background work stored in the database, written
//! in the same transaction as the change it follows (so a notification exists
//! if and only if its event committed).
//!
//! A job has a kind, a JSON payload and, usually, a dedupe key naming its event
//! (`application-received:42:3`): enqueueing the same event twice keeps one
//! job. Workers claim one due job at a time; the claim sets `locked_until`, so
//! a worker that dies releases its job when the lock expires. On PostgreSQL
//! the claim uses `FOR UPDATE SKIP LOCKED`, so workers on several nodes never
//! take the same job; on SQLite the write transaction already excludes other
//! writers. A failed job is retried with exponential backoff (30 s, 1 min,
//! 2 min … capped at an hour) until `max_attempts`, then kept as failed for an
//! operator to see.

use chrono::Duration;
use serde_json::Value;

use crate::db::{Db, StoreResult, Timestamp, WriteTx};

/// How long a claimed job is reserved for the worker that claimed it, by
/// default (`job_lock_secs`): a node that dies holding a job leaves it to the
/// others after this long, so it must exceed the longest job (an SMTP send
/// times out after 30 s).
pub const LOCK_FOR: Duration = Duration::minutes(5);

/// Adds a job inside `tx`; with a `dedupe_key` already used, adds nothing.
pub async fn enqueue(
    tx: &mut WriteTx,
    kind: &str,
    payload: &Value,
    dedupe_key: Option<&str>,
) -> StoreResult<()> {
    let now = Timestamp::now();
    sqlx::query(
        "insert into jobs (kind, payload, dedupe_key, run_at, created_at) values ($1, $2, $3, $4, $4) \
         on conflict (dedupe_key) do nothing",
    )
    .bind(kind)
    .bind(payload.to_string())
    .bind(dedupe_key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds several jobs inside `tx` (kind, payload, dedupe key); keys already used add nothing.
pub async fn enqueue_many(tx: &mut WriteTx, jobs: &[(String, Value, String)]) -> StoreResult<()> {
    let now = Timestamp::now();
    for chunk in jobs.chunks(500) {
        let mut sql = String::from(
            "insert into jobs (kind, payload, dedupe_key, run_at, created_at) values ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 4;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 4
            ));
        }
        sql.push_str(" on conflict (dedupe_key) do nothing");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (kind, payload, key) in chunk {
            q = q
                .bind(kind.as_str())
                .bind(payload.to_string())
                .bind(key.as_str())
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When it became due.
    pub run_at: Timestamp,
}

impl Job {
    pub fn payload(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// Claims the next due job, if any, for [`LOCK_FOR`].
pub async fn claim(db: &Db) -> StoreResult<Option<Job>> {
    claim_for(db, LOCK_FOR).await
}

/// Claims the next due job, if any, reserving it for `lock_for`.
pub async fn claim_for(db: &Db, lock_for: Duration) -> StoreResult<Option<Job>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let query = tx.pick(
        "update jobs set locked_until = $1, attempts = attempts + 1 where id = (\
           select id from jobs where done_at is null and failed_at is null and run_at <= $2 \
           and (locked_until is null or locked_until < $2) \
           order by run_at, id limit 1) \
         returning id, kind, payload, attempts, max_attempts, run_at",
        "update jobs set locked_until = $1, attempts = attempts + 1 where id = (\
           select id from jobs where done_at is null and failed_at is null and run_at <= $2 \
           and (locked_until is null or locked_until < $2) \
           order by run_at, id limit 1 for update skip locked) \
         returning id, kind, payload, attempts, max_attempts, run_at",
    );
    let job: Option<Job> = sqlx::query_as(query)
        .bind(now.plus(lock_for))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(job)
}

/// Claims up to `n` due jobs at once, reserving them for `lock_for` (one
/// statement and one commit for the lot: a queue read job by job rescans the
/// index past the entries its own updates left behind).
///
/// `from`: only jobs due at or after this (see [`Runner::run_batch`]); the
/// queue's index then starts past the entries of jobs done before it, which a
/// busy queue leaves behind faster than vacuum removes them.
pub async fn claim_batch(
    db: &Db,
    lock_for: Duration,
    n: usize,
    from: Option<Timestamp>,
) -> StoreResult<Vec<Job>> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let query = tx.pick(
        "update jobs set locked_until = $1, attempts = attempts + 1 where id in (\
           select id from jobs where done_at is null and failed_at is null and run_at <= $2 \
           and run_at >= $4 and (locked_until is null or locked_until < $2) \
           order by run_at, id limit $3) \
         returning id, kind, payload, attempts, max_attempts, run_at",
        "update jobs set locked_until = $1, attempts = attempts + 1 where id in (\
           select id from jobs where done_at is null and failed_at is null and run_at <= $2 \
           and run_at >= $4 and (locked_until is null or locked_until < $2) \
           order by run_at, id limit $3 for update skip locked) \
         returning id, kind, payload, attempts, max_attempts, run_at",
    );
    let mut jobs: Vec<Job> = sqlx::query_as(query)
        .bind(now.plus(lock_for))
        .bind(now)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .bind(from.unwrap_or(Timestamp(chrono::DateTime::<chrono::Utc>::MIN_UTC)))
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Marks jobs done, in one statement.
pub async fn complete_many(db: &Db, ids: &[i64]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "update jobs set done_at = $1, locked_until = null, last_error = null where id in ({})",
        list.join(", ")
    );
    let mut tx = db.begin().await?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(Timestamp::now());
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Marks a job done.
pub async fn complete(db: &Db, id: i64) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update jobs set done_at = $1, locked_until = null, last_error = null where id = $2",
    )
    .bind(Timestamp::now())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The wait before attempt `attempts + 1`.
pub fn backoff(attempts: i64) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 20).saturating_sub(1).max(0));
    Duration::seconds(secs.min(3600))
}

/// Records a failure: retried later, or failed for good after `max_attempts`.
pub async fn fail(db: &Db, job: &Job, error: &str) -> StoreResult<()> {
    let now = Timestamp::now();
    let error: String = error.chars().take(2000).collect();
    let mut tx = db.begin().await?;
    if job.attempts >= job.max_attempts {
        sqlx::query(
            "update jobs set failed_at = $1, locked_until = null, last_error = $2 where id = $3",
        )
        .bind(now)
        .bind(&error)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "update jobs set run_at = $1, locked_until = null, last_error = $2 where id = $3",
        )
        .bind(now.plus(backoff(job.attempts)))
        .bind(&error)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Counts of jobs by state, for operators and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn counts(db: &Db) -> StoreResult<QueueCounts> {
    let (pending, done, failed): (i64, i64, i64) = sqlx::query_as(
        "select \
           cast(coalesce(sum(case when done_at is null and failed_at is null then 1 else 0 end), 0) as bigint), \
           cast(coalesce(sum(case when done_at is not null then 1 else 0 end), 0) as bigint), \
           cast(coalesce(sum(case when failed_at is not null then 1 else 0 end), 0) as bigint) from jobs",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(QueueCounts {
        pending,
        done,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(30), Duration::seconds(3600));
        assert_eq!(backoff(0), Duration::seconds(30));
    }
}

/// What a job handler returns: Err retries the job later (with backoff).
pub type JobResult = Result<(), String>;

/// A handler for one kind of job.
pub type Handler = std::sync::Arc<
    dyn Fn(Job) -> std::pin::Pin<Box<dyn std::future::Future<Output = JobResult> + Send>>
        + Send
        + Sync,
>;

/// Runs due jobs with the handler registered for their kind.
#[derive(Clone)]
pub struct Runner {
    handlers: std::collections::HashMap<String, Handler>,
    metrics: Option<std::sync::Arc<crate::metrics::Metrics>>,
    lock_for: Duration,
    workers: usize,
    /// Where the next claim starts (see [`Runner::run_batch`]).
    floor: std::sync::Arc<std::sync::Mutex<Floor>>,
}

/// The earliest due time still worth looking from, and when the whole queue
/// was last looked at.
#[derive(Debug)]
struct Floor {
    from: Option<Timestamp>,
    full_scan: std::time::Instant,
}

/// How often a claim looks at the whole queue: a job claimed by a node that
/// died before its due time passed the floor is found again within this.
const FULL_SCAN_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Jobs run at once by one node, by default: notifications wait on the SMTP
/// server's answers, so a few run side by side.
pub const WORKERS: usize = 4;
/// Jobs claimed at once per worker.
const BATCH_PER_WORKER: usize = 8;

impl Default for Runner {
    fn default() -> Self {
        Runner {
            handlers: std::collections::HashMap::new(),
            metrics: None,
            lock_for: LOCK_FOR,
            workers: WORKERS,
            floor: std::sync::Arc::new(std::sync::Mutex::new(Floor {
                from: None,
                full_scan: std::time::Instant::now(),
            })),
        }
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Runner {
    pub fn new() -> Runner {
        Runner::default()
    }

    /// Registers `handler` for jobs of `kind`.
    pub fn register(&mut self, kind: &str, handler: Handler) {
        self.handlers.insert(kind.to_string(), handler);
    }

    /// Counts each job's result in `metrics` from now on.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Runner {
        self.metrics = Some(metrics);
        self
    }

    /// Reserves each claimed job for `lock_for` instead of [`LOCK_FOR`].
    pub fn with_lock(mut self, lock_for: std::time::Duration) -> Runner {
        self.lock_for = Duration::from_std(lock_for).unwrap_or(LOCK_FOR);
        self
    }

    /// Runs up to `workers` jobs at once (at least one).
    pub fn with_workers(mut self, workers: usize) -> Runner {
        self.workers = workers.max(1);
        self
    }

    /// Runs one job's handler. A handler that panics fails its job (retried
    /// later) and the runner goes on.
    async fn handle(&self, job: &Job) -> JobResult {
        use futures_util::FutureExt;
        let result = match self.handlers.get(&job.kind) {
            Some(h) => std::panic::AssertUnwindSafe(h(job.clone()))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err("the job's handler panicked".to_string())),
            None => Err(format!("no handler for jobs of kind {}", job.kind)),
        };
        if let Some(m) = &self.metrics {
            m.job(&job.kind, result.is_ok());
        }
        result
    }

    /// Runs one due job, if any; true when one ran (successfully or not).
    pub async fn run_one(&self, db: &Db) -> StoreResult<bool> {
        let Some(job) = claim_for(db, self.lock_for).await? else {
            return Ok(false);
        };
        match self.handle(&job).await {
            Ok(()) => complete(db, job.id).await?,
            Err(e) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                fail(db, &job, &e).await?;
            }
        }
        Ok(true)
    }

    /// Claims a batch of due jobs, runs them `workers` at once, then marks
    /// the ones that succeeded done together (those that failed are retried
    /// later, one by one); how many ran.
    ///
    /// Claims start from the earliest due time of the previous batch: what
    /// is due before it was claimed then (by this node or another), so the
    /// claim does not wade through the index entries of finished jobs. Every
    /// [`FULL_SCAN_EVERY`], and whenever a claim from the floor finds
    /// nothing, the whole queue is looked at.
    pub async fn run_batch(&self, db: &Db) -> StoreResult<usize> {
        use futures_util::StreamExt;
        let from = {
            let mut floor = self.floor.lock().unwrap_or_else(|e| e.into_inner());
            if floor.full_scan.elapsed() >= FULL_SCAN_EVERY {
                floor.from = None;
                floor.full_scan = std::time::Instant::now();
            }
            floor.from
        };
        let n = self.workers * BATCH_PER_WORKER;
        let mut jobs = claim_batch(db, self.lock_for, n, from).await?;
        if jobs.is_empty() && from.is_some() {
            jobs = claim_batch(db, self.lock_for, n, None).await?;
        }
        {
            let mut floor = self.floor.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(earliest) = jobs.iter().map(|j| j.run_at).min() {
                floor.from = Some(earliest);
            } else {
                floor.from = None;
                floor.full_scan = std::time::Instant::now();
            }
        }
        let results: Vec<(Job, JobResult)> = futures_util::stream::iter(jobs)
            .map(|job| async move {
                let result = self.handle(&job).await;
                (job, result)
            })
            .buffer_unordered(self.workers)
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for (job, result) in &results {
            match result {
                Ok(()) => done.push(job.id),
                Err(e) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                    fail(db, job, e).await?;
                }
            }
        }
        complete_many(db, &done).await?;
        Ok(results.len())
    }

    /// Runs due jobs until none is left (tests, and the `jobs run` command).
    pub async fn drain(&self, db: &Db) -> StoreResult<usize> {
        let mut n = 0;
        loop {
            let ran = self.run_batch(db).await?;
            if ran == 0 {
                return Ok(n);
            }
            n += ran;
        }
    }

    /// Runs jobs in the background until the runtime stops: batches of due
    /// jobs, `workers` at once, then a look every `idle` when the queue is
    /// empty. A loop that stops (a panic outside a handler) is logged and
    /// started again.
    pub fn spawn(self, db: Db, idle: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let ended = tokio::spawn(self.clone().work(db.clone(), idle)).await;
                tracing::error!(error = ?ended.err(), "the job loop stopped; starting it again");
                tokio::time::sleep(idle).await;
            }
        })
    }

    async fn work(self, db: Db, idle: std::time::Duration) {
        loop {
            match self.run_batch(&db).await {
                Ok(n) if n > 0 => {}
                Ok(_) => tokio::time::sleep(idle).await,
                Err(e) => {
                    tracing::error!(error = %e, "job queue unavailable");
                    tokio::time::sleep(idle * 4).await;
                }
            }
        }
    }
}
