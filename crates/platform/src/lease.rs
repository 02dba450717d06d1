//! Leases: periodic work that one node at a time must do (publishing the
//! platform's own datasets, purging expired sessions and counters) is done by
//! whichever node holds its lease. A node takes a free or expired lease, or
//! renews its own; the others skip the work until the lease expires, so a node
//! that stops is replaced within one lease's length.

use crate::db::{Db, StoreResult, Timestamp};

/// This process's name among the nodes (random, new at every start).
pub fn node_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| crate::crypto::hex(&crate::crypto::random_bytes::<8>()))
}

/// Takes or renews the lease `name` for `ttl`; whether this node holds it now.
pub async fn acquire(db: &Db, name: &str, ttl: std::time::Duration) -> StoreResult<bool> {
    acquire_as(db, name, node_id(), ttl).await
}

/// [`acquire`] for the node named `holder` (tests play several nodes).
pub async fn acquire_as(
    db: &Db,
    name: &str,
    holder: &str,
    ttl: std::time::Duration,
) -> StoreResult<bool> {
    let now = Timestamp::now();
    let until = Timestamp(
        now.0 + chrono::Duration::from_std(ttl).unwrap_or_else(|_| chrono::Duration::minutes(5)),
    );
    let mut tx = db.begin().await?;
    let taken: Option<String> = sqlx::query_scalar(
        "insert into leases (name, holder, until) values ($1, $2, $3) \
         on conflict (name) do update set holder = excluded.holder, until = excluded.until \
         where leases.until <= $4 or leases.holder = excluded.holder \
         returning holder",
    )
    .bind(name)
    .bind(holder)
    .bind(until)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(taken.as_deref() == Some(holder))
}

/// Gives the lease up (a node that stops), so another node takes it at once.
pub async fn release(db: &Db, name: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("delete from leases where name = $1 and holder = $2")
        .bind(name)
        .bind(node_id())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
