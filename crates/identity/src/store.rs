//! The identity module's tables: sign-ins in flight, sign-ins waiting for an
//! account, and the identities linked to residents. SQL only.

use platform::db::{Db, StoreResult, Timestamp, WriteTx};

use crate::model::{Flow, LinkedIdentity, Pending};

/// What a new flow row holds.
pub struct NewFlow<'a> {
    pub state_hash: &'a str,
    pub provider: &'a str,
    pub browser_hash: &'a str,
    pub nonce_hash: &'a str,
    pub code_verifier: &'a str,
    pub next: &'a str,
    pub link_resident_id: Option<i64>,
    pub requirement: Option<&'a str>,
    pub expires_at: Timestamp,
}

pub async fn insert_flow(db: &Db, f: NewFlow<'_>) -> StoreResult<()> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    // Flows nobody finished are dropped as new ones start.
    sqlx::query("delete from identity_flows where expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into identity_flows (state_hash, provider, browser_hash, nonce_hash, code_verifier, next, \
         link_resident_id, requirement, created_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(f.state_hash)
    .bind(f.provider)
    .bind(f.browser_hash)
    .bind(f.nonce_hash)
    .bind(f.code_verifier)
    .bind(f.next)
    .bind(f.link_resident_id)
    .bind(f.requirement)
    .bind(now)
    .bind(f.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the flow of `state_hash` out (a state is good once, on any node).
pub async fn take_flow(db: &Db, state_hash: &str) -> StoreResult<Option<Flow>> {
    let mut tx = db.begin().await?;
    let flow: Option<Flow> = sqlx::query_as(
        "delete from identity_flows where state_hash = $1 \
         returning provider, browser_hash, nonce_hash, code_verifier, next, link_resident_id, requirement, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(flow)
}

/// The resident an identity is linked to; records its use.
pub async fn use_identity(
    db: &Db,
    provider: &str,
    issuer: &str,
    subject: &str,
) -> StoreResult<Option<i64>> {
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "update resident_identities set last_used_at = $4 \
         where provider = $1 and issuer = $2 and subject = $3 returning resident_id",
    )
    .bind(provider)
    .bind(issuer)
    .bind(subject)
    .bind(Timestamp::now())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Links an identity to a resident (inside `tx`). A conflict means the
/// identity, or an identity of this provider, is already linked.
pub async fn link(
    tx: &mut WriteTx,
    resident_id: i64,
    provider: &str,
    issuer: &str,
    subject: &str,
) -> StoreResult<()> {
    let now = Timestamp::now();
    sqlx::query(
        "insert into resident_identities (resident_id, provider, issuer, subject, created_at, last_used_at) \
         values ($1, $2, $3, $4, $5, $5)",
    )
    .bind(resident_id)
    .bind(provider)
    .bind(issuer)
    .bind(subject)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unlinks the resident's identity of `provider` (inside `tx`); whether one was.
pub async fn unlink(tx: &mut WriteTx, resident_id: i64, provider: &str) -> StoreResult<bool> {
    let done =
        sqlx::query("delete from resident_identities where resident_id = $1 and provider = $2")
            .bind(resident_id)
            .bind(provider)
            .execute(&mut **tx)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn identities_of(db: &Db, resident_id: i64) -> StoreResult<Vec<LinkedIdentity>> {
    Ok(sqlx::query_as(
        "select provider, issuer, created_at, last_used_at from resident_identities \
         where resident_id = $1 order by provider",
    )
    .bind(resident_id)
    .fetch_all(db.pool())
    .await?)
}

/// Whether the resident can still sign in another way (a password).
pub async fn has_password(db: &Db, resident_id: i64) -> StoreResult<bool> {
    let hash: Option<Option<String>> =
        sqlx::query_scalar("select password_hash from residents where id = $1")
            .bind(resident_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(hash.flatten().is_some())
}

pub struct NewPending<'a> {
    pub token_hash: &'a str,
    pub provider: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub verified: &'a str,
    pub display_name: &'a str,
    pub next: &'a str,
    pub browser_hash: &'a str,
    pub expires_at: Timestamp,
}

pub async fn insert_pending(db: &Db, p: NewPending<'_>) -> StoreResult<()> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    sqlx::query("delete from identity_pending where expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into identity_pending (token_hash, provider, issuer, subject, verified, display_name, next, \
         browser_hash, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.token_hash)
    .bind(p.provider)
    .bind(p.issuer)
    .bind(p.subject)
    .bind(p.verified)
    .bind(p.display_name)
    .bind(p.next)
    .bind(p.browser_hash)
    .bind(now)
    .bind(p.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn pending(db: &Db, token_hash: &str) -> StoreResult<Option<Pending>> {
    Ok(sqlx::query_as(
        "select provider, issuer, subject, verified, display_name, next, browser_hash, expires_at \
         from identity_pending where token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// Removes a pending sign-in (inside `tx`); whether it was still there.
pub async fn take_pending(tx: &mut WriteTx, token_hash: &str) -> StoreResult<bool> {
    let done = sqlx::query("delete from identity_pending where token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The resident with this (normalised) address: id and whether it has a password.
pub async fn resident_by_email(db: &Db, email: &str) -> StoreResult<Option<(i64, bool)>> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("select id, password_hash from residents where email = $1")
            .bind(email)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(id, hash)| (id, hash.is_some())))
}

/// A new resident account without a password (inside `tx`).
pub async fn insert_resident(
    tx: &mut WriteTx,
    email: &str,
    display_name: &str,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "insert into residents (email, password_hash, display_name, created_at) \
         values ($1, null, $2, $3) returning id",
    )
    .bind(email)
    .bind(display_name)
    .bind(Timestamp::now())
    .fetch_one(&mut **tx)
    .await?)
}
