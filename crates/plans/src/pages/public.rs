//! The public dashboard: every plan (and the inventories), a plan with its
//! roll-ups and KPIs for a fiscal year, a project with its KPIs and roadmap, a
//! KPI with its revisions and actuals, and an organisation's procedure
//! inventory. Charts are SVG drawn on the server, each followed by a table
//! with the same figures.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use platform::i18n::Tr;
use platform::web::parse_id;
use platform::web::{AppError, PageCtx, PageQuery, RequestContext, render};
use serde::Deserialize;

use super::blocks::{ActualRow, KpiBlock, RevisionRow, actual_rows, kpi_block, revision_rows};
use crate::charts;
use crate::inventory::Shares;
use crate::kpi;
use crate::model::Plan;
use crate::service::{Plans, inventory, kpis, plans};
use crate::views::{self, KpiLine, RollUpRow, fy_label};
use crate::web::{FyQuery, dx_staff_of};

pub fn router() -> Router<Plans> {
    Router::new()
        .route("/plans", get(plans_page))
        .route("/plans/{id}", get(plan_page))
        .route("/plans/{id}/projects/{project}", get(project_page))
        .route("/kpis/{id}", get(kpi_page))
        .route("/inventory/{org}", get(inventory_page))
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

#[derive(Template)]
#[template(path = "plans/list.html")]
struct PlansPage {
    ctx: PageCtx,
    rows: Vec<PlanRow>,
    inventories: Vec<(String, String)>,
}

/// Whether the reader is signed in as staff.
fn is_staff(ctx: &PageCtx) -> bool {
    ctx.user.as_ref().is_some_and(|u| u.is_staff)
}

async fn plans_page(State(state): State<Plans>, ctx: PageCtx) -> Result<Response, AppError> {
    let rows = plans::list(&state)
        .await?
        .into_iter()
        .map(|(p, org)| PlanRow {
            id: p.id,
            title: ctx.tr.pick(&p.title, &p.title_en).to_string(),
            organisation: ctx.tr.pick(&org.name, &org.name_en).to_string(),
            period: period(&p, &ctx.tr),
        })
        .collect();
    let inventories = inventory::organisations(&state)
        .await?
        .into_iter()
        .map(|o| (o.code.clone(), ctx.tr.pick(&o.name, &o.name_en).to_string()))
        .collect();
    render(&PlansPage {
        ctx,
        rows,
        inventories,
    })
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
    let plans::Overview {
        plan,
        organisation,
        projects,
        visions,
        kpis,
        decided,
        has_inventory,
    } = plans::overview(&state, id).await?;
    let tr = ctx.tr.clone();
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
    let page = PlanPage {
        id,
        title: tr.pick(&plan.title, &plan.title_en).to_string(),
        organisation: tr
            .pick(&organisation.name, &organisation.name_en)
            .to_string(),
        org_code: organisation.code.clone(),
        period: period(&plan, &tr),
        description: plan.description.clone(),
        // Where each figure was transcribed from, and our notes on the
        // transcription, are for staff checking it, not for residents.
        source: if is_staff(&ctx) {
            plan.source.clone()
        } else {
            String::new()
        },
        notes: if is_staff(&ctx) {
            plan.notes()
        } else {
            Vec::new()
        },
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
    let plans::ProjectOverview {
        plan,
        project: p,
        kpis,
        measures,
    } = plans::project(&state, id, project).await?;
    let tr = ctx.tr.clone();
    let years = views::plan_years(&plan);
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

async fn kpi_page(
    State(state): State<Plans>,
    ctx: PageCtx,
    req: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (plan, k) = kpis::kpi(&state, id).await?;
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
        source: if is_staff(&ctx) {
            k.kpi.source.clone()
        } else {
            String::new()
        },
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
    fn of(s: &Shares) -> SharesRow {
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
    let inventory::Figures {
        organisation: org,
        all,
        priority,
        planned,
        items,
    } = inventory::figures(&state, &org).await?;
    let tr = ctx.tr.clone();
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
    let rows = items
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
