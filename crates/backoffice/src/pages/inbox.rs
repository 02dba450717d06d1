//! The inbox: the section's applications, filtered by procedure, status,
//! dates received and unread, counted by status, a page of 50 at a time.

use ::procedures::applications::Status;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use platform::web::{
    AppError, CurrentStaff, PageCtx, PageQuery, encode_component, format_time, render,
};

use crate::pages::common::Choice;
use crate::service::Backoffice;
use crate::service::{inbox, section};
use crate::web::InboxQuery;

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route("/staff", get(inbox_page))
        .route("/staff/start", get(start))
}

/// Where a staff member lands after signing in: where their work is. An
/// approver with decisions waiting (or one who reviews nothing) goes to the
/// approvals, section staff to the inbox, the DX office to the plans.
async fn start(State(state): State<Backoffice>, staff: CurrentStaff) -> Result<Response, AppError> {
    use platform::accounts::Role;
    let staff = staff.staff;
    let waiting = if staff.has(Role::Approver) {
        !crate::service::review::waiting_for(&state, &staff)
            .await?
            .is_empty()
    } else {
        false
    };
    let to = if waiting || (staff.has(Role::Approver) && !staff.has(Role::SectionStaff)) {
        "/staff/approvals"
    } else if staff.has(Role::SectionStaff) {
        "/staff"
    } else if staff.has(Role::DxOffice) {
        "/staff/plans"
    } else if staff.has(Role::OrgAdmin) {
        "/staff/procedures"
    } else {
        "/staff"
    };
    Ok(axum::response::Redirect::to(to).into_response())
}

struct InboxRowView {
    id: i64,
    receipt: String,
    procedure: String,
    applicant: String,
    status_code: &'static str,
    status_label: String,
    received: String,
    /// Sent again after a correction request: when.
    resubmitted: Option<String>,
    unread: bool,
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
    /// The search words as typed.
    q: String,
    unread: bool,
    rows: Vec<InboxRowView>,
    next_href: Option<String>,
    first_href: Option<String>,
    query_without_status: String,
}

/// Rows on a page of the inbox.
const PAGE: i64 = 50;

async fn inbox_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
    PageQuery(q): PageQuery<InboxQuery>,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    let filter = q.filter();
    let (items, counts) = inbox::inbox(&state, &staff, &filter, PAGE).await?;
    let procs = section::of_section(&state, &staff).await?;
    let section = inbox::section(&state, &staff)
        .await?
        .map(|s| ctx.tr.pick(&s.name, &s.name_en).to_string())
        .unwrap_or_default();
    let views = items
        .iter()
        .map(|i| InboxRowView {
            id: i.row.id,
            receipt: i.row.receipt_number.clone().unwrap_or_default(),
            procedure: i.row.procedure_name.clone(),
            applicant: i.applicant.clone(),
            status_code: i.status.code(),
            status_label: ctx.t(i.status.label_key()).to_string(),
            received: format_time(&i.row.submitted_at, &ctx.tr),
            resubmitted: i
                .row
                .resubmitted_at
                .as_ref()
                .filter(|_| i.status == Status::Submitted)
                .map(|t| format_time(t, &ctx.tr)),
            unread: i.row.unread(),
        })
        .collect();
    let base_query = |status: &str| {
        format!(
            "procedure={}&status={}&from={}&to={}&unread={}&q={}",
            encode_component(&q.procedure),
            encode_component(status),
            encode_component(&q.from),
            encode_component(&q.to),
            encode_component(&q.unread),
            encode_component(&q.q)
        )
    };
    let next_href = items
        .last()
        .filter(|_| items.len() as i64 == PAGE)
        .map(|last| {
            format!(
                "/staff?{}&before={}",
                base_query(&q.status),
                platform::web::page_key(last.row.submitted_at, last.row.id)
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
        q: q.q.clone(),
        unread: filter.unread_only,
        rows: views,
        next_href,
        first_href,
        query_without_status: base_query(""),
        ctx,
    };
    render(&page)
}
