//! The staff API under `/api/v1/staff`: the same operations as the staff
//! pages, authorised exactly like them (the same extractors and the same
//! scoped queries), for section systems that process applications.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use export::CsvEncoding;
use platform::web::parse_id;
use platform::web::{ApiJson, AppError, CurrentStaff, PageQuery, RequestContext};
use procedures::applications::Status;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::pages::{self, ExportQuery, InboxQuery};
use crate::review::{self, ActionError};
use crate::{Backoffice, approvals, exports, inbox};

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
    PageQuery(q): PageQuery<InboxQuery>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let staff = staff.staff;
    let db = &state.platform.db;
    let filter = q.filter();
    let rows = inbox::page(db, &staff, &filter, 50).await?;
    let counts = inbox::counts(db, &staff, &filter).await?;
    let next = (rows.len() == 50)
        .then(|| {
            rows.last()
                .map(|r| format!("{}_{}", r.submitted_at.to_db_string(), r.id))
        })
        .flatten();
    let mut items = Vec::new();
    for r in &rows {
        let answers: serde_json::Map<String, Value> =
            serde_json::from_str(&r.answers).unwrap_or_default();
        let def = state.procedures.forms.get(db, r.form_version_id).await?;
        let status = Status::parse(&r.status).unwrap_or(Status::Submitted);
        items.push(json!({
            "id": r.id,
            "procedure_id": r.procedure_id,
            "procedure_name": r.procedure_name,
            "receipt_number": r.receipt_number,
            "applicant": pages::applicant_name(&def, &answers),
            "status": status.code(),
            "status_label": tr.t(status.label_key()),
            "submitted_at": r.submitted_at.to_db_string(),
            "version": r.version,
            "unread": r.unread(),
        }));
    }
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
    let d = pages::detail(&state, &staff.staff, id, &tr).await?;
    let app = &d.app;
    Ok(Json(json!({
        "id": app.id,
        "procedure_id": app.procedure_id,
        "receipt_number": app.receipt_number,
        "status": app.status().code(),
        "status_label": tr.t(app.status().label_key()),
        "version": app.version,
        "submitted_at": app.submitted_at.map(|t| t.to_db_string()),
        "answers": procedures::flow::public_answers(&d.def, &app.answers_map()),
        "answers_shown": d.rows.iter().map(|r| json!({"question": r.question_id, "label": r.label, "lines": r.lines})).collect::<Vec<_>>(),
        "attachments": d.attachments.iter().map(|a| json!({"id": a.id, "question": a.question_id, "filename": a.filename, "kind": a.kind, "size": a.size})).collect::<Vec<_>>(),
        "history": d.history.iter().map(|h| json!({"at": h.at, "who": h.who, "event": h.text, "comment": h.comment})).collect::<Vec<_>>(),
        "changes": d.resubmissions.iter().map(|r| json!({"at": r.at, "changes": r.changes.iter().map(|c| json!({"label": c.label, "before": c.before, "after": c.after})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
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
    outcome: String,
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
    let mut fields = platform::web::FormData::default();
    for (k, v) in [
        ("action", &body.action),
        ("message", &body.message),
        ("outcome", &body.outcome),
        ("reason", &body.reason),
        ("comment", &body.comment),
    ] {
        fields.push(k, v.clone());
    }
    let Some(action) = pages::parse_action(&fields) else {
        return Err(AppError::BadRequest {
            code: "invalid_body",
            detail: Some("action/outcome".into()),
        });
    };
    match review::act(&state.platform.db, &staff.staff, id, body.version, action).await {
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
        Err(e) => Err(pages::action_error(e)),
    }
}

async fn attachment(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (id, attachment_id) = (parse_id(&id)?, parse_id(&attachment_id)?);
    let db = &state.platform.db;
    let app = review::load_for_staff(db, &staff.staff, id)
        .await
        .map_err(pages::action_error)?;
    let att = procedures::applications::attachments(db, app.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or(AppError::NotFound)?;
    review::record_view(db, &staff.staff, &app, "attachment.downloaded").await?;
    let kind =
        platform::files::FileKind::parse(&att.kind).unwrap_or(platform::files::FileKind::Text);
    platform::web::stored_file(&state.platform.files, &att.storage_key, &att.filename, kind).await
}

async fn approvals_waiting(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let rows = pages::waiting_for(&state, &staff.staff).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(c, app)| json!({"application_id": app.id, "receipt_number": app.receipt_number, "version": app.version, "case": c.id, "outcome": c.outcome, "step": c.current_step, "step_name": c.steps().get(c.current_step as usize).map(|s| s.name.clone())}))
        .collect();
    Ok(Json(json!({"items": items})).into_response())
}

async fn delegations(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let rows = approvals::delegations_of(&state.platform.db, &staff.staff).await?;
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
    match approvals::delegate(
        &state.platform.db,
        &staff.staff,
        body.to_staff_id,
        starts,
        ends,
    )
    .await
    {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response()),
        Err(key) => Err(AppError::Validation {
            fields: vec![platform::web::FieldError {
                field: "delegation".into(),
                code: key.into(),
                message: tr.t(key).to_string(),
            }],
        }),
    }
}

async fn export_csv(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = pages::export_procedure(&state, &staff.staff, &id).await?;
    let encoding = if matches!(q.encoding.as_str(), "sjis" | "shift_jis" | "cp932") {
        CsvEncoding::ShiftJis
    } else {
        CsvEncoding::Utf8Bom
    };
    Ok(exports::csv(&state, &staff.staff, p, def, q.selection(), encoding).await?)
}

async fn export_xlsx(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = pages::export_procedure(&state, &staff.staff, &id).await?;
    Ok(exports::xlsx(&state, &staff.staff, p, def, q.selection()).await?)
}
