//! KPIs: a KPI with its targets (and their revisions) and actuals, the
//! platform's live figures in place of typed ones for a bound KPI; the KPI
//! search; and the DX office's entries: an actual with its source, a target
//! revised with its reason (the previous target kept). Every entry is audited
//! in its transaction.

use platform::accounts::Staff;
use platform::audit::{self, Actor};
use platform::db::{Db, Timestamp};

use super::error::{EntryError, PlansError};
use super::metrics;
use super::state::Plans;
use crate::kpi::Target;
use crate::model::{KpiRow, KpiView, NewActual, NewTarget, Plan, Project};
use crate::store;
use crate::views;

/// Every KPI of a plan, each with its targets, revisions and actuals (live ones filled in).
pub async fn of_plan(db: &Db, plan: &Plan) -> Result<Vec<KpiView>, PlansError> {
    let rows = store::kpis::of_plan(db, plan.id).await?;
    views_of(db, plan, rows).await
}

/// The views of a plan's KPIs `rows`.
async fn views_of(db: &Db, plan: &Plan, rows: Vec<KpiRow>) -> Result<Vec<KpiView>, PlansError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let records = store::kpis::records(db, &ids).await?;
    let current_fy = jp::fiscal::fiscal_year_of(Timestamp::now().jst().date_naive());
    let mut out = Vec::with_capacity(rows.len());
    for kpi in rows {
        let mut view = KpiView::of(kpi, &records);
        // Bound KPIs: the platform's figures replace typed ones for the years they cover.
        if let Some(metric) = view.kpi.metric() {
            // A snapshot (what is online now) is the current year's figure, if the plan covers it.
            let years: Vec<i32> = if metric.is_snapshot() {
                plan.years().filter(|fy| *fy == current_fy).collect()
            } else {
                plan.years().filter(|fy| *fy <= current_fy).collect()
            };
            for fy in years {
                if let Some(value) = metrics::value(db, metric, plan.organisation_id, fy).await? {
                    let today = Timestamp::now().jst().format("%Y-%m-%d").to_string();
                    view.put_live_actual(metric, fy, value, today);
                }
            }
            view.actuals.sort_by_key(|a| a.fiscal_year);
        }
        out.push(view);
    }
    Ok(out)
}

