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
         returning id, kind, payload, attempts, max_attempts",
        "update jobs set locked_until = $1, attempts = attempts + 1 where id = (\
           select id from jobs where done_at is null and failed_at is null and run_at <= $2 \
           and (locked_until is null or locked_until < $2) \
           order by run_at, id limit 1 for update skip locked) \
         returning id, kind, payload, attempts, max_attempts",
    );
    let job: Option<Job> = sqlx::query_as(query)
        .bind(now.plus(lock_for))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(job)
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
}

/// Jobs run at once by one node, by default: notifications wait on the SMTP
/// server's answers, so a few run side by side.
pub const WORKERS: usize = 4;

impl Default for Runner {
    fn default() -> Self {
        Runner {
            handlers: std::collections::HashMap::new(),
            metrics: None,
            lock_for: LOCK_FOR,
            workers: WORKERS,
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

    /// Runs one due job, if any; true when one ran (successfully or not). A
    /// handler that panics fails its job (retried later) and the runner goes on.
    pub async fn run_one(&self, db: &Db) -> StoreResult<bool> {
        use futures_util::FutureExt;
        let Some(job) = claim_for(db, self.lock_for).await? else {
            return Ok(false);
        };
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
        match result {
            Ok(()) => complete(db, job.id).await?,
            Err(e) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                fail(db, &job, &e).await?;
            }
        }
        Ok(true)
    }

    /// Runs due jobs until none is left (tests, and the `jobs run` command).
    pub async fn drain(&self, db: &Db) -> StoreResult<usize> {
        let mut n = 0;
        while self.run_one(db).await? {
            n += 1;
        }
        Ok(n)
    }

    /// Runs jobs in the background until the runtime stops, `workers` at
    /// once: due jobs at once, then a look every `idle` when the queue is
    /// empty. A worker that stops (a panic outside a handler) is logged and
    /// replaced.
    pub fn spawn(self, db: Db, idle: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..self.workers {
                workers.spawn(self.clone().work(db.clone(), idle));
            }
            while let Some(ended) = workers.join_next().await {
                tracing::error!(error = ?ended.err(), "a job worker stopped; starting another");
                workers.spawn(self.clone().work(db.clone(), idle));
            }
        })
    }

    async fn work(self, db: Db, idle: std::time::Duration) {
        loop {
            match self.run_one(&db).await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(idle).await,
                Err(e) => {
                    tracing::error!(error = %e, "job queue unavailable");
                    tokio::time::sleep(idle * 4).await;
                }
            }
        }
    }
}
