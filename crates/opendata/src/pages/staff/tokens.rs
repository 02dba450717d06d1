//! API tokens (`/staff/opendata/tokens`): issuing one (shown once),
//! listing and revoking them.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::accounts::Staff;
use platform::web::{AppError, CsrfForm, CurrentStaff, Errors, PageCtx, render_status};

use super::access::{opendata_staff, query};
use crate::pages::format::jst;
use crate::service::{self, OpenData};

struct TokenRow {
    id: i64,
    name: String,
    created_by: String,
    created_at: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "opendata/staff_tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    nav: &'static str,
    rows: Vec<TokenRow>,
    new_token: Option<String>,
    new_name: String,
    errors: Errors,
    notice: Option<String>,
}

async fn tokens_page(
    state: &OpenData,
    ctx: PageCtx,
    staff: &Staff,
    new_token: Option<String>,
    new_name: String,
    errors: Errors,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let rows = service::tokens::list(&state.platform.db, staff.organisation_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created_by: t.created_by,
            created_at: jst(&t.created_at, tr, true),
            last_used: t
                .last_used_at
                .as_deref()
                .map(|u| jst(u, tr, true))
                .unwrap_or_default(),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &TokensPage {
            ctx,
            nav: "tokens",
            rows,
            new_token,
            new_name,
            errors,
            notice,
        },
    )
}

/// `GET /staff/opendata/tokens`.
pub(crate) async fn tokens(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let notice = (query(raw).get("done") == Some("revoked"))
        .then(|| ctx.t("opendata.tokens.revoked").to_string());
    tokens_page(
        &state,
        ctx,
        &staff.staff,
        None,
        String::new(),
        Errors::new(),
        notice,
    )
    .await
}

/// `POST /staff/opendata/tokens`: issue (`action=create`) or revoke (`action=revoke`).
pub(crate) async fn tokens_post(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let db = &state.platform.db;
    if form.get("action") == Some("revoke") {
        let id: i64 = form
            .text("id")
            .trim()
            .parse()
            .map_err(|_| AppError::bad_request("bad_request"))?;
        service::tokens::revoke(db, staff.organisation_id, id).await?;
        return Ok(Redirect::to("/staff/opendata/tokens?done=revoked").into_response());
    }
    let name = form.text("name").trim().to_string();
    let mut errors = Errors::new();
    if name.is_empty() {
        errors.add(
            "token-name",
            "missing",
            ctx.t("opendata.tokens.name_missing"),
        );
    } else if name.chars().count() > 100 {
        errors.add("token-name", "long", ctx.t("opendata.tokens.name_long"));
    }
    if !errors.is_empty() {
        return tokens_page(&state, ctx, &staff, None, name, errors, None).await;
    }
    let created_by = format!("{} (staff:{})", staff.name, staff.id);
    let token = service::tokens::issue(db, staff.organisation_id, &name, &created_by).await?;
    tokens_page(
        &state,
        ctx,
        &staff,
        Some(token),
        String::new(),
        Errors::new(),
        None,
    )
    .await
}
