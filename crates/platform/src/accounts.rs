//! Accounts: residents (one account for every organisation of the
//! installation) and staff (one organisation, one section, some roles), with
//! passwords hashed by Argon2id.
//!
//! Identity is pluggable: the password is one way to prove who a resident is;
//! an external identity provider (OpenID Connect, e.g. the My Number card) is
//! another, and ends in the same place: a [`crate::session`] for a resident id.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;

use crate::db::{Db, DbBool, StoreError, StoreResult, Timestamp};

/// What a staff member may do. Stored space-separated in `staff.roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 所属職員: reviews the section's applications, requests corrections, drafts decisions.
    SectionStaff,
    /// 決裁者: signs off steps of an approval route.
    Approver,
    /// Administers the organisation: procedures, forms, staff.
    OrgAdmin,
    /// デジタル化推進室: plans, KPIs and the procedure inventory.
    DxOffice,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::SectionStaff,
        Role::Approver,
        Role::OrgAdmin,
        Role::DxOffice,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::SectionStaff => "section_staff",
            Role::Approver => "approver",
            Role::OrgAdmin => "org_admin",
            Role::DxOffice => "dx_office",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }
}

pub fn roles_to_string(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(" ")
}

pub fn parse_roles(s: &str) -> Vec<Role> {
    s.split_whitespace().filter_map(Role::parse).collect()
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Resident {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub id: i64,
    pub organisation_id: i64,
    pub section_id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl Staff {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether they handle their section's applications (事務取扱担当者 in the
    /// My Number guideline's sense): section staff and approvers may open an
    /// application and its attachments, which may hold 特定個人情報; an
    /// organisation administrator or the DX office may not, even in the same
    /// section.
    pub fn handles_applications(&self) -> bool {
        self.has(Role::SectionStaff) || self.has(Role::Approver)
    }
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: i64,
    organisation_id: i64,
    section_id: i64,
    email: String,
    name: String,
    roles: String,
    password_hash: Option<String>,
    #[sqlx(try_from = "DbBool")]
    disabled: bool,
}

impl StaffRow {
    fn into_staff(self) -> Staff {
        Staff {
            id: self.id,
            organisation_id: self.organisation_id,
            section_id: self.section_id,
            email: self.email,
            name: self.name,
            roles: parse_roles(&self.roles),
        }
    }
}

/// Why a sign-up was refused. Each maps to a message key in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpError {
    InvalidEmail,
    EmailTaken,
    PasswordTooShort,
    PasswordTooLong,
    PasswordIsEmail,
    /// Changing a password: the current one given is wrong.
    WrongPassword,
    /// Changing a password: the new one is the old one.
    PasswordUnchanged,
}

impl SignUpError {
    pub fn key(self) -> &'static str {
        match self {
            SignUpError::InvalidEmail => "account.error.invalid_email",
            SignUpError::EmailTaken => "account.error.email_taken",
            SignUpError::PasswordTooShort => "account.error.password_too_short",
            SignUpError::PasswordTooLong => "account.error.password_too_long",
            SignUpError::PasswordIsEmail => "account.error.password_is_email",
            SignUpError::WrongPassword => "account.error.wrong_password",
            SignUpError::PasswordUnchanged => "account.error.password_unchanged",
        }
    }

    /// The form field the error belongs to.
    pub fn field(self) -> &'static str {
        match self {
            SignUpError::InvalidEmail | SignUpError::EmailTaken => "email",
            SignUpError::WrongPassword => "current_password",
            _ => "password",
        }
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Normalises an e-mail address (trim, lower-case, full-width to ASCII) and
/// checks its shape; `None` if it cannot be an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let s = jp::width::normalize_width(raw).trim().to_lowercase();
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return None;
    }
    Some(s)
}

/// Checks a new password against the rules (length, not the e-mail address).
pub fn check_new_password(password: &str, email: &str) -> Result<(), SignUpError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(SignUpError::PasswordTooShort);
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(SignUpError::PasswordTooLong);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(SignUpError::PasswordIsEmail);
    }
    Ok(())
}

