//! Plans in the database: a plan file written with everything under it (or
//! a plan deleted with everything under it, to be replaced), a plan with its
//! visions, projects, measures and roadmap entries, roadmap entries and grades
//! recorded.

use std::collections::HashMap;

use platform::db::{Db, StoreResult, Timestamp, WriteTx};

use super::kpis;
use crate::data::PlanFile;
use crate::model::{DecidedGrade, Measure, Plan, Project, RoadmapEntry, Vision};

/// The id of the organisation's plan with `code`, if it has one.
pub async fn plan_id(db: &Db, organisation_id: i64, code: &str) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("select id from plans where organisation_id = $1 and code = $2")
            .bind(organisation_id)
            .bind(code)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Writes a plan file (checked) as a plan of `organisation_id`, with its
/// visions, KPIs, projects, measures, roadmap entries and grades; returns the
/// plan's id.
pub async fn insert_in(
    tx: &mut WriteTx,
    organisation_id: i64,
    file: &PlanFile,
    now: Timestamp,
) -> StoreResult<i64> {
    let h = &file.plan;
    let plan_id: i64 = sqlx::query_scalar(
        "insert into plans (organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, \
         notes, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning id",
    )
    .bind(organisation_id)
    .bind(&h.code)
    .bind(&h.title)
    .bind(&h.title_en)
    .bind(&h.description)
    .bind(i64::from(h.period_start))
    .bind(i64::from(h.period_end))
    .bind(&h.source)
    .bind(serde_json::to_string(&h.grade_rules.unwrap_or_default()).unwrap_or_default())
    .bind(serde_json::to_string(&file.notes).unwrap_or_else(|_| "[]".into()))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let mut visions = HashMap::new();
    for (i, v) in file.visions.iter().enumerate() {
        let id: i64 = sqlx::query_scalar(
            "insert into visions (plan_id, code, number, title, title_en, description, position) values ($1, $2, $3, $4, $5, $6, $7) returning id",
        )
        .bind(plan_id)
        .bind(&v.code)
        .bind(&v.number)
        .bind(&v.title)
        .bind(&v.title_en)
        .bind(&v.description)
        .bind(i as i64)
        .fetch_one(&mut **tx)
        .await?;
        visions.insert(v.code.clone(), id);
    }
    let mut position = 0i64;
    for kpi in &file.kpis {
        kpis::insert_in(tx, plan_id, None, kpi, position, now).await?;
        position += 1;
    }
    for (i, p) in file.projects.iter().enumerate() {
        let project_id: i64 = sqlx::query_scalar(
            "insert into projects (plan_id, vision_id, code, number, title, title_en, lead_department, desired_state, policy_area, position) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
        )
        .bind(plan_id)
        .bind(p.vision.as_ref().and_then(|v| visions.get(v).copied()))
        .bind(&p.code)
        .bind(&p.number)
        .bind(&p.title)
        .bind(&p.title_en)
        .bind(&p.lead_department)
        .bind(&p.desired_state)
        .bind(p.policy_area.clone().unwrap_or_else(|| p.code.clone()))
        .bind(i as i64)
        .fetch_one(&mut **tx)
        .await?;
        for kpi in &p.kpis {
            kpis::insert_in(tx, plan_id, Some(project_id), kpi, position, now).await?;
            position += 1;
        }
        for (j, m) in p.measures.iter().enumerate() {
            let measure_id: i64 = sqlx::query_scalar(
                "insert into measures (project_id, code, number, title, title_en, description, departments, position) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
            )
            .bind(project_id)
            .bind(&m.code)
            .bind(&m.number)
            .bind(&m.title)
            .bind(&m.title_en)
            .bind(&m.description)
            .bind(m.departments.join("、"))
            .bind(j as i64)
            .fetch_one(&mut **tx)
            .await?;
            for r in &m.roadmap {
                sqlx::query(
                    "insert into roadmap_entries (measure_id, fiscal_year, text, status, check_note, act_note) values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(measure_id)
                .bind(i64::from(r.fiscal_year))
                .bind(&r.text)
                .bind(&r.status)
                .bind(&r.check)
                .bind(&r.act)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    for g in &file.grades {
        sqlx::query(
            "insert into progress_grades (plan_id, policy_area, fiscal_year, grade, reason, decided_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(plan_id)
        .bind(&g.policy_area)
        .bind(i64::from(g.fiscal_year))
        .bind(&g.grade)
        .bind(&g.reason)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(plan_id)
}

/// Deletes a plan and everything under it.
pub async fn delete_in(tx: &mut WriteTx, plan_id: i64) -> StoreResult<()> {
    for q in [
        "delete from kpi_target_revisions where target_id in (select t.id from kpi_targets t join kpis k on k.id = t.kpi_id where k.plan_id = $1)",
        "delete from kpi_targets where kpi_id in (select id from kpis where plan_id = $1)",
        "delete from kpi_actuals where kpi_id in (select id from kpis where plan_id = $1)",
        "delete from kpis where plan_id = $1",
        "delete from roadmap_entries where measure_id in (select m.id from measures m join projects p on p.id = m.project_id where p.plan_id = $1)",
        "delete from measures where project_id in (select id from projects where plan_id = $1)",
        "delete from projects where plan_id = $1",
        "delete from visions where plan_id = $1",
        "delete from progress_grades where plan_id = $1",
        "delete from plans where id = $1",
    ] {
        sqlx::query(q).bind(plan_id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every plan, by organisation and code.
pub async fn plans(db: &Db) -> StoreResult<Vec<Plan>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, notes \
         from plans order by organisation_id, code",
    )
    .fetch_all(db.pool())
    .await?)
}

/// A plan by id.
pub async fn plan(db: &Db, id: i64) -> StoreResult<Option<Plan>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, notes \
         from plans where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// A plan's visions, in the plan's order.
pub async fn visions(db: &Db, plan_id: i64) -> StoreResult<Vec<Vision>> {
    Ok(sqlx::query_as("select id, code, number, title, title_en from visions where plan_id = $1 order by position")
        .bind(plan_id)
        .fetch_all(db.pool())
        .await?)
}

/// A plan's projects, in the plan's order.
pub async fn projects(db: &Db, plan_id: i64) -> StoreResult<Vec<Project>> {
    Ok(sqlx::query_as(
        "select id, plan_id, vision_id, code, number, title, title_en, lead_department, desired_state, policy_area \
         from projects where plan_id = $1 order by position",
    )
    .bind(plan_id)
    .fetch_all(db.pool())
    .await?)
}

/// A project by id.
pub async fn project(db: &Db, id: i64) -> StoreResult<Option<Project>> {
    Ok(sqlx::query_as(
        "select id, plan_id, vision_id, code, number, title, title_en, lead_department, desired_state, policy_area \
         from projects where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// A project's measures, in order, each with its roadmap entries by fiscal year.
pub async fn measures(db: &Db, project_id: i64) -> StoreResult<Vec<(Measure, Vec<RoadmapEntry>)>> {
    let measures: Vec<Measure> = sqlx::query_as(
        "select id, project_id, code, number, title, description, departments from measures where project_id = $1 order by position",
    )
    .bind(project_id)
    .fetch_all(db.pool())
    .await?;
    let entries: Vec<RoadmapEntry> = sqlx::query_as(
        "select r.measure_id, r.fiscal_year, r.text, r.status, r.check_note, r.act_note from roadmap_entries r \
         join measures m on m.id = r.measure_id where m.project_id = $1 order by r.fiscal_year",
    )
    .bind(project_id)
    .fetch_all(db.pool())
    .await?;
    Ok(measures
        .into_iter()
        .map(|m| {
            let mine = entries
                .iter()
                .filter(|e| e.measure_id == m.id)
                .cloned()
                .collect();
            (m, mine)
        })
        .collect())
}

/// A measure by id.
pub async fn measure(db: &Db, id: i64) -> StoreResult<Option<Measure>> {
    Ok(sqlx::query_as("select id, project_id, code, number, title, description, departments from measures where id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

/// Records a measure's roadmap entry for a fiscal year (replacing the year's entry).
pub async fn upsert_roadmap_entry_in(tx: &mut WriteTx, entry: &RoadmapEntry) -> StoreResult<()> {
    sqlx::query(
        "insert into roadmap_entries (measure_id, fiscal_year, text, status, check_note, act_note) values ($1, $2, $3, $4, $5, $6) \
         on conflict (measure_id, fiscal_year) do update set text = excluded.text, status = excluded.status, \
         check_note = excluded.check_note, act_note = excluded.act_note",
    )
    .bind(entry.measure_id)
    .bind(entry.fiscal_year)
    .bind(&entry.text)
    .bind(&entry.status)
    .bind(&entry.check_note)
    .bind(&entry.act_note)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The grades decided for a plan's policy areas.
pub async fn decided_grades(db: &Db, plan_id: i64) -> StoreResult<Vec<DecidedGrade>> {
    Ok(sqlx::query_as("select policy_area, fiscal_year, grade, reason from progress_grades where plan_id = $1 order by policy_area, fiscal_year")
        .bind(plan_id)
        .fetch_all(db.pool())
        .await?)
}

/// Records the grade decided for a policy area and fiscal year (replacing
/// the one decided before), with its reason.
pub async fn upsert_grade_in(
    tx: &mut WriteTx,
    plan_id: i64,
    grade: &DecidedGrade,
    staff_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "insert into progress_grades (plan_id, policy_area, fiscal_year, grade, reason, decided_at, decided_by) values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (plan_id, policy_area, fiscal_year) do update set grade = excluded.grade, reason = excluded.reason, \
         decided_at = excluded.decided_at, decided_by = excluded.decided_by",
    )
    .bind(plan_id)
    .bind(&grade.policy_area)
    .bind(grade.fiscal_year)
    .bind(&grade.grade)
    .bind(&grade.reason)
    .bind(Timestamp::now())
    .bind(staff_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
