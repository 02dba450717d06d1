//! The applications' tables: applications, their history events and their
//! attachments. Functions that read or change an application for a resident
//! take the resident's id and match it in the query (`resident_id = $n`), so
//! another resident's application is "not found", never "forbidden".

use platform::audit::Actor;
use platform::db::{Db, StoreError, StoreResult, Timestamp, WriteTx};
use serde_json::{Map, Value};

use crate::applications::{Application, ApplicationSummary, Attachment, Event, Status};
use crate::catalogue::Procedure;

/// The columns of [`Application`], for `concat!` into static queries (the
/// back office's store selects applications too).
#[macro_export]
macro_rules! application_columns {
    () => {
        "id, organisation_id, section_id, procedure_id, form_version_id, resident_id, status, answers, pending, \
         receipt_number, fiscal_year, version, created_at, updated_at, submitted_at"
    };
}

/// Inserts a draft of `procedure` (whose current form is `form_id`) for the resident.
pub async fn insert_draft(
    tx: &mut WriteTx,
    resident_id: i64,
    procedure: &Procedure,
    form_id: i64,
    now: Timestamp,
) -> StoreResult<Application> {
    Ok(sqlx::query_as(concat!(
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
    .fetch_one(&mut **tx)
    .await?)
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

/// The same, read inside a write transaction and locked until it ends (on
/// PostgreSQL; SQLite's write transaction locks everything): the application
/// comes before the audit chain's head in every writer's lock order.
pub async fn for_resident_in(
    tx: &mut WriteTx,
    id: i64,
    resident_id: i64,
) -> StoreResult<Option<Application>> {
    let sql = tx.pick(
        concat!(
            "select ",
            application_columns!(),
            " from applications where id = $1 and resident_id = $2"
        ),
        concat!(
            "select ",
            application_columns!(),
            " from applications where id = $1 and resident_id = $2 for update"
        ),
    );
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(resident_id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Whether any attachment refers to the stored file `key`.
pub async fn file_in_use(db: &Db, key: &str) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("select count(*) from attachments where storage_key = $1")
        .bind(key)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// The resident's latest draft of `procedure_id`, if any.
pub async fn latest_draft(
    db: &Db,
    resident_id: i64,
    procedure_id: i64,
) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where resident_id = $1 and procedure_id = $2 and status = 'draft' \
         order by updated_at desc, id desc limit 1"
    ))
    .bind(resident_id)
    .bind(procedure_id)
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

/// The resident's applications, most recently changed first: `limit` of
/// them, after the (changed time, id) of the last one of the previous page.
pub async fn list_for_resident(
    db: &Db,
    resident_id: i64,
    before: Option<(Timestamp, i64)>,
    limit: i64,
) -> StoreResult<Vec<ApplicationSummary>> {
    const COLUMNS: &str = "select a.id, a.procedure_id, p.name as procedure_name, p.name_en as procedure_name_en, \
         o.name as organisation_name, o.name_en as organisation_name_en, a.status, a.receipt_number, a.updated_at, \
         a.submitted_at from applications a join procedures p on p.id = a.procedure_id \
         join organisations o on o.id = a.organisation_id where a.resident_id = $1";
    let rows = match before {
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS} order by a.updated_at desc, a.id desc limit $2"
            )))
            .bind(resident_id)
            .bind(limit)
            .fetch_all(db.pool())
            .await?
        }
        Some((t, id)) => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COLUMNS} and (a.updated_at < $2 or (a.updated_at = $2 and a.id < $3)) \
                 order by a.updated_at desc, a.id desc limit $4"
            )))
            .bind(resident_id)
            .bind(t)
            .bind(id)
            .bind(limit)
            .fetch_all(db.pool())
            .await?
        }
    };
    Ok(rows)
}

/// Records how the applicant of an application about to be sent was
/// identified (`platform::identity::Verified` as JSON). Leaves the version
/// alone: it is not a change of the answers.
pub async fn set_identified_by(tx: &mut WriteTx, id: i64, identified_by: &str) -> StoreResult<()> {
    sqlx::query("update applications set identified_by = $1 where id = $2")
        .bind(identified_by)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Saves a draft's answers and pending input. Refused (NotFound) unless it is
/// the resident's and still editable.
pub async fn save_answers(
    tx: &mut WriteTx,
    id: i64,
    resident_id: i64,
    answers: &Map<String, Value>,
    pending: &Map<String, Value>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "update applications set answers = $1, pending = $2, updated_at = $3, version = version + 1 \
         where id = $4 and resident_id = $5 and status in ('draft', 'returned')",
    )
    .bind(Value::Object(answers.clone()).to_string())
    .bind(Value::Object(pending.clone()).to_string())
    .bind(Timestamp::now())
    .bind(id)
    .bind(resident_id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Marks the application withdrawn if it is still at `version`; None if it changed meanwhile.
pub async fn mark_withdrawn(
    tx: &mut WriteTx,
    id: i64,
    version: i64,
    now: Timestamp,
) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "update applications set status = 'withdrawn', updated_at = $1, version = version + 1 \
         where id = $2 and version = $3 returning ",
        application_columns!()
    ))
    .bind(now)
    .bind(id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?)
}