fn argon2() -> Argon2<'static> {
    // OWASP's recommended Argon2id parameters, which are the crate's defaults:
    // 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// Hashes a password (Argon2id, random salt) into a PHC string. CPU-heavy: call
/// from a blocking task.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(argon2().hash_password(password.as_bytes())?.to_string())
}

/// Verifies a password against a PHC string. CPU-heavy.
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real verification, so that an unknown e-mail
/// address cannot be told from a wrong password by timing.
fn burn_verification(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    // Hashing fails only with an invalid salt or output length, never with
    // these fixed inputs; an empty hash would still be checked (and refused).
    let phc = DUMMY.get_or_init(|| hash_password("madoguchi-dummy-password").unwrap_or_default());
    let _ = verify_password(phc, password);
}

/// Runs CPU-heavy password work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> StoreResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Other(format!("password hashing did not finish: {e}")))
}

/// Creates a resident account.
pub async fn sign_up_resident(
    db: &Db,
    email: &str,
    password: &str,
    display_name: &str,
) -> Result<Resident, SignUpError> {
    let email = normalize_email(email).ok_or(SignUpError::InvalidEmail)?;
    check_new_password(password, &email)?;
    let pw = password.to_string();
    let hashed = blocking(move || hash_password(&pw).map_err(|e| e.to_string()))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    let hash = match hashed {
        Ok(hash) => hash,
        Err(e) => {
            tracing::error!(error = %e, "hashing a new password failed");
            return Err(SignUpError::EmailTaken);
        }
    };
    insert(db, &email, Some(&hash), display_name.trim(), false)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => SignUpError::EmailTaken,
            other => {
                tracing::error!(error = %other, "resident sign-up failed");
                SignUpError::EmailTaken
            }
        })
}

/// Inserts a resident with an already-hashed password (demo data, imports),
/// its address taken as verified.
pub async fn insert_resident(
    db: &Db,
    email: &str,
    password_hash: Option<&str>,
    display_name: &str,
) -> StoreResult<Resident> {
    insert(db, email, password_hash, display_name, true).await
}

async fn insert(
    db: &Db,
    email: &str,
    password_hash: Option<&str>,
    display_name: &str,
    verified: bool,
) -> StoreResult<Resident> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let resident: Resident = sqlx::query_as(
        "insert into residents (email, password_hash, display_name, created_at, email_verified_at) \
         values ($1, $2, $3, $4, $5) returning id, email, display_name, locale",
    )
    .bind(email)
    .bind(password_hash)
    .bind(display_name)
    .bind(now)
    .bind(verified.then_some(now))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(resident)
}

/// The resident with this e-mail and password, if any (and not disabled).
pub async fn verify_resident(
    db: &Db,
    email: &str,
    password: &str,
) -> StoreResult<Option<Resident>> {
    let Some(email) = normalize_email(email) else {
        let pw = password.to_string();
        blocking(move || burn_verification(&pw)).await?;
        return Ok(None);
    };
    let row: Option<(i64, String, String, String, Option<String>, DbBool)> = sqlx::query_as(
        "select id, email, display_name, locale, password_hash, disabled from residents where email = $1",
    )
    .bind(&email)
    .fetch_optional(db.pool())
    .await?;
    let pw = password.to_string();
    match row {
        Some((id, email, display_name, locale, Some(hash), DbBool(false))) => {
            let ok = blocking(move || verify_password(&hash, &pw)).await?;
            Ok(ok.then_some(Resident {
                id,
                email,
                display_name,
                locale,
            }))
        }
        _ => {
            blocking(move || burn_verification(&pw)).await?;
            Ok(None)
        }
    }
}

pub async fn resident_by_id(db: &Db, id: i64) -> StoreResult<Option<Resident>> {
    Ok(sqlx::query_as(
        "select id, email, display_name, locale from residents where id = $1 and disabled = $2",
    )
    .bind(id)
    .bind(false)
    .fetch_optional(db.pool())
    .await?)
}

/// A new staff member.
pub struct NewStaff<'a> {
    pub organisation_id: i64,
    pub section_id: i64,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub name: &'a str,
    pub roles: &'a [Role],
}

