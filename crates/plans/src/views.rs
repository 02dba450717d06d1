//! What the plan pages, the API and the exports show of a KPI: its row in
//! the seeds' own layout (指標項目 | 現状 | each year's 目標 / 実績 | 達成度), and
//! the roll-ups and grades of a plan for a fiscal year.

use platform::i18n::Tr;
use serde::Serialize;

use crate::kpi::{self, RollUp};
use crate::model::{DecidedGrade, KpiView, Plan, Project, Vision};

/// `令和3年度` / `FY2021`.
pub fn fy_label(fy: i32, tr: &Tr) -> String {
    if tr.is_en() {
        jp::fiscal::fiscal_year_label_en(fy)
    } else {
        jp::fiscal::fiscal_year_label_ja(fy)
    }
}

/// A KPI's cells for one fiscal year.
#[derive(Debug, Clone, Serialize)]
pub struct YearCell {
    pub fiscal_year: i32,
    pub label: String,
    /// The target as written, with its previous value if revised: `10,000（8,000からの修正）`.
    pub target: String,
    pub revised: bool,
    pub actual: String,
    pub live: bool,
    pub ratio: Option<f64>,
    pub ratio_text: String,
}

/// A KPI as a row of the seeds' table.
#[derive(Debug, Clone, Serialize)]
pub struct KpiLine {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub series: String,
    pub unit: String,
    pub is_new: bool,
    pub baseline: String,
    pub bound: bool,
    pub years: Vec<YearCell>,
}

fn actual_text(v: Option<f64>, text: &str, unit: &str) -> String {
    match v {
        Some(v) => format!("{}{unit}", kpi::number(v)),
        None => text.to_string(),
    }
}

/// The rows of a KPI (one per series) for the plan's years.
pub fn lines(k: &KpiView, years: &[i32], tr: &Tr) -> Vec<KpiLine> {
    let unit = &k.kpi.unit;
    k.series_names()
        .into_iter()
        .map(|series| {
            let baseline = match (k.kpi.baseline_value, k.kpi.baseline_text.as_str()) {
                (Some(v), _) => format!("{}{unit}", kpi::number(v)),
                (None, t) => t.to_string(),
            };
            let years = years
                .iter()
                .map(|fy| {
                    let t = k.target(&series, *fy);
                    let a = k.actual(&series, *fy);
                    let target = match t {
                        Some(t) => match t.revisions.first() {
                            Some(r) => tr.f(
                                "plans.revised_target",
                                &[
                                    ("target", t.target.display(unit)),
                                    ("previous", r.previous.display(unit)),
                                ],
                            ),
                            None => t.target.display(unit),
                        },
                        None => String::new(),
                    };
                    let ratio = t.and_then(|t| {
                        kpi::achievement(&t.target, a.and_then(|a| a.value), k.kpi.direction())
                    });
                    YearCell {
                        fiscal_year: *fy,
                        label: fy_label(*fy, tr),
                        revised: t.is_some_and(|t| !t.revisions.is_empty()),
                        target,
                        actual: a
                            .map(|a| actual_text(a.value, &a.text, unit))
                            .unwrap_or_default(),
                        live: a.is_some_and(|a| a.live),
                        ratio,
                        ratio_text: ratio.map(|r| format!("{r:.2}")).unwrap_or_default(),
                    }
                })
                .collect();
            KpiLine {
                id: k.kpi.id,
                code: k.kpi.code.clone(),
                name: tr.pick(&k.kpi.name, &k.kpi.name_en).to_string(),
                series: series.clone(),
                unit: unit.clone(),
                is_new: k.kpi.is_new,
                baseline,
                bound: k.kpi.metric().is_some(),
                years,
            }
        })
        .collect()
}

/// The years a plan's tables show: the baseline year (if any) is shown apart.
pub fn plan_years(plan: &Plan) -> Vec<i32> {
    plan.years().collect()
}

/// The latest fiscal year of the plan with at least one achievement ratio.
pub fn latest_year(plan: &Plan, kpis: &[KpiView]) -> i32 {
    plan.years()
        .rev()
        .find(|fy| kpis.iter().any(|k| k.achievement(*fy).is_some()))
        .unwrap_or(plan.period_start as i32)
}

