//! The generation counter: it moves on with every change to the catalogue,
//! and every change is stamped with it, so a node reads only what changed
//! since the generation its copy reflects.

use platform::StoreResult;
use platform::db::{Db, WriteTx};

/// The generation of the catalogue (moves on every change).
pub async fn generation(db: &Db) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select generation from od_state where id = 1")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Moves the generation on; returns the new value (stamped on what the transaction changes).
pub async fn bump(tx: &mut WriteTx) -> StoreResult<i64> {
    sqlx::query("update od_state set generation = generation + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(
        sqlx::query_scalar("select generation from od_state where id = 1")
            .fetch_one(&mut **tx)
            .await?,
    )
}
