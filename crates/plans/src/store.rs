//! Plans and KPIs in the database: loading a plan file, reading a plan
//! with everything under it, entering actuals, revising targets (the history
//! kept), deciding grades; every change audited in its transaction.

use std::collections::HashMap;

use platform::audit::{self, Actor};
use platform::db::{Db, DbBool, StoreError, StoreResult, Timestamp, WriteTx};
use serde::Serialize;

use crate::data::{GradeRules, PlanFile, TargetData, TargetValue};
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
}

fn target_from(v: &TargetValue) -> Target {
    target_parts(v.value, v.range, v.at_least, v.at_most, v.text.as_deref())
}

fn target_from_data(t: &TargetData) -> Target {
    target_parts(t.value, t.range, t.at_least, t.at_most, t.text.as_deref())
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

// Statements that bind an `Option<f64>` are not kept prepared
// (`persistent(false)`): sqlx 0.9's `Any` driver sends a NULL double as a
// PostgreSQL `float4`, and a statement prepared with that type then refuses
// the 8-byte value of the next execution ("incorrect binary data format").

/// Loads a plan file. A plan with the same organisation and code is left as
/// it is unless `replace`, which replaces it and everything under it.
pub async fn load(
    db: &Db,
    file: &PlanFile,
    replace: bool,
    by: Actor,
) -> Result<Option<i64>, StoreError> {
    let problems = crate::data::check(file);
    if !problems.is_empty() {
        return Err(StoreError::Conflict(
            problems
                .into_iter()
                .map(|(p, m)| format!("{p}: {m}"))
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    let org = platform::orgs::organisation_by_code(db, &file.plan.organisation)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!("no organisation {}", file.plan.organisation))
        })?;
    let existing: Option<i64> =
        sqlx::query_scalar("select id from plans where organisation_id = $1 and code = $2")
            .bind(org.id)
            .bind(&file.plan.code)
            .fetch_optional(db.pool())
            .await?;
    if existing.is_some() && !replace {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    if let Some(id) = existing {
        delete_plan(&mut tx, id).await?;
    }
    let now = Timestamp::now();
    let h = &file.plan;
    let plan_id: i64 = sqlx::query_scalar(
        "insert into plans (organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, \
         notes, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning id",
    )
    .bind(org.id)
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
    .fetch_one(&mut *tx)
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
        .fetch_one(&mut *tx)
        .await?;
        visions.insert(v.code.clone(), id);
    }
    let mut position = 0i64;
    for kpi in &file.kpis {
        insert_kpi(&mut tx, plan_id, None, kpi, position, now).await?;
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
        .fetch_one(&mut *tx)
        .await?;
        for kpi in &p.kpis {
            insert_kpi(&mut tx, plan_id, Some(project_id), kpi, position, now).await?;
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
            .fetch_one(&mut *tx)
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
                .execute(&mut *tx)
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
        .execute(&mut *tx)
        .await?;
    }
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
            detail: serde_json::json!({"code": h.code}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(plan_id))
}

async fn delete_plan(tx: &mut WriteTx, plan_id: i64) -> StoreResult<()> {
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

async fn insert_kpi(
    tx: &mut WriteTx,
    plan_id: i64,
    project_id: Option<i64>,
    k: &crate::data::KpiData,
    position: i64,
    now: Timestamp,
) -> StoreResult<()> {
    let kpi_id: i64 = sqlx::query_scalar(
        "insert into kpis (plan_id, project_id, code, name, name_en, unit, cumulative, direction, is_new, baseline_fy, baseline_value, \
         baseline_text, series, bound_metric, policy_area, department, note, source, position) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) returning id",
    )
    .persistent(false)
    .bind(plan_id)
    .bind(project_id)
    .bind(&k.code)
    .bind(&k.name)
    .bind(&k.name_en)
    .bind(&k.unit)
    .bind(k.cumulative)
    .bind(&k.direction)
    .bind(k.new)
    .bind(k.baseline.as_ref().map(|b| i64::from(b.fiscal_year)))
    .bind(k.baseline.as_ref().and_then(|b| b.value))
    .bind(k.baseline.as_ref().and_then(|b| b.text.clone()).unwrap_or_default())
    .bind(serde_json::to_string(&k.series).unwrap_or_else(|_| "[]".into()))
    .bind(k.bound_metric.as_deref())
    .bind(k.policy_area.clone().unwrap_or_default())
    .bind(&k.department)
    .bind(&k.note)
    .bind(&k.source)
    .bind(position)
    .fetch_one(&mut **tx)
    .await?;
    for t in &k.targets {
        let (kind, value, high, text) = target_from_data(t).parts();
        let target_id: i64 = sqlx::query_scalar(
            "insert into kpi_targets (kpi_id, series, fiscal_year, kind, value, value_high, text, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        )
        .persistent(false)
        .bind(kpi_id)
        .bind(t.series.clone().unwrap_or_default())
        .bind(i64::from(t.fiscal_year))
        .bind(kind)
        .bind(value)
        .bind(high)
        .bind(text)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        if let Some(prev) = &t.revised_from {
            let (kind, value, high, text) = target_from(prev).parts();
            sqlx::query(
                "insert into kpi_target_revisions (target_id, previous_kind, previous_value, previous_value_high, previous_text, reason, revised_at) \
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .persistent(false)
            .bind(target_id)
            .bind(kind)
            .bind(value)
            .bind(high)
            .bind(text)
            .bind(&t.revision_reason)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    for a in &k.actuals {
        sqlx::query(
            "insert into kpi_actuals (kpi_id, series, fiscal_year, value, text, source, recorded_on, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .persistent(false)
        .bind(kpi_id)
        .bind(a.series.clone().unwrap_or_default())
        .bind(i64::from(a.fiscal_year))
        .bind(a.value)
        .bind(a.text.clone().unwrap_or_default())
        .bind(&a.source)
        .bind(a.date.as_deref())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn plans(db: &Db) -> StoreResult<Vec<Plan>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, notes \
         from plans order by organisation_id, code",
    )
    .fetch_all(db.pool())
    .await?)
}

pub async fn plan(db: &Db, id: i64) -> StoreResult<Option<Plan>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, title, title_en, description, period_start, period_end, source, grade_rules, notes \
         from plans where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn visions(db: &Db, plan_id: i64) -> StoreResult<Vec<Vision>> {
    Ok(sqlx::query_as("select id, code, number, title, title_en from visions where plan_id = $1 order by position")
        .bind(plan_id)
        .fetch_all(db.pool())
        .await?)
}

pub async fn projects(db: &Db, plan_id: i64) -> StoreResult<Vec<Project>> {
    Ok(sqlx::query_as(
        "select id, plan_id, vision_id, code, number, title, title_en, lead_department, desired_state, policy_area \
         from projects where plan_id = $1 order by position",
    )
    .bind(plan_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn project(db: &Db, id: i64) -> StoreResult<Option<Project>> {
    Ok(sqlx::query_as(
        "select id, plan_id, vision_id, code, number, title, title_en, lead_department, desired_state, policy_area \
         from projects where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

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

macro_rules! kpi_columns {
    () => {
        "id, plan_id, project_id, code, name, name_en, unit, cumulative, direction, is_new, baseline_fy, baseline_value, \
         baseline_text, series, bound_metric, policy_area, department, note, source"
    };
}

/// Every KPI of a plan, each with its targets, revisions and actuals (live ones filled in).
pub async fn kpis_of_plan(db: &Db, plan: &Plan) -> StoreResult<Vec<KpiView>> {
    let rows: Vec<KpiRow> = sqlx::query_as(concat!(
        "select ",
        kpi_columns!(),
        " from kpis where plan_id = $1 order by position"
    ))
    .bind(plan.id)
    .fetch_all(db.pool())
    .await?;
    views(db, plan, rows).await
}

pub async fn kpi(db: &Db, id: i64) -> StoreResult<Option<(Plan, KpiView)>> {
    let row: Option<KpiRow> = sqlx::query_as(concat!(
        "select ",
        kpi_columns!(),
        " from kpis where id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let plan = plan(db, row.plan_id).await?.ok_or(StoreError::NotFound)?;
    let mut v = views(db, &plan, vec![row]).await?;
    Ok(v.pop().map(|k| (plan, k)))
}

/// KPIs whose name contains `q` (every KPI for an empty `q`).
pub async fn search(db: &Db, q: &str) -> StoreResult<Vec<(Plan, KpiView)>> {
    let all = plans(db).await?;
    let needle = procedures::search::normalize(q);
    let mut out = Vec::new();
    for p in all {
        for k in kpis_of_plan(db, &p).await? {
            if needle.is_empty()
                || procedures::search::normalize(&k.kpi.name).contains(&needle)
                || procedures::search::normalize(&k.kpi.code) == needle
            {
                out.push((p.clone(), k));
            }
        }
    }
    Ok(out)
}

async fn views(db: &Db, plan: &Plan, rows: Vec<KpiRow>) -> StoreResult<Vec<KpiView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let bind_all = |sql: String| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(*id);
        }
        q
    };
    use sqlx::Row;
    let targets = bind_all(format!(
        "select id, kpi_id, series, fiscal_year, kind, value, value_high, text from kpi_targets where kpi_id in ({list}) order by fiscal_year"
    ))
    .fetch_all(db.pool())
    .await?;
    let revisions = bind_all(format!(
        "select r.target_id, r.previous_kind, r.previous_value, r.previous_value_high, r.previous_text, r.reason, r.revised_at \
         from kpi_target_revisions r join kpi_targets t on t.id = r.target_id where t.kpi_id in ({list}) order by r.id"
    ))
    .fetch_all(db.pool())
    .await?;
    let actuals = bind_all(format!(
        "select kpi_id, series, fiscal_year, value, text, source, recorded_on from kpi_actuals where kpi_id in ({list}) order by fiscal_year"
    ))
    .fetch_all(db.pool())
    .await?;
    let current_fy = jp::fiscal::fiscal_year_of(Timestamp::now().jst().date_naive());
    let mut out = Vec::with_capacity(rows.len());
    for kpi in rows {
        let mut tv = Vec::new();
        for t in targets
            .iter()
            .filter(|t| t.try_get::<i64, _>("kpi_id").ok() == Some(kpi.id))
        {
            let id: i64 = t.try_get("id")?;
            let kind: String = t.try_get("kind")?;
            let target = Target::from_parts(
                &kind,
                t.try_get("value")?,
                t.try_get("value_high")?,
                &t.try_get::<String, _>("text")?,
            );
            let revs = revisions
                .iter()
                .filter(|r| r.try_get::<i64, _>("target_id").ok() == Some(id))
                .map(|r| {
                    Ok(Revision {
                        previous: Target::from_parts(
                            &r.try_get::<String, _>("previous_kind")?,
                            r.try_get("previous_value")?,
                            r.try_get("previous_value_high")?,
                            &r.try_get::<String, _>("previous_text")?,
                        ),
                        reason: r.try_get("reason")?,
                        revised_at: r.try_get("revised_at")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            tv.push(TargetView {
                id,
                series: t.try_get("series")?,
                fiscal_year: t.try_get::<i64, _>("fiscal_year")? as i32,
                target,
                revisions: revs,
            });
        }
        let mut av: Vec<ActualView> = actuals
            .iter()
            .filter(|a| a.try_get::<i64, _>("kpi_id").ok() == Some(kpi.id))
            .map(|a| {
                Ok(ActualView {
                    series: a.try_get("series")?,
                    fiscal_year: a.try_get::<i64, _>("fiscal_year")? as i32,
                    value: a.try_get("value")?,
                    text: a.try_get("text")?,
                    source: a.try_get("source")?,
                    recorded_on: a.try_get("recorded_on")?,
                    live: false,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        // Bound KPIs: the platform's figures replace typed ones for the years they cover.
        if let Some(metric) = kpi.metric() {
            // A snapshot (what is online now) is the current year's figure, if the plan covers it.
            let years: Vec<i32> = if metric.is_snapshot() {
                plan.years().filter(|fy| *fy == current_fy).collect()
            } else {
                plan.years().filter(|fy| *fy <= current_fy).collect()
            };
            for fy in years {
                if let Some(value) = metric.value(db, plan.organisation_id, fy).await? {
                    av.retain(|a| !(a.fiscal_year == fy && a.series.is_empty()));
                    av.push(ActualView {
                        series: String::new(),
                        fiscal_year: fy,
                        value: Some(value),
                        text: String::new(),
                        source: format!("madoguchi:{}", metric.code()),
                        recorded_on: Some(Timestamp::now().jst().format("%Y-%m-%d").to_string()),
                        live: true,
                    });
                }
            }
            av.sort_by_key(|a| a.fiscal_year);
        }
        out.push(KpiView {
            kpi,
            targets: tv,
            actuals: av,
        });
    }
    Ok(out)
}

/// Why an entry was refused. Each has a message key.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("not found")]
    NotFound,
    #[error("invalid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Enters (or corrects) the actual of a fiscal year, with its source.
#[allow(clippy::too_many_arguments)]
pub async fn enter_actual(
    db: &Db,
    kpi_id: i64,
    fy: i32,
    series: &str,
    value: f64,
    source: &str,
    recorded_on: Option<&str>,
    staff: &platform::accounts::Staff,
) -> Result<(), EntryError> {
    let (plan, view) = kpi(db, kpi_id).await?.ok_or(EntryError::NotFound)?;
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if !value.is_finite() {
        return Err(EntryError::Invalid("plans.error.not_a_number"));
    }
    if source.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.source_required"));
    }
    if !(series.is_empty() || view.kpi.series().iter().any(|s| s == series)) {
        return Err(EntryError::Invalid("plans.error.unknown_series"));
    }
    if view.kpi.metric().is_some() {
        return Err(EntryError::Invalid("plans.error.bound_kpi"));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into kpi_actuals (kpi_id, series, fiscal_year, value, text, source, recorded_on, updated_at, updated_by) \
         values ($1, $2, $3, $4, '', $5, $6, $7, $8) on conflict (kpi_id, series, fiscal_year) do update set value = excluded.value, \
         source = excluded.source, recorded_on = excluded.recorded_on, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(kpi_id)
    .bind(series)
    .bind(i64::from(fy))
    .bind(value)
    .bind(source.trim())
    .bind(recorded_on)
    .bind(Timestamp::now())
    .bind(staff.id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "kpi.actual_entered",
            subject_kind: "kpi",
            subject_id: Some(kpi_id),
            detail: serde_json::json!({"fiscal_year": fy, "series": series, "value": value, "source": source.trim()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Revises the target of a fiscal year; the previous target and the reason are kept.
pub async fn revise_target(
    db: &Db,
    kpi_id: i64,
    fy: i32,
    series: &str,
    target: &Target,
    reason: &str,
    staff: &platform::accounts::Staff,
) -> Result<(), EntryError> {
    let (plan, view) = kpi(db, kpi_id).await?.ok_or(EntryError::NotFound)?;
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if reason.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.reason_required"));
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if let Target::Text { text } = target
        && text.trim().is_empty()
    {
        return Err(EntryError::Invalid("plans.error.target_empty"));
    }
    let (kind, value, high, text) = target.parts();
    if value.is_some_and(|v| !v.is_finite()) || high.is_some_and(|v| !v.is_finite()) {
        return Err(EntryError::Invalid("plans.error.not_a_number"));
    }
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    match view.target(series, fy) {
        Some(old) => {
            let (pk, pv, ph, pt) = old.target.parts();
            sqlx::query(
                "insert into kpi_target_revisions (target_id, previous_kind, previous_value, previous_value_high, previous_text, reason, revised_at, revised_by) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .persistent(false)
            .bind(old.id)
            .bind(pk)
            .bind(pv)
            .bind(ph)
            .bind(pt)
            .bind(reason.trim())
            .bind(now)
            .bind(staff.id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            sqlx::query("update kpi_targets set kind = $1, value = $2, value_high = $3, text = $4, updated_at = $5 where id = $6")
                .persistent(false)
                .bind(kind)
                .bind(value)
                .bind(high)
                .bind(&text)
                .bind(now)
                .bind(old.id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        None => {
            sqlx::query(
                "insert into kpi_targets (kpi_id, series, fiscal_year, kind, value, value_high, text, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .persistent(false)
            .bind(kpi_id)
            .bind(series)
            .bind(i64::from(fy))
            .bind(kind)
            .bind(value)
            .bind(high)
            .bind(&text)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
    }
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "kpi.target_revised",
            subject_kind: "kpi",
            subject_id: Some(kpi_id),
            detail: serde_json::json!({"fiscal_year": fy, "series": series, "target": target, "reason": reason.trim()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A measure with the plan it belongs to.
pub async fn measure(db: &Db, id: i64) -> StoreResult<Option<(Plan, Project, Measure)>> {
    let m: Option<Measure> = sqlx::query_as("select id, project_id, code, number, title, description, departments from measures where id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let Some(m) = m else { return Ok(None) };
    let Some(p) = project(db, m.project_id).await? else {
        return Ok(None);
    };
    Ok(plan(db, p.plan_id).await?.map(|plan| (plan, p, m)))
}

/// Records a measure's roadmap entry for a fiscal year (工程: what is done
/// that year, its status, and the year's check and act notes).
#[allow(clippy::too_many_arguments)]
pub async fn update_roadmap_entry(
    db: &Db,
    measure_id: i64,
    fy: i32,
    status: &str,
    text: &str,
    check: &str,
    act: &str,
    staff: &platform::accounts::Staff,
) -> Result<(), EntryError> {
    let (plan, _, _) = measure(db, measure_id).await?.ok_or(EntryError::NotFound)?;
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    if !matches!(status, "planned" | "in_progress" | "done" | "delayed") {
        return Err(EntryError::Invalid("plans.error.status"));
    }
    if text.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.roadmap_text"));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into roadmap_entries (measure_id, fiscal_year, text, status, check_note, act_note) values ($1, $2, $3, $4, $5, $6) \
         on conflict (measure_id, fiscal_year) do update set text = excluded.text, status = excluded.status, \
         check_note = excluded.check_note, act_note = excluded.act_note",
    )
    .bind(measure_id)
    .bind(i64::from(fy))
    .bind(text.trim())
    .bind(status)
    .bind(check.trim())
    .bind(act.trim())
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "plan.roadmap_updated",
            subject_kind: "measure",
            subject_id: Some(measure_id),
            detail: serde_json::json!({"fiscal_year": fy, "status": status, "text": text.trim(), "check": check.trim(), "act": act.trim()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A decided grade (overriding the computed one).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DecidedGrade {
    pub policy_area: String,
    pub fiscal_year: i64,
    pub grade: String,
    pub reason: String,
}

pub async fn decided_grades(db: &Db, plan_id: i64) -> StoreResult<Vec<DecidedGrade>> {
    Ok(sqlx::query_as("select policy_area, fiscal_year, grade, reason from progress_grades where plan_id = $1 order by policy_area, fiscal_year")
        .bind(plan_id)
        .fetch_all(db.pool())
        .await?)
}

/// Decides the grade of a policy area for a year, with its reason (required).
pub async fn decide_grade(
    db: &Db,
    plan: &Plan,
    area: &str,
    fy: i32,
    grade: &str,
    reason: &str,
    staff: &platform::accounts::Staff,
) -> Result<(), EntryError> {
    if plan.organisation_id != staff.organisation_id {
        return Err(EntryError::NotFound);
    }
    if !matches!(grade, "A" | "B" | "C" | "D") {
        return Err(EntryError::Invalid("plans.error.grade"));
    }
    if reason.trim().is_empty() {
        return Err(EntryError::Invalid("plans.error.reason_required"));
    }
    if !plan.years().contains(&fy) {
        return Err(EntryError::Invalid("plans.error.year_outside_plan"));
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into progress_grades (plan_id, policy_area, fiscal_year, grade, reason, decided_at, decided_by) values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (plan_id, policy_area, fiscal_year) do update set grade = excluded.grade, reason = excluded.reason, \
         decided_at = excluded.decided_at, decided_by = excluded.decided_by",
    )
    .bind(plan.id)
    .bind(area)
    .bind(i64::from(fy))
    .bind(grade)
    .bind(reason.trim())
    .bind(Timestamp::now())
    .bind(staff.id)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(plan.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "plan.grade_decided",
            subject_kind: "plan",
            subject_id: Some(plan.id),
            detail: serde_json::json!({"policy_area": area, "fiscal_year": fy, "grade": grade}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
