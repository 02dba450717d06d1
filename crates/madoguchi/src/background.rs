//! The server's background work and how it stops.
//!
//! - the job runner (notifications), supervised: were it to stop, it is
//!   started again and `/healthz` says so meanwhile;
//! - maintenance (expired sessions, old rate-limit counters), every few
//!   minutes on the node holding the `maintenance` lease;
//! - shutdown: SIGTERM or SIGINT stops accepting connections and lets the
//!   requests under way finish for up to [`DRAIN`]; a submission acknowledged
//!   before that is committed (the writer answers only after its commit).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use platform::Platform;
use platform::jobs::Runner;

/// How long requests under way may take to finish after SIGTERM.
pub const DRAIN: Duration = Duration::from_secs(8);

/// How often maintenance runs, and its lease.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(300);
pub const MAINTENANCE: &str = "maintenance";

/// Runs the job runner, starting it again if it ever stops.
pub fn supervise_jobs(platform: &Platform, runner: Runner) -> tokio::task::JoinHandle<()> {
    let alive = Arc::new(AtomicBool::new(true));
    let probe = alive.clone();
    platform
        .health
        .register("job runner", move || probe.load(Ordering::SeqCst));
    let db = platform.db.clone();
    tokio::spawn(async move {
        loop {
            alive.store(true, Ordering::SeqCst);
            let ended = runner
                .clone()
                .spawn(db.clone(), Duration::from_millis(500))
                .await;
            alive.store(false, Ordering::SeqCst);
            match ended {
                Err(e) if e.is_cancelled() => return,
                Err(e) => tracing::error!(error = %e, "the job runner stopped; starting it again"),
                Ok(()) => tracing::error!("the job runner ended; starting it again"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Purges what has expired, on one node at a time.
pub fn spawn_maintenance(platform: Platform) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match platform::lease::acquire(&platform.db, MAINTENANCE, MAINTENANCE_EVERY * 2).await {
                Ok(true) => maintain(&platform).await,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "the maintenance lease could not be read"),
            }
            tokio::time::sleep(MAINTENANCE_EVERY).await;
        }
    })
}

/// How long a file asked to be deleted is kept first (an upload of the same
/// content under way elsewhere has long committed its reference by then).
pub const FILE_DELETION_GRACE: Duration = Duration::from_secs(3600);

/// Deletes the stored files asked to be deleted at least `grace` ago that
/// nothing refers to any more (files are content-addressed and may be
/// shared); how many were deleted.
pub async fn purge_files(platform: &Platform, grace: Duration) -> anyhow::Result<usize> {
    let db = &platform.db;
    let mut deleted = 0;
    for key in platform::files::pending_deletions(db, grace, 500).await? {
        let used = procedures::store::applications::file_in_use(db, &key).await?
            || opendata::store::datasets::file_in_use(db, &key).await?;
        if !used {
            platform.files.delete(&key).await?;
            deleted += 1;
        }
        platform::files::deletion_done(db, &key).await?;
    }
    Ok(deleted)
}

/// One round of maintenance.
pub async fn maintain(platform: &Platform) {
    // Retention first, so the files it lets go are queued before they are deleted.
    match procedures::service::retention::purge(&platform.db, platform::db::Timestamp::now()).await
    {
        Ok(n) if n > 0 => tracing::info!(
            applications = n,
            "applications past their retention period purged"
        ),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "purging applications past their retention period failed")
        }
    }
    match purge_files(platform, FILE_DELETION_GRACE).await {
        Ok(n) if n > 0 => tracing::info!(files = n, "files no longer wanted deleted"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "deleting files no longer wanted failed"),
    }
    match platform::session::purge_expired(&platform.db).await {
        Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
    }
    match platform::ratelimit::Shared::purge(&platform.db, Duration::from_secs(86_400)).await {
        Ok(n) if n > 0 => tracing::info!(counters = n, "old rate-limit counters purged"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "purging rate-limit counters failed"),
    }
}

/// Resolves at SIGTERM or SIGINT (Ctrl-C).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM: draining"),
                    _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: draining"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM cannot be caught; stopping at SIGINT only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