pub async fn insert_staff(db: &Db, new: NewStaff<'_>) -> StoreResult<Staff> {
    let email = normalize_email(new.email)
        .ok_or_else(|| StoreError::Conflict("invalid e-mail address".into()))?;
    let mut tx = db.begin().await?;
    // The section must belong to the same organisation.
    let ok: Option<i64> =
        sqlx::query_scalar("select id from sections where id = $1 and organisation_id = $2")
            .bind(new.section_id)
            .bind(new.organisation_id)
            .fetch_optional(&mut *tx)
            .await?;
    if ok.is_none() {
        return Err(StoreError::Conflict(
            "section of another organisation".into(),
        ));
    }
    let row: StaffRow = sqlx::query_as(
        "insert into staff (organisation_id, section_id, email, password_hash, name, roles, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         returning id, organisation_id, section_id, email, name, roles, password_hash, disabled",
    )
    .bind(new.organisation_id)
    .bind(new.section_id)
    .bind(&email)
    .bind(new.password_hash)
    .bind(new.name)
    .bind(roles_to_string(new.roles))
    .bind(Timestamp::now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.into_staff())
}

/// The staff member with this e-mail and password, if any (and not disabled).
pub async fn verify_staff(db: &Db, email: &str, password: &str) -> StoreResult<Option<Staff>> {
    let row: Option<StaffRow> = match normalize_email(email) {
        Some(email) => sqlx::query_as(
            "select id, organisation_id, section_id, email, name, roles, password_hash, disabled \
             from staff where email = $1",
        )
        .bind(email)
        .fetch_optional(db.pool())
        .await?,
        None => None,
    };
    let pw = password.to_string();
    match row {
        Some(row) if !row.disabled && row.password_hash.is_some() => {
            let hash = row.password_hash.clone().unwrap_or_default();
            let ok = blocking(move || verify_password(&hash, &pw)).await?;
            Ok(ok.then(|| row.into_staff()))
        }
        _ => {
            blocking(move || burn_verification(&pw)).await?;
            Ok(None)
        }
    }
}

pub async fn staff_by_id(db: &Db, id: i64) -> StoreResult<Option<Staff>> {
    let row: Option<StaffRow> = sqlx::query_as(
        "select id, organisation_id, section_id, email, name, roles, password_hash, disabled \
         from staff where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.filter(|r| !r.disabled).map(StaffRow::into_staff))
}

/// A one-time password for a new or reset staff account: 20 characters that
/// read unambiguously (no 0/O, 1/l/I), about 100 bits.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    crate::crypto::random_bytes::<20>()
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|b| char::from(*b))
        .collect()
}

/// Hashes a password on a blocking thread (Argon2id takes tens of ms).
pub(crate) async fn hash_in_background(password: &str) -> StoreResult<String> {
    let pw = password.to_string();
    blocking(move || hash_password(&pw))
        .await?
        .map_err(|e| StoreError::Other(e.to_string()))
}

/// Why a staff account could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("no staff account has this e-mail address")]
    Unknown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds a staff member with a one-time password, to be changed at the first
