//! A small in-memory rate limiter (fixed windows per key), used for sign-in.
//!
//! Each node counts on its own; behind a load balancer an attacker gets at most
//! the limit times the number of nodes, which is still few guesses per hour.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
