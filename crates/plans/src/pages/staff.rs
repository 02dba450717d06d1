//! The DX office's pages: its plans with their KPIs and projects, a KPI
//! with the forms for actuals (with their source) and target revisions (with
//! their reason) and for grades, a project's roadmap entries, the inventory
//! import and plan files.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::accounts::Staff;
use platform::web::parse_id;
use platform::web::{
    AppError, CsrfForm, CsrfMultipart, CurrentStaff, Errors, PageCtx, PageQuery, render_status,
};
use serde::Deserialize;

use super::blocks::{ActualRow, KpiBlock, RevisionRow, actual_rows, kpi_block, revision_rows};
use crate::data::PlanFile;
use crate::kpi::Target;
use crate::model::{DecidedGrade, NewActual, NewTarget, RoadmapEntry};
use crate::service::{EntryError, ImportError, PlanFileError, Plans, inventory, kpis, plans};
use crate::views::{self, fy_label};
use crate::web::dx_office;

pub fn router() -> Router<Plans> {
    Router::new()
        .route("/staff/plans", get(staff_plans))
        .route("/staff/kpis/{id}", get(staff_kpi))
        .route("/staff/kpis/{id}/actuals", post(staff_actual))
        .route("/staff/kpis/{id}/targets", post(staff_target))
        .route("/staff/plans/{id}/grades", post(staff_grade))
        .route("/staff/inventory", post(staff_inventory))
        .route("/staff/plans/file", post(staff_plan_file))
        .route("/staff/plans/{id}/projects/{project}", get(staff_project))
        .route("/staff/roadmap/{measure}/{fy}", post(staff_roadmap))
}

/// A plan on the DX office's page, with links to its projects' roadmaps and its KPIs.
struct StaffPlanRow {
    id: i64,
    title: String,
    projects: Vec<(i64, String)>,
    kpis: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "plans/staff_plans.html")]
struct StaffPlansPage {
    ctx: PageCtx,
    plans: Vec<StaffPlanRow>,
    /// What was done (a notice) and the rows it skipped.
    report: Option<(String, Vec<String>)>,
    errors: Vec<String>,
}

async fn staff_plans_render(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    report: Option<(String, Vec<String>)>,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let plans = plans::of_staff(state, staff)
        .await?
        .into_iter()
        .map(|p| StaffPlanRow {
            id: p.plan.id,
            title: ctx.tr.pick(&p.plan.title, &p.plan.title_en).to_string(),
            projects: p
                .projects
                .iter()
                .map(|pr| {
                    (
                        pr.id,
                        format!("{} {}", pr.number, ctx.tr.pick(&pr.title, &pr.title_en)),
                    )
                })
                .collect(),
            kpis: p
                .kpis
                .iter()
                .map(|k| {
                    (
                        k.kpi.id,
                        ctx.tr.pick(&k.kpi.name, &k.kpi.name_en).to_string(),
                    )
                })
                .collect(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &StaffPlansPage {
            ctx,
            plans,
            report,
            errors,
        },
    )
}

async fn staff_plans(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    PageQuery(q): PageQuery<SavedQuery>,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let report = (q.saved == "1").then(|| (ctx.t("plans.plan_saved").to_string(), Vec::new()));
    staff_plans_render(&state, ctx, &staff.staff, report, Vec::new()).await
}

#[derive(Template)]
#[template(path = "plans/staff_kpi.html")]
struct StaffKpiPage {
    ctx: PageCtx,
    id: i64,
    plan_id: i64,
    block: KpiBlock,
    year_labels: Vec<String>,
    years: Vec<(i32, String)>,
    series: Vec<String>,
    revisions: Vec<RevisionRow>,
    actuals: Vec<ActualRow>,
    bound: bool,
    notice: Option<String>,
    error: Option<String>,
    /// Problems with the actual's fields, each at its field.
    errors: Errors,
    /// The actual's fields as typed (after a problem), the year chosen by
    /// default otherwise.
    kept: KeptActual,
    /// Policy areas a grade can be decided for: (code, name).
    areas: Vec<(String, String)>,
}

/// The actual form's fields.
#[derive(Default)]
struct KeptActual {
    fiscal_year: i32,
    series: String,
    value: String,
    source: String,
    date: String,
}

impl KeptActual {
    fn from_form(form: &platform::web::FormData) -> KeptActual {
        KeptActual {
            fiscal_year: form.text("fiscal_year").parse().unwrap_or(0),
            series: form.text("series").to_string(),
            value: form.text("value").to_string(),
            source: form.text("source").to_string(),
            date: form.text("date").to_string(),
        }
    }
}

async fn staff_kpi_render(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    staff_kpi_render_with(
        state,
        ctx,
        staff,
        id,
        notice,
        error,
        Errors::new(),
        KeptActual::default(),
    )
    .await
}

#[allow(
    clippy::too_many_arguments,
    reason = "one page's parts; a struct would only rename them"
)]
async fn staff_kpi_render_with(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    errors: Errors,
    mut kept: KeptActual,
) -> Result<Response, AppError> {
    let kpis::StaffKpi {
        plan,
        kpi: k,
        areas,
        projects,
    } = kpis::for_staff(state, staff, id).await?;
    let tr = ctx.tr.clone();
    let areas = areas
        .iter()
        .map(|a| (a.clone(), views::policy_area_label(a, &projects, &tr)))
        .collect();
    let years = views::plan_years(&plan);
    // The year chosen by default: the current fiscal year, or the plan's
    // nearest year to it.
    if !years.contains(&kept.fiscal_year) {
        let now = jp::fiscal::fiscal_year_of(platform::db::Timestamp::now().jst().date_naive());
        kept.fiscal_year = years
            .iter()
            .copied()
            .min_by_key(|y| (y - now).abs())
            .unwrap_or(now);
    }
    let status = if error.is_some() || !errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = StaffKpiPage {
        id,
        plan_id: plan.id,
        block: kpi_block(&k, &years, &tr),
        year_labels: years.iter().map(|y| fy_label(*y, &tr)).collect(),
        years: years.iter().map(|y| (*y, fy_label(*y, &tr))).collect(),
        series: k.kpi.series(),
        revisions: revision_rows(&k, &tr),
        actuals: actual_rows(&k, &tr),
        bound: k.kpi.metric().is_some(),
        notice,
        error,
        errors,
        kept,
        areas,
        ctx,
    };
    render_status(status, &page)
}

