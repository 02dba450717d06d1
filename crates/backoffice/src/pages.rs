//! The staff pages: the inbox, an application with its history and the
//! actions the staff member may take on it, the approvals waiting for them,
//! delegations, and the section's procedures with their exports and routes.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use export::CsvEncoding;
use platform::accounts::{Role, Staff};
use platform::db::{StoreError, Timestamp};
use platform::i18n::Tr;
use platform::web::parse_id;
use platform::web::{AppError, CsrfForm, CurrentStaff, PageCtx, PageQuery, render, render_status};
use procedures::applications::{self, Application, Attachment, Status};
use procedures::catalogue::{self, Procedure};
use procedures::form::FormDefinition;
use procedures::form::display::{self, AnswerRow};
use serde::Deserialize;

use crate::approvals::{self, ActionRow, CaseRow, Outcome, Step, StepRole};
use crate::inbox::{self, Filter};
use crate::review::{self, Action, ActionError};
use crate::{Backoffice, exports};

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route("/staff", get(inbox_page))
        .route("/staff/applications/{id}", get(application_page))
        .route("/staff/applications/{id}/actions", post(action_post))
        .route(
            "/staff/applications/{id}/attachments/{attachment}",
            get(attachment),
        )
        .route("/staff/approvals", get(approvals_page))
        .route(
            "/staff/delegations",
            get(delegations_page).post(delegation_post),
        )
        .route("/staff/delegations/{id}/revoke", post(delegation_revoke))
        .route("/staff/procedures", get(procedures_page))
        .route("/staff/procedures/{id}/route", post(route_post))
        .route("/staff/procedures/{id}/export.csv", get(export_csv))
        .route("/staff/procedures/{id}/export.xlsx", get(export_xlsx))
        .route("/staff/procedures/{id}/grouped.xlsx", get(export_grouped))
}

/// The inbox's query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub unread: String,
    /// `<sent time>_<id>` of the last row of the previous page.
    #[serde(default)]
    pub before: String,
}