/// The status of the resident's application, if it is theirs.
pub async fn status_for_resident(
    tx: &mut WriteTx,
    id: i64,
    resident_id: i64,
) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select status from applications where id = $1 and resident_id = $2")
            .bind(id)
            .bind(resident_id)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Decided applications of `procedure_id` last changed before `cutoff` and
/// not yet purged (at most `limit`).
pub async fn past_retention(
    db: &Db,
    procedure_id: i64,
    cutoff: Timestamp,
    limit: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "select id, organisation_id from applications where procedure_id = $1 and purged_at is null \
         and status in ('completed', 'rejected', 'withdrawn') and updated_at < $2 order by id limit $3",
    )
    .bind(procedure_id)
    .bind(cutoff)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Procedures with a retention period: (id, years).
pub async fn retention_periods(db: &Db) -> StoreResult<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "select id, retention_years from procedures where retention_years is not null",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Erases an application's personal data (inside `tx`): its answers and
/// pending input, the answers and comments of its history, its attachments
/// (their files queued for deletion). The row stays, marked purged.
pub async fn purge(tx: &mut WriteTx, id: i64, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "insert into file_deletions (storage_key, requested_at) \
         select distinct storage_key, $2 from attachments where application_id = $1 \
         on conflict (storage_key) do nothing",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from attachments where application_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "update application_events set answers = null, comment = '' where application_id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "update applications set answers = '{}', pending = '{}', purged_at = $2 where id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes a draft with its attachments' metadata and its history.
pub async fn delete_draft(tx: &mut WriteTx, id: i64) -> StoreResult<()> {
    // Its files are no longer wanted (maintenance deletes them unless shared).
    sqlx::query(
        "insert into file_deletions (storage_key, requested_at) \
         select distinct storage_key, $2 from attachments where application_id = $1 \
         on conflict (storage_key) do nothing",
    )
    .bind(id)
    .bind(Timestamp::now())
    .execute(&mut **tx)
    .await?;
    for q in [
        "delete from attachments where application_id = $1",
        "delete from application_events where application_id = $1",
        "delete from applications where id = $1 and status = 'draft'",
    ] {
        sqlx::query(q).bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records an event of the application's history (inside `tx`).
#[allow(
    clippy::too_many_arguments,
    reason = "one row of application_events: each argument is a column"
)]
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

/// An application's history, oldest first.
pub async fn events(db: &Db, application_id: i64) -> StoreResult<Vec<Event>> {
    Ok(sqlx::query_as(
        "select id, at, actor_kind, actor_id, kind, status_from, status_to, comment, answers \
         from application_events where application_id = $1 order by id",
    )
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn insert_attachment(
    tx: &mut WriteTx,
    app: &Application,
    question_id: &str,
    filename: &str,
    kind: platform::files::FileKind,
    size: i64,
    storage_key: &str,
) -> StoreResult<Attachment> {
    Ok(sqlx::query_as(
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
    .fetch_one(&mut **tx)
    .await?)
}

/// An application's attachments, oldest first.
pub async fn attachments(db: &Db, application_id: i64) -> StoreResult<Vec<Attachment>> {
    Ok(sqlx::query_as(
        "select id, application_id, question_id, filename, kind, size, storage_key, created_at \
         from attachments where application_id = $1 order by id",
    )
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn delete_attachment(
    tx: &mut WriteTx,
    application_id: i64,
    attachment_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "insert into file_deletions (storage_key, requested_at) \
         select storage_key, $3 from attachments where id = $1 and application_id = $2 \
         on conflict (storage_key) do nothing",
    )
    .bind(attachment_id)
    .bind(application_id)
    .bind(Timestamp::now())
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from attachments where id = $1 and application_id = $2")
        .bind(attachment_id)
        .bind(application_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
