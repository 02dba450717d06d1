//! KPIs in the database: a plan file's KPIs with their targets, revisions
//! and actuals written; a plan's KPIs and their records read; actuals entered,
//! targets revised (the previous target kept with the reason).

// Statements that bind an `Option<f64>` are not kept prepared
// (`persistent(false)`): sqlx 0.9's `Any` driver sends a NULL double as a
// PostgreSQL `float4`, and a statement prepared with that type then refuses
// the 8-byte value of the next execution ("incorrect binary data format").

use platform::db::{Db, StoreResult, Timestamp, WriteTx};

use crate::data::KpiData;
use crate::kpi::Target;
use crate::model::{KpiRecords, KpiRow, NewActual, previous_target, written_target};

/// Writes a plan file's KPI (at `position` in the plan) with its targets,
/// their revisions and its actuals.
pub async fn insert_in(
    tx: &mut WriteTx,
    plan_id: i64,
    project_id: Option<i64>,
    k: &KpiData,
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
        let (kind, value, high, text) = written_target(t).parts();
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
            let (kind, value, high, text) = previous_target(prev).parts();
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

macro_rules! kpi_columns {
    () => {
        "id, plan_id, project_id, code, name, name_en, unit, cumulative, direction, is_new, baseline_fy, baseline_value, \
         baseline_text, series, bound_metric, policy_area, department, note, source"
    };
}

/// Every KPI of a plan, in the plan's order.
pub async fn of_plan(db: &Db, plan_id: i64) -> StoreResult<Vec<KpiRow>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        kpi_columns!(),
        " from kpis where plan_id = $1 order by position"
    ))
    .bind(plan_id)
    .fetch_all(db.pool())
    .await?)
}

/// A KPI by id.
pub async fn kpi(db: &Db, id: i64) -> StoreResult<Option<KpiRow>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        kpi_columns!(),
        " from kpis where id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The targets (by fiscal year), their revisions (oldest first) and the
/// actuals (by fiscal year) of the KPIs `ids` (not empty).
pub async fn records(db: &Db, ids: &[i64]) -> StoreResult<KpiRecords> {
    let list = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let targets = bind_all(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select id, kpi_id, series, fiscal_year, kind, value, value_high, text from kpi_targets where kpi_id in ({list}) order by fiscal_year"
        ))),
        ids,
    )
    .fetch_all(db.pool())
    .await?;
    let revisions = bind_all(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select r.target_id, r.previous_kind, r.previous_value, r.previous_value_high, r.previous_text, r.reason, r.revised_at \
             from kpi_target_revisions r join kpi_targets t on t.id = r.target_id where t.kpi_id in ({list}) order by r.id"
        ))),
        ids,
    )
    .fetch_all(db.pool())
    .await?;
    let actuals = bind_all(
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select kpi_id, series, fiscal_year, value, text, source, recorded_on from kpi_actuals where kpi_id in ({list}) order by fiscal_year"
        ))),
        ids,
    )
    .fetch_all(db.pool())
    .await?;
    Ok(KpiRecords {
        targets,
        revisions,
        actuals,
    })
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    ids: &[i64],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for id in ids {
        q = q.bind(*id);
    }
    q
}

/// Enters (or corrects) the actual of a fiscal year, with its source.
pub async fn upsert_actual_in(
    tx: &mut WriteTx,
    a: NewActual<'_>,
    staff_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "insert into kpi_actuals (kpi_id, series, fiscal_year, value, text, source, recorded_on, updated_at, updated_by) \
         values ($1, $2, $3, $4, '', $5, $6, $7, $8) on conflict (kpi_id, series, fiscal_year) do update set value = excluded.value, \
         source = excluded.source, recorded_on = excluded.recorded_on, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(a.kpi_id)
    .bind(a.series)
    .bind(i64::from(a.fiscal_year))
    .bind(a.value)
    .bind(a.source)
    .bind(a.recorded_on)
    .bind(Timestamp::now())
    .bind(staff_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps a target's previous value with the reason it was revised.
pub async fn insert_revision_in(
    tx: &mut WriteTx,
    target_id: i64,
    previous: &Target,
    reason: &str,
    now: Timestamp,
    staff_id: i64,
) -> StoreResult<()> {
    let (pk, pv, ph, pt) = previous.parts();
    sqlx::query(
        "insert into kpi_target_revisions (target_id, previous_kind, previous_value, previous_value_high, previous_text, reason, revised_at, revised_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .persistent(false)
    .bind(target_id)
    .bind(pk)
    .bind(pv)
    .bind(ph)
    .bind(pt)
    .bind(reason)
    .bind(now)
    .bind(staff_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces a target.
pub async fn update_target_in(
    tx: &mut WriteTx,
    target_id: i64,
    target: &Target,
    now: Timestamp,
) -> StoreResult<()> {
    let (kind, value, high, text) = target.parts();
    sqlx::query("update kpi_targets set kind = $1, value = $2, value_high = $3, text = $4, updated_at = $5 where id = $6")
        .persistent(false)
        .bind(kind)
        .bind(value)
        .bind(high)
        .bind(&text)
        .bind(now)
        .bind(target_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the target of a series and fiscal year that had none.
pub async fn insert_target_in(
    tx: &mut WriteTx,
    kpi_id: i64,
    series: &str,
    fiscal_year: i32,
    target: &Target,
    now: Timestamp,
) -> StoreResult<()> {
    let (kind, value, high, text) = target.parts();
    sqlx::query(
        "insert into kpi_targets (kpi_id, series, fiscal_year, kind, value, value_high, text, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .persistent(false)
    .bind(kpi_id)
    .bind(series)
    .bind(i64::from(fiscal_year))
    .bind(kind)
    .bind(value)
    .bind(high)
    .bind(&text)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
