//! Sessions: a random token held by the browser (cookie) or an API client
//! (`Authorization: Bearer`), of which the database keeps only the SHA-256.
//!
//! A session expires after a time without use and, whatever the use, after
//! an absolute time: for residents [`IDLE`] and [`ABSOLUTE`], for staff, who
//! see other people's personal data, [`STAFF_IDLE`] and [`STAFF_ABSOLUTE`]
//! (OWASP ASVS level 2: 30 minutes, 12 hours). Use is recorded at most every
//! [`TOUCH_EVERY`], so that reading pages does not turn into a database write
//! per request (a staff session may so end up to that much earlier).

use chrono::Duration;

use crate::crypto;
use crate::db::{Db, DbBool, StoreResult, Timestamp};

pub const IDLE: Duration = Duration::hours(2);
pub const ABSOLUTE: Duration = Duration::hours(24);
pub const STAFF_IDLE: Duration = Duration::minutes(30);
pub const STAFF_ABSOLUTE: Duration = Duration::hours(12);
pub const TOUCH_EVERY: Duration = Duration::minutes(5);

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Resident(i64),
    Staff(i64),
}

impl Principal {
    /// How long a session may go unused.
    pub fn idle(self) -> Duration {
        match self {
            Principal::Resident(_) => IDLE,
            Principal::Staff(_) => STAFF_IDLE,
        }
    }

    /// How long a session may last, however used.
    pub fn absolute(self) -> Duration {
        match self {
            Principal::Resident(_) => ABSOLUTE,
            Principal::Staff(_) => STAFF_ABSOLUTE,
        }
    }

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
    /// The account, read with the session in one query (None if it was disabled).
    pub account: Option<Account>,
    /// A staff member signed in with a one-time password: nothing but
    /// choosing their own password is allowed until they do.
    pub must_change_password: bool,
    /// How the person signed in (a session from before this was recorded: none).
    pub identity: Option<crate::identity::Verified>,
    /// A staff session whose password was right but which still owes its
    /// second factor: `code` or `enrol` (`crate::second_factor`).
    pub second_factor: Option<String>,
}

impl Session {
    /// The staff member, once nothing is owed (no one-time password to
    /// change, no second factor to give): what pages outside the
    /// [`CurrentStaff`](crate::web::CurrentStaff) guard must use.
    pub fn staff_ready(&self) -> Option<&crate::accounts::Staff> {
        match &self.account {
            Some(Account::Staff(s))
                if !self.must_change_password && self.second_factor.is_none() =>
            {
                Some(s)
            }
            _ => None,
        }
    }
}

/// The account a session belongs to.
#[derive(Debug, Clone)]
pub enum Account {
    Resident(crate::accounts::Resident),
    Staff(crate::accounts::Staff),
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    principal: String,
    principal_id: i64,
    kind: String,
    created_at: Timestamp,
    expires_at: Timestamp,
    last_seen_at: Timestamp,
    email: Option<String>,
    name: Option<String>,
    locale: Option<String>,
    organisation_id: Option<i64>,
    section_id: Option<i64>,
    roles: Option<String>,
    #[sqlx(try_from = "DbBool")]
    must_change_password: bool,
    identity: Option<String>,
    second_factor: Option<String>,
}

/// Starts a session signed in with a password and returns its token (shown
/// once, never stored).
pub async fn create(db: &Db, principal: Principal, kind: SessionKind) -> StoreResult<String> {
    create_identified(db, principal, kind, &crate::identity::Verified::password()).await
}

/// Starts a session and records how the person was identified.
pub async fn create_identified(
    db: &Db,
    principal: Principal,
    kind: SessionKind,
    identity: &crate::identity::Verified,
) -> StoreResult<String> {
    create_owing(db, principal, kind, identity, None).await
}

/// Starts a session that still owes `second_factor` (a staff member's
/// password was right; the code, or enrolment, comes next).
pub async fn create_owing(
    db: &Db,
    principal: Principal,
    kind: SessionKind,
    identity: &crate::identity::Verified,
    second_factor: Option<&str>,
) -> StoreResult<String> {
    let token = crypto::random_token();
    let now = Timestamp::now();
    let (principal_kind, principal_id) = principal.parts();
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into sessions (token_hash, principal, principal_id, kind, created_at, expires_at, last_seen_at, identity, \
         second_factor) values ($1, $2, $3, $4, $5, $6, $5, $7, $8)",
    )
    .bind(crypto::sha256_hex(&token))
    .bind(principal_kind)
    .bind(principal_id)
    .bind(kind.code())
    .bind(now)
    .bind(now.plus(principal.idle()))
    .bind(serde_json::to_string(identity).ok())
    .bind(second_factor)
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
    // The session and its account in one query: every signed-in request makes it.
    let row: Option<SessionRow> = sqlx::query_as(
        "select s.principal, s.principal_id, s.kind, s.created_at, s.expires_at, s.last_seen_at, \
         coalesce(r.email, st.email) as email, coalesce(r.display_name, st.name) as name, r.locale, \
         st.organisation_id, st.section_id, st.roles, \
         coalesce(st.must_change_password, $3) as must_change_password, s.identity, s.second_factor \
         from sessions s \
         left join residents r on s.principal = 'resident' and r.id = s.principal_id and r.disabled = $2 \
         left join staff st on s.principal = 'staff' and st.id = s.principal_id and st.disabled = $2 \
         where s.token_hash = $1",
    )
    .bind(&token_hash)
    .bind(false)
    .bind(false)
    .fetch_optional(db.pool())
    .await?;
    let Some(SessionRow {
        principal,
        principal_id,
        kind,
        created_at,
        expires_at,
        last_seen_at,
        email,
        name,
        locale,
        organisation_id,
        section_id,
        roles,
        must_change_password,
        identity,
        second_factor,
    }) = row
    else {
        return Ok(None);
    };
    let principal = match principal.as_str() {
        "resident" => Principal::Resident(principal_id),
        _ => Principal::Staff(principal_id),
    };
    let now = Timestamp::now();
    if expires_at <= now || created_at.plus(principal.absolute()) <= now {
        return Ok(None);
    }
    if last_seen_at.plus(TOUCH_EVERY) <= now {
        let mut tx = db.begin().await?;
        sqlx::query("update sessions set last_seen_at = $1, expires_at = $2 where token_hash = $3")
            .bind(now)
            .bind(now.plus(principal.idle()))
            .bind(&token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let kind = if kind == "api" {
        SessionKind::Api
    } else {
        SessionKind::Browser
    };
    let account = match (principal, email, name) {
        (Principal::Resident(id), Some(email), Some(display_name)) => {
            Some(Account::Resident(crate::accounts::Resident {
                id,
                email,
                display_name,
                locale: locale.unwrap_or_else(|| "ja".into()),
            }))
        }
        (Principal::Staff(id), Some(email), Some(name)) => {
            match (organisation_id, section_id, roles) {
                (Some(organisation_id), Some(section_id), Some(roles)) => {
                    Some(Account::Staff(crate::accounts::Staff {
                        id,
                        organisation_id,
                        section_id,
                        email,
                        name,
                        roles: crate::accounts::parse_roles(&roles),
                    }))
                }
                _ => None,
            }
        }
        _ => None,
    };
    Ok(Some(Session {
        token_hash,
        principal,
        account,
        kind,
        must_change_password,
        identity: identity.and_then(|i| serde_json::from_str(&i).ok()),
        second_factor,
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
