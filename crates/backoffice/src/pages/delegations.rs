//! Delegations (代決): an approver who is away lets a colleague sign for them.

use approvals::service::{self as approvals_service, ApprovalError};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::accounts::{Role, Staff};
use platform::db::Timestamp;
use platform::web::{
    AppError, CsrfForm, CurrentStaff, PageCtx, format_time, parse_id, render_status,
};

use crate::pages::common::Choice;
use crate::service::Backoffice;
use crate::service::section;

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route(
            "/staff/delegations",
            get(delegations_page).post(delegation_post),
        )
        .route("/staff/delegations/{id}/revoke", post(delegation_revoke))
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
    let colleagues = section::colleagues(state, staff).await?;
    let rows = approvals_service::delegations_of(&state.platform.db, staff)
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
    match approvals_service::delegate(&state.platform.db, &staff, to, starts, ends).await {
        Ok(_) => Ok(Redirect::to("/staff/delegations").into_response()),
        Err(ApprovalError::Store(e)) => Err(e.into()),
        Err(e) => {
            let msg = ctx.t(e.key()).to_string();
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
    if !approvals_service::revoke_delegation(&state.platform.db, &staff.staff, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/staff/delegations").into_response())
}
