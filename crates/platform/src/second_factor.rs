//! The staff's second factor (RFC 6238 TOTP, with recovery codes): what is
//! stored of it and the checks. The secret is sealed with the installation's
//! key; a step once used is refused again (a code is good once); recovery
//! codes are kept as SHA-256 and each is good once.

use crate::accounts::{StaffError, end_staff_sessions, staff_id_by_email};
use crate::crypto::Keys;
use crate::db::{Db, StoreError, StoreResult, Timestamp};
use crate::totp;

/// What a session still owes after the password (the `sessions.second_factor` column).
pub const OWES_CODE: &str = "code";
pub const OWES_ENROLMENT: &str = "enrol";

/// The staff member's secret, if enrolled.
pub async fn secret(db: &Db, keys: &Keys, staff_id: i64) -> StoreResult<Option<Vec<u8>>> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("select totp_secret from staff where id = $1")
            .bind(staff_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(sealed
        .flatten()
        .and_then(|s| keys.open(&s))
        .and_then(|b32| totp::from_base32(&b32)))
}

pub async fn enrolled(db: &Db, keys: &Keys, staff_id: i64) -> StoreResult<bool> {
    Ok(secret(db, keys, staff_id).await?.is_some())
}

/// The secret being enrolled (a new one the first time).
pub async fn pending_secret(db: &Db, keys: &Keys, staff_id: i64) -> StoreResult<Vec<u8>> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("select totp_pending from staff where id = $1")
            .bind(staff_id)
            .fetch_optional(db.pool())
            .await?;
    if let Some(secret) = sealed
        .flatten()
        .and_then(|s| keys.open(&s))
        .and_then(|b32| totp::from_base32(&b32))
    {
        return Ok(secret);
    }
    let secret = totp::new_secret().to_vec();
    let mut tx = db.begin().await?;
    sqlx::query("update staff set totp_pending = $1 where id = $2")
        .bind(keys.seal(&totp::base32(&secret)))
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(secret)
}

/// How a typed second factor was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The current code.
    Code,
    /// A recovery code (now used up).
    Recovery,
    /// Wrong, or a code already used.
    Refused,
}

/// Records `step` as used; false if it was already.
async fn use_step(db: &Db, staff_id: i64, step: i64) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    // Steps long past are forgotten as new ones are used.
    sqlx::query("delete from staff_totp_steps where staff_id = $1 and step < $2")
        .bind(staff_id)
        .bind(step - 10)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "insert into staff_totp_steps (staff_id, step) values ($1, $2) on conflict do nothing",
    )
    .bind(staff_id)
    .bind(step)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(inserted.rows_affected() == 1)
}

/// Checks a code (or a recovery code) typed by an enrolled staff member.
pub async fn verify(
    db: &Db,
    keys: &Keys,
    staff_id: i64,
    typed: &str,
    unix_secs: i64,
) -> StoreResult<Verdict> {
    let Some(secret) = secret(db, keys, staff_id).await? else {
        return Ok(Verdict::Refused);
    };
    if let Some(step) = totp::matching_step(&secret, typed, unix_secs) {
        return Ok(if use_step(db, staff_id, step).await? {
            Verdict::Code
        } else {
            Verdict::Refused
        });
    }
    let hash = totp::recovery_hash(typed);
    if typed.trim().len() < 10 {
        return Ok(Verdict::Refused);
    }
    let mut tx = db.begin().await?;
    let used = sqlx::query(
        "update staff_recovery_codes set used_at = $1 \
         where staff_id = $2 and code_hash = $3 and used_at is null",
    )
    .bind(Timestamp::now())
    .bind(staff_id)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if used.rows_affected() == 1 {
        Verdict::Recovery
    } else {
        Verdict::Refused
    })
}

/// Finishes an enrolment: the code typed must be the pending secret's.
/// Returns the new recovery codes (shown once), or None if the code is wrong.
pub async fn finish_enrolment(
    db: &Db,
    keys: &Keys,
    staff_id: i64,
    typed: &str,
    unix_secs: i64,
) -> StoreResult<Option<Vec<String>>> {
    let secret = pending_secret(db, keys, staff_id).await?;
    let Some(step) = totp::matching_step(&secret, typed, unix_secs) else {
        return Ok(None);
    };
    if !use_step(db, staff_id, step).await? {
        return Ok(None);
    }
    let codes = totp::new_recovery_codes();
    let mut tx = db.begin().await?;
    sqlx::query(
        "update staff set totp_secret = totp_pending, totp_pending = null, totp_enrolled_at = $1 where id = $2",
    )
    .bind(Timestamp::now())
    .bind(staff_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from staff_recovery_codes where staff_id = $1")
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    for code in &codes {
        sqlx::query("insert into staff_recovery_codes (staff_id, code_hash) values ($1, $2)")
            .bind(staff_id)
            .bind(totp::recovery_hash(code))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(codes))
}

/// Enrols a staff member with a given secret (the demo's printed one).
pub async fn enrol_with(db: &Db, keys: &Keys, staff_id: i64, secret: &[u8]) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update staff set totp_secret = $1, totp_pending = null, totp_enrolled_at = $2 where id = $3",
    )
    .bind(keys.seal(&totp::base32(secret)))
    .bind(Timestamp::now())
    .bind(staff_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a staff member's second factor (a lost phone): the next sign-in
/// enrols again. Ends their sessions.
pub async fn reset(db: &Db, email: &str) -> Result<i64, StaffError> {
    let id = staff_id_by_email(db, email).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "update staff set totp_secret = null, totp_pending = null, totp_enrolled_at = null where id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    sqlx::query("delete from staff_recovery_codes where staff_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    end_staff_sessions(&mut tx, id).await?;
    tx.commit().await?;
    Ok(id)
}
