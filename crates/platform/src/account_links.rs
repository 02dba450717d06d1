//! Links sent to residents by e-mail: proving the address (before the first
//! submission) and choosing a new password. A link's token is random; only
//! its SHA-256 is kept, it expires, and it is good once. The e-mail itself
//! is a job (`account.*`), sent by the notification sender like every other
//! e-mail, with the token sealed in its payload.

use serde_json::json;

use crate::accounts::{self, SignUpError};
use crate::crypto::{self, Keys};
use crate::db::{Db, DbBool, StoreResult, Timestamp};
use crate::jobs;

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    fn lifetime(self) -> chrono::Duration {
        match self {
            Purpose::VerifyEmail => chrono::Duration::hours(24),
            Purpose::ResetPassword => chrono::Duration::hours(1),
        }
    }
}

/// The job kinds of the account e-mails, and the message key of each.
pub const MAIL_KINDS: &[(&str, &str)] = &[
    ("account.verify_email", "mail.verify_email"),
    ("account.already_registered", "mail.already_registered"),
    ("account.reset_password", "mail.reset_password"),
];

/// A resident found by address: id, whether verified, their language.
pub struct Found {
    pub id: i64,
    pub verified: bool,
    pub locale: String,
}

pub async fn resident_by_email(db: &Db, email: &str) -> StoreResult<Option<Found>> {
    let Some(email) = accounts::normalize_email(email) else {
        return Ok(None);
    };
    let row: Option<(i64, Option<String>, String, DbBool)> = sqlx::query_as(
        "select id, email_verified_at, locale, disabled from residents where email = $1",
    )
    .bind(email)
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .filter(|r| !r.3.0)
        .map(|(id, verified, locale, _)| Found {
            id,
            verified: verified.is_some(),
            locale,
        }))
}

pub async fn email_verified(db: &Db, resident_id: i64) -> StoreResult<bool> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("select email_verified_at from residents where id = $1")
            .bind(resident_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(v.flatten().is_some())
}

/// A link to send.
pub struct Link<'a> {
    pub purpose: Purpose,
    /// The e-mail's job kind, one of [`MAIL_KINDS`].
    pub kind: &'a str,
    pub resident_id: i64,
    pub to: &'a str,
    pub lang: &'a str,
    /// Where the resident goes once the link is used.
    pub next: &'a str,
}

/// Makes a link and queues the e-mail carrying it.
pub async fn send(db: &Db, keys: &Keys, link: Link<'_>) -> StoreResult<()> {
    let Link {
        purpose,
        kind,
        resident_id,
        to,
        lang,
        next,
    } = link;
    let token = crypto::random_token();
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into account_links (token_hash, purpose, resident_id, next, created_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crypto::sha256_hex(&token))
    .bind(purpose.code())
    .bind(resident_id)
    .bind(next)
    .bind(now)
    .bind(now.plus(purpose.lifetime()))
    .execute(&mut *tx)
    .await?;
    jobs::enqueue(
        &mut tx,
        kind,
        &json!({"to": to, "lang": lang, "token": keys.seal(&token), "purpose": purpose.code()}),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues an e-mail without a link (`account.already_registered`).
pub async fn notify(db: &Db, kind: &str, to: &str, lang: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    jobs::enqueue(&mut tx, kind, &json!({"to": to, "lang": lang}), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Uses the link `token` for `purpose`: the resident and where to go next,
/// if it is one, not used and not expired (it is then used up).
pub async fn take(db: &Db, purpose: Purpose, token: &str) -> StoreResult<Option<(i64, String)>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let row: Option<(i64, String)> = sqlx::query_as(
        "update account_links set used_at = $1 \
         where token_hash = $2 and purpose = $3 and used_at is null and expires_at > $1 \
         returning resident_id, next",
    )
    .bind(now)
    .bind(crypto::sha256_hex(token))
    .bind(purpose.code())
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Whether `token` is a live link for `purpose` (the reset page shows its form).
pub async fn is_live(db: &Db, purpose: Purpose, token: &str) -> StoreResult<bool> {
    if token.is_empty() || token.len() > 128 {
        return Ok(false);
    }
    let n: i64 = sqlx::query_scalar(
        "select count(*) from account_links where token_hash = $1 and purpose = $2 and used_at is null and expires_at > $3",
    )
    .bind(crypto::sha256_hex(token))
    .bind(purpose.code())
    .bind(Timestamp::now())
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

pub async fn mark_verified(db: &Db, resident_id: i64) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "update residents set email_verified_at = $1 where id = $2 and email_verified_at is null",
    )
    .bind(Timestamp::now())
    .bind(resident_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a resident's new password (the rules apply); the link proved the
/// address, so it is verified too; every session of theirs ends.
pub async fn reset_password(
    db: &Db,
    resident_id: i64,
    email: &str,
    password: &str,
) -> StoreResult<Result<(), SignUpError>> {
    if let Err(e) = accounts::check_new_password(password, email) {
        return Ok(Err(e));
    }
    let hash = accounts::hash_in_background(password).await?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "update residents set password_hash = $1, email_verified_at = coalesce(email_verified_at, $2) where id = $3",
    )
    .bind(hash)
    .bind(now)
    .bind(resident_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from sessions where principal = 'resident' and principal_id = $1")
        .bind(resident_id)
        .execute(&mut *tx)
        .await?;
    // Other reset links of theirs are used up with this one.
    sqlx::query(
        "update account_links set used_at = $1 where resident_id = $2 and purpose = 'reset_password' and used_at is null",
    )
    .bind(now)
    .bind(resident_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}