impl InboxQuery {
    pub fn filter(&self) -> Filter {
        let date = |s: &str| {
            jp::wareki::parse_date(s)
                .ok()
                .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        Filter {
            procedure_id: self.procedure.parse().ok(),
            status: Status::parse(&self.status).filter(|s| *s != Status::Draft),
            received_from: date(&self.from),
            received_to: date(&self.to),
            unread_only: matches!(self.unread.as_str(), "1" | "true" | "on"),
            before: self
                .before
                .split_once('_')
                .and_then(|(t, id)| Some((Timestamp::parse(t)?, id.parse().ok()?))),
        }
    }
}

/// The name of the applicant, from the form's first name question.
pub fn applicant_name(
    def: &FormDefinition,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> String {
    def.questions()
        .find(|(_, q)| matches!(q.kind, procedures::form::Kind::Name { .. }))
        .and_then(|(_, q)| answers.get(&q.id))
        .map(|v| {
            let part = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
            format!("{} {}", part("family"), part("given"))
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

pub use platform::web::format_time;

struct InboxRowView {
    id: i64,
    receipt: String,
    procedure: String,
    applicant: String,
    status_code: &'static str,
    status_label: String,
    received: String,
    unread: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "staff/inbox.html")]
struct InboxPage {
    ctx: PageCtx,
    section: String,
    counts: Vec<(String, String, i64, bool)>,
    procedures: Vec<Choice>,
    statuses: Vec<Choice>,
    from: String,
    to: String,
    unread: bool,
    rows: Vec<InboxRowView>,
    next_href: Option<String>,
    first_href: Option<String>,
    query_without_status: String,
}

async fn section_procedures(state: &Backoffice, staff: &Staff) -> Result<Vec<Procedure>, AppError> {
    let all = catalogue::published_procedures(&state.platform.db).await?;
    Ok(all
        .into_iter()
        .filter(|p| p.organisation_id == staff.organisation_id && p.section_id == staff.section_id)
        .collect())
}

fn encode(s: &str) -> String {
    platform::web::encode_component(s)
}

async fn inbox_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    PageQuery(q): PageQuery<InboxQuery>,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    let db = &state.platform.db;
    let filter = q.filter();
    let rows = inbox::page(db, &staff, &filter, 50).await?;
    let counts = inbox::counts(db, &staff, &filter).await?;
    let procs = section_procedures(&state, &staff).await?;
    let section = platform::orgs::section_by_id(db, staff.section_id)
        .await?
        .map(|s| ctx.tr.pick(&s.name, &s.name_en).to_string())
        .unwrap_or_default();
    let mut views = Vec::with_capacity(rows.len());
    for r in &rows {
        let answers: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&r.answers).unwrap_or_default();
        let def = state.procedures.forms.get(db, r.form_version_id).await.ok();
        let status = Status::parse(&r.status).unwrap_or(Status::Submitted);
        views.push(InboxRowView {
            id: r.id,
            receipt: r.receipt_number.clone().unwrap_or_default(),
            procedure: r.procedure_name.clone(),
            applicant: def
                .map(|d| applicant_name(&d, &answers))
                .unwrap_or_default(),
            status_code: status.code(),
            status_label: ctx.t(status.label_key()).to_string(),
            received: format_time(&r.submitted_at, &ctx.tr),
            unread: r.unread(),
        });
    }
    let base_query = |status: &str| {
        format!(
            "procedure={}&status={}&from={}&to={}&unread={}",
            encode(&q.procedure),
            encode(status),
            encode(&q.from),
            encode(&q.to),
            encode(&q.unread)
        )
    };
    let next_href = (rows.len() == 50).then(|| {
        let last = rows.last().expect("50 rows");
        format!(
            "/staff?{}&before={}_{}",
            base_query(&q.status),
            encode(&last.submitted_at.to_db_string()),
            last.id
        )
    });
    let first_href = (!q.before.is_empty()).then(|| format!("/staff?{}", base_query(&q.status)));
    let page = InboxPage {
        section,
        counts: counts
            .iter()
            .map(|(s, n)| {
                (
                    s.code().to_string(),
                    ctx.t(s.label_key()).to_string(),
                    *n,
                    filter.status == Some(*s),
                )
            })
            .collect(),
        procedures: procs
            .iter()
            .map(|p| Choice {
                value: p.id.to_string(),
                label: ctx.tr.pick(&p.name, &p.name_en).to_string(),
                selected: filter.procedure_id == Some(p.id),
            })
            .collect(),
        statuses: Status::ALL
            .iter()
            .filter(|s| **s != Status::Draft)
            .map(|s| Choice {
                value: s.code().into(),
                label: ctx.t(s.label_key()).into(),
                selected: filter.status == Some(*s),
            })
            .collect(),
        from: q.from.clone(),
        to: q.to.clone(),
        unread: filter.unread_only,
        rows: views,
        next_href,
        first_href,
        query_without_status: base_query(""),
        ctx,
    };
    render(&page)
}

/// A change between two versions of the answers.
pub struct Change {
    pub label: String,
    pub before: String,
    pub after: String,
}

/// What changed at one resubmission.
pub struct Resubmission {
    pub at: String,
    pub changes: Vec<Change>,
}

pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub text: String,
    pub comment: String,
}

/// What the staff member may do now.
#[derive(Default)]
pub struct Allowed {
    pub start_review: bool,
    pub return_: bool,
    pub draft: bool,
    pub redraft: bool,
    pub sign: bool,
    /// Signing for an absent approver (代決): their name.
    pub on_behalf_of: Option<String>,
}

/// Everything the application page and the API show.
pub struct Detail {
    pub app: Application,
    pub def: Arc<FormDefinition>,
    pub procedure: Procedure,
    pub rows: Vec<AnswerRow>,
    pub attachments: Vec<Attachment>,
    pub history: Vec<HistoryRow>,
    pub resubmissions: Vec<Resubmission>,
    pub cases: Vec<CaseRow>,
    pub actions: Vec<ActionRow>,
    pub allowed: Allowed,
    pub returned_message: Option<String>,
}

/// Loads an application for `staff` (their organisation and section), records
/// the view in the audit log, and works out what they may do.
pub async fn detail(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
    tr: &Tr,
) -> Result<Detail, AppError> {
    let db = &state.platform.db;
    let app = review::load_for_staff(db, staff, id)
        .await
        .map_err(action_error)?;
    review::record_view(db, staff, &app, "application.viewed").await?;
    let def = state.procedures.forms.get(db, app.form_version_id).await?;
    let procedure = catalogue::procedure_by_id(db, app.procedure_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let answers = app.answers_map();
    let rows = display::rows(&def, &answers, tr);
    let attachments = applications::attachments(db, id).await?;
    let events = applications::events(db, id).await?;
    let names: Vec<(i64, String)> =
        sqlx::query_as("select id, name from staff where organisation_id = $1")
            .bind(staff.organisation_id)
            .fetch_all(db.pool())
            .await
            .map_err(StoreError::from)?;
    let who = |kind: &str, actor: Option<i64>| -> String {
        match kind {
            "staff" => actor
                .and_then(|a| names.iter().find(|(i, _)| *i == a))
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            "resident" => tr.t("staff.applicant").to_string(),
            _ => tr.t("staff.system").to_string(),
        }
    };
    let history = events
        .iter()
        .map(|e| HistoryRow {
            at: format_time(&e.at, tr),
            who: who(&e.actor_kind, e.actor_id),
            text: tr.t(&format!("event.{}", e.kind)).to_string(),
            comment: e.comment.clone(),
        })
        .collect();
    // What changed between consecutive versions of the answers sent.
    let mut resubmissions = Vec::new();
    let snapshots: Vec<(
        &applications::Event,
        serde_json::Map<String, serde_json::Value>,
    )> = events
        .iter()
        .filter_map(|e| {
            e.answers
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .map(|m| (e, m))
        })
        .collect();
    for pair in snapshots.windows(2) {
        let before = display::rows(&def, &pair[0].1, tr);
        let after = display::rows(&def, &pair[1].1, tr);
        let mut changes = Vec::new();
        for a in &after {
            let b = before.iter().find(|b| b.question_id == a.question_id);
            let old = b.map(|b| b.lines.join(" / ")).unwrap_or_default();
            let new = a.lines.join(" / ");
            if old != new {
                changes.push(Change {
                    label: a.label.clone(),
                    before: old,
                    after: new,
                });
            }
        }
        for b in &before {
            if !after.iter().any(|a| a.question_id == b.question_id) {
                changes.push(Change {
                    label: b.label.clone(),
                    before: b.lines.join(" / "),
                    after: String::new(),
                });
            }
        }
        resubmissions.push(Resubmission {
            at: format_time(&pair[1].0.at, tr),
            changes,
        });
    }
    let cases = approvals::cases(db, id).await?;
    let actions = approvals::actions(db, id).await?;
    let pending = cases.iter().find(|c| c.is_pending());
    let status = app.status();
    let section_member = staff.has(Role::SectionStaff) || staff.has(Role::Approver);
    let mut allowed = Allowed {
        start_review: section_member && status == Status::Submitted,
        return_: section_member && matches!(status, Status::Submitted | Status::InReview),
        draft: section_member && status == Status::InReview && pending.is_none(),
        redraft: section_member && pending.is_some_and(|c| c.current_step == 0),
        ..Default::default()
    };
    if let Some(c) = pending.filter(|c| c.current_step > 0 && status == Status::InReview) {
        let mut conn = db.pool().acquire().await.map_err(StoreError::from)?;
        if let Some(behalf) = approvals::may_act(&mut conn, staff, c).await? {
            allowed.sign = true;
            allowed.on_behalf_of =
                behalf.and_then(|b| names.iter().find(|(i, _)| *i == b).map(|(_, n)| n.clone()));
        }
    }
    let returned_message = if status == Status::Returned {
        events
            .iter()
            .rev()
            .find(|e| e.kind == "returned")
            .map(|e| e.comment.clone())
    } else {
        None
    };
    Ok(Detail {
        app,
        def,
        procedure,
        rows,
        attachments,
        history,
        resubmissions,
        cases,
        actions,
        allowed,
        returned_message,
    })
}

pub fn action_error(e: ActionError) -> AppError {
    match e {
        ActionError::NotFound => AppError::NotFound,
        ActionError::Store(e) => e.into(),
        ActionError::Stale => AppError::Conflict { code: "stale" },
        ActionError::InvalidTransition(_) => AppError::Conflict {
            code: "invalid_transition",
        },
        ActionError::NotAllowed(_) => AppError::Forbidden { code: "forbidden" },
        ActionError::Invalid(_, _) => AppError::bad_request("invalid_body"),
    }
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
    returned_message: Option<String>,
    rows: Vec<AnswerRow>,
    attachments: Vec<AttachmentView>,
    history: Vec<HistoryRow>,
    resubmissions: Vec<Resubmission>,
    cases: Vec<CaseView>,
    actions: Vec<ActionView>,
    allowed: Allowed,
    pending_step: String,
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
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let d = detail(state, staff, id, &ctx.tr).await?;
    let tr = &ctx.tr;
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
        error,
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
        history: d.history,
        resubmissions: d.resubmissions,
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
    let notice = (!q.done.is_empty())
        .then(|| ctx.t(&format!("staff.done.{}", q.done)).to_string())
        .filter(|n| !n.starts_with("staff.done."));
    render_application(&state, ctx, &staff.staff, id, notice, None, StatusCode::OK).await
}

/// Parses an action from form fields (pages) or JSON (API).
pub fn parse_action(fields: &platform::web::FormData) -> Option<Action> {
    let text = |k: &str| fields.text(k).to_string();
    Some(match fields.text("action") {
        "start_review" => Action::StartReview,
        "return" => Action::Return {
            message: text("message"),
        },
        "draft" => Action::Draft {
            outcome: Outcome::parse(fields.text("outcome"))?,
            reason: text("reason"),
        },
        "redraft" => Action::Redraft {
            outcome: Outcome::parse(fields.text("outcome"))?,
            reason: text("reason"),
        },
        "approve" => Action::Approve {
            comment: text("comment"),
        },
        "send_back" => Action::SendBack {
            comment: text("comment"),
        },
        "reject" => Action::Reject {
            comment: text("comment"),
        },
        _ => return None,
    })
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
    let Some(action) = parse_action(&form) else {
        let msg = ctx.t("review.error.unknown_action").to_string();
        return render_application(
            &state,
            ctx,
            &staff,
            id,
            None,
            Some(msg),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let version: i64 = form.text("version").parse().unwrap_or(-1);
    let code = action.code();
    match review::act(&state.platform.db, &staff, id, version, action).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/applications/{id}?done={code}")).into_response()),
        Err(ActionError::NotFound) => Err(AppError::NotFound),
        Err(ActionError::Store(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                ActionError::Stale | ActionError::InvalidTransition(_) => StatusCode::CONFLICT,
                ActionError::NotAllowed(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = ctx.t(e.key()).to_string();
            render_application(&state, ctx, &staff, id, None, Some(msg), status).await
        }
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
        .map_err(action_error)?;
    let att = applications::attachments(db, app.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or(AppError::NotFound)?;
    review::record_view(db, &staff.staff, &app, "attachment.downloaded").await?;
    let kind =
        platform::files::FileKind::parse(&att.kind).unwrap_or(platform::files::FileKind::Text);
    platform::web::stored_file(&state.platform.files, &att.storage_key, &att.filename, kind).await
}

struct ApprovalRow {
    id: i64,
    receipt: String,
    procedure: String,
    outcome: String,
    step: String,
}

#[derive(Template)]
#[template(path = "staff/approvals.html")]
struct ApprovalsPage {
    ctx: PageCtx,
    rows: Vec<ApprovalRow>,
}

/// The pending cases of the staff member's section that they may sign now.
pub async fn waiting_for(
    state: &Backoffice,
    staff: &Staff,
) -> Result<Vec<(CaseRow, Application)>, AppError> {
    let db = &state.platform.db;
    let pending: Vec<CaseRow> = sqlx::query_as(concat!(
        "select ",
        crate::approvals::case_columns!(),
        " from approval_cases where organisation_id = $1 and section_id = $2 and status = 'pending' and current_step > 0 order by id"
    ))
    .bind(staff.organisation_id)
    .bind(staff.section_id)
    .fetch_all(db.pool())
    .await
    .map_err(StoreError::from)?;
    let mut conn = db.pool().acquire().await.map_err(StoreError::from)?;
    let mut out = Vec::new();
    for c in pending {
        if approvals::may_act(&mut conn, staff, &c).await?.is_some()
            && let Some(app) = applications::by_id(db, c.application_id).await?
            && app.status() == Status::InReview
        {
            out.push((c, app));
        }
    }
    Ok(out)
}

async fn approvals_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let mut rows = Vec::new();
    for (c, app) in waiting_for(&state, &staff.staff).await? {
        let p = catalogue::procedure_by_id(db, app.procedure_id).await?;
        rows.push(ApprovalRow {
            id: app.id,
            receipt: app.receipt_number.unwrap_or_default(),
            procedure: p
                .map(|p| ctx.tr.pick(&p.name, &p.name_en).to_string())
                .unwrap_or_default(),
            outcome: ctx
                .t(&format!("approval.outcome.{}", c.outcome))
                .to_string(),
            step: c
                .steps()
                .get(c.current_step as usize)
                .map(|s| ctx.tr.pick(&s.name, &s.name_en).to_string())
                .unwrap_or_default(),
        });
    }
    render(&ApprovalsPage { ctx, rows })
}

struct DelegationView {
    id: i64,
    from: String,
    to: String,
    period: String,
    mine: bool,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "staff/delegations.html")]
struct DelegationsPage {
    ctx: PageCtx,
    can_delegate: bool,
    colleagues: Vec<Choice>,
    rows: Vec<DelegationView>,
    error: Option<String>,
}

async fn render_delegations(
    state: &Backoffice,
    ctx: PageCtx,
    staff: &Staff,
    error: Option<String>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let colleagues: Vec<(i64, String)> =
        sqlx::query_as("select id, name from staff where organisation_id = $1 and id <> $2 and disabled = $3 order by name")
            .bind(staff.organisation_id)
            .bind(staff.id)
            .bind(false)
            .fetch_all(db.pool())
            .await
            .map_err(StoreError::from)?;
    let rows = approvals::delegations_of(db, staff)
        .await?
        .into_iter()
        .map(|d| DelegationView {
            id: d.id,
            period: format!(
                "{} – {}",
                format_time(&d.starts_at, &ctx.tr),
                format_time(&d.ends_at, &ctx.tr)
            ),
            mine: d.from_staff_id == staff.id,
            revoked: d.revoked_at.is_some(),
            from: d.from_name,
            to: d.to_name,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &DelegationsPage {
            can_delegate: staff.has(Role::Approver),
            colleagues: colleagues
                .into_iter()
                .map(|(id, name)| Choice {
                    value: id.to_string(),
                    label: name,
                    selected: false,
                })
                .collect(),
            rows,
            error,
            ctx,
        },
    )
}

async fn delegations_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    render_delegations(&state, ctx, &staff.staff, None).await
}

/// A day given on a form, as the start of that day in Japan.
fn day(s: &str) -> Option<Timestamp> {
    let d = jp::wareki::parse_date(s).ok()?;
    let jst = chrono::FixedOffset::east_opt(9 * 3600)?;
    Some(Timestamp(
        d.and_hms_opt(0, 0, 0)?
            .and_local_timezone(jst)
            .single()?
            .with_timezone(&chrono::Utc),
    ))
}

async fn delegation_post(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    let to: i64 = form.text("to").parse().unwrap_or(0);
    let (Some(starts), Some(ends)) = (
        day(form.text("from")),
        day(form.text("until")).map(|t| t.plus(chrono::Duration::days(1))),
    ) else {
        let msg = ctx.t("approval.error.delegation_period").to_string();
        return render_delegations(&state, ctx, &staff, Some(msg)).await;
    };
    match approvals::delegate(&state.platform.db, &staff, to, starts, ends).await {
        Ok(_) => Ok(Redirect::to("/staff/delegations").into_response()),
        Err(key) => {
            let msg = ctx.t(key).to_string();
            render_delegations(&state, ctx, &staff, Some(msg)).await
        }
    }
}

async fn delegation_revoke(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    if !approvals::revoke_delegation(&state.platform.db, &staff.staff, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/staff/delegations").into_response())
}

struct ProcedureView {
    id: i64,
    name: String,
    grouping: Option<String>,
    route: Vec<Step>,
}

#[derive(Template)]
#[template(path = "staff/procedures.html")]
struct ProceduresPage {
    ctx: PageCtx,
    rows: Vec<ProcedureView>,
    admin: bool,
    error: Option<String>,
}

async fn procedures_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    render_procedures(&state, ctx, &staff.staff, None).await
}

async fn render_procedures(
    state: &Backoffice,
    ctx: PageCtx,
    staff: &Staff,
    error: Option<String>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let admin = staff.has(Role::OrgAdmin);
    // Section members see their section's procedures; an organisation admin sees all of the organisation's.
    let procs: Vec<Procedure> = catalogue::published_procedures(db)
        .await?
        .into_iter()
        .filter(|p| {
            p.organisation_id == staff.organisation_id
                && (admin || p.section_id == staff.section_id)
        })
        .filter(|p| p.current_form_id.is_some())
        .collect();
    let mut rows = Vec::new();
    for p in procs {
        let def = state
            .procedures
            .forms
            .get(db, p.current_form_id.unwrap_or_default())
            .await?;
        let grouping = exports::grouping(&def).map(|(parent, child)| {
            let label = |id: &str| {
                def.question(id)
                    .map(|q| ctx.tr.pick(&q.label, &q.label_en).to_string())
                    .unwrap_or_default()
            };
            ctx.tr.f(
                "staff.export_grouped",
                &[("a", label(&parent)), ("b", label(&child))],
            )
        });
        rows.push(ProcedureView {
            id: p.id,
            name: ctx.tr.pick(&p.name, &p.name_en).to_string(),
            grouping,
            route: approvals::route_for(db, p.id).await?,
        });
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &ProceduresPage {
            ctx,
            rows,
            admin,
            error,
        },
    )
}

/// Parses a route from the editor's fields (`name_0`, `role_0`, `simple_0` …).
pub fn route_from_form(form: &platform::web::FormData) -> Vec<Step> {
    (0..10)
        .filter_map(|i| {
            let name = form.text(&format!("name_{i}")).trim().to_string();
            if name.is_empty() {
                return None;
            }
            let role = if form.text(&format!("role_{i}")) == "approver" {
                StepRole::Approver
            } else {
                StepRole::SectionStaff
            };
            Some(Step {
                name,
                name_en: String::new(),
                role,
                simple: form.get(&format!("simple_{i}")).is_some(),
            })
        })
        .collect()
}

async fn route_post(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let staff = staff.staff;
    let p = catalogue::procedure_by_id(&state.platform.db, id)
        .await?
        .filter(|p| p.organisation_id == staff.organisation_id)
        .ok_or(AppError::NotFound)?;
    if !staff.has(Role::OrgAdmin) {
        return Err(AppError::Forbidden { code: "forbidden" });
    }
    let steps = route_from_form(&form);
    if let Err(key) = approvals::check_route(&steps) {
        let msg = ctx.t(key).to_string();
        return render_procedures(&state, ctx, &staff, Some(msg)).await;
    }
    approvals::set_route(
        &state.platform.db,
        p.organisation_id,
        p.id,
        &steps,
        Some(staff.id),
    )
    .await?;
    Ok(Redirect::to("/staff/procedures").into_response())
}

/// The procedure, if the staff member's section owns it (or they administer its organisation).
pub async fn export_procedure(
    state: &Backoffice,
    staff: &Staff,
    id: &str,
) -> Result<(Procedure, Arc<FormDefinition>), AppError> {
    let id = parse_id(id)?;
    let p = catalogue::procedure_by_id(&state.platform.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mine = p.organisation_id == staff.organisation_id && (p.section_id == staff.section_id);
    if !mine || !(staff.has(Role::SectionStaff) || staff.has(Role::Approver)) {
        return Err(AppError::NotFound);
    }
    let fid = p.current_form_id.ok_or(AppError::NotFound)?;
    let def = state.procedures.forms.get(&state.platform.db, fid).await?;
    Ok((p, def))
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    pub encoding: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl ExportQuery {
    pub fn selection(&self) -> exports::Selection {
        let q = InboxQuery {
            status: self.status.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            ..Default::default()
        };
        exports::Selection::from(&q.filter())
    }
}

async fn export_csv(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = export_procedure(&state, &staff.staff, &id).await?;
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
    let (p, def) = export_procedure(&state, &staff.staff, &id).await?;
    Ok(exports::xlsx(&state, &staff.staff, p, def, q.selection()).await?)
}

async fn export_grouped(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = export_procedure(&state, &staff.staff, &id).await?;
    Ok(exports::grouped(&state, &staff.staff, p, def, q.selection()).await?)
}