/// sign-in. The password is returned once.
pub async fn add_staff(
    db: &Db,
    organisation_id: i64,
    section_id: i64,
    email: &str,
    name: &str,
    roles: &[Role],
) -> StoreResult<(Staff, String)> {
    let password = one_time_password();
    let hash = hash_in_background(&password).await?;
    let staff = insert_staff(
        db,
        NewStaff {
            organisation_id,
            section_id,
            email,
            password_hash: Some(&hash),
            name,
            roles,
        },
    )
    .await?;
    let mut tx = db.begin().await?;
    sqlx::query("update staff set must_change_password = $1 where id = $2")
        .bind(true)
        .bind(staff.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((staff, password))
}

/// Ends every session of staff member `id` (in the caller's transaction).
pub(crate) async fn end_staff_sessions(tx: &mut crate::db::WriteTx, id: i64) -> StoreResult<()> {
    sqlx::query("delete from sessions where principal = 'staff' and principal_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn staff_id_by_email(db: &Db, email: &str) -> Result<i64, StaffError> {
    let email = normalize_email(email).ok_or(StaffError::Unknown)?;
    sqlx::query_scalar("select id from staff where email = $1")
        .bind(email)
        .fetch_optional(db.pool())
        .await
        .map_err(StoreError::from)?
        .ok_or(StaffError::Unknown)
}

/// Disables (or enables again) a staff account; disabling ends its sessions.
pub async fn set_staff_disabled(db: &Db, email: &str, disabled: bool) -> Result<i64, StaffError> {
    let id = staff_id_by_email(db, email).await?;
    let mut tx = db.begin().await?;
    sqlx::query("update staff set disabled = $1 where id = $2")
        .bind(disabled)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    if disabled {
        end_staff_sessions(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Sets a staff member's roles (they apply from the next request).
pub async fn set_staff_roles(db: &Db, email: &str, roles: &[Role]) -> Result<i64, StaffError> {
    let id = staff_id_by_email(db, email).await?;
    let mut tx = db.begin().await?;
    sqlx::query("update staff set roles = $1 where id = $2")
        .bind(roles_to_string(roles))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    tx.commit().await?;
    Ok(id)
}

/// Gives a staff member a new one-time password (returned once), to be
/// changed at the next sign-in; their sessions end.
pub async fn reset_staff_password(db: &Db, email: &str) -> Result<(i64, String), StaffError> {
    let id = staff_id_by_email(db, email).await?;
    let password = one_time_password();
    let hash = hash_in_background(&password).await?;
    let mut tx = db.begin().await?;
    sqlx::query("update staff set password_hash = $1, must_change_password = $2 where id = $3")
        .bind(hash)
        .bind(true)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    end_staff_sessions(&mut tx, id).await?;
    tx.commit().await?;
    Ok((id, password))
}

/// A staff member chooses their own password (the one-time one, or the
/// current one, must be given); the password rules apply.
pub async fn change_staff_password(
    db: &Db,
    staff_id: i64,
    current: &str,
    new: &str,
) -> StoreResult<Result<(), SignUpError>> {
    let row: Option<StaffRow> = sqlx::query_as(
        "select id, organisation_id, section_id, email, name, roles, password_hash, disabled \
         from staff where id = $1",
    )
    .bind(staff_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row.filter(|r| !r.disabled) else {
        return Err(StoreError::NotFound);
    };
    let hash = row.password_hash.clone().unwrap_or_default();
    let cur = current.to_string();
    if !blocking(move || verify_password(&hash, &cur)).await? {
        return Ok(Err(SignUpError::WrongPassword));
    }
    if let Err(e) = check_new_password(new, &row.email) {
        return Ok(Err(e));
    }
    if new == current {
        return Ok(Err(SignUpError::PasswordUnchanged));
    }
    let hash = hash_in_background(new).await?;
    let mut tx = db.begin().await?;
    sqlx::query("update staff set password_hash = $1, must_change_password = $2 where id = $3")
        .bind(hash)
        .bind(false)
        .bind(staff_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Taro@Example.JP ").as_deref(),
            Some("taro@example.jp")
        );
        assert_eq!(
            normalize_email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ").as_deref(),
            Some("taro@example.jp")
        );
        for bad in [
            "",
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "ta ro@example.jp",
            "a@b..jp",
            "a@-",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse battery!"));
        assert!(!verify_password("not a phc string", "x"));
    }

    #[test]
    fn password_rules() {
        assert_eq!(
            check_new_password("short", "a@b.jp"),
            Err(SignUpError::PasswordTooShort)
        );
        assert_eq!(
            check_new_password("taro@example.jp", "taro@example.jp"),
            Err(SignUpError::PasswordIsEmail)
        );
        assert_eq!(
            check_new_password(&"x".repeat(129), "a@b.jp"),
            Err(SignUpError::PasswordTooLong)
        );
        assert_eq!(check_new_password("ながいパスワードです", "a@b.jp"), Ok(()));
    }
}
