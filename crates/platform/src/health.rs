//! What `/healthz` reports: the process answers, and each of its long-running
//! parts (the submission writer, the job runner) is running. A part that is
//! down makes `/healthz` answer 503 with its name, so a load balancer stops
//! sending it requests and an operator sees which part failed.

use std::sync::RwLock;

type Check = Box<dyn Fn() -> bool + Send + Sync>;

/// The checks of one process.
#[derive(Default)]
pub struct Health {
    checks: RwLock<Vec<(String, Check)>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("parts", &self.down())
            .finish()
    }
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }

    /// Adds a part: `up` says whether it is running now.
    pub fn register(&self, part: &str, up: impl Fn() -> bool + Send + Sync + 'static) {
        self.checks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((part.to_string(), Box::new(up)));
    }

    /// The parts that are down.
    pub fn down(&self) -> Vec<String> {
        self.checks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, up)| !up())
            .map(|(name, _)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_part_that_stops_is_named() {
        let h = Health::new();
        let writer = Arc::new(AtomicBool::new(true));
        let w = writer.clone();
        h.register("writer", move || w.load(Ordering::SeqCst));
        h.register("jobs", || true);
        assert!(h.down().is_empty());
        writer.store(false, Ordering::SeqCst);
        assert_eq!(h.down(), vec!["writer".to_string()]);
    }
}