/// The policy areas a grade can be decided for: the projects' (in the
/// plan's order) and the KPIs' own, sorted, each once.
pub fn policy_areas(projects: &[Project], kpis: &[KpiView]) -> Vec<String> {
    let mut a: Vec<String> = projects.iter().map(|p| p.policy_area.clone()).collect();
    a.extend(
        kpis.iter()
            .map(|k| k.kpi.policy_area.clone())
            .filter(|s| !s.is_empty()),
    );
    a.sort();
    a.dedup();
    a.retain(|s| !s.is_empty());
    a
}

/// What a person reads for a policy area: the project (number and title)
/// that is the area, or whose code it is; its code only if neither.
pub fn policy_area_label(area: &str, projects: &[Project], tr: &Tr) -> String {
    projects
        .iter()
        .find(|p| p.policy_area == area)
        .or_else(|| projects.iter().find(|p| p.code == area))
        .map(|p| format!("{} {}", p.number, tr.pick(&p.title, &p.title_en)))
        .unwrap_or_else(|| area.to_string())
}

/// A roll-up row: what it is of, and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct RollUpRow {
    pub label: String,
    pub roll_up: RollUp,
    /// The computed grade and, if decided otherwise, the decided one with its reason.
    pub computed_grade: Option<char>,
    pub decided_grade: Option<String>,
    pub decided_reason: String,
}

/// Roll-ups of a plan for `fy`: by project, by vision, by department, for the
/// whole plan, and the grades per policy area.
pub struct Summary {
    pub plan: RollUp,
    pub by_project: Vec<RollUpRow>,
    pub by_vision: Vec<RollUpRow>,
    pub by_department: Vec<RollUpRow>,
    pub by_area: Vec<RollUpRow>,
}

