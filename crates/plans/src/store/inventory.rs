//! The procedure inventory in the database: items written (replacing those
//! with the same id), read with whether each is online now, and the shares
//! online by count and by annual volume. "Online" is reported as 実施済, or
//! linked to a procedure madoguchi publishes online now (the procedures
//! module's table, read here).

use platform::db::{Db, StoreResult, Timestamp, WriteTx};
use sqlx::{FromRow, Row};

use crate::inventory::{Item, Shares, share};

/// Writes an organisation's items (an item with the same id is replaced).
pub async fn upsert_items_in(
    tx: &mut WriteTx,
    organisation_id: i64,
    items: &[(usize, Item)],
    now: Timestamp,
) -> StoreResult<()> {
    for (_, it) in items {
        sqlx::query(
            "insert into inventory_items (organisation_id, item_id, name, legal_basis, kind, actor, recipient, online_status, \
             plan_text, concerns, timing, identity_method, fee, payment_method, total_count, online_count, offline_count, \
             attachments, life_events, basis, annual_volume, priority, planned_fy, procedure_code, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) \
             on conflict (organisation_id, item_id) do update set name = excluded.name, legal_basis = excluded.legal_basis, \
             kind = excluded.kind, actor = excluded.actor, recipient = excluded.recipient, online_status = excluded.online_status, \
             plan_text = excluded.plan_text, concerns = excluded.concerns, timing = excluded.timing, \
             identity_method = excluded.identity_method, fee = excluded.fee, payment_method = excluded.payment_method, \
             total_count = excluded.total_count, online_count = excluded.online_count, offline_count = excluded.offline_count, \
             attachments = excluded.attachments, life_events = excluded.life_events, basis = excluded.basis, \
             annual_volume = excluded.annual_volume, priority = excluded.priority, planned_fy = excluded.planned_fy, \
             procedure_code = excluded.procedure_code, updated_at = excluded.updated_at",
        )
        .bind(organisation_id)
        .bind(&it.item_id)
        .bind(&it.name)
        .bind(&it.legal_basis)
        .bind(&it.kind)
        .bind(&it.actor)
        .bind(&it.recipient)
        .bind(it.online_status)
        .bind(&it.plan_text)
        .bind(&it.concerns)
        .bind(&it.timing)
        .bind(&it.identity_method)
        .bind(&it.fee)
        .bind(&it.payment_method)
        .bind(it.total_count)
        .bind(it.online_count)
        .bind(it.offline_count)
        .bind(&it.attachments)
        .bind(&it.life_events)
        .bind(&it.basis)
        .bind(it.annual_volume)
        .bind(it.priority)
        .bind(it.planned_fy)
        .bind(&it.procedure_code)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The organisations that have an inventory.
pub async fn organisations(db: &Db) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "select distinct organisation_id from inventory_items order by organisation_id",
    )
    .fetch_all(db.pool())
    .await?)
}

/// How many items the organisation's inventory has.
pub async fn item_count(db: &Db, organisation_id: i64) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("select count(*) from inventory_items where organisation_id = $1")
            .bind(organisation_id)
            .fetch_one(db.pool())
            .await?,
    )
}

/// The SQL condition for "online": reported as 実施済, or linked to a
/// procedure madoguchi publishes online now.
const ONLINE: &str = "(i.online_status = 1 or exists (select 1 from procedures p where p.organisation_id = i.organisation_id \
    and p.code = i.procedure_code and i.procedure_code <> '' and p.status = 'published' and p.online = $2 and p.current_form_id is not null))";

/// The shares of the organisation's inventory (of its priority procedures only, if asked).
pub async fn shares(db: &Db, organisation_id: i64, priority_only: bool) -> StoreResult<Shares> {
    let sql = format!(
        "select count(*), cast(coalesce(sum(case when {ONLINE} then 1 else 0 end), 0) as bigint), \
         cast(coalesce(sum(coalesce(i.annual_volume, 0)), 0) as bigint), \
         cast(coalesce(sum(case when {ONLINE} then coalesce(i.annual_volume, 0) else 0 end), 0) as bigint) \
         from inventory_items i where i.organisation_id = $1{}",
        if priority_only {
            " and i.priority = $3"
        } else {
            ""
        }
    );
    let mut q = sqlx::query_as::<_, (i64, i64, i64, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(organisation_id)
        .bind(true);
    if priority_only {
        q = q.bind(true);
    }
    let (total, online, volume_total, volume_online) = q.fetch_one(db.pool()).await?;
    Ok(Shares::of(total, online, volume_total, volume_online))
}

/// Share of the annual volume planned to be online by each fiscal year
/// (already online, or planned for that year or before), priority procedures or all.
pub async fn planned_shares(
    db: &Db,
    organisation_id: i64,
    priority_only: bool,
    years: std::ops::RangeInclusive<i32>,
) -> StoreResult<Vec<(i32, Option<f64>)>> {
    let mut out = Vec::new();
    for fy in years {
        let sql = format!(
            "select cast(coalesce(sum(coalesce(i.annual_volume, 0)), 0) as bigint), \
             cast(coalesce(sum(case when {ONLINE} or (i.planned_fy is not null and i.planned_fy <= $3) then coalesce(i.annual_volume, 0) else 0 end), 0) as bigint) \
             from inventory_items i where i.organisation_id = $1{}",
            if priority_only {
                " and i.priority = $4"
            } else {
                ""
            }
        );
        let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(organisation_id)
            .bind(true)
            .bind(i64::from(fy));
        if priority_only {
            q = q.bind(true);
        }
        let (total, planned) = q.fetch_one(db.pool()).await?;
        out.push((fy, share(planned, total)));
    }
    Ok(out)
}

/// The organisation's inventory, with whether each item is online now.
pub async fn items(db: &Db, organisation_id: i64) -> StoreResult<Vec<(Item, bool)>> {
    let sql = format!(
        "select i.item_id, i.name, i.legal_basis, i.kind, i.actor, i.recipient, i.online_status, i.plan_text, i.concerns, \
         i.timing, i.identity_method, i.fee, i.payment_method, i.total_count, i.online_count, i.offline_count, i.attachments, \
         i.life_events, i.basis, i.annual_volume, i.priority, i.planned_fy, i.procedure_code, \
         case when {ONLINE} then 1 else 0 end as is_online from inventory_items i where i.organisation_id = $1 order by i.item_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(organisation_id)
        .bind(true)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((Item::from_row(r)?, r.try_get::<i64, _>("is_online")? == 1)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(Into::into)
}
