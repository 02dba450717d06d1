//! Applications: a resident's drafts and submissions, their status and
//! history, and their attachments. Every query that reads or changes an
//! application for a resident is scoped to that resident (`resident_id = $n`):
//! another resident's application is "not found", never "forbidden".

use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, StoreResult, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalogue::Procedure;

/// Where an application is in its life. The Japanese names are the ones
/// residents already know from other online application services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 下書き: not yet sent.
    Draft,
    /// 送信済: received, not yet being processed.
    Submitted,
    /// 処理中: staff are reviewing it.
    InReview,
    /// 差し戻し: returned to the resident for correction.
    Returned,
    /// 処理完了: decided and closed (granted / issued).
    Completed,
    /// 申請却下: refused.
    Rejected,
    /// 取下げ: withdrawn by the resident.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Draft,
        Status::Submitted,
        Status::InReview,
        Status::Returned,
        Status::Completed,
        Status::Rejected,
        Status::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::Returned => "returned",
            Status::Completed => "completed",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.code() == s)
    }

    /// The catalogue key of its name (`status.submitted` = 送信済).
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Draft => "status.draft",
            Status::Submitted => "status.submitted",
            Status::InReview => "status.in_review",
            Status::Returned => "status.returned",
            Status::Completed => "status.completed",
            Status::Rejected => "status.rejected",
            Status::Withdrawn => "status.withdrawn",
        }
    }

    /// Whether the resident may still withdraw it.
    pub fn withdrawable(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InReview | Status::Returned
        )
    }

    /// Whether the resident may edit its answers.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Application {
    pub id: i64,
    pub organisation_id: i64,
    pub section_id: i64,
    pub procedure_id: i64,
    pub form_version_id: i64,
    pub resident_id: i64,
    pub status: String,
    #[serde(skip)]
    pub answers: String,
    #[serde(skip)]
    pub pending: String,
    pub receipt_number: Option<String>,
    pub fiscal_year: Option<i64>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

/// The columns of [`Application`], for `concat!` into static queries.
#[macro_export]
macro_rules! application_columns {
    () => {
        "id, organisation_id, section_id, procedure_id, form_version_id, resident_id, status, answers, pending, \
         receipt_number, fiscal_year, version, created_at, updated_at, submitted_at"
    };
}

impl Application {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }

    pub fn answers_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }

    pub fn pending_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.pending).unwrap_or_default()
    }
}

/// A row of the resident's list of applications.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ApplicationSummary {
    pub id: i64,
    pub procedure_id: i64,
    pub procedure_name: String,
    pub procedure_name_en: String,
    pub organisation_name: String,
    pub organisation_name_en: String,
    pub status: String,
    pub receipt_number: Option<String>,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

impl ApplicationSummary {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }
}

