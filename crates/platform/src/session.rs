//! Sessions: a random token held by the browser (cookie) or an API client
//! (`Authorization: Bearer`), of which the database keeps only the SHA-256.
//!
//! A session expires after [`IDLE`] without use and, whatever the use, after
//! [`ABSOLUTE`]. Use is recorded at most every [`TOUCH_EVERY`], so that reading
//! pages does not turn into a database write per request.

use chrono::Duration;

use crate::crypto;
use crate::db::{Db, StoreResult, Timestamp};

pub const IDLE: Duration = Duration::hours(2);
pub const ABSOLUTE: Duration = Duration::hours(24);
pub const TOUCH_EVERY: Duration = Duration::minutes(5);

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Resident(i64),
    Staff(i64),
}

impl Principal {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Principal::Resident(id) => ("resident", id),
            Principal::Staff(id) => ("staff", id),
        }
    }
}

/// How the token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A cookie; state-changing requests must carry a CSRF token.
    Browser,
    /// A bearer token; no CSRF token needed (browsers never send it by themselves).
    Api,
}

impl SessionKind {
    fn code(self) -> &'static str {
        match self {
            SessionKind::Browser => "browser",
            SessionKind::Api => "api",
        }
    }
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// SHA-256 of the token; also what CSRF tokens are bound to.
    pub token_hash: String,
    pub principal: Principal,
    pub kind: SessionKind,
}

/// Starts a session and returns its token (shown once, never stored).
pub async fn create(db: &Db, principal: Principal, kind: SessionKind) -> StoreResult<String> {
    let token = crypto::random_token();
    let now = Timestamp::now();
    let (principal_kind, principal_id) = principal.parts();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into sessions (token_hash, principal, principal_id, kind, created_at, expires_at, last_seen_at) \
         values ($1, $2, $3, $4, $5, $6, $5)",
    )
    .bind(crypto::sha256_hex(&token))
    .bind(principal_kind)
    .bind(principal_id)
    .bind(kind.code())
    .bind(now)
    .bind(now.plus(IDLE))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The live session of `token`, if any; records its use.
pub async fn lookup(db: &Db, token: &str) -> StoreResult<Option<Session>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let token_hash = crypto::sha256_hex(token);
    let row: Option<(String, i64, String, Timestamp, Timestamp, Timestamp)> = sqlx::query_as(
        "select principal, principal_id, kind, created_at, expires_at, last_seen_at \
         from sessions where token_hash = $1",
    )
    .bind(&token_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some((principal, principal_id, kind, created_at, expires_at, last_seen_at)) = row else {
        return Ok(None);
    };
    let now = Timestamp::now();
    if expires_at <= now || created_at.plus(ABSOLUTE) <= now {
        return Ok(None);
    }
    if last_seen_at.plus(TOUCH_EVERY) <= now {
        let mut tx = db.begin().await?;
        sqlx::query("update sessions set last_seen_at = $1, expires_at = $2 where token_hash = $3")
            .bind(now)
            .bind(now.plus(IDLE))
            .bind(&token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let principal = match principal.as_str() {
        "resident" => Principal::Resident(principal_id),
        _ => Principal::Staff(principal_id),
    };
    let kind = if kind == "api" {
        SessionKind::Api
    } else {
        SessionKind::Browser
    };
    Ok(Some(Session {
        token_hash,
        principal,
        kind,
    }))
}

/// Ends the session whose token hashes to `token_hash`.
pub async fn revoke(db: &Db, token_hash: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes expired sessions; run from time to time.
pub async fn purge_expired(db: &Db) -> StoreResult<u64> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let done = sqlx::query("delete from sessions where expires_at <= $1 or created_at <= $2")
        .bind(now)
        .bind(Timestamp(now.0 - ABSOLUTE))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
