//! The plan data file format: a plan with its visions, projects, measures
//! with their roadmaps, and KPIs with baselines, targets (and their
//! revisions) and actuals, as a TOML file. The seeds' plans are transcribed in
//! this format (`crates/madoguchi/demo/plans/`), and an organisation can load
//! its own the same way (`madoguchi import plan <file>`).
//!
//! ```toml
//! [plan]
//! organisation = "160008"
//! code = "toyama-dx"
//! title = "富山県DX・働き方改革推進基本方針"
//! period_start = 2021          # fiscal years (令和3年度 = 2021)
//! period_end = 2023
//! source = "seeds/001, 資料1-2"
//!
//! [[visions]]
//! code = "v1"
//! number = "1"
//! title = "県民本位の行政サービスの実現"
//!
//! [[projects]]
//! code = "p1"
//! number = "(1)"
//! vision = "v1"
//! title = "スマート県庁推進プロジェクト"
//! lead_department = "知事政策局"
//! desired_state = "①スマートフォンやパソコンで…"
//!
//! [[projects.kpis]]
//! code = "p1-1"
//! name = "電子申請対応手続数(累計)"
//! unit = "件"
//! cumulative = true
//! baseline = { fiscal_year = 2020, value = 102 }
//! bound_metric = "procedures_online"     # optional: computed from the platform
//! targets = [
//!   { fiscal_year = 2021, value = 3300 },
//!   { fiscal_year = 2022, value = 10000, revised_from = { value = 8000 }, revision_reason = "…" },
//!   { fiscal_year = 2023, text = "全業務" },
//!   { fiscal_year = 2024, range = [90, 100] },
//!   { fiscal_year = 2025, at_least = 50 },
//! ]
//! actuals = [{ fiscal_year = 2021, value = 1792, source = "…", date = "2022-03-31" }]
//!
//! [[projects.measures]]
//! code = "p1-m1"
//! number = "①"
//! title = "行政手続のオンライン化"
//! departments = ["全部局"]
//! roadmap = [
//!   { fiscal_year = 2021, text = "…", status = "done", check = "…", act = "…" },
//! ]
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub plan: PlanHeader,
    #[serde(default)]
    pub visions: Vec<VisionData>,
    #[serde(default)]
    pub projects: Vec<ProjectData>,
    /// KPIs of the plan not under a project (e.g. Mie's policy KPIs).
    #[serde(default)]
    pub kpis: Vec<KpiData>,
    /// Progress grades (進展度) decided for policy areas, with their reasons.
    #[serde(default)]
    pub grades: Vec<GradeData>,
    /// Notes where the source contradicts itself, kept with the data.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHeader {
    /// 全国地方公共団体コード of the organisation whose plan it is.
    pub organisation: String,
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    pub period_start: i32,
    pub period_end: i32,
    #[serde(default)]
    pub description: String,
    /// Where the data comes from (seed file and table).
    #[serde(default)]
    pub source: String,
    /// Thresholds of the average achievement ratio for the progress grades A, B, C (else D).
    #[serde(default)]
    pub grade_rules: Option<GradeRules>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GradeRules {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl Default for GradeRules {
    fn default() -> Self {
        GradeRules {
            a: 0.95,
            b: 0.8,
            c: 0.6,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VisionData {
    pub code: String,
    #[serde(default)]
    pub number: String,
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectData {
    pub code: String,
    #[serde(default)]
    pub number: String,
    /// The vision's code, if the plan has visions.
    #[serde(default)]
    pub vision: Option<String>,
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    /// 主管部局.
    #[serde(default)]
    pub lead_department: String,
    /// 概ね3年後の姿 / めざす姿.
    #[serde(default)]
    pub desired_state: String,
    /// The policy area graded A–D (defaults to the project itself).
    #[serde(default)]
    pub policy_area: Option<String>,
    #[serde(default)]
    pub kpis: Vec<KpiData>,
    #[serde(default)]
    pub measures: Vec<MeasureData>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KpiData {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub unit: String,
    /// 累計: the actual of a year includes the years before.
    #[serde(default)]
    pub cumulative: bool,
    /// `higher` (default) or `lower` is better.
    #[serde(default = "higher")]
    pub direction: String,
    /// 【新】: an indicator added during the plan.
    #[serde(default)]
    pub new: bool,
    #[serde(default)]
    pub baseline: Option<Baseline>,
    /// Names of the series when the indicator has several (道路監視カメラ: 県設置, 他機関).
    #[serde(default)]
    pub series: Vec<String>,
    /// A platform metric the actuals come from (see `metrics`).
    #[serde(default)]
    pub bound_metric: Option<String>,
    /// The policy area graded A–D, for KPIs outside projects.
    #[serde(default)]
    pub policy_area: Option<String>,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub targets: Vec<TargetData>,
    #[serde(default)]
    pub actuals: Vec<ActualData>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub source: String,
}

fn higher() -> String {
    "higher".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub fiscal_year: i32,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub series: Option<String>,
}

/// A target: exactly one of `value`, `range`, `at_least`, `at_most`, `text`.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TargetValue {
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetData {
    pub fiscal_year: i32,
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub range: Option<[f64; 2]>,
    #[serde(default)]
    pub at_least: Option<f64>,
    #[serde(default)]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
    /// The target before it was revised ("10,000 (8,000からの修正)").
    #[serde(default)]
    pub revised_from: Option<TargetValue>,
    #[serde(default)]
    pub revision_reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActualData {
    pub fiscal_year: i32,
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub source: String,
    /// When it was measured or reported (YYYY-MM-DD).
    #[serde(default)]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureData {
    pub code: String,
    #[serde(default)]
    pub number: String,
    pub title: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub departments: Vec<String>,
    #[serde(default)]
    pub roadmap: Vec<RoadmapData>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoadmapData {
    pub fiscal_year: i32,
    pub text: String,
    /// `planned`, `in_progress`, `done` or `delayed`.
    #[serde(default = "planned")]
    pub status: String,
    /// Check: 施策推進にあたっての留意点 for that year.
    #[serde(default)]
    pub check: String,
    /// Act: 左の対応方針.
    #[serde(default)]
    pub act: String,
}

fn planned() -> String {
    "planned".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GradeData {
    pub policy_area: String,
    pub fiscal_year: i32,
    /// A, B, C or D.
    pub grade: String,
    #[serde(default)]
    pub reason: String,
}

/// Problems with a plan file, as (place, message).
pub fn check(file: &PlanFile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |place: String, m: &str| out.push((place, m.to_string()));
    let h = &file.plan;
    if h.period_end < h.period_start || h.period_start < 1990 || h.period_end > 2100 {
        bad(
            "plan".into(),
            "the period must run forward, between 1990 and 2100",
        );
    }
    let vision_codes: Vec<&str> = file.visions.iter().map(|v| v.code.as_str()).collect();
    let mut kpi_codes = std::collections::HashSet::new();
    let all_kpis =
        file.kpis
            .iter()
            .map(|k| ("kpis".to_string(), k))
            .chain(file.projects.iter().flat_map(|p| {
                p.kpis
                    .iter()
                    .map(move |k| (format!("projects {:?}", p.code), k))
            }));
    for (place, k) in all_kpis {
        let place = format!("{place} › kpi {:?}", k.code);
        if !kpi_codes.insert(k.code.clone()) {
            bad(place.clone(), "the KPI code is used twice");
        }
        if !matches!(k.direction.as_str(), "higher" | "lower") {
            bad(place.clone(), "direction must be higher or lower");
        }
        for t in &k.targets {
            let n = [
                t.value.is_some(),
                t.range.is_some(),
                t.at_least.is_some(),
                t.at_most.is_some(),
                t.text.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if n != 1 {
                bad(
                    format!("{place} › target {}", t.fiscal_year),
                    "give exactly one of value, range, at_least, at_most, text",
                );
            }
            if let Some(s) = &t.series
                && !k.series.contains(s)
            {
                bad(
                    format!("{place} › target {}", t.fiscal_year),
                    "unknown series",
                );
            }
        }
        for a in &k.actuals {
            if a.fiscal_year < h.period_start - 10 || a.fiscal_year > h.period_end {
                bad(
                    format!("{place} › actual {}", a.fiscal_year),
                    "the actual's fiscal year is outside the plan",
                );
            }
            if a.value.is_none() && a.text.is_none() {
                bad(
                    format!("{place} › actual {}", a.fiscal_year),
                    "an actual needs a value or a text",
                );
            }
        }
        if let Some(m) = &k.bound_metric
            && crate::metrics::Metric::parse(m).is_none()
        {
            bad(place.clone(), "unknown bound_metric");
        }
    }
    for p in &file.projects {
        if let Some(v) = &p.vision
            && !vision_codes.contains(&v.as_str())
        {
            bad(format!("projects {:?}", p.code), "unknown vision");
        }
        for m in &p.measures {
            for r in &m.roadmap {
                if !matches!(
                    r.status.as_str(),
                    "planned" | "in_progress" | "done" | "delayed"
                ) {
                    bad(
                        format!("projects {:?} › measure {:?}", p.code, m.code),
                        "status must be planned, in_progress, done or delayed",
                    );
                }
            }
        }
    }
    for g in &file.grades {
        if !matches!(g.grade.as_str(), "A" | "B" | "C" | "D") {
            bad(
                format!("grades {:?}", g.policy_area),
                "grade must be A, B, C or D",
            );
        }
    }
    out
}
