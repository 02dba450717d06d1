//! `/api/v1/faq/…`: the search residents' apps and the widget call, feedback,
//! coverage per business area; and for staff: import, export, the unanswered
//! questions grouped, and turning a group into an entry.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use platform::accounts::{Role, Staff};
use platform::i18n::Tr;
use platform::web::context::{CurrentStaff, RequestContext};
use platform::web::error::{AppError, FieldError};
use platform::web::forms::{ApiJson, ApiMultipart};
use platform::web::{FormData, parse_urlencoded};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::entry::{self, Entry, RowError};
use crate::index::Hit;
use crate::{Faq, learning, store};

pub fn router() -> Router<Faq> {
    Router::new()
        .route("/api/v1/faq/search", get(search).post(search_post))
        .route("/api/v1/faq/feedback", post(feedback))
        .route("/api/v1/faq/coverage", get(coverage))
        .route("/api/v1/staff/faq/import", post(import))
        .route("/api/v1/staff/faq/export", get(export))
        .route("/api/v1/staff/faq/unanswered", get(unanswered))
        .route("/api/v1/staff/faq/groups", post(create_from_group))
}

/// Longest question accepted (characters); longer ones are answered from their beginning.
pub const MAX_QUESTION_CHARS: usize = 10_000;
/// Questions logged per client address and minute; beyond, answered but not logged.
const LOG_PER_MINUTE: u32 = 60;

/// A contact to offer when the answer is not certain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Contact {
    pub organisation: String,
    pub section: String,
    pub phone: String,
    pub email: String,
}

/// A procedure an entry leads to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcedureLink {
    pub code: String,
    pub name: String,
    pub url: String,
}

/// One result as shown.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shown {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub area: String,
    pub url: String,
    pub procedure: Option<ProcedureLink>,
    pub score: f32,
    /// The language of the question and answer shown (`ja` or `en`).
    #[serde(skip)]
    pub lang: &'static str,
}

/// The answer to a question.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answer {
    pub question_id: Option<i64>,
    pub results: Vec<Shown>,
    pub confident: bool,
    pub mode: String,
    pub analyzer: String,
    pub language: &'static str,
    pub message: String,
    pub contacts: Vec<Contact>,
}

/// Answers a question: searches, looks up the procedures and contacts, logs
/// the masked question. `question` must not be blank.
pub(crate) async fn ask(
    state: &Faq,
    req: &RequestContext,
    tr: &Tr,
    question: &str,
    limit: usize,
    organisation: Option<&str>,
) -> Result<Answer, AppError> {
    let question: String = question.chars().take(MAX_QUESTION_CHARS).collect();
    let (found, confident) = state
        .engine
        .search(&question, limit, organisation)
        .await
        .map_err(AppError::internal)?;
    let analyzer = state.engine.analyzer().await.mode().to_string();
    let english = found.english;
    let db = &state.platform.db;
    let mut results = Vec::new();
    for hit in &found.hits {
        results.push(shown(db, hit, english, tr).await?);
    }
    let mut contacts = Vec::new();
    if !confident {
        for hit in found.hits.iter().take(3) {
            if let Some(c) = contact(db, &hit.entry, tr).await?
                && !contacts
                    .iter()
                    .any(|x: &Contact| x.section == c.section && x.organisation == c.organisation)
            {
                contacts.push(c);
            }
        }
    }
    let message = if found.hits.is_empty() {
        tr.t("faq.answer.nothing").to_string()
    } else if confident {
        String::new()
    } else {
        tr.t("faq.answer.unsure").to_string()
    };
    // The log: masked, and bounded per client so that it cannot be flooded.
    let key = format!("faq-log:{}", req.client_ip);
    let window = std::time::Duration::from_secs(60);
    let question_id = if state.platform.limiter.allowed(&key, LOG_PER_MINUTE, window) {
        state.platform.limiter.hit(&key, window);
        let top = found.hits.first();
        let organisation_id = match organisation.or(top.map(|h| h.entry.organisation.as_str())) {
            Some(code) if !code.is_empty() => platform::orgs::organisation_by_code(db, code)
                .await?
                .map(|o| o.id),
            _ => None,
        };
        let shown_ids: Vec<String> = found
            .hits
            .iter()
            .take(5)
            .map(|h| h.entry.id.clone())
            .collect();
        Some(
            store::log_question(
                db,
                store::NewQuestion {
                    organisation_id,
                    question: &learning::mask(&question),
                    language: if english { "en" } else { "ja" },
                    mode: found.mode,
                    confident,
                    top_score: top.map(|h| f64::from(h.score)),
                    area: top.map(|h| h.entry.area.as_str()).unwrap_or(""),
                    shown: &shown_ids,
                },
            )
            .await?,
        )
    } else {
        None
    };
    Ok(Answer {
        question_id,
        results,
        confident,
        mode: found.mode.to_string(),
        analyzer,
        language: if english { "en" } else { "ja" },
        message,
        contacts,
    })
}

