//! 保存期間: erasing decided applications once their procedure's retention
//! period has passed (the My Number guideline asks that 特定個人情報 be
//! disposed of when no longer needed). Run by maintenance on every node; each
//! application is purged in its own transaction, so nodes running it at once
//! only repeat harmless work.

use platform::audit::{self, Actor};
use platform::db::{Db, StoreResult, Timestamp};

use crate::store::applications as store;

/// Applications purged per procedure per round.
const BATCH: i64 = 500;

/// Purges what is past its retention period as of `now`; how many.
pub async fn purge(db: &Db, now: Timestamp) -> StoreResult<usize> {
    let mut purged = 0;
    for (procedure_id, years) in store::retention_periods(db).await? {
        let cutoff = Timestamp(now.0 - chrono::Duration::days(365 * years + years / 4));
        for (id, organisation_id) in store::past_retention(db, procedure_id, cutoff, BATCH).await? {
            let mut tx = db.begin().await?;
            store::purge(&mut tx, id, now).await?;
            audit::append(
                &mut tx,
                audit::Entry {
                    organisation_id: Some(organisation_id),
                    actor: Actor::System,
                    action: "application.purged",
                    subject_kind: "application",
                    subject_id: Some(id),
                    detail: serde_json::json!({"retention_years": years}),
                },
            )
            .await?;
            tx.commit().await?;
            purged += 1;
        }
    }
    Ok(purged)
}
