//! The section's procedures: their approval routes (organisation admins
//! edit them) and the exports of their applications.

use ::procedures::applications::Status;
use approvals::model::{Step, StepRole};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::accounts::{Role, Staff};
use platform::web::{
    AppError, CsrfForm, CurrentStaff, PageCtx, PageQuery, parse_id, render_status,
};

use crate::service::Backoffice;
use crate::service::exports;
use crate::service::section::{self, RouteError};
use crate::web::{ExportQuery, csv_response, workbook_response};

pub fn router() -> Router<Backoffice> {
    Router::new()
        .route("/staff/procedures", get(procedures_page))
        .route("/staff/procedures/{id}/route", post(route_post))
        .route("/staff/procedures/{id}/export.csv", get(export_csv))
        .route("/staff/procedures/{id}/export.xlsx", get(export_xlsx))
        .route("/staff/procedures/{id}/grouped.xlsx", get(export_grouped))
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
    /// The statuses an export can be limited to: (code, label).
    statuses: Vec<(&'static str, String)>,
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
    let admin = staff.has(Role::OrgAdmin);
    // Section members see their section's procedures; an organisation admin sees all of the organisation's.
    let mut rows = Vec::new();
    for section::WithRoute {
        procedure: p,
        def,
        route,
    } in section::with_routes(state, staff).await?
    {
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
            route,
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
            statuses: Status::ALL
                .iter()
                .filter(|s| **s != Status::Draft)
                .map(|s| (s.code(), ctx.t(s.label_key()).to_string()))
                .collect(),
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
    let steps = route_from_form(&form);
    match section::set_route(&state, &staff, id, &steps).await {
        Ok(()) => Ok(Redirect::to("/staff/procedures").into_response()),
        Err(RouteError::NotFound) => Err(AppError::NotFound),
        Err(RouteError::Forbidden) => Err(AppError::Forbidden { code: "forbidden" }),
        Err(RouteError::Invalid(key)) => {
            let msg = ctx.t(key).to_string();
            render_procedures(&state, ctx, &staff, Some(msg)).await
        }
        Err(RouteError::Store(e)) => Err(e.into()),
    }
}

async fn export_csv(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = exports::exportable(&state, &staff.staff, parse_id(&id)?).await?;
    let export = exports::csv(&state, &staff.staff, p, def, q.selection(), q.encoding()).await?;
    Ok(csv_response(export))
}

async fn export_xlsx(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = exports::exportable(&state, &staff.staff, parse_id(&id)?).await?;
    let export = exports::xlsx(&state, &staff.staff, p, def, q.selection()).await?;
    workbook_response(export).await
}

async fn export_grouped(
    State(state): State<Backoffice>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ExportQuery>,
) -> Result<Response, AppError> {
    let (p, def) = exports::exportable(&state, &staff.staff, parse_id(&id)?).await?;
    let export = exports::grouped(&state, &staff.staff, p, def, q.selection()).await?;
    workbook_response(export).await
}
