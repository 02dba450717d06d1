//! `/api/v1/faq/…`: the search residents' apps and the widget call, feedback,
//! coverage per business area; and for staff: import, export, the unanswered
//! questions grouped, and turning a group into an entry.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use platform::web::context::{CurrentStaff, RequestContext};
use platform::web::error::AppError;
use platform::web::forms::{ApiJson, ApiMultipart, ApiQuery, api_flag};
use serde::Deserialize;
use serde_json::json;

use crate::model::{GroupEntry, Question};
use crate::service::{EntryError, Faq, ask, entries, unanswered};
use crate::web::{
    ask_error, csv_download, entry_error, faq_staff, feedback_binding, invalid, query_form,
    row_errors,
};

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

/// The search's query string (a parameter given twice is refused).
#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<String>,
    organisation: Option<String>,
    lang: Option<String>,
}

async fn search(
    State(state): State<Faq>,
    req: RequestContext,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, AppError> {
    // Not a number: out of range, refused with the range's message.
    let limit = query
        .limit
        .as_deref()
        .map(|v| v.parse::<i64>().unwrap_or(-1));
    answer_search(
        &state,
        &req,
        &query.q,
        limit,
        query.organisation.as_deref(),
        query.lang.as_deref(),
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
    let tr = match lang {
        None => req.tr(&state.platform),
        Some("ja") => state.platform.tr(platform::i18n::Lang::Ja),
        Some("en") => state.platform.tr(platform::i18n::Lang::En),
        Some(_) => {
            return Err(AppError::BadRequest {
                code: "invalid_query",
                detail: Some("lang must be ja or en".into()),
            });
        }
    };
    // An empty organisation is none (a form's empty field).
    let organisation = organisation.filter(|o| !o.is_empty());
    let question = Question {
        text: q,
        limit,
        organisation,
        client: &req.client_ip,
    };
    let answer = ask::ask(state, question, &tr)
        .await
        .map_err(ask_error(&tr))?;
    let token = answer
        .question_id
        .map(|id| state.platform.keys.csrf_token(&feedback_binding(id)));
    let mut json = serde_json::to_value(&answer).map_err(AppError::internal)?;
    if let Some(fields) = json.as_object_mut() {
        fields.insert("feedback_token".to_string(), json!(token));
    }
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
    req: RequestContext,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Response, AppError> {
    if body.entry.chars().count() > 100 {
        return Err(AppError::bad_request("invalid_body"));
    }
    if !state
        .platform
        .keys
        .verify_csrf(&feedback_binding(body.question_id), &body.token)
    {
        return Err(AppError::Forbidden {
            code: "csrf_failed",
        });
    }
    ask::feedback(&state, body.question_id, body.helped, &body.entry)
        .await
        .map_err(ask_error(&req.tr(&state.platform)))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `organisation` of the coverage (a parameter given twice is refused).
#[derive(Deserialize)]
struct CoverageQuery {
    organisation: Option<String>,
}

async fn coverage(
    State(state): State<Faq>,
    req: RequestContext,
    ApiQuery(query): ApiQuery<CoverageQuery>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let organisation = query.organisation.as_deref().filter(|s| !s.is_empty());
    let coverage = ask::coverage_of_code(&state, organisation)
        .await
        .map_err(ask_error(&tr))?;
    Ok(Json(json!({
        "areas_covered": coverage.covered,
        "areas": coverage.areas,
        "mode": coverage.mode,
    }))
    .into_response())
}

async fn import(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
    ApiMultipart(form): ApiMultipart,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    platform::web::only_fields(&form, &["file", "valid_rows_only"])?;
    let tr = req.tr(&state.platform);
    let q = query_form(raw);
    let in_query = api_flag(q.get("valid_rows_only"), "valid_rows_only")?;
    let in_form = api_flag(form.fields.get("valid_rows_only"), "valid_rows_only")?;
    let valid_only = in_query || in_form;
    let file = form
        .files
        .first()
        .ok_or_else(|| invalid("file", "faq.error.file_missing", &tr))?;
    match entries::import_file(&state, &staff.staff, &file.bytes, valid_only).await {
        Ok(report) => Ok(Json(json!({
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "skipped": report.skipped.iter().map(|e| json!({"line": e.line, "column": e.column, "code": e.code, "message": e.message(&tr)})).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(EntryError::Invalid(errors)) => Err(row_errors(&errors, &tr)),
        Err(e) => Err(entry_error(&tr)(e)),
    }
}

async fn export(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let q = query_form(raw);
    let sjis = match q.get("encoding") {
        None | Some("utf8") => false,
        Some("shift_jis" | "sjis" | "cp932") => true,
        Some(_) => return Err(AppError::bad_request("unknown_encoding")),
    };
    let bytes = entries::export_csv(&state, &staff.staff, sjis)
        .await
        .map_err(entry_error(&req.tr(&state.platform)))?;
    Ok(csv_download(bytes, sjis))
}

async fn unanswered(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let groups = unanswered::groups(&state, &staff.staff)
        .await
        .map_err(entry_error(&req.tr(&state.platform)))?;
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

async fn create_from_group(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<GroupEntry>,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let tr = req.tr(&state.platform);
    let (id, resolved) = unanswered::publish(&state, &staff.staff, body)
        .await
        .map_err(entry_error(&tr))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "resolved": resolved})),
    )
        .into_response())
}
