//! The plans' domain types: a plan with its visions, projects, measures and
//! roadmap entries, KPIs with their targets (and revisions) and actuals, the
//! grades decided, as the store returns them; a KPI with everything needed to
//! show and judge it ([`KpiView`]); and how a plan file's targets become
//! [`Target`]s. No I/O.

use serde::Serialize;

use platform::db::{DbBool, Timestamp};

use crate::data::{GradeRules, TargetData, TargetValue};
use crate::kpi::{self, Direction, Target};
use crate::metrics::Metric;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Plan {
    pub id: i64,
    pub organisation_id: i64,
    pub code: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub period_start: i64,
    pub period_end: i64,
    pub source: String,
    pub grade_rules: String,
    pub notes: String,
}

impl Plan {
    pub fn rules(&self) -> GradeRules {
        serde_json::from_str(&self.grade_rules).unwrap_or_default()
    }
    pub fn notes(&self) -> Vec<String> {
        serde_json::from_str(&self.notes).unwrap_or_default()
    }
    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.period_start as i32..=self.period_end as i32
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Vision {
    pub id: i64,
    pub code: String,
    pub number: String,
    pub title: String,
    pub title_en: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub plan_id: i64,
    pub vision_id: Option<i64>,
    pub code: String,
    pub number: String,
    pub title: String,
    pub title_en: String,
    pub lead_department: String,
    pub desired_state: String,
    pub policy_area: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Measure {
    pub id: i64,
    pub project_id: i64,
    pub code: String,
    pub number: String,
    pub title: String,
    pub description: String,
    pub departments: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RoadmapEntry {
    pub measure_id: i64,
    pub fiscal_year: i64,
    pub text: String,
    pub status: String,
    pub check_note: String,
    pub act_note: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KpiRow {
    pub id: i64,
    pub plan_id: i64,
    pub project_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub unit: String,
    #[sqlx(try_from = "DbBool")]
    pub cumulative: bool,
    pub direction: String,
    #[sqlx(try_from = "DbBool")]
    pub is_new: bool,
    pub baseline_fy: Option<i64>,
    pub baseline_value: Option<f64>,
    pub baseline_text: String,
    pub series: String,
    pub bound_metric: Option<String>,
    pub policy_area: String,
    pub department: String,
    pub note: String,
    pub source: String,
}

impl KpiRow {
    pub fn series(&self) -> Vec<String> {
        serde_json::from_str(&self.series).unwrap_or_default()
    }
    pub fn direction(&self) -> Direction {
        Direction::parse(&self.direction)
    }
    pub fn metric(&self) -> Option<Metric> {
        self.bound_metric.as_deref().and_then(Metric::parse)
    }
}

/// A target and, if it was revised, its revisions (oldest first).
#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    pub id: i64,
    pub series: String,
    pub fiscal_year: i32,
    pub target: Target,
    pub revisions: Vec<Revision>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub previous: Target,
    pub reason: String,
    pub revised_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActualView {
    pub series: String,
    pub fiscal_year: i32,
    pub value: Option<f64>,
    pub text: String,
    pub source: String,
    pub recorded_on: Option<String>,
    /// Computed from the platform now rather than entered.
    pub live: bool,
}

/// A KPI with everything needed to show and judge it.
#[derive(Debug, Clone, Serialize)]
pub struct KpiView {
    pub kpi: KpiRow,
    pub targets: Vec<TargetView>,
    pub actuals: Vec<ActualView>,
}

impl KpiView {
    pub fn target(&self, series: &str, fy: i32) -> Option<&TargetView> {
        self.targets
            .iter()
            .find(|t| t.series == series && t.fiscal_year == fy)
    }
    pub fn actual(&self, series: &str, fy: i32) -> Option<&ActualView> {
        self.actuals
            .iter()
            .find(|a| a.series == series && a.fiscal_year == fy)
    }
    /// The series names ("" for a KPI with one).
    pub fn series_names(&self) -> Vec<String> {
        let s = self.kpi.series();
        if s.is_empty() { vec![String::new()] } else { s }
    }
    /// The achievement ratio of a year (of the first series).
    pub fn achievement(&self, fy: i32) -> Option<f64> {
        let series = self.series_names().into_iter().next().unwrap_or_default();
        let target = self.target(&series, fy)?;
        let actual = self.actual(&series, fy).and_then(|a| a.value);
        kpi::achievement(&target.target, actual, self.kpi.direction())
    }
    /// The latest year with an achievement ratio.
    pub fn latest_achievement(&self) -> Option<(i32, f64)> {
        let mut years: Vec<i32> = self.targets.iter().map(|t| t.fiscal_year).collect();
        years.sort_unstable();
        years.dedup();
        years
            .into_iter()
            .rev()
            .find_map(|fy| self.achievement(fy).map(|r| (fy, r)))
    }

    /// The view of `kpi` from the records (those of other KPIs are skipped),
    /// with the actuals as entered.
    pub fn of(kpi: KpiRow, records: &KpiRecords) -> KpiView {
        let targets = records
            .targets
            .iter()
            .filter(|t| t.kpi_id == kpi.id)
            .map(|t| TargetView {
                id: t.id,
                series: t.series.clone(),
                fiscal_year: t.fiscal_year as i32,
                target: Target::from_parts(&t.kind, t.value, t.value_high, &t.text),
                revisions: records
                    .revisions
                    .iter()
                    .filter(|r| r.target_id == t.id)
                    .map(|r| Revision {
                        previous: Target::from_parts(
                            &r.previous_kind,
                            r.previous_value,
                            r.previous_value_high,
                            &r.previous_text,
                        ),
                        reason: r.reason.clone(),
                        revised_at: r.revised_at,
                    })
                    .collect(),
            })
            .collect();
        let actuals = records
            .actuals
            .iter()
            .filter(|a| a.kpi_id == kpi.id)
            .map(|a| ActualView {
                series: a.series.clone(),
                fiscal_year: a.fiscal_year as i32,
                value: a.value,
                text: a.text.clone(),
                source: a.source.clone(),
                recorded_on: a.recorded_on.clone(),
                live: false,
            })
            .collect();
        KpiView {
            kpi,
            targets,
            actuals,
        }
    }

    /// Puts the platform's figure for `fy` in place of the actual entered for
    /// it (of the KPI's only series), computed from `metric` on `today`.
    pub fn put_live_actual(&mut self, metric: Metric, fy: i32, value: f64, today: String) {
        self.actuals
            .retain(|a| !(a.fiscal_year == fy && a.series.is_empty()));
        self.actuals.push(ActualView {
            series: String::new(),
            fiscal_year: fy,
            value: Some(value),
            text: String::new(),
            source: format!("madoguchi:{}", metric.code()),
            recorded_on: Some(today),
            live: true,
        });
    }
}

/// A decided grade (overriding the computed one).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DecidedGrade {
    pub policy_area: String,
    pub fiscal_year: i64,
    pub grade: String,
    pub reason: String,
}

/// A target as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetRow {
    pub id: i64,
    pub kpi_id: i64,
    pub series: String,
    pub fiscal_year: i64,
    pub kind: String,
    pub value: Option<f64>,
    pub value_high: Option<f64>,
    pub text: String,
}

/// A target's revision as stored: the target it revised, the previous target and why.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RevisionRow {
    pub target_id: i64,
    pub previous_kind: String,
    pub previous_value: Option<f64>,
    pub previous_value_high: Option<f64>,
    pub previous_text: String,
    pub reason: String,
    pub revised_at: Timestamp,
}

/// An actual as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActualRow {
    pub kpi_id: i64,
    pub series: String,
    pub fiscal_year: i64,
    pub value: Option<f64>,
    pub text: String,
    pub source: String,
    pub recorded_on: Option<String>,
}