/// One entry as the API shows it (for the entry page).
pub(crate) async fn ask_one(state: &Faq, hit: &Hit, tr: &Tr) -> Result<Shown, AppError> {
    shown(&state.platform.db, hit, false, tr).await
}

async fn shown(
    db: &platform::db::Db,
    hit: &Hit,
    english: bool,
    tr: &Tr,
) -> Result<Shown, AppError> {
    let e = &hit.entry;
    let use_en = (english || tr.is_en()) && !e.question_en.is_empty() && !e.answer_en.is_empty();
    let procedure = if e.procedure.is_empty() {
        None
    } else {
        let row = sqlx::query(
            "select p.id, p.name, p.name_en from procedures p join organisations o on o.id = p.organisation_id
             where p.code = $1 and (o.code = $2 or $2 = '') and p.status = 'published' order by p.id limit 1",
        )
        .bind(&e.procedure)
        .bind(&e.organisation)
        .fetch_optional(db.pool())
        .await
        .map_err(AppError::internal)?;
        match row {
            Some(r) => {
                let id: i64 = r.try_get("id").map_err(AppError::internal)?;
                let name: String = r.try_get("name").map_err(AppError::internal)?;
                let name_en: String = r.try_get("name_en").map_err(AppError::internal)?;
                Some(ProcedureLink {
                    code: e.procedure.clone(),
                    name: tr.pick(&name, &name_en).to_string(),
                    url: format!("/procedures/{id}"),
                })
            }
            None => None,
        }
    };
    Ok(Shown {
        id: e.id.clone(),
        question: if use_en {
            e.question_en.clone()
        } else {
            e.question.clone()
        },
        answer: if use_en {
            e.answer_en.clone()
        } else {
            e.answer.clone()
        },
        area: e.area.clone(),
        url: e.url.clone(),
        procedure,
        score: (hit.score * 10_000.0).round() / 10_000.0,
        lang: if use_en { "en" } else { "ja" },
    })
}

async fn contact(db: &platform::db::Db, e: &Entry, tr: &Tr) -> Result<Option<Contact>, AppError> {
    if e.organisation.is_empty() {
        return Ok(None);
    }
    let row = sqlx::query(
        "select o.name as org, o.name_en as org_en, coalesce(s.name, '') as name, coalesce(s.name_en, '') as name_en,
                coalesce(s.phone, '') as phone, coalesce(s.email, '') as email
         from organisations o left join sections s on s.organisation_id = o.id and s.code = $2
         where o.code = $1",
    )
    .bind(&e.organisation)
    .bind(&e.section)
    .fetch_optional(db.pool())
    .await
    .map_err(AppError::internal)?;
    let Some(r) = row else { return Ok(None) };
    let get = |k: &str| -> String { r.try_get::<String, _>(k).unwrap_or_default() };
    if get("name").is_empty() {
        return Ok(None);
    }
    Ok(Some(Contact {
        organisation: tr.pick(&get("org"), &get("org_en")).to_string(),
        section: tr.pick(&get("name"), &get("name_en")).to_string(),
        phone: get("phone"),
        email: get("email"),
    }))
}

/// Reads the query string leniently (bytes that are not UTF-8 are replaced).
pub(crate) fn query_form(raw: Option<String>) -> FormData {
    parse_urlencoded(raw.unwrap_or_default().as_bytes())
}

fn invalid(field: &str, code: &str, tr: &Tr) -> AppError {
    AppError::Validation {
        fields: vec![FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: tr.t(code).to_string(),
        }],
    }
}

async fn search(
    State(state): State<Faq>,
    req: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let form = query_form(raw);
    let limit = match form.get("limit") {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().unwrap_or(-1)),
    };
    answer_search(
        &state,
        &req,
        form.text("q"),
        limit,
        form.get("organisation"),
        form.get("lang"),
    )
    .await
}

