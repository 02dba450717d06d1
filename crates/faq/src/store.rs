//! Storage, SQL only: FAQ entries with every version kept, the question log,
//! cached vectors, the generation counter every node watches to rebuild its
//! index, and what the answers link to (published procedures, the sections
//! to contact). Writes run in the transaction the service gives them.

use platform::audit::Actor;
use platform::db::{Db, StoreError, StoreResult, Timestamp, WriteTx};
use sqlx::{AssertSqlSafe, Row};

use crate::entry::Entry;
use crate::model::{
    AreaCoverage, LinkedProcedure, Logged, NewQuestion, SectionContact, Stored, Version,
};

const ENTRY_COLUMNS: &str = "e.id, e.external_id, e.organisation_id, coalesce(o.code, '') as org_code, e.section_code, e.area, e.question, e.answer, e.question_en, e.answer_en, e.url, e.procedure_code, e.keywords, e.status, e.valid_from, e.valid_until, e.version, e.updated_at";

fn stored_from_row(row: &sqlx::any::AnyRow) -> Result<Stored, sqlx::Error> {
    Ok(Stored {
        db_id: row.try_get("id")?,
        organisation_id: row.try_get("organisation_id")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        entry: Entry {
            id: row.try_get("external_id")?,
            question: row.try_get("question")?,
            answer: row.try_get("answer")?,
            area: row.try_get("area")?,
            url: row.try_get("url")?,
            organisation: row.try_get("org_code")?,
            section: row.try_get("section_code")?,
            procedure: row.try_get("procedure_code")?,
            keywords: row.try_get("keywords")?,
            question_en: row.try_get("question_en")?,
            answer_en: row.try_get("answer_en")?,
            status: row.try_get("status")?,
            valid_from: row.try_get("valid_from")?,
            valid_until: row.try_get("valid_until")?,
        },
    })
}

