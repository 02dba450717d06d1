//! An application as staff see it: its answers, attachments, history,
//! resubmissions and approval cases, and the actions they may take now.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::accounts::Staff;
use platform::web::{
    AppError, CsrfForm, CurrentStaff, Errors, PageCtx, PageQuery, format_time, parse_id,
    render_status,
};
use procedures::form::display::{self, AnswerRow};
use serde::Deserialize;

use crate::service::Backoffice;
use crate::service::review::{self, ActionError, Allowed};
use crate::web::{
    HistoryRow, ResubmissionRow, download, history_rows, parse_action, resubmission_rows,
};

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route("/staff/applications/{id}", get(application_page))
        .route("/staff/applications/{id}/actions", post(action_post))
        .route(
            "/staff/applications/{id}/attachments/{attachment}",
            get(attachment),
        )
}

struct CaseView {
    outcome: String,
    reason: String,
    status: String,
    /// (step name, its state as shown).
    steps: Vec<(String, String)>,
}

struct ActionView {
    at: String,
    step: String,
    who: String,
    action: String,
    comment: String,
}

struct AttachmentView {
    id: i64,
    filename: String,
    kind: String,
    size: String,
}

#[derive(Template)]
#[template(path = "staff/application.html")]
struct ApplicationPage {
    ctx: PageCtx,
    id: i64,
    version: i64,
    procedure: String,
    receipt: String,
    status_code: &'static str,
    status_label: String,
    submitted: String,
    notice: Option<String>,
    error: Option<String>,
    /// Problems with what was typed into an action's form, by field.
    errors: Errors,
    /// What was typed into the action forms, shown again after a problem.
    kept: Kept,
    returned_message: Option<String>,
    rows: Vec<AnswerRow>,
    attachments: Vec<AttachmentView>,
    history: Vec<HistoryRow>,
    resubmissions: Vec<ResubmissionRow>,
    cases: Vec<CaseView>,
    actions: Vec<ActionView>,
    allowed: Allowed,
    pending_step: String,
}

/// The action forms' fields as they were sent.
#[derive(Default)]
struct Kept {
    outcome: String,
    reason: String,
    message: String,
    comment: String,
}

impl Kept {
    fn from_form(form: &platform::web::FormData) -> Kept {
        Kept {
            outcome: form.text("outcome").to_string(),
            reason: form.text("reason").to_string(),
            message: form.text("message").to_string(),
            comment: form.text("comment").to_string(),
        }
    }
}

/// What went wrong with an action, for the page that shows it again.
#[derive(Default)]
struct Problem {
    /// Not about one field (someone acted first, not allowed …).
    error: Option<String>,
    errors: Errors,
    kept: Kept,
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    done: String,
}