/// The same search with the question in a JSON body (long questions).
#[derive(Deserialize)]
struct SearchBody {
    q: String,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    organisation: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn search_post(
    State(state): State<Faq>,
    req: RequestContext,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Response, AppError> {
    answer_search(
        &state,
        &req,
        &body.q,
        body.limit,
        body.organisation.as_deref(),
        body.lang.as_deref(),
    )
    .await
}

async fn answer_search(
    state: &Faq,
    req: &RequestContext,
    q: &str,
    limit: Option<i64>,
    organisation: Option<&str>,
    lang: Option<&str>,
) -> Result<Response, AppError> {
    let tr = match lang.and_then(platform::i18n::Lang::parse) {
        Some(lang) => state.platform.tr(lang),
        None => req.tr(&state.platform),
    };
    if q.trim().is_empty() {
        return Err(invalid("q", "faq.error.question_empty", &tr));
    }
    let limit = match limit {
        None => 10,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => return Err(invalid("limit", "faq.error.bad_limit", &tr)),
    };
    let organisation = organisation.filter(|s| !s.is_empty());
    if let Some(code) = organisation
        && platform::orgs::organisation_by_code(&state.platform.db, code)
            .await?
            .is_none()
    {
        return Err(invalid(
            "organisation",
            "faq.error.unknown_organisation",
            &tr,
        ));
    }
    let answer = ask(state, req, &tr, q, limit, organisation).await?;
    let token = answer.question_id.map(|id| {
        state
            .platform
            .keys
            .csrf_token(&format!("faq-feedback:{id}"))
    });
    let mut json = serde_json::to_value(&answer).map_err(AppError::internal)?;
    json["feedback_token"] = json!(token);
    Ok(Json(json).into_response())
}

#[derive(Deserialize)]
struct FeedbackBody {
    question_id: i64,
    /// The `feedback_token` the search answered with.
    token: String,
    helped: bool,
    #[serde(default)]
    entry: String,
}

async fn feedback(
    State(state): State<Faq>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Response, AppError> {
    if body.entry.chars().count() > 100 {
        return Err(AppError::bad_request("invalid_body"));
    }
    if !state
        .platform
        .keys
        .verify_csrf(&format!("faq-feedback:{}", body.question_id), &body.token)
    {
        return Err(AppError::Forbidden {
            code: "csrf_failed",
        });
    }
    store::feedback(
        &state.platform.db,
        body.question_id,
        body.helped,
        &body.entry,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn coverage(
    State(state): State<Faq>,
    req: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let form = query_form(raw);
    let tr = req.tr(&state.platform);
    let db = &state.platform.db;
    let organisation_id = match form.get("organisation").filter(|s| !s.is_empty()) {
        Some(code) => Some(
            platform::orgs::organisation_by_code(db, code)
                .await?
                .ok_or_else(|| invalid("organisation", "faq.error.unknown_organisation", &tr))?
                .id,
        ),
        None => None,
    };
    let areas = store::coverage(db, organisation_id).await?;
    let covered = areas.iter().filter(|a| a.entries > 0).count();
    Ok(Json(json!({
        "areas_covered": covered,
        "areas": areas,
        "mode": state.engine.index().await.map_err(AppError::internal)?.mode(),
    }))
    .into_response())
}

/// Staff who may edit the organisation's FAQ: anyone of its staff.
pub(crate) fn faq_staff(staff: &Staff) -> Result<(), AppError> {
    if staff.roles.is_empty() {
        Err(AppError::Forbidden { code: "forbidden" })
    } else {
        Ok(())
    }
}

/// Whether a staff member also sees questions that belong to no organisation.
pub(crate) fn sees_unassigned(staff: &Staff) -> bool {
    staff.has(Role::DxOffice) || staff.has(Role::OrgAdmin)
}

pub(crate) fn row_errors(errors: &[RowError], tr: &Tr) -> AppError {
    AppError::Validation {
        fields: errors
            .iter()
            .map(|e| FieldError {
                field: format!("file.line{}.{}", e.line, e.column),
                code: e.code.to_string(),
                message: e.message(tr),
            })
            .collect(),
    }
}

/// Imports a CSV for the staff member's organisation.
pub(crate) async fn import_file(
    state: &Faq,
    staff: &Staff,
    bytes: &[u8],
    valid_rows_only: bool,
) -> Result<store::ImportReport, Vec<RowError>> {
    let (rows, errors) = entry::parse_csv(bytes);
    let org = platform::orgs::organisation_by_id(&state.platform.db, staff.organisation_id)
        .await
        .ok()
        .flatten();
    // Rows without an organisation are the staff member's organisation's.
    let rows = rows
        .into_iter()
        .map(|(line, mut e)| {
            if e.organisation.is_empty()
                && let Some(o) = &org
            {
                e.organisation = o.code.clone();
            }
            (line, e)
        })
        .collect();
    let report = store::import(
        &state.platform.db,
        rows,
        errors,
        Some(staff.organisation_id),
        Some(staff.organisation_id),
        valid_rows_only,
        platform::audit::Actor::Staff(staff.id),
    )
    .await?;
    state.engine.invalidate();
    Ok(report)
}

async fn import(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
    ApiMultipart(form): ApiMultipart,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let tr = req.tr(&state.platform);
    let q = query_form(raw);
    let valid_only = matches!(q.get("valid_rows_only"), Some("1" | "true"))
        || matches!(form.fields.get("valid_rows_only"), Some("1" | "true"));
    let file = form
        .files
        .first()
        .ok_or_else(|| invalid("file", "faq.error.file_missing", &tr))?;
    match import_file(&state, &staff.staff, &file.bytes, valid_only).await {
        Ok(report) => Ok(Json(json!({
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped.iter().map(|e| json!({"line": e.line, "column": e.column, "code": e.code, "message": e.message(&tr)})).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(errors) => Err(row_errors(&errors, &tr)),
    }
}

/// The organisation's entries as CSV (`?encoding=shift_jis` for Shift_JIS).
pub(crate) async fn export_response(
    state: &Faq,
    staff: &Staff,
    shift_jis: bool,
) -> Result<Response, AppError> {
    let entries: Vec<Entry> = store::entries(&state.platform.db, Some(staff.organisation_id))
        .await?
        .into_iter()
        .map(|s| s.entry)
        .collect();
    let bytes = entry::write_csv(&entries, shift_jis);
    let content_type = if shift_jis {
        "text/csv; charset=Shift_JIS"
    } else {
        "text/csv; charset=utf-8"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"faq.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn export(
    State(state): State<Faq>,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let q = query_form(raw);
    let sjis = matches!(q.get("encoding"), Some("shift_jis" | "sjis" | "cp932"));
    export_response(&state, &staff.staff, sjis).await
}

/// The unanswered questions of the staff member's organisation, grouped.
pub(crate) async fn groups(state: &Faq, staff: &Staff) -> Result<Vec<learning::Group>, AppError> {
    let questions = store::unanswered_queries(
        &state.platform.db,
        staff.organisation_id,
        sees_unassigned(staff),
        2_000,
    )
    .await?;
    let analyzer = state.engine.analyzer().await;
    tokio::task::spawn_blocking(move || learning::group(questions, &analyzer, 0.3))
        .await
        .map_err(AppError::internal)
}

async fn unanswered(State(state): State<Faq>, staff: CurrentStaff) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let groups = groups(&state, &staff.staff).await?;
    Ok(Json(json!({
        "groups": groups.iter().map(|g| json!({
            "area": g.area,
            "representative": g.representative,
            "questions": g.questions.iter().map(|q| json!({
                "id": q.id, "question": q.question, "asked_at": q.asked_at,
                "confident": q.confident, "feedback": q.feedback, "shown": q.shown,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct GroupEntry {
    pub question_ids: Vec<i64>,
    #[serde(default)]
    pub id: String,
    pub question: String,
    pub answer: String,
    pub area: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub keywords: String,
}

/// Creates an entry from a group of unanswered questions and marks them resolved.
pub(crate) async fn entry_from_group(
    state: &Faq,
    staff: &Staff,
    body: GroupEntry,
    tr: &Tr,
) -> Result<(String, u64), AppError> {
    let org = platform::orgs::organisation_by_id(&state.platform.db, staff.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let id = if body.id.trim().is_empty() {
        format!(
            "{}-{}",
            org.code,
            platform::db::Timestamp::now().0.format("%Y%m%d%H%M%S%6f")
        )
    } else {
        body.id.trim().to_string()
    };
    let e = Entry {
        id,
        question: body.question.trim().to_string(),
        answer: body.answer.trim().to_string(),
        area: body.area.trim().to_string(),
        url: body.url.trim().to_string(),
        organisation: org.code.clone(),
        section: body.section.trim().to_string(),
        procedure: body.procedure.trim().to_string(),
        keywords: body.keywords.trim().to_string(),
        status: "published".into(),
        ..Entry::default()
    };
    let mut errors = Vec::new();
    entry::check(&e, 0, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation {
            fields: errors
                .iter()
                .map(|x| FieldError {
                    field: x.column.clone(),
                    code: x.code.to_string(),
                    message: tr.f1(x.code, "value", &x.value),
                })
                .collect(),
        });
    }
    let db_id = match store::save(
        &state.platform.db,
        staff.organisation_id,
        &e,
        None,
        platform::audit::Actor::Staff(staff.id),
    )
    .await
    {
        Err(platform::db::StoreError::Conflict(_)) => {
            return Err(invalid("id", "faq.error.id_taken", tr));
        }
        other => other?,
    };
    let resolved = store::resolve(
        &state.platform.db,
        &body.question_ids,
        db_id,
        staff.organisation_id,
        sees_unassigned(staff),
    )
    .await?;
    state.engine.invalidate();
    Ok((e.id, resolved))
}

async fn create_from_group(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<GroupEntry>,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let tr = req.tr(&state.platform);
    let (id, resolved) = entry_from_group(&state, &staff.staff, body, &tr).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "resolved": resolved})),
    )
        .into_response())
}
