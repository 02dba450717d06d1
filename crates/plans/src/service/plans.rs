//! Plans: every plan with its organisation (the dashboard), a plan with
//! everything its page and the API show, a project with its KPIs and
//! roadmap, a plan's KPI table; loading a plan file; and the DX office's
//! entries on a plan: a measure's roadmap entry for a year, the grade decided
//! for a policy area. Every change is audited in its transaction.

use std::sync::Arc;

use platform::accounts::Staff;
use platform::audit::{self, Actor};
use platform::db::{Db, Timestamp};
use platform::orgs::Organisation;

use super::error::{EntryError, PlanFileError, PlansError};
use super::kpis;
use super::state::Plans;
use crate::data::{self, PlanFile};
use crate::model::{DecidedGrade, KpiView, Measure, Plan, Project, RoadmapEntry, Vision};
use crate::store;

/// An organisation, from the platform's cache (it must exist).
async fn organisation(state: &Plans, id: i64) -> Result<Arc<Organisation>, PlansError> {
    state
        .platform
        .orgs
        .get(&state.platform.db, id)
        .await?
        .ok_or(PlansError::NotFound)
}

/// Every plan with its organisation, by organisation and code.
pub async fn list(state: &Plans) -> Result<Vec<(Plan, Arc<Organisation>)>, PlansError> {
    let mut out = Vec::new();
    for p in store::plans::plans(&state.platform.db).await? {
        let org = organisation(state, p.organisation_id).await?;
        out.push((p, org));
    }
    Ok(out)
}

/// A plan with everything its page and the API show of it.
#[derive(Debug, Clone)]
pub struct Overview {
    pub plan: Plan,
    pub organisation: Arc<Organisation>,
    pub projects: Vec<Project>,
    pub visions: Vec<Vision>,
    pub kpis: Vec<KpiView>,
    pub decided: Vec<DecidedGrade>,
    /// Whether the plan's organisation has a procedure inventory.
    pub has_inventory: bool,
}