pub fn summary(
    plan: &Plan,
    projects: &[Project],
    visions: &[Vision],
    kpis: &[KpiView],
    decided: &[DecidedGrade],
    fy: i32,
    tr: &Tr,
) -> Summary {
    let ratio = |k: &KpiView| k.achievement(fy);
    let rules = plan.rules();
    let row = |label: String, ratios: Vec<Option<f64>>| RollUpRow {
        roll_up: kpi::roll_up(&ratios),
        computed_grade: None,
        decided_grade: None,
        decided_reason: String::new(),
        label,
    };
    let by_project = projects
        .iter()
        .map(|p| {
            row(
                format!("{} {}", p.number, tr.pick(&p.title, &p.title_en)),
                kpis.iter()
                    .filter(|k| k.kpi.project_id == Some(p.id))
                    .map(ratio)
                    .collect(),
            )
        })
        .collect();
    let by_vision = visions
        .iter()
        .map(|v| {
            let ids: Vec<i64> = projects
                .iter()
                .filter(|p| p.vision_id == Some(v.id))
                .map(|p| p.id)
                .collect();
            row(
                format!("{} {}", v.number, tr.pick(&v.title, &v.title_en)),
                kpis.iter()
                    .filter(|k| k.kpi.project_id.is_some_and(|p| ids.contains(&p)))
                    .map(ratio)
                    .collect(),
            )
        })
        .collect();
    let department = |k: &KpiView| -> String {
        if !k.kpi.department.is_empty() {
            return k.kpi.department.clone();
        }
        k.kpi
            .project_id
            .and_then(|p| projects.iter().find(|x| x.id == p))
            .map(|p| p.lead_department.clone())
            .unwrap_or_default()
    };
    // Departments and policy areas in the plan's order (that of its projects).
    let mut departments: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    let mut areas: Vec<(String, Vec<Option<f64>>)> = projects
        .iter()
        .map(|p| (p.policy_area.clone(), Vec::new()))
        .collect();
    fn add(groups: &mut Vec<(String, Vec<Option<f64>>)>, key: String, r: Option<f64>) {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    for k in kpis {
        let d = department(k);
        if !d.is_empty() {
            add(&mut departments, d, ratio(k));
        }
        let area = if !k.kpi.policy_area.is_empty() {
            k.kpi.policy_area.clone()
        } else {
            k.kpi
                .project_id
                .and_then(|p| projects.iter().find(|x| x.id == p))
                .map(|p| p.policy_area.clone())
                .unwrap_or_default()
        };
        if !area.is_empty() {
            add(&mut areas, area, ratio(k));
        }
    }
    areas.retain(|(a, r)| !a.is_empty() && !r.is_empty());
    areas.dedup_by(|a, b| a.0 == b.0);
    let by_department = departments.into_iter().map(|(d, r)| row(d, r)).collect();
    let by_area = areas
        .into_iter()
        .map(|(area, r)| {
            let mut row = row(area.clone(), r);
            row.computed_grade = kpi::grade(row.roll_up.average_ratio, &rules);
            if let Some(d) = decided
                .iter()
                .find(|d| d.policy_area == area && d.fiscal_year == i64::from(fy))
            {
                row.decided_grade = Some(d.grade.clone());
                row.decided_reason = d.reason.clone();
            }
            row.label = policy_area_label(&area, projects, tr);
            row
        })
        .collect();
    Summary {
        plan: kpi::roll_up(&kpis.iter().map(ratio).collect::<Vec<_>>()),
        by_project,
        by_vision,
        by_department,
        by_area,
    }
}

/// A plan's KPIs as a table in the seeds' layout, for CSV and `.xlsx`:
/// 番号 | 施策 | 指標項目 | 系列 | 単位 | 現状 | then each year's 目標 / 実績 / 達成度 | 出典.
pub fn kpi_table(
    plan: &Plan,
    projects: &[Project],
    kpis: &[KpiView],
    tr: &Tr,
) -> (Vec<String>, Vec<Vec<export::Cell>>) {
    use export::Cell;
    let years = plan_years(plan);
    let mut titles: Vec<String> = [
        "plans.col.code",
        "plans.col.project",
        "plans.col.name",
        "plans.col.series",
        "plans.col.unit",
        "plans.col.baseline_year",
        "plans.col.baseline",
    ]
    .iter()
    .map(|k| tr.t(k).to_string())
    .collect();
    for fy in &years {
        let label = fy_label(*fy, tr);
        titles.push(tr.f1("plans.col.target_of", "fy", &label));
        titles.push(tr.f1("plans.col.actual_of", "fy", &label));
        titles.push(tr.f1("plans.col.ratio_of", "fy", &label));
    }
    titles.push(tr.t("plans.col.source").to_string());
    let text = |s: &str| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    };
    let mut rows = Vec::new();
    for k in kpis {
        let project = k
            .kpi
            .project_id
            .and_then(|p| projects.iter().find(|x| x.id == p))
            .map(|p| format!("{} {}", p.number, tr.pick(&p.title, &p.title_en)))
            .unwrap_or_default();
        for line in lines(k, &years, tr) {
            let mut row = vec![
                text(&line.code),
                text(&project),
                text(&line.name),
                text(&line.series),
                text(&line.unit),
                k.kpi
                    .baseline_fy
                    .map(|fy| Cell::Text(fy_label(fy as i32, tr)))
                    .unwrap_or(Cell::Empty),
                match k.kpi.baseline_value {
                    Some(v) => Cell::Number(v),
                    None => text(&k.kpi.baseline_text),
                },
            ];
            for cell in &line.years {
                let target = k.target(&line.series, cell.fiscal_year);
                row.push(match target.map(|t| &t.target) {
                    Some(kpi::Target::Value { value }) if !cell.revised => Cell::Number(*value),
                    Some(_) => Cell::Text(cell.target.clone()),
                    None => Cell::Empty,
                });
                row.push(match k.actual(&line.series, cell.fiscal_year) {
                    Some(a) => match a.value {
                        Some(v) => Cell::Number(v),
                        None => text(&a.text),
                    },
                    None => Cell::Empty,
                });
                row.push(cell.ratio.map(Cell::Number).unwrap_or(Cell::Empty));
            }
            row.push(text(&k.kpi.source));
            rows.push(row);
        }
    }
    (titles, rows)
}
