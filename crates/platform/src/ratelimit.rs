//! Rate limits with fixed windows per key.
//!
//! [`RateLimiter`] counts in this node's memory: for limits that may be per
//! node (how many questions a client address gets logged a minute).
//! [`Shared`] counts in the database, so a limit holds across every node
//! behind a load balancer: sign-in attempts per account and per client
//! address. One statement per attempt counts it and reads the count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::{Db, StoreResult, Timestamp};

/// Rate limits kept in the database (table `rate_limits`), the same on every node.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shared;

impl Shared {
    /// Whether `key` has fewer than `max` attempts in its current window.
    pub async fn allowed(db: &Db, key: &str, max: u32, window: Duration) -> StoreResult<bool> {
        let row: Option<(Timestamp, i64)> =
            sqlx::query_as("select window_start, hits from rate_limits where key = $1")
                .bind(key)
                .fetch_optional(db.pool())
                .await?;
        Ok(match row {
            Some((start, hits)) if !expired(start, window) => hits < i64::from(max),
            _ => true,
        })
    }

    /// Counts one attempt for `key` (a new window if the last one ended); the
    /// attempts in the window, this one included.
    pub async fn hit(db: &Db, key: &str, window: Duration) -> StoreResult<i64> {
        let now = Timestamp::now();
        let window_ended = since(now, window);
        let mut tx = db.begin().await?;
        let hits: i64 = sqlx::query_scalar(
            "insert into rate_limits (key, window_start, hits) values ($1, $2, 1) \
             on conflict (key) do update set \
             hits = case when rate_limits.window_start <= $3 then 1 else rate_limits.hits + 1 end, \
             window_start = case when rate_limits.window_start <= $3 then excluded.window_start \
             else rate_limits.window_start end \
             returning hits",
        )
        .bind(key)
        .bind(now)
        .bind(window_ended)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(hits)
    }

    /// Forgets `key` (after a successful sign-in).
    pub async fn clear(db: &Db, key: &str) -> StoreResult<()> {
        let mut tx = db.begin().await?;
        sqlx::query("delete from rate_limits where key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the counters whose window ended more than `older_than` ago
    /// (the periodic maintenance does it).
    pub async fn purge(db: &Db, older_than: Duration) -> StoreResult<u64> {
        let mut tx = db.begin().await?;
        let done = sqlx::query("delete from rate_limits where window_start <= $1")
            .bind(since(Timestamp::now(), older_than))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

/// `window` before `now`.
fn since(now: Timestamp, window: Duration) -> Timestamp {
    let back = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    Timestamp(
        now.0
            .checked_sub_signed(back)
            .unwrap_or(chrono::DateTime::UNIX_EPOCH),
    )
}

fn expired(start: Timestamp, window: Duration) -> bool {
    start <= since(Timestamp::now(), window)
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Whether `key` has fewer than `max` hits in its current window (without counting one).
    pub fn allowed(&self, key: &str, max: u32, window: Duration) -> bool {
        let now = Instant::now();
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((start, count)) if now.duration_since(*start) < window => *count < max,
            _ => true,
        }
    }

    /// Counts one hit for `key`.
    pub fn hit(&self, key: &str, window: Duration) {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// Forgets `key` (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_hits_within_the_window() {
        let rl = RateLimiter::new();
        let w = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(rl.allowed("k", 3, w));
            rl.hit("k", w);
        }
        assert!(!rl.allowed("k", 3, w));
        assert!(rl.allowed("other", 3, w));
        rl.clear("k");
        assert!(rl.allowed("k", 3, w));
    }
}
