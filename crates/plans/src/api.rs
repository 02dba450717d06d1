//! `/api/v1` for plans, KPIs and the inventory: open to anyone for reading
//! (the plans are public documents), with the DX office's entries under
//! `/api/v1/staff`, authorised exactly like the staff pages.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use export::CsvEncoding;
use platform::orgs::Organisation;
use platform::web::parse_id;
use platform::web::{
    ApiJson, ApiMultipart, ApiQuery, AppError, CurrentStaff, FieldError, RequestContext, api_flag,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::kpi::Target;
use crate::model::{KpiView, NewActual, NewTarget, Plan, Project};
use crate::service::{ImportError, Plans, inventory, kpis, plans};
use crate::views::{self, RollUpRow};
use crate::web::{dx_office, entry_error, invalid};

pub fn router() -> Router<Plans> {
    Router::new()
        .route("/api/v1/plans", get(list_plans))
        .route("/api/v1/plans/{id}", get(get_plan))
        .route("/api/v1/plans/{id}/kpis.csv", get(plan_csv))
        .route("/api/v1/plans/{id}/kpis.xlsx", get(plan_xlsx))
        .route("/api/v1/kpis", get(search_kpis))
        .route("/api/v1/kpis/{id}", get(get_kpi))
        .route("/api/v1/inventory/{org}", get(get_inventory))
        .route("/api/v1/staff/kpis/{id}/actuals", post(enter_actual))
        .route("/api/v1/staff/kpis/{id}/targets", post(revise_target))
        .route("/api/v1/staff/inventory", post(import_inventory))
}

fn plan_json(p: &Plan, org: &Organisation) -> Value {
    json!({
        "id": p.id,
        "code": p.code,
        "organisation": {"code": org.code, "name": org.name, "name_en": org.name_en},
        "title": p.title,
        "title_en": p.title_en,
        "period": {"start_fiscal_year": p.period_start, "end_fiscal_year": p.period_end},
        "source": p.source,
        "links": {"html": format!("/plans/{}", p.id), "kpis_csv": format!("/api/v1/plans/{}/kpis.csv", p.id)},
    })
}

async fn list_plans(State(state): State<Plans>) -> Result<Response, AppError> {
    let items: Vec<Value> = plans::list(&state)
        .await?
        .iter()
        .map(|(p, org)| plan_json(p, org))
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

/// A KPI as the API gives it: targets as the plan writes them (with their
/// revisions), actuals with their source, and the achievement ratio per year.
pub fn kpi_json(plan: &Plan, project: Option<&Project>, k: &KpiView) -> Value {
    let targets: Vec<Value> = k
        .targets
        .iter()
        .map(|t| {
            json!({
                "series": t.series,
                "fiscal_year": t.fiscal_year,
                "target": t.target,
                "display": t.target.display(&k.kpi.unit),
                "revisions": t.revisions.iter().map(|r| json!({
                    "previous": r.previous,
                    "reason": r.reason,
                    "revised_at": r.revised_at.jst().to_rfc3339(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let actuals: Vec<Value> = k
        .actuals
        .iter()
        .map(|a| {
            json!({
                "series": a.series,
                "fiscal_year": a.fiscal_year,
                "value": a.value,
                "text": a.text,
                "source": a.source,
                "recorded_on": a.recorded_on,
                "live": a.live,
            })
        })
        .collect();
    let achievement: Vec<Value> = plan
        .years()
        .filter_map(|fy| {
            k.achievement(fy)
                .map(|r| json!({"fiscal_year": fy, "ratio": r}))
        })
        .collect();
    json!({
        "id": k.kpi.id,
        "code": k.kpi.code,
        "plan": {"id": plan.id, "title": plan.title},
        "project": project.map(|p| json!({"id": p.id, "number": p.number, "title": p.title})),
        "name": k.kpi.name,
        "name_en": k.kpi.name_en,
        "unit": k.kpi.unit,
        "cumulative": k.kpi.cumulative,
        "direction": k.kpi.direction,
        "is_new": k.kpi.is_new,
        "series": k.kpi.series(),
        "baseline": {"fiscal_year": k.kpi.baseline_fy, "value": k.kpi.baseline_value, "text": k.kpi.baseline_text},
        "bound_metric": k.kpi.bound_metric,
        "targets": targets,
        "actuals": actuals,
        "achievement": achievement,
        "department": k.kpi.department,
        "source": k.kpi.source,
        "note": k.kpi.note,
        "links": {"html": format!("/kpis/{}", k.kpi.id)},
    })
}

fn roll_up_json(rows: &[RollUpRow]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            json!({
                "label": r.label,
                "measured": r.roll_up.measured,
                "achieved": r.roll_up.achieved,
                "average_ratio": r.roll_up.average_ratio,
                "computed_grade": r.computed_grade.map(String::from),
                "decided_grade": r.decided_grade,
                "decided_reason": r.decided_reason,
            })
        })
        .collect()
}

/// `fy`: the fiscal year the summary is about (default: the latest with figures).
#[derive(Deserialize, Default)]
struct ApiFyQuery {
    #[serde(default)]
    fy: Option<i32>,
}

async fn get_plan(
    State(state): State<Plans>,
    req: RequestContext,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ApiFyQuery>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let plans::Overview {
        plan,
        organisation,
        projects,
        visions,
        kpis,
        decided,
        ..
    } = plans::overview(&state, parse_id(&id)?).await?;
    if q.fy.is_some_and(|f| !(1..=9999).contains(&f)) {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            detail: Some("fy must be a year from 1 to 9999".into()),
        });
    }
    let fy =
        q.fy.filter(|f| plan.years().contains(f))
            .unwrap_or_else(|| views::latest_year(&plan, &kpis));
    let summary = views::summary(&plan, &projects, &visions, &kpis, &decided, fy, &tr);
    let mut more = vec![
        ("description", json!(plan.description)),
        ("notes", json!(plan.notes())),
        ("visions", json!(visions.iter().map(|v| json!({"id": v.id, "number": v.number, "title": v.title, "title_en": v.title_en})).collect::<Vec<_>>())),
    ];
    let mut project_values = Vec::with_capacity(projects.len());
    for p in &projects {
        let measures: Vec<Value> = plans::measures(&state, p.id)
            .await?
            .into_iter()
            .map(|(m, entries)| {
                json!({
                    "id": m.id,
                    "number": m.number,
                    "title": m.title,
                    "description": m.description,
                    "departments": m.departments,
                    "roadmap": entries.iter().map(|e| json!({
                        "fiscal_year": e.fiscal_year,
                        "text": e.text,
                        "status": e.status,
                        "check": e.check_note,
                        "act": e.act_note,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        project_values.push(json!({
            "id": p.id,
            "number": p.number,
            "title": p.title,
            "title_en": p.title_en,
            "vision_id": p.vision_id,
            "lead_department": p.lead_department,
            "desired_state": p.desired_state,
            "policy_area": p.policy_area,
            "kpis": kpis.iter().filter(|k| k.kpi.project_id == Some(p.id)).map(|k| k.kpi.id).collect::<Vec<_>>(),
            "measures": measures,
            "links": {"html": format!("/plans/{}/projects/{}", plan.id, p.id)},
        }));
    }
    more.push(("projects", json!(project_values)));
    more.push((
        "kpis",
        json!(
            kpis.iter()
                .map(|k| kpi_json(
                    &plan,
                    k.kpi
                        .project_id
                        .and_then(|id| projects.iter().find(|p| p.id == id)),
                    k
                ))
                .collect::<Vec<_>>()
        ),
    ));
    more.push((
        "roll_ups",
        json!({
        "fiscal_year": fy,
        "plan": {"measured": summary.plan.measured, "achieved": summary.plan.achieved, "average_ratio": summary.plan.average_ratio},
        "by_project": roll_up_json(&summary.by_project),
        "by_vision": roll_up_json(&summary.by_vision),
        "by_department": roll_up_json(&summary.by_department),
        "by_policy_area": roll_up_json(&summary.by_area),
        }),
    ));
    let mut body = plan_json(&plan, &organisation);
    if let Some(fields) = body.as_object_mut() {
        for (name, value) in more {
            fields.insert(name.to_string(), value);
        }
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize, Default)]
struct CsvQuery {
    #[serde(default)]
    encoding: Option<String>,
}

async fn plan_table(
    state: &Plans,
    id: &str,
    tr: &platform::i18n::Tr,
) -> Result<(Plan, Vec<String>, Vec<Vec<export::Cell>>), AppError> {
    let plans::PlanKpis {
        plan,
        projects,
        kpis,
    } = plans::with_kpis(state, parse_id(id)?).await?;
    let (titles, rows) = views::kpi_table(&plan, &projects, &kpis, tr);
    Ok((plan, titles, rows))
}

fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

async fn plan_csv(
    State(state): State<Plans>,
    req: RequestContext,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CsvQuery>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let encoding = match q.encoding.as_deref() {
        None | Some("utf8") => CsvEncoding::Utf8Bom,
        Some("sjis") => CsvEncoding::ShiftJis,
        _ => return Err(AppError::bad_request("unknown_encoding")),
    };
    let (plan, titles, rows) = plan_table(&state, &id, &tr).await?;
    let mut csv = export::CsvRows::new(encoding);
    let mut body = csv.titles(&titles);
    for r in &rows {
        body.extend(csv.row(r));
    }
    let content_type = if encoding == CsvEncoding::ShiftJis {
        "text/csv; charset=Shift_JIS"
    } else {
        "text/csv; charset=utf-8"
    };
    Ok(attachment(
        content_type,
        &format!("plan-{}-kpis.csv", plan.code),
        body,
    ))
}

async fn plan_xlsx(
    State(state): State<Plans>,
    req: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let tr = req.tr(&state.platform);
    let (plan, titles, rows) = plan_table(&state, &id, &tr).await?;
    let sheet = tr.pick(&plan.title, &plan.title_en).to_string();
    let body = tokio::task::spawn_blocking(move || export::table_workbook(&sheet, &titles, &rows))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("plan-{}-kpis.xlsx", plan.code),
        body,
    ))
}

#[derive(Deserialize, Default)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search_kpis(
    State(state): State<Plans>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, AppError> {
    let items: Vec<Value> = kpis::search(&state, q.q.trim())
        .await?
        .iter()
        .map(|(plan, project, k)| kpi_json(plan, project.as_ref(), k))
        .collect();
    Ok(Json(json!({ "items": items })).into_response())
}

async fn get_kpi(State(state): State<Plans>, Path(id): Path<String>) -> Result<Response, AppError> {
    let (plan, project, k) = kpis::with_project(&state, parse_id(&id)?).await?;
    Ok(Json(kpi_json(&plan, project.as_ref(), &k)).into_response())
}

async fn get_inventory(
    State(state): State<Plans>,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    let inventory::Figures {
        organisation: org,
        all,
        priority,
        planned,
        items,
    } = inventory::figures(&state, &org).await?;
    if items.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(Json(json!({
        "organisation": {"code": org.code, "name": org.name, "name_en": org.name_en},
        "shares": {
            "all": all,
            "priority": priority,
        },
        "planned_priority_volume_share": planned.iter().map(|(fy, v)| json!({"fiscal_year": fy, "share": v})).collect::<Vec<_>>(),
        "items": items.iter().map(|(i, online)| {
            let mut v = json!(i);
            if let Some(fields) = v.as_object_mut() {
                fields.insert("online".to_string(), json!(online));
            }
            v
        }).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActualBody {
    fiscal_year: i32,
    #[serde(default)]
    series: String,
    value: f64,
    #[serde(default)]
    source: String,
    #[serde(default)]
    recorded_on: Option<String>,
}

async fn enter_actual(
    State(state): State<Plans>,
    req: RequestContext,
    staff: CurrentStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ActualBody>,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let tr = req.tr(&state.platform);
    let id = parse_id(&id)?;
    if !(1..=9999).contains(&body.fiscal_year) {
        return Err(invalid(
            "fiscal_year".into(),
            "plans.error.year_outside_plan",
            &tr,
        ));
    }
    let date = match body.recorded_on.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => Some(
            jp::wareki::parse_date(d)
                .map_err(|_| invalid("recorded_on".into(), "plans.error.date", &tr))?
                .format("%Y-%m-%d")
                .to_string(),
        ),
        None => None,
    };
    let actual = NewActual {
        kpi_id: id,
        series: &body.series,
        fiscal_year: body.fiscal_year,
        value: body.value,
        source: &body.source,
        recorded_on: date.as_deref(),
    };
    kpis::enter_actual(&state, actual, &staff.staff)
        .await
        .map_err(|e| entry_error(e, "value", &tr))?;
    let (plan, k) = kpis::kpi(&state, id).await?;
    Ok((StatusCode::OK, Json(kpi_json(&plan, None, &k))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetBody {
    kind: String,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    low: Option<f64>,
    #[serde(default)]
    high: Option<f64>,
    #[serde(default)]
    text: Option<String>,
}

impl TargetBody {
    fn target(&self) -> Option<Target> {
        Some(match self.kind.as_str() {
            "value" => Target::Value { value: self.value? },
            "range" => Target::Range {
                low: self.low?,
                high: self.high?,
            },
            "at_least" => Target::AtLeast { value: self.value? },
            "at_most" => Target::AtMost { value: self.value? },
            "text" => Target::Text {
                text: self.text.clone()?.trim().to_string(),
            },
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevisionBody {
    fiscal_year: i32,
    #[serde(default)]
    series: String,
    target: TargetBody,
    #[serde(default)]
    reason: String,
}

async fn revise_target(
    State(state): State<Plans>,
    req: RequestContext,
    staff: CurrentStaff,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevisionBody>,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let tr = req.tr(&state.platform);
    let id = parse_id(&id)?;
    if !(1..=9999).contains(&body.fiscal_year) {
        return Err(invalid(
            "fiscal_year".into(),
            "plans.error.year_outside_plan",
            &tr,
        ));
    }
    let target = body
        .target
        .target()
        .ok_or_else(|| invalid("target".into(), "plans.error.target_invalid", &tr))?;
    let revision = NewTarget {
        kpi_id: id,
        series: &body.series,
        fiscal_year: body.fiscal_year,
        target,
        reason: &body.reason,
    };
    kpis::revise_target(&state, revision, &staff.staff)
        .await
        .map_err(|e| entry_error(e, "target", &tr))?;
    let (plan, k) = kpis::kpi(&state, id).await?;
    Ok((StatusCode::OK, Json(kpi_json(&plan, None, &k))).into_response())
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    #[serde(default)]
    valid_rows_only: Option<String>,
}

async fn import_inventory(
    State(state): State<Plans>,
    req: RequestContext,
    staff: CurrentStaff,
    ApiQuery(q): ApiQuery<ImportQuery>,
    ApiMultipart(form): ApiMultipart,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    platform::web::only_fields(&form, &["file"])?;
    let tr = req.tr(&state.platform);
    let file = form
        .files
        .first()
        .ok_or_else(|| invalid("file".into(), "plans.error.file_missing", &tr))?;
    let valid_only = api_flag(q.valid_rows_only.as_deref(), "valid_rows_only")?;
    match inventory::import_for_staff(&state, &staff.staff, &file.bytes, &file.filename, valid_only)
        .await
    {
        Ok(report) => Ok(Json(json!({
            "imported": report.imported,
            "skipped": report.skipped.iter().map(|e| json!({"line": e.line, "column": e.column, "code": e.code, "value": e.value, "message": e.message(&tr)})).collect::<Vec<_>>(),
        }))
        .into_response()),
        Err(ImportError::Rows(errors)) => Err(AppError::Validation {
            fields: errors
                .iter()
                .map(|e| FieldError {
                    field: format!("file.line{}.{}", e.line, e.column),
                    code: e.code.to_string(),
                    message: e.message(&tr),
                })
                .collect(),
        }),
    }
}
