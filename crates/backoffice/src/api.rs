//! The staff API under `/api/v1/staff`: the same operations as the staff
//! pages, authorised exactly like them (the same extractors and the same
//! scoped queries), for section systems that process applications.

use approvals::service::{self as approvals_service, ApprovalError};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use export::CsvEncoding;
use platform::web::{
    ApiJson, ApiQuery, AppError, CurrentStaff, RequestContext, api_flag, parse_id,
};
use procedures::applications::Status;
use procedures::applications::public_answers;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::{Filter, Selection};
use crate::service::Backoffice;
use crate::service::review::{self, ActionError};
use crate::service::{exports, inbox};
use crate::web::{
    csv_response, download, history_rows, parse_action, resubmission_rows, workbook_response,
};

/// The inbox's query in the API: strict (a value that is not what the
/// OpenAPI document says is refused with 400 `invalid_query`, never ignored).
#[derive(Deserialize, Default)]
struct ApiInboxQuery {
    procedure: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    unread: Option<String>,
    before: Option<String>,
    q: Option<String>,
}

/// An export's query in the API (strict, like [`ApiInboxQuery`]).
#[derive(Deserialize, Default)]
struct ApiExportQuery {
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    encoding: Option<String>,
}

fn invalid_query(detail: &str) -> AppError {
    AppError::BadRequest {
        code: "invalid_query",
        detail: Some(detail.to_string()),
    }
}

/// A day written `YYYY-MM-DD` (the API's dates; the pages also read 和暦).
fn api_date(value: Option<&str>, name: &str) -> Result<Option<NaiveDate>, AppError> {
    let Some(s) = value else { return Ok(None) };
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .map(Some)
        .ok_or_else(|| invalid_query(&format!("{name} must be a date written YYYY-MM-DD")))
}

/// A status staff can filter by (every one but 下書き).
fn api_status(value: Option<&str>) -> Result<Option<Status>, AppError> {
    let Some(s) = value else { return Ok(None) };
    Status::parse(s)
        .filter(|st| *st != Status::Draft)
        .map(Some)
        .ok_or_else(|| invalid_query("status is not one of the statuses"))
}

impl ApiInboxQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        Ok(Filter {
            procedure_id: match self.procedure.as_deref() {
                None => None,
                Some(p) => Some(
                    p.parse::<i64>()
                        .ok()
                        .filter(|id| *id > 0)
                        .ok_or_else(|| invalid_query("procedure must be a procedure's id"))?,
                ),
            },
            status: api_status(self.status.as_deref())?,
            received_from: api_date(self.from.as_deref(), "from")?,
            received_to: api_date(self.to.as_deref(), "to")?,
            unread_only: api_flag(self.unread.as_deref(), "unread")?,
            words: match self.q.as_deref() {
                None => Vec::new(),
                Some(q) if q.chars().count() > 300 => {
                    return Err(invalid_query("q is at most 300 characters"));
                }
                Some(q) => crate::model::search_words(q),
            },
            before: match self.before.as_deref() {
                None => None,
                Some(b) => Some(
                    platform::web::parse_page_key(b)
                        .ok_or_else(|| invalid_query("before must be the next_before of a page"))?,
                ),
            },
        })
    }
}

impl ApiExportQuery {
    fn selection(&self) -> Result<Selection, AppError> {
        Ok(Selection {
            status: api_status(self.status.as_deref())?,
            received_from: api_date(self.from.as_deref(), "from")?,
            received_to: api_date(self.to.as_deref(), "to")?,
        })
    }

    fn encoding(&self) -> Result<CsvEncoding, AppError> {
        match self.encoding.as_deref() {
            None | Some("utf8") => Ok(CsvEncoding::Utf8Bom),
            Some("sjis") => Ok(CsvEncoding::ShiftJis),
            Some(_) => Err(AppError::bad_request("unknown_encoding")),
        }
    }
}

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route("/api/v1/staff/applications", get(list))
        .route("/api/v1/staff/applications/{id}", get(show))
        .route("/api/v1/staff/applications/{id}/actions", post(act))
        .route(
            "/api/v1/staff/applications/{id}/attachments/{attachment}",
            get(attachment),
        )
        .route("/api/v1/staff/approvals", get(approvals_waiting))
        .route("/api/v1/staff/delegations", get(delegations).post(delegate))
        .route("/api/v1/staff/procedures/{id}/export.csv", get(export_csv))
        .route(
            "/api/v1/staff/procedures/{id}/export.xlsx",
            get(export_xlsx),
        )
}

