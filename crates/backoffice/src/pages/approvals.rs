//! The approvals waiting for the staff member (決裁待ち).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use platform::web::{AppError, CurrentStaff, PageCtx, render};

use crate::service::Backoffice;
use crate::service::review;

pub fn router() -> Router<Backoffice> {
    Router::new().route("/staff/approvals", get(approvals_page))
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

async fn approvals_page(
    State(state): State<Backoffice>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    let mut rows = Vec::new();
    for (c, app) in review::waiting_for(&state, &staff.staff).await? {
        let p = review::procedure(&state, app.procedure_id).await?;
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
                .current()
                .map(|s| ctx.tr.pick(&s.name, &s.name_en).to_string())
                .unwrap_or_default(),
        });
    }
    render(&ApprovalsPage { ctx, rows })
}
