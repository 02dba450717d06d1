//! The public dashboard (plan → projects → KPIs, the procedure inventory)
//! and the DX office's pages (actuals with their source, target revisions
//! with their reason, grades, inventory import). Charts are SVG drawn on the
//! server, each followed by a table with the same figures.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::accounts::{Role, Staff};
use platform::i18n::Tr;
use platform::web::parse_id;
use platform::web::{
    AppError, CsrfForm, CsrfMultipart, CurrentStaff, PageCtx, PageQuery, RequestContext, render,
    render_status,
};
use serde::Deserialize;

use crate::charts::{self, YearBar};
use crate::kpi::{self, Target};
use crate::store::{self, EntryError, KpiView, Plan};
use crate::views::{self, KpiLine, RollUpRow, fy_label};
use crate::{Plans, inventory};

pub fn router() -> Router<Plans> {
    Router::new()
        .route("/plans", get(plans_page))
        .route("/plans/{id}", get(plan_page))
        .route("/plans/{id}/projects/{project}", get(project_page))
        .route("/kpis/{id}", get(kpi_page))
        .route("/inventory/{org}", get(inventory_page))
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

struct PlanRow {
    id: i64,
    title: String,
    organisation: String,
    period: String,
}

fn period(plan: &Plan, tr: &Tr) -> String {
    format!(
        "{} – {}",
        fy_label(plan.period_start as i32, tr),
        fy_label(plan.period_end as i32, tr)
    )
}

async fn org_name(state: &Plans, id: i64, tr: &Tr) -> Result<(String, String), AppError> {
    let o = state
        .platform
        .orgs
        .get(&state.platform.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((tr.pick(&o.name, &o.name_en).to_string(), o.code.clone()))
}

#[derive(Template)]
#[template(path = "plans/list.html")]
struct PlansPage {
    ctx: PageCtx,
    rows: Vec<PlanRow>,
    inventories: Vec<(String, String)>,
}

async fn plans_page(State(state): State<Plans>, ctx: PageCtx) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let mut rows = Vec::new();
    for p in store::plans(db).await? {
        rows.push(PlanRow {
            id: p.id,
            title: ctx.tr.pick(&p.title, &p.title_en).to_string(),
            organisation: org_name(&state, p.organisation_id, &ctx.tr).await?.0,
            period: period(&p, &ctx.tr),
        });
    }
    let orgs: Vec<i64> = sqlx::query_scalar(
        "select distinct organisation_id from inventory_items order by organisation_id",
    )
    .fetch_all(db.pool())
    .await
    .map_err(platform::StoreError::from)?;
    let mut inventories = Vec::new();
    for o in orgs {
        let (name, code) = org_name(&state, o, &ctx.tr).await?;
        inventories.push((code, name));
    }
    render(&PlansPage {
        ctx,
        rows,
        inventories,
    })
}

#[derive(Deserialize, Default)]
struct FyQuery {
    #[serde(default)]
    fy: String,
}

struct ProjectBlock {
    id: i64,
    number: String,
    title: String,
    lead_department: String,
    lines: Vec<KpiLine>,
}

#[derive(Template)]
#[template(path = "plans/plan.html")]
struct PlanPage {
    ctx: PageCtx,
    id: i64,
    title: String,
    organisation: String,
    org_code: String,
    period: String,
    description: String,
    source: String,
    notes: Vec<String>,
    fy_label: String,
    fy_choices: Vec<(i32, String, bool)>,
    year_labels: Vec<String>,
    total_text: String,
    by_project: Vec<RollUpRow>,
    by_vision: Vec<RollUpRow>,
    by_department: Vec<RollUpRow>,
    by_area: Vec<RollUpRow>,
    chart: String,
    projects: Vec<ProjectBlock>,
    top_level: Vec<KpiLine>,
    has_inventory: bool,
}

async fn plan_page(
    State(state): State<Plans>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<FyQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let plan = store::plan(db, id).await?.ok_or(AppError::NotFound)?;
    let tr = ctx.tr.clone();
    let projects = store::projects(db, id).await?;
    let visions = store::visions(db, id).await?;
    let kpis = store::kpis_of_plan(db, &plan).await?;
    let decided = store::decided_grades(db, id).await?;
    let fy =
        q.fy.parse::<i32>()
            .ok()
            .filter(|f| plan.years().contains(f))
            .unwrap_or_else(|| views::latest_year(&plan, &kpis));
    let summary = views::summary(&plan, &projects, &visions, &kpis, &decided, fy, &tr);
    let years = views::plan_years(&plan);
    let chart = charts::ratios(
        "plan-projects",
        &tr.f1("plans.chart_projects", "fy", fy_label(fy, &tr)),
        tr.t("plans.chart_table_below"),
        &summary
            .by_project
            .iter()
            .map(|r| (r.label.clone(), r.roll_up.average_ratio))
            .collect::<Vec<_>>(),
    );
    let blocks = projects
        .iter()
        .map(|p| ProjectBlock {
            id: p.id,
            number: p.number.clone(),
            title: tr.pick(&p.title, &p.title_en).to_string(),
            lead_department: p.lead_department.clone(),
            lines: kpis
                .iter()
                .filter(|k| k.kpi.project_id == Some(p.id))
                .flat_map(|k| views::lines(k, &years, &tr))
                .collect(),
        })
        .collect();
    let top_level = kpis
        .iter()
        .filter(|k| k.kpi.project_id.is_none())
        .flat_map(|k| views::lines(k, &years, &tr))
        .collect();
    let (organisation, org_code) = org_name(&state, plan.organisation_id, &tr).await?;
    let has_inventory: bool = sqlx::query_scalar::<_, i64>(
        "select count(*) from inventory_items where organisation_id = $1",
    )
    .bind(plan.organisation_id)
    .fetch_one(db.pool())
    .await
    .map_err(platform::StoreError::from)?
        > 0;
    let page = PlanPage {
        id,
        title: tr.pick(&plan.title, &plan.title_en).to_string(),
        organisation,
        org_code,
        period: period(&plan, &tr),
        description: plan.description.clone(),
        source: plan.source.clone(),
        notes: plan.notes(),
        fy_label: fy_label(fy, &tr),
        fy_choices: plan
            .years()
            .map(|y| (y, fy_label(y, &tr), y == fy))
            .collect(),
        year_labels: years.iter().map(|y| fy_label(*y, &tr)).collect(),
        total_text: {
            let t = &summary.plan;
            let mut s = tr.f2(
                "plans.total",
                "achieved",
                t.achieved,
                "measured",
                t.measured,
            );
            if let Some(a) = t.average_ratio {
                s.push(' ');
                s.push_str(&tr.f1("plans.total_average", "ratio", format!("{a:.2}")));
            }
            s
        },
        by_project: summary.by_project,
        by_vision: summary.by_vision,
        by_department: summary.by_department,
        by_area: summary.by_area,
        chart,
        projects: blocks,
        top_level,
        has_inventory,
        ctx,
    };
    render(&page)
}

/// A KPI block of a project page: its rows, a chart and the chart's table.
struct KpiBlock {
    id: i64,
    name: String,
    chart: String,
    lines: Vec<KpiLine>,
    bound: bool,
    note: String,
}

fn kpi_block(k: &KpiView, years: &[i32], tr: &Tr) -> KpiBlock {
    let lines = views::lines(k, years, tr);
    let first_series = k.series_names().into_iter().next().unwrap_or_default();
    let mut bars = Vec::new();
    if let (Some(fy), Some(v)) = (k.kpi.baseline_fy, k.kpi.baseline_value) {
        bars.push(YearBar {
            label: tr.f1("plans.baseline_of", "fy", fy_label(fy as i32, tr)),
            target: None,
            actual: Some(v),
        });
    }
    for fy in years {
        bars.push(YearBar {
            label: fy_label(*fy, tr),
            target: k
                .target(&first_series, *fy)
                .and_then(|t| t.target.chart_value()),
            actual: k.actual(&first_series, *fy).and_then(|a| a.value),
        });
    }
    let name = tr.pick(&k.kpi.name, &k.kpi.name_en).to_string();
    KpiBlock {
        id: k.kpi.id,
        chart: charts::target_vs_actual(
            &format!("kpi-{}", k.kpi.id),
            &tr.f1("plans.chart_kpi", "name", &name),
            tr.t("plans.chart_table_below"),
            &bars,
            (tr.t("plans.target"), tr.t("plans.actual")),
        ),
        name,
        lines,
        bound: k.kpi.metric().is_some(),
        note: k.kpi.note.clone(),
    }
}

struct MeasureRow {
    number: String,
    title: String,
    departments: String,
    cells: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "plans/project.html")]