/// A KPI with its plan.
pub async fn kpi(state: &Plans, id: i64) -> Result<(Plan, KpiView), PlansError> {
    let db = &state.platform.db;
    let row = store::kpis::kpi(db, id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let plan = store::plans::plan(db, row.plan_id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let mut v = views_of(db, &plan, vec![row]).await?;
    v.pop().map(|k| (plan, k)).ok_or(PlansError::NotFound)
}

/// A KPI with its plan and its project (if it belongs to one).
pub async fn with_project(
    state: &Plans,
    id: i64,
) -> Result<(Plan, Option<Project>, KpiView), PlansError> {
    let (plan, k) = kpi(state, id).await?;
    let project = match k.kpi.project_id {
        Some(p) => store::plans::project(&state.platform.db, p).await?,
        None => None,
    };
    Ok((plan, project, k))
}

/// A KPI of the staff member's organisation as the DX office's page shows
/// it: with its plan and the policy areas a grade can be decided for.
#[derive(Debug, Clone)]
pub struct StaffKpi {
    pub plan: Plan,
    pub kpi: KpiView,
    pub areas: Vec<String>,
    /// The plan's projects (what the areas are named after).
    pub projects: Vec<crate::model::Project>,
}

/// A KPI of the staff member's organisation, for its DX office.
pub async fn for_staff(state: &Plans, staff: &Staff, id: i64) -> Result<StaffKpi, PlansError> {
    let (plan, kpi) = kpi(state, id).await?;
    if plan.organisation_id != staff.organisation_id {
        return Err(PlansError::NotFound);
    }
    let db = &state.platform.db;
    let projects = store::plans::projects(db, plan.id).await?;
    let kpis = of_plan(db, &plan).await?;
    let areas = views::policy_areas(&projects, &kpis);
    Ok(StaffKpi {
        plan,
        kpi,
        areas,
        projects,
    })
}

/// KPIs whose name contains `q`, or whose code is `q` (every KPI for an
/// empty `q`), each with its plan and project.
pub async fn search(
    state: &Plans,
    q: &str,
) -> Result<Vec<(Plan, Option<Project>, KpiView)>, PlansError> {
    let db = &state.platform.db;
    let needle = procedures::search::normalize(q);
    let mut found = Vec::new();
    for p in store::plans::plans(db).await? {
        for k in of_plan(db, &p).await? {
            if needle.is_empty()
                || procedures::search::normalize(&k.kpi.name).contains(&needle)
                || procedures::search::normalize(&k.kpi.code) == needle
            {
                found.push((p.clone(), k));
            }
        }
    }
    let mut projects: Vec<Project> = Vec::new();
    let mut out = Vec::with_capacity(found.len());
    for (plan, k) in found {
        if let Some(pid) = k.kpi.project_id
            && !projects.iter().any(|p| p.id == pid)
        {
            projects.extend(store::plans::project(db, pid).await?);
        }
        let project = k
            .kpi
            .project_id
            .and_then(|id| projects.iter().find(|p| p.id == id))
            .cloned();
        out.push((plan, project, k));
    }
    Ok(out)
}

/// Enters (or corrects) the actual of a fiscal year, with its source.
pub async fn enter_actual(
    state: &Plans,
    actual: NewActual<'_>,
    staff: &Staff,
) -> Result<(), EntryError> {
    let (plan, view) = kpi(state, actual.kpi_id).await?;
    let fy = actual.fiscal_year;
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if !actual.value.is_finite() {
        return Err(EntryError::Invalid("plans.error.not_a_number"));
    }
    let source = actual.source.trim();
    if source.is_empty() {
        return Err(EntryError::Invalid("plans.error.source_required"));
    }
    if !(actual.series.is_empty() || view.kpi.series().iter().any(|s| s == actual.series)) {
        return Err(EntryError::Invalid("plans.error.unknown_series"));
    }
    if view.kpi.metric().is_some() {
        return Err(EntryError::Invalid("plans.error.bound_kpi"));
    }
    let mut tx = state.platform.db.begin().await?;
    store::kpis::upsert_actual_in(&mut tx, NewActual { source, ..actual }, staff.id).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "kpi.actual_entered",
            subject_kind: "kpi",
            subject_id: Some(actual.kpi_id),
            detail: serde_json::json!({"fiscal_year": fy, "series": actual.series, "value": actual.value, "source": source}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Revises the target of a fiscal year; the previous target and the reason are kept.
pub async fn revise_target(
    state: &Plans,
    revision: NewTarget<'_>,
    staff: &Staff,
) -> Result<(), EntryError> {
    let (plan, view) = kpi(state, revision.kpi_id).await?;
    let fy = revision.fiscal_year;
    let reason = revision.reason.trim();
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if reason.is_empty() {
        return Err(EntryError::Invalid("plans.error.reason_required"));
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if let Target::Text { text } = &revision.target
        && text.trim().is_empty()
    {
        return Err(EntryError::Invalid("plans.error.target_empty"));
    }
    let (_, value, high, _) = revision.target.parts();
    if value.is_some_and(|v| !v.is_finite()) || high.is_some_and(|v| !v.is_finite()) {
        return Err(EntryError::Invalid("plans.error.not_a_number"));
    }
    let now = Timestamp::now();
    let mut tx = state.platform.db.begin().await?;
    match view.target(revision.series, fy) {
        Some(old) => {
            store::kpis::insert_revision_in(&mut tx, old.id, &old.target, reason, now, staff.id)
                .await?;
            store::kpis::update_target_in(&mut tx, old.id, &revision.target, now).await?;
        }
        None => {
            store::kpis::insert_target_in(
                &mut tx,
                revision.kpi_id,
                revision.series,
                fy,
                &revision.target,
                now,
            )
            .await?;
        }
    }
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "kpi.target_revised",
            subject_kind: "kpi",
            subject_id: Some(revision.kpi_id),
            detail: serde_json::json!({"fiscal_year": fy, "series": revision.series, "target": revision.target, "reason": reason}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
