//! Storage: FAQ entries with every version kept, the question log, cached
//! vectors and the generation counter every node watches to rebuild its index.

use platform::audit::Actor;
use platform::db::{Db, StoreError, StoreResult, Timestamp};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::entry::{Entry, RowError};

/// An entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    pub db_id: i64,
    pub organisation_id: Option<i64>,
    pub version: i64,
    pub updated_at: String,
    pub entry: Entry,
}

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

/// The entries residents are answered from: published and valid today (JST).
pub async fn answerable(db: &Db) -> StoreResult<Vec<Stored>> {
    let today = Timestamp::now().jst().format("%Y-%m-%d").to_string();
    Ok(entries(db, None)
        .await?
        .into_iter()
        .filter(|s| {
            s.entry.status == "published"
                && (s.entry.valid_from.is_empty() || s.entry.valid_from <= today)
                && (s.entry.valid_until.is_empty() || s.entry.valid_until >= today)
        })
        .collect())
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

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<RowError>,
}

/// Imports parsed rows. Each row's organisation (its column, else
/// `default_organisation`) must exist, and with `only_organisation` (a staff
/// member's import) must be that one; an id already used by another
/// organisation is refused. Nothing is written if a row is bad, unless
/// `valid_rows_only`.
pub async fn import(
    db: &Db,
    rows: Vec<(usize, Entry)>,
    mut errors: Vec<RowError>,
    default_organisation: Option<i64>,
    only_organisation: Option<i64>,
    valid_rows_only: bool,
    by: Actor,
) -> Result<ImportReport, Vec<RowError>> {
    let orgs = platform::orgs::list_organisations(db).await.map_err(|e| {
        vec![RowError {
            line: 0,
            column: String::new(),
            code: "faq.row.unreadable",
            value: e.to_string(),
        }]
    })?;
    let mut accepted = Vec::new();
    for (line, mut entry) in rows {
        let organisation_id = if entry.organisation.is_empty() {
            default_organisation
        } else {
            match orgs.iter().find(|o| o.code == entry.organisation) {
                Some(o) => Some(o.id),
                None => {
                    errors.push(RowError {
                        line,
                        column: "organisation".into(),
                        code: "faq.row.unknown_organisation",
                        value: entry.organisation.clone(),
                    });
                    continue;
                }
            }
        };
        if let Some(only) = only_organisation
            && organisation_id != Some(only)
        {
            errors.push(RowError {
                line,
                column: "organisation".into(),
                code: "faq.row.other_organisation",
                value: entry.organisation.clone(),
            });
            continue;
        }
        entry.organisation = organisation_id
            .and_then(|id| orgs.iter().find(|o| o.id == id))
            .map(|o| o.code.clone())
            .unwrap_or_default();
        accepted.push((line, organisation_id, entry));
    }
    // Ids that belong to another organisation.
    let mut checked = Vec::new();
    for (line, organisation_id, entry) in accepted {
        match self::entry(db, &entry.id).await {
            Ok(Some(existing)) if existing.organisation_id != organisation_id => {
                errors.push(RowError {
                    line,
                    column: "id".into(),
                    code: "faq.row.id_taken",
                    value: entry.id.clone(),
                });
            }
            Ok(existing) => checked.push((organisation_id, entry, existing)),
            Err(e) => errors.push(RowError {
                line,
                column: String::new(),
                code: "faq.row.unreadable",
                value: e.to_string(),
            }),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() && !valid_rows_only {
        return Err(errors);
    }
    let mut report = ImportReport {
        skipped: errors,
        ..ImportReport::default()
    };
    let write = async {
        let mut tx = db.begin().await?;
        for (organisation_id, entry, existing) in &checked {
            match existing {
                Some(old) if &old.entry == entry => report.unchanged += 1,
                Some(old) => {
                    update_in(&mut tx, old, entry, &by).await?;
                    report.updated += 1;
                }
                None => {
                    insert_in(&mut tx, *organisation_id, entry, &by).await?;
                    report.created += 1;
                }
            }
        }
        bump_in(&mut tx).await?;
        platform::audit::append(
            &mut tx,
            platform::audit::Entry {
                organisation_id: default_organisation.or(only_organisation),
                actor: by,
                action: "faq.imported",
                subject_kind: "faq",
                subject_id: None,
                detail: serde_json::json!({"created": report.created, "updated": report.updated, "skipped": report.skipped.len()}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    };
    write.await.map_err(|e| {
        vec![RowError {
            line: 0,
            column: String::new(),
            code: "faq.row.unreadable",
            value: e.to_string(),
        }]
    })?;
    Ok(report)
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

async fn insert_in(
    tx: &mut platform::db::WriteTx,
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

async fn update_in(
    tx: &mut platform::db::WriteTx,
    old: &Stored,
    e: &Entry,
    by: &Actor,
) -> StoreResult<()> {
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
    tx: &mut platform::db::WriteTx,
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
    .bind(serde_json::to_string(e).unwrap_or_default())
    .bind(actor_label(by))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn bump_in(tx: &mut platform::db::WriteTx) -> StoreResult<()> {
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

/// Creates an entry (`expected_version` `None`) or updates it (the version
/// the editor saw: a stale one is a conflict). Returns the database id.
pub async fn save(
    db: &Db,
    organisation_id: i64,
    entry: &Entry,
    expected_version: Option<i64>,
    by: Actor,
) -> StoreResult<i64> {
    let existing = self::entry(db, &entry.id).await?;
    let mut tx = db.begin().await?;
    let id = match (existing, expected_version) {
        (Some(old), Some(v)) => {
            if old.organisation_id != Some(organisation_id) {
                return Err(StoreError::NotFound);
            }
            if old.version != v {
                return Err(StoreError::Conflict("faq_entries.version".into()));
            }
            update_in(&mut tx, &old, entry, &by).await?;
            old.db_id
        }
        (Some(_), None) => return Err(StoreError::Conflict("faq_entries.external_id".into())),
        (None, Some(_)) => return Err(StoreError::NotFound),
        (None, None) => insert_in(&mut tx, Some(organisation_id), entry, &by).await?,
    };
    bump_in(&mut tx).await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: by,
            action: if expected_version.is_some() {
                "faq.entry_updated"
            } else {
                "faq.entry_created"
            },
            subject_kind: "faq_entry",
            subject_id: Some(id),
            detail: serde_json::json!({"id": entry.id}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The versions of an entry, newest first: (version, when, by, snapshot).
pub async fn versions(db: &Db, db_id: i64) -> StoreResult<Vec<(i64, String, String, Entry)>> {
    let rows = sqlx::query(
        "select version, changed_at, changed_by, snapshot from faq_entry_versions where entry_id = $1 order by version desc",
    )
    .bind(db_id)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let snapshot: String = r.try_get("snapshot")?;
        let entry: Entry = serde_json::from_str::<serde_json::Value>(&snapshot)
            .ok()
            .map(entry_from_json)
            .unwrap_or_default();
        out.push((
            r.try_get("version")?,
            r.try_get("changed_at")?,
            r.try_get("changed_by")?,
            entry,
        ));
    }
    Ok(out)
}

fn entry_from_json(v: serde_json::Value) -> Entry {
    let s = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Entry {
        id: s("id"),
        question: s("question"),
        answer: s("answer"),
        area: s("area"),
        url: s("url"),
        organisation: s("organisation"),
        section: s("section"),
        procedure: s("procedure"),
        keywords: s("keywords"),
        question_en: s("question_en"),
        answer_en: s("answer_en"),
        status: s("status"),
        valid_from: s("valid_from"),
        valid_until: s("valid_until"),
    }
}

/// A logged question.
#[derive(Debug, Clone, Serialize)]
pub struct Logged {
    pub id: i64,
    pub asked_at: String,
    pub organisation_id: Option<i64>,
    pub question: String,
    pub language: String,
    pub mode: String,
    pub confident: bool,
    pub area: String,
    pub shown: Vec<String>,
    pub feedback: String,
}

/// What to log about one question (already masked).
#[derive(Debug, Clone)]
pub struct NewQuestion<'a> {
    pub organisation_id: Option<i64>,
    pub question: &'a str,
    pub language: &'a str,
    pub mode: &'a str,
    pub confident: bool,
    pub top_score: Option<f64>,
    pub area: &'a str,
    pub shown: &'a [String],
}

pub async fn log_question(db: &Db, q: NewQuestion<'_>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
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
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records "this helped" / "this did not help" for a logged question
/// (the last word counts). `entry` is the external id the resident judged.
pub async fn feedback(db: &Db, id: i64, helped: bool, entry: &str) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    let done =
        sqlx::query("update faq_questions set feedback = $1, feedback_entry = $2 where id = $3")
            .bind(if helped { "helped" } else { "not_helped" })
            .bind(entry)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
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
pub async fn resolve(
    db: &Db,
    question_ids: &[i64],
    entry_db_id: i64,
    organisation_id: i64,
    include_unassigned: bool,
) -> StoreResult<u64> {
    let mut tx = db.begin().await?;
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
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

/// Per business area: entries published, questions asked (and how many
/// answered with confidence, and judged helpful / not helpful).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AreaCoverage {
    pub area: String,
    pub entries: i64,
    pub questions: i64,
    pub confident: i64,
    pub helped: i64,
    pub not_helped: i64,
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

pub async fn put_vectors(db: &Db, model: &str, items: &[(String, String)]) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    for (hash, vector) in items {
        sqlx::query(
            "insert into faq_vectors (model, text_hash, vector) values ($1, $2, $3) on conflict (model, text_hash) do nothing",
        )
        .bind(model)
        .bind(hash)
        .bind(vector)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