struct ProjectPage {
    ctx: PageCtx,
    plan_id: i64,
    plan_title: String,
    number: String,
    title: String,
    lead_department: String,
    desired_state: Vec<String>,
    year_labels: Vec<String>,
    kpis: Vec<KpiBlock>,
    roadmap_chart: String,
    measures: Vec<MeasureRow>,
}

/// Splits the seeds' ①②③ lists into items.
fn circled_items(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if ('①'..='⑳').contains(&c) && !cur.trim().is_empty() {
            out.push(cur.trim().to_string());
            cur.clear();
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

async fn project_page(
    State(state): State<Plans>,
    ctx: PageCtx,
    Path((id, project)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (id, project) = (parse_id(&id)?, parse_id(&project)?);
    let db = &state.platform.db;
    let plan = store::plan(db, id).await?.ok_or(AppError::NotFound)?;
    let p = store::project(db, project)
        .await?
        .filter(|p| p.plan_id == id)
        .ok_or(AppError::NotFound)?;
    let tr = ctx.tr.clone();
    let years = views::plan_years(&plan);
    let kpis: Vec<KpiView> = store::kpis_of_plan(db, &plan)
        .await?
        .into_iter()
        .filter(|k| k.kpi.project_id == Some(p.id))
        .collect();
    let measures = store::measures(db, p.id).await?;
    let year_labels: Vec<String> = years.iter().map(|y| fy_label(*y, &tr)).collect();
    let roadmap_chart = charts::roadmap(
        "roadmap",
        tr.t("plans.roadmap_chart"),
        tr.t("plans.chart_table_below"),
        &year_labels,
        &measures
            .iter()
            .map(|(m, entries)| {
                (
                    format!("{} {}", m.number, m.title),
                    years
                        .iter()
                        .map(|fy| {
                            entries
                                .iter()
                                .find(|e| e.fiscal_year == i64::from(*fy))
                                .map(|e| e.status.as_str())
                        })
                        .collect(),
                )
            })
            .collect::<Vec<_>>(),
        |status| tr.t(&format!("plans.status.{status}")).to_string(),
    );
    let rows = measures
        .iter()
        .map(|(m, entries)| MeasureRow {
            number: m.number.clone(),
            title: m.title.clone(),
            departments: m.departments.clone(),
            cells: years
                .iter()
                .map(
                    |fy| match entries.iter().find(|e| e.fiscal_year == i64::from(*fy)) {
                        Some(e) => (
                            e.text.clone(),
                            tr.t(&format!("plans.status.{}", e.status)).to_string(),
                            e.check_note.clone(),
                            e.act_note.clone(),
                        ),
                        None => (String::new(), String::new(), String::new(), String::new()),
                    },
                )
                .collect(),
        })
        .collect();
    let page = ProjectPage {
        plan_id: id,
        plan_title: tr.pick(&plan.title, &plan.title_en).to_string(),
        number: p.number.clone(),
        title: tr.pick(&p.title, &p.title_en).to_string(),
        lead_department: p.lead_department.clone(),
        desired_state: circled_items(&p.desired_state),
        kpis: kpis.iter().map(|k| kpi_block(k, &years, &tr)).collect(),
        year_labels,
        roadmap_chart,
        measures: rows,
        ctx,
    };
    render(&page)
}

struct RevisionRow {
    fy: String,
    target: String,
    previous: String,
    reason: String,
}

struct ActualRow {
    fy: String,
    series: String,
    value: String,
    source: String,
    date: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "plans/kpi.html")]
struct KpiPage {
    ctx: PageCtx,
    plan_id: i64,
    plan_title: String,
    block: KpiBlock,
    unit: String,
    cumulative: bool,
    direction_key: &'static str,
    year_labels: Vec<String>,
    revisions: Vec<RevisionRow>,
    actuals: Vec<ActualRow>,
    source: String,
    metric_key: Option<String>,
    staff_href: Option<String>,
}

fn revision_rows(k: &KpiView, tr: &Tr) -> Vec<RevisionRow> {
    let unit = &k.kpi.unit;
    k.targets
        .iter()
        .flat_map(|t| {
            t.revisions.iter().map(move |r| RevisionRow {
                fy: fy_label(t.fiscal_year, tr),
                target: t.target.display(unit),
                previous: r.previous.display(unit),
                reason: r.reason.clone(),
            })
        })
        .collect()
}

fn actual_rows(k: &KpiView, tr: &Tr) -> Vec<ActualRow> {
    k.actuals
        .iter()
        .map(|a| ActualRow {
            fy: fy_label(a.fiscal_year, tr),
            series: a.series.clone(),
            value: a
                .value
                .map(|v| format!("{}{}", kpi::number(v), k.kpi.unit))
                .unwrap_or_else(|| a.text.clone()),
            source: if a.live {
                tr.t("plans.live_source").to_string()
            } else {
                a.source.clone()
            },
            date: a.recorded_on.clone().unwrap_or_default(),
            live: a.live,
        })
        .collect()
}

/// The signed-in DX office staff member of `organisation_id`, if the visitor is one.
fn dx_staff_of(req: &RequestContext, organisation_id: i64) -> Option<&Staff> {
    match req.session.as_ref()?.account.as_ref()? {
        platform::session::Account::Staff(s)
            if s.organisation_id == organisation_id && dx_office(s).is_ok() =>
        {
            Some(s)
        }
        _ => None,
    }
}

async fn kpi_page(
    State(state): State<Plans>,
    ctx: PageCtx,
    req: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let (plan, k) = store::kpi(db, id).await?.ok_or(AppError::NotFound)?;
    let tr = ctx.tr.clone();
    let years = views::plan_years(&plan);
    let staff_href = dx_staff_of(&req, plan.organisation_id).map(|_| format!("/staff/kpis/{id}"));
    let page = KpiPage {
        plan_id: plan.id,
        plan_title: tr.pick(&plan.title, &plan.title_en).to_string(),
        block: kpi_block(&k, &years, &tr),
        unit: k.kpi.unit.clone(),
        cumulative: k.kpi.cumulative,
        direction_key: if k.kpi.direction() == kpi::Direction::Lower {
            "plans.lower_is_better"
        } else {
            "plans.higher_is_better"
        },
        year_labels: years.iter().map(|y| fy_label(*y, &tr)).collect(),
        revisions: revision_rows(&k, &tr),
        actuals: actual_rows(&k, &tr),
        source: k.kpi.source.clone(),
        metric_key: k.kpi.metric().map(|m| format!("plans.metric.{}", m.code())),
        staff_href,
        ctx,
    };
    render(&page)
}

struct InventoryRow {
    item_id: String,
    name: String,
    status: String,
    online: bool,
    volume: String,
    priority: bool,
    planned: String,
    basis: String,
}

/// A row of the inventory's shares, formatted (1,234 and 41.2%).
struct SharesRow {
    total: String,
    online: String,
    count_share: String,
    volume_total: String,
    volume_online: String,
    volume_share: String,
}

impl SharesRow {
    fn of(s: &inventory::Shares) -> SharesRow {
        let n = |v: i64| kpi::number(v as f64);
        SharesRow {
            total: n(s.total),
            online: n(s.online),
            count_share: pct(s.count_share),
            volume_total: n(s.volume_total),
            volume_online: n(s.volume_online),
            volume_share: pct(s.volume_share),
        }
    }
}

#[derive(Template)]
#[template(path = "plans/inventory.html")]
struct InventoryPage {
    ctx: PageCtx,
    organisation: String,
    all: SharesRow,
    priority: SharesRow,
    chart: String,
    planned: Vec<(String, String)>,
    rows: Vec<InventoryRow>,
    priority_only: bool,
    org_code: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

#[derive(Deserialize, Default)]
struct InventoryQuery {
    #[serde(default)]
    priority: String,
}

async fn inventory_page(
    State(state): State<Plans>,
    ctx: PageCtx,
    Path(org): Path<String>,
    PageQuery(q): PageQuery<InventoryQuery>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let org = platform::orgs::organisation_by_code(db, &org)
        .await?
        .ok_or(AppError::NotFound)?;
    let tr = ctx.tr.clone();
    let all = inventory::shares(db, org.id, false).await?;
    let priority = inventory::shares(db, org.id, true).await?;
    let current = jp::fiscal::fiscal_year_of(platform::Timestamp::now().jst().date_naive());
    let planned = inventory::planned_shares(db, org.id, true, 2022..=current.max(2026)).await?;
    let chart = charts::ratios(
        "inventory-planned",
        tr.t("plans.inventory_chart"),
        tr.t("plans.chart_table_below"),
        &planned
            .iter()
            .map(|(fy, v)| (fy_label(*fy, &tr), *v))
            .collect::<Vec<_>>(),
    );
    let priority_only = q.priority == "1";
    let rows = inventory::items(db, org.id)
        .await?
        .into_iter()
        .filter(|(i, _)| !priority_only || i.priority)
        .map(|(i, online)| InventoryRow {
            status: tr
                .t(&format!("plans.online_status.{}", i.online_status))
                .to_string(),
            online,
            volume: i
                .annual_volume
                .map(|v| kpi::number(v as f64))
                .unwrap_or_default(),
            priority: i.priority,
            planned: i
                .planned_fy
                .map(|f| fy_label(f as i32, &tr))
                .unwrap_or_default(),
            basis: match i.basis.as_str() {
                "local" => tr.t("procedure.local").to_string(),
                "statutory" => tr.t("procedure.statutory").to_string(),
                _ => String::new(),
            },
            item_id: i.item_id,
            name: i.name,
        })
        .collect();
    let page = InventoryPage {
        organisation: tr.pick(&org.name, &org.name_en).to_string(),
        all: SharesRow::of(&all),
        priority: SharesRow::of(&priority),
        chart,
        planned: planned
            .iter()
            .map(|(fy, v)| (fy_label(*fy, &tr), pct(*v)))
            .collect(),
        rows,
        priority_only,
        org_code: org.code.clone(),
        ctx,
    };
    render(&page)
}

// --- The DX office's pages ---

pub(crate) fn dx_office(staff: &Staff) -> Result<(), AppError> {
    if staff.has(Role::DxOffice) || staff.has(Role::OrgAdmin) {
        Ok(())
    } else {
        Err(AppError::Forbidden { code: "forbidden" })
    }
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
    let db = &state.platform.db;
    let mut plans = Vec::new();
    for p in store::plans(db)
        .await?
        .into_iter()
        .filter(|p| p.organisation_id == staff.organisation_id)
    {
        let kpis = store::kpis_of_plan(db, &p)
            .await?
            .into_iter()
            .map(|k| (k.kpi.id, format!("{} {}", k.kpi.code, k.kpi.name)))
            .collect();
        let projects = store::projects(db, p.id)
            .await?
            .into_iter()
            .map(|pr| {
                (
                    pr.id,
                    format!("{} {}", pr.number, ctx.tr.pick(&pr.title, &pr.title_en)),
                )
            })
            .collect();
        plans.push(StaffPlanRow {
            id: p.id,
            title: ctx.tr.pick(&p.title, &p.title_en).to_string(),
            projects,
            kpis,
        });
    }
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
    areas: Vec<String>,
}

async fn staff_kpi_render(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let (plan, k) = store::kpi(db, id).await?.ok_or(AppError::NotFound)?;
    if plan.organisation_id != staff.organisation_id {
        return Err(AppError::NotFound);
    }
    let tr = ctx.tr.clone();
    let years = views::plan_years(&plan);
    let areas: Vec<String> = {
        let mut a: Vec<String> = store::projects(db, plan.id)
            .await?
            .into_iter()
            .map(|p| p.policy_area)
            .collect();
        a.extend(
            store::kpis_of_plan(db, &plan)
                .await?
                .into_iter()
                .map(|k| k.kpi.policy_area)
                .filter(|s| !s.is_empty()),
        );
        a.sort();
        a.dedup();
        a
    };
    let status = if error.is_some() {
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
    let Some(value) = number_field(form.text("value")) else {
        let msg = ctx.t("plans.error.not_a_number").to_string();
        return staff_kpi_render(&state, ctx, &staff.staff, id, None, Some(msg)).await;
    };
    let date = form
        .get("date")
        .filter(|d| !d.trim().is_empty())
        .map(|d| jp::wareki::parse_date(d).map(|d| d.format("%Y-%m-%d").to_string()));
    let date = match date {
        Some(Err(_)) => {
            let msg = ctx.t("plans.error.date").to_string();
            return staff_kpi_render(&state, ctx, &staff.staff, id, None, Some(msg)).await;
        }
        Some(Ok(d)) => Some(d),
        None => None,
    };
    let result = store::enter_actual(
        &state.platform.db,
        id,
        fy,
        form.text("series"),
        value,
        form.text("source"),
        date.as_deref(),
        &staff.staff,
    )
    .await;
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
pub fn target_from_fields(kind: &str, value: &str, high: &str, text: &str) -> Option<Target> {
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
    let result = store::revise_target(
        &state.platform.db,
        id,
        fy,
        form.text("series"),
        &target,
        form.text("reason"),
        &staff.staff,
    )
    .await;
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
    let db = &state.platform.db;
    let plan = store::plan(db, id)
        .await?
        .filter(|p| p.organisation_id == staff.staff.organisation_id)
        .ok_or(AppError::NotFound)?;
    let fy: i32 = form.text("fiscal_year").parse().unwrap_or(0);
    let kpi_id: i64 = form.text("kpi").parse().unwrap_or(0);
    let result = store::decide_grade(
        db,
        &plan,
        form.text("policy_area"),
        fy,
        form.text("grade"),
        form.text("reason"),
        &staff.staff,
    )
    .await;
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
    match inventory::import(
        &state.platform.db,
        staff.staff.organisation_id,
        &file.bytes,
        &file.filename,
        valid_only,
        platform::audit::Actor::Staff(staff.staff.id),
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
        Err(errors) => {
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

#[allow(clippy::too_many_arguments)]
async fn staff_project_render(
    state: &Plans,
    ctx: PageCtx,
    staff: &Staff,
    plan_id: i64,
    project_id: i64,
    notice: Option<String>,
    error: Option<(i64, i32, String)>,
    typed: Option<RoadmapCell>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let plan = store::plan(db, plan_id)
        .await?
        .filter(|p| p.organisation_id == staff.organisation_id)
        .ok_or(AppError::NotFound)?;
    let project = store::project(db, project_id)
        .await?
        .filter(|p| p.plan_id == plan.id)
        .ok_or(AppError::NotFound)?;
    let tr = &ctx.tr;
    let mut typed = typed;
    let measures = store::measures(db, project.id)
        .await?
        .into_iter()
        .map(|(m, entries)| StaffMeasure {
            id: m.id,
            title: format!("{} {}", m.number, m.title),
            cells: plan
                .years()
                .map(|fy| {
                    if let Some((mid, efy, _)) = &error
                        && *mid == m.id
                        && *efy == fy
                        && let Some(cell) = typed.take()
                    {
                        return cell;
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
    let db = &state.platform.db;
    let (plan, project, _) = store::measure(db, measure)
        .await?
        .ok_or(AppError::NotFound)?;
    if plan.organisation_id != staff.staff.organisation_id {
        return Err(AppError::NotFound);
    }
    let (status, text, check, act) = (
        form.text("status"),
        form.text("text"),
        form.text("check"),
        form.text("act"),
    );
    match store::update_roadmap_entry(db, measure, fy, status, text, check, act, &staff.staff).await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/staff/plans/{}/projects/{}?saved=1#m{measure}-{fy}",
            plan.id, project.id
        ))
        .into_response()),
        Err(EntryError::NotFound) => Err(AppError::NotFound),
        Err(EntryError::Store(e)) => Err(e.into()),
        Err(EntryError::Invalid(key)) => {
            let typed = RoadmapCell {
                fy,
                label: fy_label(fy, &ctx.tr),
                status: status.to_string(),
                text: text.to_string(),
                check: check.to_string(),
                act: act.to_string(),
            };
            let msg = ctx.t(key).to_string();
            staff_project_render(
                &state,
                ctx,
                &staff.staff,
                plan.id,
                project.id,
                None,
                Some((measure, fy, msg)),
                Some(typed),
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
        let plan: crate::data::PlanFile = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                break 'outcome fail(ctx.tr.f1("plans.error.plan_file", "detail", e.message()));
            }
        };
        let org = state
            .platform
            .orgs
            .get(&state.platform.db, staff.staff.organisation_id)
            .await?
            .ok_or(AppError::NotFound)?;
        if plan.plan.organisation != org.code {
            break 'outcome fail(
                ctx.tr
                    .f1("plans.error.plan_organisation", "code", &org.code),
            );
        }
        let problems = crate::data::check(&plan);
        if !problems.is_empty() {
            break 'outcome (
                None,
                problems
                    .into_iter()
                    .map(|(place, m)| format!("{place}: {m}"))
                    .collect(),
            );
        }
        let replace = form.fields.get("replace").is_some();
        match store::load(
            &state.platform.db,
            &plan,
            replace,
            platform::audit::Actor::Staff(staff.staff.id),
        )
        .await?
        {
            Some(_) => return Ok(Redirect::to("/staff/plans?saved=1").into_response()),
            None => fail(ctx.t("plans.error.plan_exists").to_string()),
        }
    };
    staff_plans_render(&state, ctx, &staff.staff, outcome.0, outcome.1).await
}