/// Every entry (any status), of one organisation or, with `None`, all.
pub async fn entries(db: &Db, organisation_id: Option<i64>) -> StoreResult<Vec<Stored>> {
    let sql = format!(
        "select {ENTRY_COLUMNS} from faq_entries e left join organisations o on o.id = e.organisation_id {} order by e.area, e.external_id",
        if organisation_id.is_some() {
            "where e.organisation_id = $1"
        } else {
            ""
        }
    );
    let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
    if let Some(id) = organisation_id {
        q = q.bind(id);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter()
        .map(stored_from_row)
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// One entry by its external id.
pub async fn entry(db: &Db, external_id: &str) -> StoreResult<Option<Stored>> {
    let sql = format!(
        "select {ENTRY_COLUMNS} from faq_entries e left join organisations o on o.id = e.organisation_id where e.external_id = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql.clone()))
        .bind(external_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref()
        .map(stored_from_row)
        .transpose()
        .map_err(StoreError::from)
}

fn actor_label(by: &Actor) -> String {
    match by {
        Actor::Resident(id) => format!("resident:{id}"),
        Actor::Staff(id) => format!("staff:{id}"),
        Actor::System => "system".into(),
        Actor::Cli => "cli".into(),
        Actor::ApiToken(id) => format!("api_token:{id}"),
    }
}

/// Inserts a new entry (version 1, with its snapshot); returns its database id.
pub async fn insert_in(
    tx: &mut WriteTx,
    organisation_id: Option<i64>,
    e: &Entry,
    by: &Actor,
) -> StoreResult<i64> {
    let now = Timestamp::now().to_db_string();
    let id: i64 = sqlx::query_scalar(
        "insert into faq_entries (external_id, organisation_id, section_code, area, question, answer, question_en, answer_en, url, procedure_code, keywords, status, valid_from, valid_until, version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) returning id",
    )
    .bind(&e.id)
    .bind(organisation_id)
    .bind(&e.section)
    .bind(&e.area)
    .bind(&e.question)
    .bind(&e.answer)
    .bind(&e.question_en)
    .bind(&e.answer_en)
    .bind(&e.url)
    .bind(&e.procedure)
    .bind(&e.keywords)
    .bind(&e.status)
    .bind(&e.valid_from)
    .bind(&e.valid_until)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await?;
    snapshot_in(tx, id, 1, e, by, &now).await?;
    Ok(id)
}

/// Updates an entry from the version `old` was read at (another write since
/// is a conflict), with its new version's snapshot.
pub async fn update_in(tx: &mut WriteTx, old: &Stored, e: &Entry, by: &Actor) -> StoreResult<()> {
    let now = Timestamp::now().to_db_string();
    let version = old.version + 1;
    let done = sqlx::query(
        "update faq_entries set section_code = $1, area = $2, question = $3, answer = $4, question_en = $5, answer_en = $6, url = $7, procedure_code = $8, keywords = $9, status = $10, valid_from = $11, valid_until = $12, version = $13, updated_at = $14
         where id = $15 and version = $16",
    )
    .bind(&e.section)
    .bind(&e.area)
    .bind(&e.question)
    .bind(&e.answer)
    .bind(&e.question_en)
    .bind(&e.answer_en)
    .bind(&e.url)
    .bind(&e.procedure)
    .bind(&e.keywords)
    .bind(&e.status)
    .bind(&e.valid_from)
    .bind(&e.valid_until)
    .bind(version)
    .bind(&now)
    .bind(old.db_id)
    .bind(old.version)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict("faq_entries.version".into()));
    }
    snapshot_in(tx, old.db_id, version, e, by, &now).await
}

async fn snapshot_in(
    tx: &mut WriteTx,
    id: i64,
    version: i64,
    e: &Entry,
    by: &Actor,
    now: &str,
) -> StoreResult<()> {
    sqlx::query(
        "insert into faq_entry_versions (entry_id, version, snapshot, changed_by, changed_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(e.snapshot())
    .bind(actor_label(by))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves the entries' generation on (every node then rebuilds its index).
pub async fn bump_in(tx: &mut WriteTx) -> StoreResult<()> {
    sqlx::query("update faq_state set generation = generation + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The generation of the entries (changes on every write).
pub async fn generation(db: &Db) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select generation from faq_state where id = 1")
            .fetch_one(db.pool())
            .await?,
    )
}

/// The versions of an entry, newest first.
pub async fn versions(db: &Db, db_id: i64) -> StoreResult<Vec<Version>> {
    let rows = sqlx::query(
        "select version, changed_at, changed_by, snapshot from faq_entry_versions where entry_id = $1 order by version desc",
    )
    .bind(db_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let snapshot: String = r.try_get("snapshot")?;
        out.push(Version {
            version: r.try_get("version")?,
            changed_at: r.try_get("changed_at")?,
            changed_by: r.try_get("changed_by")?,
            entry: Entry::from_snapshot(&snapshot),
        });
    }
    Ok(out)
}

/// Logs a question; returns its id.
pub async fn log_question_in(tx: &mut WriteTx, q: NewQuestion<'_>) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "insert into faq_questions (asked_at, organisation_id, question, language, mode, confident, top_score, area, shown)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(Timestamp::now().to_db_string())
    .bind(q.organisation_id)
    .bind(q.question)
    .bind(q.language)
    .bind(q.mode)
    .bind(i64::from(q.confident))
    .bind(q.top_score)
    .bind(q.area)
    .bind(serde_json::to_string(q.shown).unwrap_or_else(|_| "[]".into()))
    .persistent(false)
    .fetch_one(&mut **tx)
    .await?)
}

/// Records "this helped" / "this did not help" for a logged question
/// (the last word counts). `entry` is the external id the resident judged.
/// An unknown question is `NotFound`.
pub async fn feedback_in(tx: &mut WriteTx, id: i64, helped: bool, entry: &str) -> StoreResult<()> {
    let done =
        sqlx::query("update faq_questions set feedback = $1, feedback_entry = $2 where id = $3")
            .bind(if helped { "helped" } else { "not_helped" })
            .bind(entry)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn logged_from_row(r: &sqlx::any::AnyRow) -> Result<Logged, sqlx::Error> {
    let shown: String = r.try_get("shown")?;
    let confident: i64 = r.try_get("confident")?;
    Ok(Logged {
        id: r.try_get("id")?,
        asked_at: r.try_get("asked_at")?,
        organisation_id: r.try_get("organisation_id")?,
        question: r.try_get("question")?,
        language: r.try_get("language")?,
        mode: r.try_get("mode")?,
        confident: confident != 0,
        area: r.try_get("area")?,
        shown: serde_json::from_str(&shown).unwrap_or_default(),
        feedback: r.try_get("feedback")?,
    })
}

/// One logged question by id.
pub async fn logged(db: &Db, id: i64) -> StoreResult<Option<Logged>> {
    let row = sqlx::query("select id, asked_at, organisation_id, question, language, mode, confident, area, shown, feedback from faq_questions where id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref()
        .map(logged_from_row)
        .transpose()
        .map_err(StoreError::from)
}

/// The questions not answered well (not confident, or marked unhelpful) and
/// not yet resolved by a new entry: of one organisation, plus with
/// `include_unassigned` those that belong to none. Newest first, at most `limit`.
pub async fn unanswered_queries(
    db: &Db,
    organisation_id: i64,
    include_unassigned: bool,
    limit: i64,
) -> StoreResult<Vec<Logged>> {
    let sql = format!(
        "select id, asked_at, organisation_id, question, language, mode, confident, area, shown, feedback from faq_questions
         where resolved_entry_id is null and (confident = 0 or feedback = 'not_helped') and feedback <> 'helped'
           and (organisation_id = $1 {})
         order by id desc limit $2",
        if include_unassigned {
            "or organisation_id is null"
        } else {
            ""
        }
    );
    let rows = sqlx::query(AssertSqlSafe(sql.clone()))
        .bind(organisation_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(logged_from_row)
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)
}

/// Marks questions as answered by a new entry (only those the organisation may see).
pub async fn resolve_in(
    tx: &mut WriteTx,
    question_ids: &[i64],
    entry_db_id: i64,
    organisation_id: i64,
    include_unassigned: bool,
) -> StoreResult<u64> {
    let mut n = 0;
    for id in question_ids {
        let sql = format!(
            "update faq_questions set resolved_entry_id = $1 where id = $2 and (organisation_id = $3 {})",
            if include_unassigned {
                "or organisation_id is null"
            } else {
                ""
            }
        );
        n += sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(entry_db_id)
            .bind(id)
            .bind(organisation_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(n)
}

/// Coverage of one organisation (or, with `None`, the whole installation).
pub async fn coverage(db: &Db, organisation_id: Option<i64>) -> StoreResult<Vec<AreaCoverage>> {
    let scope = if organisation_id.is_some() {
        "and organisation_id = $1"
    } else {
        ""
    };
    let mut out: std::collections::BTreeMap<String, AreaCoverage> = Default::default();
    let sql = format!(
        "select area, count(*) as n from faq_entries where status = 'published' {scope} group by area"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
    if let Some(id) = organisation_id {
        q = q.bind(id);
    }
    for r in q.fetch_all(db.pool()).await? {
        let area: String = r.try_get("area")?;
        let n: i64 = r.try_get("n")?;
        out.entry(area.clone())
            .or_insert_with(|| AreaCoverage {
                area,
                ..AreaCoverage::default()
            })
            .entries = n;
    }
    let sql = format!(
        "select area, count(*) as n, cast(sum(confident) as bigint) as c,
                cast(sum(case when feedback = 'helped' then 1 else 0 end) as bigint) as h,
                cast(sum(case when feedback = 'not_helped' then 1 else 0 end) as bigint) as nh
         from faq_questions where area <> '' {scope} group by area"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
    if let Some(id) = organisation_id {
        q = q.bind(id);
    }
    for r in q.fetch_all(db.pool()).await? {
        let area: String = r.try_get("area")?;
        let a = out.entry(area.clone()).or_insert_with(|| AreaCoverage {
            area,
            ..AreaCoverage::default()
        });
        a.questions = r.try_get("n")?;
        a.confident = r.try_get::<Option<i64>, _>("c")?.unwrap_or(0);
        a.helped = r.try_get::<Option<i64>, _>("h")?.unwrap_or(0);
        a.not_helped = r.try_get::<Option<i64>, _>("nh")?.unwrap_or(0);
    }
    Ok(out.into_values().collect())
}

/// Cached vectors for `(model, hash)` pairs.
pub async fn vectors(
    db: &Db,
    model: &str,
) -> StoreResult<std::collections::HashMap<String, String>> {
    let rows = sqlx::query("select text_hash, vector from faq_vectors where model = $1")
        .bind(model)
        .fetch_all(db.pool())
        .await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        out.insert(r.try_get("text_hash")?, r.try_get("vector")?);
    }
    Ok(out)
}

/// Caches vectors: `(text hash, encoded vector)` pairs of a model.
pub async fn put_vectors_in(
    tx: &mut WriteTx,
    model: &str,
    items: &[(String, String)],
) -> StoreResult<()> {
    for (hash, vector) in items {
        sqlx::query(
            "insert into faq_vectors (model, text_hash, vector) values ($1, $2, $3) on conflict (model, text_hash) do nothing",
        )
        .bind(model)
        .bind(hash)
        .bind(vector)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The published procedure with `code` an entry of organisation
/// `organisation_code` leads to (of any organisation, for an entry of none).
pub async fn published_procedure(
    db: &Db,
    code: &str,
    organisation_code: &str,
) -> StoreResult<Option<LinkedProcedure>> {
    Ok(sqlx::query_as(
        "select p.id, p.name, p.name_en from procedures p join organisations o on o.id = p.organisation_id
         where p.code = $1 and (o.code = $2 or $2 = '') and p.status = 'published' order by p.id limit 1",
    )
    .bind(code)
    .bind(organisation_code)
    .fetch_optional(db.pool())
    .await?)
}

/// The section `section_code` of organisation `organisation_code`, with the
/// organisation's name; the section's fields are empty if it has none such.
pub async fn section_contact(
    db: &Db,
    organisation_code: &str,
    section_code: &str,
) -> StoreResult<Option<SectionContact>> {
    let row = sqlx::query(
        "select o.name as org, o.name_en as org_en, coalesce(s.name, '') as name, coalesce(s.name_en, '') as name_en,
                coalesce(s.phone, '') as phone, coalesce(s.email, '') as email
         from organisations o left join sections s on s.organisation_id = o.id and s.code = $2
         where o.code = $1",
    )
    .bind(organisation_code)
    .bind(section_code)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| {
        let get = |k: &str| -> String { r.try_get::<String, _>(k).unwrap_or_default() };
        SectionContact {
            organisation: get("org"),
            organisation_en: get("org_en"),
            name: get("name"),
            name_en: get("name_en"),
            phone: get("phone"),
            email: get("email"),
        }
    }))
}