/// Starts a draft of `procedure` for the resident.
pub async fn create_draft(
    db: &Db,
    resident_id: i64,
    procedure: &Procedure,
) -> StoreResult<Application> {
    let form_id = procedure.current_form_id.ok_or(StoreError::NotFound)?;
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let app: Application = sqlx::query_as(concat!(
        "insert into applications (organisation_id, section_id, procedure_id, form_version_id, resident_id, status, \
         created_at, updated_at) values ($1, $2, $3, $4, $5, 'draft', $6, $6) returning ",
        application_columns!()
    ))
    .bind(procedure.organisation_id)
    .bind(procedure.section_id)
    .bind(procedure.id)
    .bind(form_id)
    .bind(resident_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    insert_event(
        &mut tx,
        &app,
        Actor::Resident(resident_id),
        "created",
        None,
        Some(Status::Draft),
        "",
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// The resident's application `id`, or None (also when it is someone else's).
pub async fn for_resident(db: &Db, id: i64, resident_id: i64) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and resident_id = $2"
    ))
    .bind(id)
    .bind(resident_id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The resident's applications, most recently changed first.
pub async fn list_for_resident(db: &Db, resident_id: i64) -> StoreResult<Vec<ApplicationSummary>> {
    Ok(sqlx::query_as(
        "select a.id, a.procedure_id, p.name as procedure_name, p.name_en as procedure_name_en, \
         o.name as organisation_name, o.name_en as organisation_name_en, a.status, a.receipt_number, a.updated_at, \
         a.submitted_at from applications a join procedures p on p.id = a.procedure_id \
         join organisations o on o.id = a.organisation_id where a.resident_id = $1 order by a.updated_at desc, a.id desc \
         limit 500",
    )
    .bind(resident_id)
    .fetch_all(db.pool())
    .await?)
}

/// Saves a draft's answers and pending input. Refused (NotFound) unless it is
/// the resident's and still editable.
pub async fn save_answers(
    db: &Db,
    id: i64,
    resident_id: i64,
    answers: &Map<String, Value>,
    pending: &Map<String, Value>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "update applications set answers = $1, pending = $2, updated_at = $3, version = version + 1 \
         where id = $4 and resident_id = $5 and status in ('draft', 'returned')",
    )
    .bind(Value::Object(answers.clone()).to_string())
    .bind(Value::Object(pending.clone()).to_string())
    .bind(Timestamp::now())
    .bind(id)
    .bind(resident_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Why a resident's action on an application was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("not found")]
    NotFound,
    /// The application's current status does not allow it.
    #[error("not allowed in status {0:?}")]
    InvalidTransition(Status),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Withdraws (取下げ) a submitted application that is not yet decided.
pub async fn withdraw(
    db: &Db,
    id: i64,
    resident_id: i64,
    reason: &str,
) -> Result<Application, ActionError> {
    let mut tx = db.begin().await?;
    let app: Option<Application> = sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and resident_id = $2"
    ))
    .bind(id)
    .bind(resident_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    let app = app.ok_or(ActionError::NotFound)?;
    let from = app.status();
    if !from.withdrawable() {
        return Err(ActionError::InvalidTransition(from));
    }
    let updated: Application = sqlx::query_as(concat!(
        "update applications set status = 'withdrawn', updated_at = $1, version = version + 1 \
         where id = $2 and version = $3 returning ",
        application_columns!()
    ))
    .bind(Timestamp::now())
    .bind(id)
    .bind(app.version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .ok_or(ActionError::Store(StoreError::Conflict(
        "application changed meanwhile".into(),
    )))?;
    let reason: String = reason.chars().take(1000).collect();
    insert_event(
        &mut tx,
        &updated,
        Actor::Resident(resident_id),
        "withdrawn",
        Some(from),
        Some(Status::Withdrawn),
        &reason,
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(updated.organisation_id),
            actor: Actor::Resident(resident_id),
            action: "application.withdrawn",
            subject_kind: "application",
            subject_id: Some(id),
            detail: serde_json::json!({"from": from.code(), "receipt_number": updated.receipt_number}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes a draft (never a submitted application).
pub async fn discard_draft(db: &Db, id: i64, resident_id: i64) -> Result<(), ActionError> {
    let mut tx = db.begin().await?;
    let status: Option<String> =
        sqlx::query_scalar("select status from applications where id = $1 and resident_id = $2")
            .bind(id)
            .bind(resident_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
    match status.as_deref().and_then(Status::parse) {
        None => return Err(ActionError::NotFound),
        Some(Status::Draft) => {}
        Some(other) => return Err(ActionError::InvalidTransition(other)),
    }
    for q in [
        "delete from attachments where application_id = $1",
        "delete from application_events where application_id = $1",
        "delete from applications where id = $1 and status = 'draft'",
    ] {
        sqlx::query(q)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records an event of the application's history (inside `tx`).
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    app: &Application,
    actor: Actor,
    kind: &str,
    from: Option<Status>,
    to: Option<Status>,
    comment: &str,
    answers: Option<&str>,
) -> StoreResult<()> {
    let (actor_kind, actor_id) = match actor {
        Actor::Resident(id) => ("resident", Some(id)),
        Actor::Staff(id) => ("staff", Some(id)),
        Actor::System => ("system", None),
        Actor::Cli => ("cli", None),
        Actor::ApiToken(id) => ("api_token", Some(id)),
    };
    sqlx::query(
        "insert into application_events (application_id, organisation_id, at, actor_kind, actor_id, kind, status_from, \
         status_to, comment, answers) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(app.id)
    .bind(app.organisation_id)
    .bind(Timestamp::now())
    .bind(actor_kind)
    .bind(actor_id)
    .bind(kind)
    .bind(from.map(Status::code))
    .bind(to.map(Status::code))
    .bind(comment)
    .bind(answers)
    .execute(conn)
    .await?;
    Ok(())
}

/// One event of an application's history.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub status_from: Option<String>,
    pub status_to: Option<String>,
    pub comment: String,
    #[serde(skip)]
    pub answers: Option<String>,
}

pub async fn events(db: &Db, application_id: i64) -> StoreResult<Vec<Event>> {
    Ok(sqlx::query_as(
        "select id, at, actor_kind, actor_id, kind, status_from, status_to, comment, answers \
         from application_events where application_id = $1 order by id",
    )
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

/// An attachment's metadata.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub application_id: i64,
    pub question_id: String,
    pub filename: String,
    pub kind: String,
    pub size: i64,
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: Timestamp,
}

pub async fn add_attachment(
    db: &Db,
    app: &Application,
    question_id: &str,
    filename: &str,
    kind: platform::files::FileKind,
    size: i64,
    storage_key: &str,
) -> StoreResult<Attachment> {
    let mut tx = db.begin().await?;
    let att: Attachment = sqlx::query_as(
        "insert into attachments (organisation_id, application_id, question_id, filename, kind, size, storage_key, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         returning id, application_id, question_id, filename, kind, size, storage_key, created_at",
    )
    .bind(app.organisation_id)
    .bind(app.id)
    .bind(question_id)
    .bind(filename)
    .bind(kind.code())
    .bind(size)
    .bind(storage_key)
    .bind(Timestamp::now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(att)
}

pub async fn attachments(db: &Db, application_id: i64) -> StoreResult<Vec<Attachment>> {
    Ok(sqlx::query_as(
        "select id, application_id, question_id, filename, kind, size, storage_key, created_at \
         from attachments where application_id = $1 order by id",
    )
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn remove_attachment(
    db: &Db,
    application_id: i64,
    attachment_id: i64,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("delete from attachments where id = $1 and application_id = $2")
        .bind(attachment_id)
        .bind(application_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Fills the metadata of file answers from the application's attachments and
/// drops references to files that are not the application's.
pub fn resolve_files(
    answers: &mut Map<String, Value>,
    def: &crate::form::FormDefinition,
    atts: &[Attachment],
) {
    for (_, q) in def.questions() {
        if !matches!(q.kind, crate::form::Kind::File { .. }) {
            continue;
        }
        let Some(Value::Array(items)) = answers.get(&q.id) else {
            continue;
        };
        let resolved: Vec<Value> = items
            .iter()
            .filter_map(|v| v.get("attachment_id").and_then(Value::as_i64))
            .filter_map(|id| atts.iter().find(|a| a.id == id && a.question_id == q.id))
            .map(|a| serde_json::json!({"attachment_id": a.id, "filename": a.filename, "kind": a.kind, "size": a.size}))
            .collect();
        if resolved.is_empty() {
            answers.remove(&q.id);
        } else {
            answers.insert(q.id.clone(), Value::Array(resolved));
        }
    }
}