/// A plan with its projects, visions, KPIs (live figures filled in), grades
/// decided and organisation.
pub async fn overview(state: &Plans, id: i64) -> Result<Overview, PlansError> {
    let db = &state.platform.db;
    let plan = store::plans::plan(db, id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let projects = store::plans::projects(db, id).await?;
    let visions = store::plans::visions(db, id).await?;
    let kpis = kpis::of_plan(db, &plan).await?;
    let decided = store::plans::decided_grades(db, id).await?;
    let organisation = organisation(state, plan.organisation_id).await?;
    let has_inventory = store::inventory::item_count(db, plan.organisation_id).await? > 0;
    Ok(Overview {
        plan,
        organisation,
        projects,
        visions,
        kpis,
        decided,
        has_inventory,
    })
}

/// A project's measures, each with its roadmap entries.
pub async fn measures(
    state: &Plans,
    project_id: i64,
) -> Result<Vec<(Measure, Vec<RoadmapEntry>)>, PlansError> {
    Ok(store::plans::measures(&state.platform.db, project_id).await?)
}

/// A project of a plan with its KPIs and its measures' roadmap.
#[derive(Debug, Clone)]
pub struct ProjectOverview {
    pub plan: Plan,
    pub project: Project,
    pub kpis: Vec<KpiView>,
    pub measures: Vec<(Measure, Vec<RoadmapEntry>)>,
}

/// A project of plan `plan_id` with its KPIs and measures.
pub async fn project(
    state: &Plans,
    plan_id: i64,
    project_id: i64,
) -> Result<ProjectOverview, PlansError> {
    let db = &state.platform.db;
    let plan = store::plans::plan(db, plan_id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let project = store::plans::project(db, project_id)
        .await?
        .filter(|p| p.plan_id == plan_id)
        .ok_or(PlansError::NotFound)?;
    let kpis = kpis::of_plan(db, &plan)
        .await?
        .into_iter()
        .filter(|k| k.kpi.project_id == Some(project.id))
        .collect();
    let measures = store::plans::measures(db, project.id).await?;
    Ok(ProjectOverview {
        plan,
        project,
        kpis,
        measures,
    })
}

/// A plan with its projects and KPIs (the KPI table, the DX office's list).
#[derive(Debug, Clone)]
pub struct PlanKpis {
    pub plan: Plan,
    pub projects: Vec<Project>,
    pub kpis: Vec<KpiView>,
}

/// A plan with its projects and KPIs.
pub async fn with_kpis(state: &Plans, id: i64) -> Result<PlanKpis, PlansError> {
    let db = &state.platform.db;
    let plan = store::plans::plan(db, id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let projects = store::plans::projects(db, plan.id).await?;
    let kpis = kpis::of_plan(db, &plan).await?;
    Ok(PlanKpis {
        plan,
        projects,
        kpis,
    })
}

/// The plans of the staff member's organisation, each with its KPIs and projects.
pub async fn of_staff(state: &Plans, staff: &Staff) -> Result<Vec<PlanKpis>, PlansError> {
    let db = &state.platform.db;
    let mut out = Vec::new();
    for plan in store::plans::plans(db)
        .await?
        .into_iter()
        .filter(|p| p.organisation_id == staff.organisation_id)
    {
        let kpis = kpis::of_plan(db, &plan).await?;
        let projects = store::plans::projects(db, plan.id).await?;
        out.push(PlanKpis {
            plan,
            projects,
            kpis,
        });
    }
    Ok(out)
}

/// A plan of the staff member's organisation.
async fn own_plan(state: &Plans, staff: &Staff, id: i64) -> Result<Plan, PlansError> {
    store::plans::plan(&state.platform.db, id)
        .await?
        .filter(|p| p.organisation_id == staff.organisation_id)
        .ok_or(PlansError::NotFound)
}

/// A project of a plan of the staff member's organisation, with its
/// measures' roadmap (the DX office's roadmap page).
pub async fn roadmap(
    state: &Plans,
    staff: &Staff,
    plan_id: i64,
    project_id: i64,
) -> Result<(Plan, Project, Vec<(Measure, Vec<RoadmapEntry>)>), PlansError> {
    let db = &state.platform.db;
    let plan = own_plan(state, staff, plan_id).await?;
    let project = store::plans::project(db, project_id)
        .await?
        .filter(|p| p.plan_id == plan.id)
        .ok_or(PlansError::NotFound)?;
    let measures = store::plans::measures(db, project.id).await?;
    Ok((plan, project, measures))
}

/// A measure with its project and plan.
pub async fn measure(state: &Plans, id: i64) -> Result<(Plan, Project, Measure), PlansError> {
    let db = &state.platform.db;
    let m = store::plans::measure(db, id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let p = store::plans::project(db, m.project_id)
        .await?
        .ok_or(PlansError::NotFound)?;
    let plan = store::plans::plan(db, p.plan_id)
        .await?
        .ok_or(PlansError::NotFound)?;
    Ok((plan, p, m))
}

/// Records a measure's roadmap entry for a fiscal year (工程: what is done
/// that year, its status, and the year's check and act notes).
pub async fn update_roadmap_entry(
    state: &Plans,
    entry: &RoadmapEntry,
    staff: &Staff,
) -> Result<(), EntryError> {
    let (plan, _, _) = measure(state, entry.measure_id).await?;
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if !plan.years().any(|fy| i64::from(fy) == entry.fiscal_year) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if !matches!(
        entry.status.as_str(),
        "planned" | "in_progress" | "done" | "delayed"
    ) {
        return Err(EntryError::Invalid("plans.error.status"));
    }
    if entry.text.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.roadmap_text"));
    }
    let entry = RoadmapEntry {
        text: entry.text.trim().to_string(),
        check_note: entry.check_note.trim().to_string(),
        act_note: entry.act_note.trim().to_string(),
        ..entry.clone()
    };
    let mut tx = state.platform.db.begin().await?;
    store::plans::upsert_roadmap_entry_in(&mut tx, &entry).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "plan.roadmap_updated",
            subject_kind: "measure",
            subject_id: Some(entry.measure_id),
            detail: serde_json::json!({"fiscal_year": entry.fiscal_year, "status": entry.status, "text": entry.text, "check": entry.check_note, "act": entry.act_note}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Decides the grade of a policy area of a plan of the staff member's
/// organisation for a year, with its reason (required).
pub async fn decide_grade(
    state: &Plans,
    plan_id: i64,
    grade: &DecidedGrade,
    staff: &Staff,
) -> Result<(), EntryError> {
    let plan = own_plan(state, staff, plan_id).await?;
    if !matches!(grade.grade.as_str(), "A" | "B" | "C" | "D") {
        return Err(EntryError::Invalid("plans.error.grade"));
    }
    if grade.reason.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.reason_required"));
    }
    if !plan.years().any(|fy| i64::from(fy) == grade.fiscal_year) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    let grade = DecidedGrade {
        reason: grade.reason.trim().to_string(),
        ..grade.clone()
    };
    let mut tx = state.platform.db.begin().await?;
    store::plans::upsert_grade_in(&mut tx, plan.id, &grade, staff.id).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "plan.grade_decided",
            subject_kind: "plan",
            subject_id: Some(plan.id),
            detail: serde_json::json!({"policy_area": grade.policy_area, "fiscal_year": grade.fiscal_year, "grade": grade.grade}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Loads a plan file the DX office uploaded: it must be its organisation's.
pub async fn load_for_staff(
    state: &Plans,
    staff: &Staff,
    file: &PlanFile,
    replace: bool,
) -> Result<Option<i64>, PlanFileError> {
    let org = organisation(state, staff.organisation_id)
        .await
        .map_err(|e| match e {
            PlansError::NotFound => PlanFileError::NotFound,
            PlansError::Store(e) => PlanFileError::Store(e),
        })?;
    if file.plan.organisation != org.code {
        return Err(PlanFileError::OtherOrganisation(org.code.clone()));
    }
    load(&state.platform.db, file, replace, Actor::Staff(staff.id)).await
}

/// Loads a plan file. A plan with the same organisation and code is left as
/// it is (`None`) unless `replace`, which replaces it and everything under it.
pub async fn load(
    db: &Db,
    file: &PlanFile,
    replace: bool,
    by: Actor,
) -> Result<Option<i64>, PlanFileError> {
    let problems = data::check(file);
    if !problems.is_empty() {
        return Err(PlanFileError::Invalid(
            problems
                .into_iter()
                .map(|(p, m)| format!("{p}: {m}"))
                .collect(),
        ));
    }
    let org = platform::orgs::organisation_by_code(db, &file.plan.organisation)
        .await?
        .ok_or_else(|| {
            PlanFileError::Invalid(vec![format!("no organisation {}", file.plan.organisation)])
        })?;
    let existing = store::plans::plan_id(db, org.id, &file.plan.code).await?;
    if existing.is_some() && !replace {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    if let Some(id) = existing {
        store::plans::delete_in(&mut tx, id).await?;
    }
    let plan_id = store::plans::insert_in(&mut tx, org.id, file, Timestamp::now()).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(org.id),
            actor: by,
            action: if existing.is_some() {
                "plan.replaced"
            } else {
                "plan.loaded"
            },
            subject_kind: "plan",
            subject_id: Some(plan_id),
            detail: serde_json::json!({"code": file.plan.code}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(plan_id))
}