async fn render_application(
    state: &Backoffice,
    ctx: PageCtx,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    problem: Problem,
    status: StatusCode,
) -> Result<Response, AppError> {
    let d = review::detail(state, staff, id, &ctx.tr).await?;
    let tr = &ctx.tr;
    let history = history_rows(&d, tr);
    let resubmissions = resubmission_rows(&d, tr);
    let st = d.app.status();
    let pending = d.cases.iter().find(|c| c.is_pending());
    let cases = d
        .cases
        .iter()
        .map(|c| {
            let steps = c.steps();
            CaseView {
                outcome: tr.t(&format!("approval.outcome.{}", c.outcome)).to_string(),
                reason: c.reason.clone(),
                status: tr.t(&format!("approval.status.{}", c.status)).to_string(),
                steps: steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let state = if c.status == "approved" || (i as i64) < c.current_step {
                            "done"
                        } else if c.is_pending() && i as i64 == c.current_step {
                            "current"
                        } else {
                            "todo"
                        };
                        (
                            tr.pick(&s.name, &s.name_en).to_string(),
                            tr.t(&format!("approval.step_state.{state}")).to_string(),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let actions = d
        .actions
        .iter()
        .map(|a| ActionView {
            at: format_time(&a.at, tr),
            step: a.step_name.clone(),
            who: match &a.on_behalf_of_name {
                Some(b) => tr.f(
                    "approval.on_behalf",
                    &[("actor", a.actor_name.clone()), ("for", b.clone())],
                ),
                None => a.actor_name.clone(),
            },
            action: tr.t(&format!("approval.action.{}", a.action)).to_string(),
            comment: a.comment.clone(),
        })
        .collect();
    let pending_step = pending
        .and_then(|c| {
            c.steps()
                .get(c.current_step as usize)
                .map(|s| tr.pick(&s.name, &s.name_en).to_string())
        })
        .unwrap_or_default();
    let page = ApplicationPage {
        id,
        version: d.app.version,
        procedure: tr.pick(&d.procedure.name, &d.procedure.name_en).to_string(),
        receipt: d.app.receipt_number.clone().unwrap_or_default(),
        status_code: st.code(),
        status_label: tr.t(st.label_key()).to_string(),
        submitted: d
            .app
            .submitted_at
            .as_ref()
            .map(|t| format_time(t, tr))
            .unwrap_or_default(),
        notice,
        error: problem.error,
        errors: problem.errors,
        kept: problem.kept,
        returned_message: d.returned_message,
        rows: d.rows,
        attachments: d
            .attachments
            .iter()
            .map(|a| AttachmentView {
                id: a.id,
                filename: a.filename.clone(),
                kind: platform::files::FileKind::parse(&a.kind)
                    .map(|k| k.label())
                    .unwrap_or("?")
                    .to_string(),
                size: display::size_text(a.size),
            })
            .collect(),
        history,
        resubmissions,
        cases,
        actions,
        allowed: d.allowed,
        pending_step,
        ctx,
    };
    render_status(status, &page)
}

async fn application_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let done = format!("staff.done.{}", q.done);
    let notice = (!q.done.is_empty() && ctx.tr.has(&done)).then(|| ctx.t(&done).to_string());
    render_application(
        &state,
        ctx,
        &staff.staff,
        id,
        notice,
        Problem::default(),
        StatusCode::OK,
    )
    .await
}

async fn action_post(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let staff = staff.staff;
    let kept = Kept::from_form(&form);
    let Some(action) = parse_action(&form) else {
        // A decision drafted without choosing it is the one way a known
        // action comes without what it needs.
        let mut problem = Problem {
            kept,
            ..Problem::default()
        };
        if matches!(form.text("action"), "draft" | "redraft") {
            let key = "review.error.outcome_required";
            problem.errors.add("outcome", key, ctx.t(key));
        } else {
            problem.error = Some(ctx.t("review.error.unknown_action").to_string());
        }
        let status = if problem.errors.is_empty() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return render_application(&state, ctx, &staff, id, None, problem, status).await;
    };
    let version: i64 = form.text("version").parse().unwrap_or(-1);
    let code = action.code();
    match review::act(&state, &staff, id, version, action).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/applications/{id}?done={code}")).into_response()),
        Err(ActionError::NotFound) => Err(AppError::NotFound),
        Err(ActionError::Store(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                ActionError::Stale | ActionError::InvalidTransition(_) => StatusCode::CONFLICT,
                ActionError::NotAllowed(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut problem = Problem {
                kept,
                ..Problem::default()
            };
            match e {
                // A text that is missing or too long: said at its field, in
                // words for that field.
                ActionError::Invalid(field, key) if field != "approval" => {
                    let specific = format!("{key}_{field}");
                    let message = if ctx.tr.has(&specific) {
                        ctx.t(&specific).to_string()
                    } else {
                        ctx.t(key).to_string()
                    };
                    problem.errors.add(field, key, message);
                }
                e => problem.error = Some(ctx.t(e.key()).to_string()),
            }
            render_application(&state, ctx, &staff, id, None, problem, status).await
        }
    }
}

/// Downloads an attachment (audited as a view of the application).
async fn attachment(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (id, attachment_id) = (parse_id(&id)?, parse_id(&attachment_id)?);
    let att = review::attachment(&state, &staff.staff, id, attachment_id).await?;
    download(&state, &att).await
}
