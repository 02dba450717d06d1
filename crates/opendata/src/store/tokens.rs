//! API tokens: only the SHA-256 of a token is kept, with who issued it,
//! when it was last used and when it was revoked.

use platform::StoreResult;
use platform::db::{Db, WriteTx};

use crate::model::Token;

const TOKEN_COLUMNS: &str =
    "id, organisation_id, name, created_by, created_at, last_used_at, revoked_at";

/// Records a new token by its hash.
pub async fn insert_token(
    tx: &mut WriteTx,
    organisation_id: i64,
    name: &str,
    token_hash: &str,
    created_by: &str,
    created_at: &str,
) -> StoreResult<()> {
    sqlx::query(
        "insert into od_tokens (organisation_id, name, token_hash, created_by, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(organisation_id)
    .bind(name)
    .bind(token_hash)
    .bind(created_by)
    .bind(created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The token with this hash, if it is not revoked.
pub async fn token_by_hash(db: &Db, token_hash: &str) -> StoreResult<Option<Token>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {TOKEN_COLUMNS} from od_tokens where token_hash = $1 and revoked_at is null"
    )))
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// Notes when a token was last used.
pub async fn set_last_used(tx: &mut WriteTx, id: i64, at: &str) -> StoreResult<()> {
    sqlx::query("update od_tokens set last_used_at = $1 where id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A local government's tokens, the newest first.
pub async fn tokens(db: &Db, organisation_id: i64) -> StoreResult<Vec<Token>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {TOKEN_COLUMNS} from od_tokens where organisation_id = $1 order by id desc"
    )))
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

/// Revokes a local government's token; true if it was active.
pub async fn revoke_token(
    tx: &mut WriteTx,
    organisation_id: i64,
    id: i64,
    at: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "update od_tokens set revoked_at = $1 where id = $2 and organisation_id = $3 and revoked_at is null",
    )
    .bind(at)
    .bind(id)
    .bind(organisation_id)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
