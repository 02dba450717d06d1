//! The catalogue's tables: procedures, form versions, and the generation
//! number every node watches to know when to rebuild its search index.

use platform::db::{Db, StoreResult, Timestamp, WriteTx};

use crate::catalogue::{FormVersion, Procedure, ProcedureInput};

/// The columns of [`Procedure`], for `concat!` into static queries.
macro_rules! procedure_columns {
    () => {
        "id, organisation_id, section_id, code, name, name_en, summary, summary_en, description, description_en, \
         category, basis, audience, life_events, attachments, fee_yen, fee_note, online, annual_volume, priority, \
         keywords, status, current_form_id, created_at, updated_at, guidance, identity, retention_years"
    };
}

/// Bumps the catalogue generation (inside `tx`) so every node rebuilds its index.
pub async fn bump_generation(tx: &mut WriteTx) -> StoreResult<()> {
    sqlx::query("update catalogue_generation set generation = generation + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn generation(db: &Db) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select generation from catalogue_generation where id = 1")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Inserts the procedure, or updates the one with the same organisation and
/// code; returns its id.
pub async fn upsert_procedure(
    tx: &mut WriteTx,
    organisation_id: i64,
    section_id: i64,
    input: &ProcedureInput,
    now: Timestamp,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "insert into procedures (organisation_id, section_id, code, name, name_en, summary, summary_en, description, \
         description_en, category, basis, audience, life_events, attachments, fee_yen, fee_note, online, annual_volume, \
         priority, keywords, status, created_at, updated_at, guidance, identity, retention_years) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, $23, $24, $25) \
         on conflict (organisation_id, code) do update set section_id = excluded.section_id, name = excluded.name, \
         name_en = excluded.name_en, summary = excluded.summary, summary_en = excluded.summary_en, \
         description = excluded.description, description_en = excluded.description_en, category = excluded.category, \
         basis = excluded.basis, audience = excluded.audience, life_events = excluded.life_events, \
         attachments = excluded.attachments, fee_yen = excluded.fee_yen, fee_note = excluded.fee_note, \
         online = excluded.online, annual_volume = excluded.annual_volume, priority = excluded.priority, \
         keywords = excluded.keywords, status = excluded.status, updated_at = excluded.updated_at, \
         guidance = excluded.guidance, identity = excluded.identity, retention_years = excluded.retention_years \
         returning id",
    )
    .bind(organisation_id)
    .bind(section_id)
    .bind(input.code.trim())
    .bind(input.name.trim())
    .bind(input.name_en.trim())
    .bind(&input.summary)
    .bind(&input.summary_en)
    .bind(&input.description)
    .bind(&input.description_en)
    .bind(&input.category)
    .bind(&input.basis)
    .bind(&input.audience)
    .bind(input.life_events.join(" "))
    .bind(serde_json::to_string(&input.attachments).unwrap_or_else(|_| "[]".into()))
    .bind(input.fee_yen)
    .bind(&input.fee_note)
    .bind(input.online)
    .bind(input.annual_volume)
    .bind(input.priority)
    .bind(&input.keywords)
    .bind(&input.status)
    .bind(now)
    .bind(serde_json::to_string(&input.guidance).unwrap_or_else(|_| "{}".into()))
    .bind(if input.identity.is_empty() {
        "account"
    } else {
        input.identity.as_str()
    })
    .bind(input.retention_years)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn procedure_by_id(db: &Db, id: i64) -> StoreResult<Option<Procedure>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        procedure_columns!(),
        " from procedures where id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn procedure_by_code(
    db: &Db,
    organisation_id: i64,
    code: &str,
) -> StoreResult<Option<Procedure>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        procedure_columns!(),
        " from procedures where organisation_id = $1 and code = $2"
    ))
    .bind(organisation_id)
    .bind(code)
    .fetch_optional(db.pool())
    .await?)
}

/// Every published procedure (for the search index).
pub async fn published_procedures(db: &Db) -> StoreResult<Vec<Procedure>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        procedure_columns!(),
        " from procedures where status = 'published' order by organisation_id, code"
    ))
    .fetch_all(db.pool())
    .await?)
}

/// Stores a definition (JSON) as the procedure's next form version and makes
/// it the current one.
pub async fn insert_form_version(
    tx: &mut WriteTx,
    procedure: &Procedure,
    source: &str,
    definition_json: &str,
    by_staff: Option<i64>,
) -> StoreResult<FormVersion> {
    let next: i64 = sqlx::query_scalar(
        "select coalesce(max(version), 0) + 1 from form_versions where procedure_id = $1",
    )
    .bind(procedure.id)
    .fetch_one(&mut **tx)
    .await?;
    let form: FormVersion = sqlx::query_as(
        "insert into form_versions (procedure_id, organisation_id, version, source, definition, created_at, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7) returning id, procedure_id, organisation_id, version, source, definition",
    )
    .bind(procedure.id)
    .bind(procedure.organisation_id)
    .bind(next)
    .bind(source)
    .bind(definition_json)
    .bind(Timestamp::now())
    .bind(by_staff)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("update procedures set current_form_id = $1, updated_at = $2 where id = $3")
        .bind(form.id)
        .bind(Timestamp::now())
        .bind(procedure.id)
        .execute(&mut **tx)
        .await?;
    Ok(form)
}

pub async fn form_version(db: &Db, id: i64) -> StoreResult<Option<FormVersion>> {
    Ok(sqlx::query_as(
        "select id, procedure_id, organisation_id, version, source, definition from form_versions where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}
