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
use platform::web::forms::{ApiJson, ApiMultipart};
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

async fn coverage(
    State(state): State<Faq>,
    req: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let form = query_form(raw);
    let tr = req.tr(&state.platform);
    let organisation = form.get("organisation").filter(|s| !s.is_empty());
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
    let tr = req.tr(&state.platform);
    let q = query_form(raw);
    let valid_only = matches!(q.get("valid_rows_only"), Some("1" | "true"))
        || matches!(form.fields.get("valid_rows_only"), Some("1" | "true"));
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
    let sjis = matches!(q.get("encoding"), Some("shift_jis" | "sjis" | "cp932"));
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