/// The targets, revisions and actuals of some KPIs, as stored (in the order
/// a KPI's view lists them: by fiscal year, revisions oldest first).
#[derive(Debug, Clone, Default)]
pub struct KpiRecords {
    pub targets: Vec<TargetRow>,
    pub revisions: Vec<RevisionRow>,
    pub actuals: Vec<ActualRow>,
}

/// An actual as a staff member enters it.
#[derive(Debug, Clone, Copy)]
pub struct NewActual<'a> {
    pub kpi_id: i64,
    pub series: &'a str,
    pub fiscal_year: i32,
    pub value: f64,
    /// Where the figure comes from (required).
    pub source: &'a str,
    /// When it was measured (an ISO date), if said.
    pub recorded_on: Option<&'a str>,
}

/// A target as a staff member revises it, with the reason (required).
#[derive(Debug, Clone)]
pub struct NewTarget<'a> {
    pub kpi_id: i64,
    pub series: &'a str,
    pub fiscal_year: i32,
    pub target: Target,
    pub reason: &'a str,
}

/// A target as a plan file writes it.
pub fn written_target(t: &TargetData) -> Target {
    target_parts(t.value, t.range, t.at_least, t.at_most, t.text.as_deref())
}

/// The target a plan file says a target was revised from.
pub fn previous_target(v: &TargetValue) -> Target {
    target_parts(v.value, v.range, v.at_least, v.at_most, v.text.as_deref())
}

fn target_parts(
    value: Option<f64>,
    range: Option<[f64; 2]>,
    at_least: Option<f64>,
    at_most: Option<f64>,
    text: Option<&str>,
) -> Target {
    if let Some(v) = value {
        Target::Value { value: v }
    } else if let Some([l, h]) = range {
        Target::Range { low: l, high: h }
    } else if let Some(v) = at_least {
        Target::AtLeast { value: v }
    } else if let Some(v) = at_most {
        Target::AtMost { value: v }
    } else {
        Target::Text {
            text: text.unwrap_or_default().to_string(),
        }
    }
}