async fn list(
    State(state): State<Backoffice>,
    req: RequestContext,
    staff: CurrentStaff,
    ApiQuery(q): ApiQuery<ApiInboxQuery>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let filter = q.filter()?;
    let (rows, counts) = inbox::inbox(&state, &staff.staff, &filter, 50).await?;
    let next = rows
        .last()
        .filter(|_| rows.len() == 50)
        .map(|r| platform::web::page_key(r.row.submitted_at, r.row.id));
    let items: Vec<Value> = rows
        .iter()
        .map(|i| {
            let r = &i.row;
            json!({
                "id": r.id,
                "procedure_id": r.procedure_id,
                "procedure_name": r.procedure_name,
                "receipt_number": r.receipt_number,
                "applicant": i.applicant,
                "status": i.status.code(),
                "status_label": tr.t(i.status.label_key()),
                "submitted_at": r.submitted_at.to_db_string(),
                "version": r.version,
                "unread": r.unread(),
            })
        })
        .collect();
    let counts: serde_json::Map<String, Value> = counts
        .into_iter()
        .map(|(s, n)| (s.code().to_string(), json!(n)))
        .collect();
    Ok(Json(json!({"items": items, "counts": counts, "next_before": next})).into_response())
}

async fn show(
    State(state): State<Backoffice>,
    req: RequestContext,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let tr = req.tr(&state.platform);
    let d = review::detail(&state, &staff.staff, id, &tr).await?;
    let history = history_rows(&d, &tr);
    let resubmissions = resubmission_rows(&d, &tr);
    let app = &d.app;
    Ok(Json(json!({
        "id": app.id,
        "procedure_id": app.procedure_id,
        "receipt_number": app.receipt_number,
        "status": app.status().code(),
        "status_label": tr.t(app.status().label_key()),
        "version": app.version,
        "submitted_at": app.submitted_at.map(|t| t.to_db_string()),
        "answers": public_answers(&d.def, &app.answers_map()),
        "answers_shown": d.rows.iter().map(|r| json!({"question": r.question_id, "label": r.label, "lines": r.lines})).collect::<Vec<_>>(),
        "attachments": d.attachments.iter().map(|a| json!({"id": a.id, "question": a.question_id, "filename": a.filename, "kind": a.kind, "size": a.size})).collect::<Vec<_>>(),
        "history": history.iter().map(|h| json!({"at": h.at, "who": h.who, "event": h.text, "comment": h.comment})).collect::<Vec<_>>(),
        "changes": resubmissions.iter().map(|r| json!({"at": r.at, "changes": r.changes.iter().map(|c| json!({"label": c.label, "before": c.before, "after": c.after})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "cases": d.cases.iter().map(|c| json!({"id": c.id, "outcome": c.outcome, "reason": c.reason, "status": c.status, "current_step": c.current_step, "steps": c.steps()})).collect::<Vec<_>>(),
        "approval_actions": d.actions,
        "allowed": {
            "start_review": d.allowed.start_review,
            "return": d.allowed.return_,
            "draft": d.allowed.draft,
            "redraft": d.allowed.redraft,
            "approve": d.allowed.sign,
            "send_back": d.allowed.sign,
            "reject": d.allowed.sign,
        },
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: String,
    version: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    comment: String,
}

async fn act(
    State(state): State<Backoffice>,
    req: RequestContext,
    staff: CurrentStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActionBody>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let tr = req.tr(&state.platform);
    if body
        .outcome
        .as_deref()
        .is_some_and(|o| approvals::model::Outcome::parse(o).is_none())
    {
        return Err(AppError::BadRequest {
            code: "invalid_body",
            detail: Some("outcome must be grant or refuse".into()),
        });
    }
    if matches!(body.action.as_str(), "draft" | "redraft") && body.outcome.is_none() {
        let key = "review.error.outcome_required";
        return Err(AppError::Validation {
            fields: vec![platform::web::FieldError {
                field: "outcome".into(),
                code: key.into(),
                message: tr.t(key).to_string(),
            }],
        });
    }
    let mut fields = platform::web::FormData::default();
    for (k, v) in [
        ("action", &body.action),
        ("message", &body.message),
        ("outcome", body.outcome.as_ref().unwrap_or(&String::new())),
        ("reason", &body.reason),
        ("comment", &body.comment),
    ] {
        fields.push(k, v.clone());
    }
    let Some(action) = parse_action(&fields) else {
        return Err(AppError::BadRequest {
            code: "invalid_body",
            detail: Some("action is not one of the actions".into()),
        });
    };
    match review::act(&state, &staff.staff, id, body.version, action).await {
        Ok(app) => Ok(Json(json!({
            "id": app.id,
            "status": app.status().code(),
            "status_label": tr.t(app.status().label_key()),
            "version": app.version,
        }))
        .into_response()),
        Err(ActionError::Invalid(field, key)) => Err(AppError::Validation {
            fields: vec![platform::web::FieldError {
                field: field.into(),
                code: key.into(),
                message: tr.t(key).to_string(),
            }],
        }),
        Err(ActionError::Stale) => Err(AppError::Conflict { code: "stale" }),
        Err(e) => Err(e.into()),
    }
}

async fn attachment(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (id, attachment_id) = (parse_id(&id)?, parse_id(&attachment_id)?);
    let att = review::attachment(&state, &staff.staff, id, attachment_id).await?;
    download(&state, &att).await
}

async fn approvals_waiting(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let rows = review::waiting_for(&state, &staff.staff).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(c, app)| json!({"application_id": app.id, "receipt_number": app.receipt_number, "version": app.version, "case": c.id, "outcome": c.outcome, "step": c.current_step, "step_name": c.current().map(|s| s.name)}))
        .collect();
    Ok(Json(json!({"items": items})).into_response())
}

async fn delegations(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let rows = approvals_service::delegations_of(&state.platform.db, &staff.staff).await?;
    Ok(Json(json!({"items": rows})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateBody {
    to_staff_id: i64,
    starts_at: String,
    ends_at: String,
}

async fn delegate(
    State(state): State<Backoffice>,
    req: RequestContext,
    staff: CurrentStaff,
    ApiJson(body): ApiJson<DelegateBody>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let parse = |s: &str| platform::Timestamp::parse(s);
    let (Some(starts), Some(ends)) = (parse(&body.starts_at), parse(&body.ends_at)) else {
        return Err(AppError::BadRequest {
            code: "invalid_body",
            detail: Some("starts_at/ends_at must be RFC 3339".into()),
        });
    };
    match approvals_service::delegate(
        &state.platform.db,
        &staff.staff,
        body.to_staff_id,
        starts,
        ends,
    )
    .await
    {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response()),
        Err(ApprovalError::Store(e)) => Err(e.into()),
        Err(e) => Err(AppError::Validation {
            fields: vec![platform::web::FieldError {
                field: "delegation".into(),
                code: e.key().into(),
                message: tr.t(e.key()).to_string(),
            }],
        }),
    }
}

async fn export_csv(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ApiExportQuery>,
) -> Result<Response, AppError> {
    let (selection, encoding) = (q.selection()?, q.encoding()?);
    let (p, def) = exports::exportable(&state, &staff.staff, parse_id(&id)?).await?;
    let export = exports::csv(&state, &staff.staff, p, def, selection, encoding).await?;
    Ok(csv_response(export))
}

async fn export_xlsx(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ApiExportQuery>,
) -> Result<Response, AppError> {
    let selection = q.selection()?;
    let (p, def) = exports::exportable(&state, &staff.staff, parse_id(&id)?).await?;
    let export = exports::xlsx(&state, &staff.staff, p, def, selection).await?;
    workbook_response(export).await
}