/// Where an entry leads: on to `next`, or back to the KPI's page with the reason it was refused.
async fn after_entry(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    kpi_id: i64,
    result: Result<(), EntryError>,
    next: String,
) -> Result<Response, AppError> {
    match result {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(EntryError::NotFound) => Err(AppError::NotFound),
        Err(EntryError::Store(e)) => Err(e.into()),
        Err(EntryError::Invalid(key)) => {
            let msg = ctx.t(key).to_string();
            staff_kpi_render(state, ctx, staff, kpi_id, None, Some(msg)).await
        }
    }
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    #[serde(default)]
    saved: String,
}

async fn staff_kpi(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<SavedQuery>,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let notice = (q.saved == "1").then(|| ctx.t("plans.saved").to_string());
    staff_kpi_render(&state, ctx, &staff.staff, parse_id(&id)?, notice, None).await
}

fn number_field(s: &str) -> Option<f64> {
    let s = jp::width::normalize_width(s).replace([',', ' '], "");
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

async fn staff_actual(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let id = parse_id(&id)?;
    let fy: i32 = form.text("fiscal_year").parse().unwrap_or(0);
    // Problems at their fields, with everything typed kept.
    let mut errors = Errors::new();
    let value = number_field(form.text("value"));
    if value.is_none() {
        let key = "plans.error.not_a_number";
        errors.add("a-value", key, ctx.t(key));
    }
    let date = form
        .get("date")
        .filter(|d| !d.trim().is_empty())
        .map(|d| jp::wareki::parse_date(d).map(|d| d.format("%Y-%m-%d").to_string()));
    let date = match date {
        Some(Err(_)) => {
            let key = "plans.error.date";
            errors.add("a-date", key, ctx.t(key));
            None
        }
        Some(Ok(d)) => Some(d),
        None => None,
    };
    let (Some(value), true) = (value, errors.is_empty()) else {
        let kept = KeptActual::from_form(&form);
        return staff_kpi_render_with(&state, ctx, &staff.staff, id, None, None, errors, kept)
            .await;
    };
    let actual = NewActual {
        kpi_id: id,
        series: form.text("series"),
        fiscal_year: fy,
        value,
        source: form.text("source"),
        recorded_on: date.as_deref(),
    };
    let result = kpis::enter_actual(&state, actual, &staff.staff).await;
    after_entry(
        &state,
        ctx,
        &staff.staff,
        id,
        result,
        format!("/staff/kpis/{id}?saved=1"),
    )
    .await
}

/// A target from the revision form's fields.
fn target_from_fields(kind: &str, value: &str, high: &str, text: &str) -> Option<Target> {
    Some(match kind {
        "value" => Target::Value {
            value: number_field(value)?,
        },
        "range" => Target::Range {
            low: number_field(value)?,
            high: number_field(high)?,
        },
        "at_least" => Target::AtLeast {
            value: number_field(value)?,
        },
        "at_most" => Target::AtMost {
            value: number_field(value)?,
        },
        "text" => Target::Text {
            text: text.trim().to_string(),
        },
        _ => return None,
    })
}

async fn staff_target(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let id = parse_id(&id)?;
    let fy: i32 = form.text("fiscal_year").parse().unwrap_or(0);
    let Some(target) = target_from_fields(
        form.text("kind"),
        form.text("value"),
        form.text("value_high"),
        form.text("text"),
    ) else {
        let msg = ctx.t("plans.error.not_a_number").to_string();
        return staff_kpi_render(&state, ctx, &staff.staff, id, None, Some(msg)).await;
    };
    let revision = NewTarget {
        kpi_id: id,
        series: form.text("series"),
        fiscal_year: fy,
        target,
        reason: form.text("reason"),
    };
    let result = kpis::revise_target(&state, revision, &staff.staff).await;
    after_entry(
        &state,
        ctx,
        &staff.staff,
        id,
        result,
        format!("/staff/kpis/{id}?saved=1"),
    )
    .await
}

async fn staff_grade(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let id = parse_id(&id)?;
    let fy: i32 = form.text("fiscal_year").parse().unwrap_or(0);
    let kpi_id: i64 = form.text("kpi").parse().unwrap_or(0);
    let grade = DecidedGrade {
        policy_area: form.text("policy_area").to_string(),
        fiscal_year: i64::from(fy),
        grade: form.text("grade").to_string(),
        reason: form.text("reason").to_string(),
    };
    let result = plans::decide_grade(&state, id, &grade, &staff.staff).await;
    after_entry(
        &state,
        ctx,
        &staff.staff,
        kpi_id,
        result,
        format!("/plans/{id}?fy={fy}"),
    )
    .await
}

async fn staff_inventory(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    form: CsrfMultipart,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let Some(file) = form.files.first() else {
        let msg = ctx.t("plans.error.file_missing").to_string();
        return staff_plans_render(&state, ctx, &staff.staff, None, vec![msg]).await;
    };
    let valid_only = form.fields.get("valid_rows_only").is_some();
    match inventory::import_for_staff(
        &state,
        &staff.staff,
        &file.bytes,
        &file.filename,
        valid_only,
    )
    .await
    {
        Ok(report) => {
            let skipped = report.skipped.iter().map(|e| e.message(&ctx.tr)).collect();
            let notice = ctx.tr.f1("plans.imported", "count", report.imported);
            staff_plans_render(
                &state,
                ctx,
                &staff.staff,
                Some((notice, skipped)),
                Vec::new(),
            )
            .await
        }
        Err(ImportError::Rows(errors)) => {
            let lines = errors.iter().map(|e| e.message(&ctx.tr)).collect();
            staff_plans_render(&state, ctx, &staff.staff, None, lines).await
        }
    }
}

/// One roadmap cell on the DX office's project page.
struct RoadmapCell {
    fy: i32,
    label: String,
    status: String,
    text: String,
    check: String,
    act: String,
}

struct StaffMeasure {
    id: i64,
    title: String,
    cells: Vec<RoadmapCell>,
}

#[derive(Template)]
#[template(path = "plans/staff_project.html")]
struct StaffProjectPage {
    ctx: PageCtx,
    plan_id: i64,
    plan_title: String,
    project_id: i64,
    title: String,
    measures: Vec<StaffMeasure>,
    statuses: Vec<(&'static str, String)>,
    notice: Option<String>,
    /// The refused entry: (measure id, fiscal year, message), its fields as typed.
    error: Option<(i64, i32, String)>,
}

/// A roadmap entry the DX office's project page refused: the cell as typed
/// and why.
struct Refused {
    measure_id: i64,
    cell: RoadmapCell,
    message: String,
}

async fn staff_project_render(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    plan_id: i64,
    project_id: i64,
    notice: Option<String>,
    refused: Option<Refused>,
) -> Result<Response, AppError> {
    let (plan, project, measures) = plans::roadmap(state, staff, plan_id, project_id).await?;
    let tr = &ctx.tr;
    let error = refused
        .as_ref()
        .map(|r| (r.measure_id, r.cell.fy, r.message.clone()));
    let mut typed = refused;
    let measures = measures
        .into_iter()
        .map(|(m, entries)| StaffMeasure {
            id: m.id,
            title: format!("{} {}", m.number, m.title),
            cells: plan
                .years()
                .map(|fy| {
                    if let Some(r) = typed.take_if(|r| r.measure_id == m.id && r.cell.fy == fy) {
                        return r.cell;
                    }
                    let e = entries.iter().find(|e| e.fiscal_year == i64::from(fy));
                    RoadmapCell {
                        fy,
                        label: fy_label(fy, tr),
                        status: e
                            .map(|e| e.status.clone())
                            .unwrap_or_else(|| "planned".into()),
                        text: e.map(|e| e.text.clone()).unwrap_or_default(),
                        check: e.map(|e| e.check_note.clone()).unwrap_or_default(),
                        act: e.map(|e| e.act_note.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let statuses = ["planned", "in_progress", "done", "delayed"]
        .into_iter()
        .map(|st| (st, tr.t(&format!("plans.status.{st}")).to_string()))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = StaffProjectPage {
        plan_id: plan.id,
        plan_title: tr.pick(&plan.title, &plan.title_en).to_string(),
        project_id: project.id,
        title: format!(
            "{} {}",
            project.number,
            tr.pick(&project.title, &project.title_en)
        ),
        measures,
        statuses,
        notice,
        error,
        ctx,
    };
    render_status(status, &page)
}

async fn staff_project(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path((id, project)): Path<(String, String)>,
    PageQuery(q): PageQuery<SavedQuery>,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let notice = (q.saved == "1").then(|| ctx.t("plans.saved").to_string());
    staff_project_render(
        &state,
        ctx,
        &staff.staff,
        parse_id(&id)?,
        parse_id(&project)?,
        notice,
        None,
    )
    .await
}

async fn staff_roadmap(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path((measure, fy)): Path<(String, String)>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let measure = parse_id(&measure)?;
    let fy: i32 = fy.parse().map_err(|_| AppError::NotFound)?;
    let (plan, project, _) = plans::measure(&state, measure).await?;
    if plan.organisation_id != staff.staff.organisation_id {
        return Err(AppError::NotFound);
    }
    let (status, text, check, act) = (
        form.text("status"),
        form.text("text"),
        form.text("check"),
        form.text("act"),
    );
    let entry = RoadmapEntry {
        measure_id: measure,
        fiscal_year: i64::from(fy),
        text: text.to_string(),
        status: status.to_string(),
        check_note: check.to_string(),
        act_note: act.to_string(),
    };
    match plans::update_roadmap_entry(&state, &entry, &staff.staff).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/staff/plans/{}/projects/{}?saved=1#m{measure}-{fy}",
            plan.id, project.id
        ))
        .into_response()),
        Err(EntryError::NotFound) => Err(AppError::NotFound),
        Err(EntryError::Store(e)) => Err(e.into()),
        Err(EntryError::Invalid(key)) => {
            let refused = Refused {
                measure_id: measure,
                cell: RoadmapCell {
                    fy,
                    label: fy_label(fy, &ctx.tr),
                    status: entry.status,
                    text: entry.text,
                    check: entry.check_note,
                    act: entry.act_note,
                },
                message: ctx.t(key).to_string(),
            };
            staff_project_render(
                &state,
                ctx,
                &staff.staff,
                plan.id,
                project.id,
                None,
                Some(refused),
            )
            .await
        }
    }
}

/// A plan file uploaded by the DX office: a new plan, or (with `replace`)
/// the new version of one of its organisation's plans.
async fn staff_plan_file(
    State(state): State<Plans>,
    ctx: PageCtx,
    staff: CurrentStaff,
    form: CsrfMultipart,
) -> Result<Response, AppError> {
    dx_office(&staff.staff)?;
    let fail = |msg: String| (None, vec![msg]);
    let outcome: (Option<(String, Vec<String>)>, Vec<String>) = 'outcome: {
        let Some(file) = form.files.first() else {
            break 'outcome fail(ctx.t("plans.error.file_missing").to_string());
        };
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            break 'outcome fail(ctx.t("plans.error.plan_utf8").to_string());
        };
        let plan: PlanFile = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                break 'outcome fail(ctx.tr.f1("plans.error.plan_file", "detail", e.message()));
            }
        };
        let replace = form.fields.get("replace").is_some();
        match plans::load_for_staff(&state, &staff.staff, &plan, replace).await {
            Ok(Some(_)) => return Ok(Redirect::to("/staff/plans?saved=1").into_response()),
            Ok(None) => fail(ctx.t("plans.error.plan_exists").to_string()),
            Err(PlanFileError::OtherOrganisation(code)) => {
                fail(ctx.tr.f1("plans.error.plan_organisation", "code", &code))
            }
            Err(PlanFileError::Invalid(problems)) => (None, problems),
            Err(PlanFileError::NotFound) => return Err(AppError::NotFound),
            Err(PlanFileError::Store(e)) => return Err(e.into()),
        }
    };
    staff_plans_render(&state, ctx, &staff.staff, outcome.0, outcome.1).await
}
