//! The residents' profiles (`resident_profiles`): read and written only by
//! resident id.

use platform::db::{Db, DbBool, StoreResult, Timestamp};
use serde_json::{Map, Value};

use crate::profile::Profile;

#[derive(sqlx::FromRow)]
struct Row {
    answers: String,
    #[sqlx(try_from = "DbBool")]
    prefill_consent: bool,
}

/// The resident's profile; empty when they have none yet.
pub async fn get(db: &Db, resident_id: i64) -> StoreResult<Profile> {
    let row: Option<Row> = sqlx::query_as(
        "select answers, prefill_consent from resident_profiles where resident_id = $1",
    )
    .bind(resident_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(|r| Profile {
            values: serde_json::from_str::<Map<String, Value>>(&r.answers).unwrap_or_default(),
            prefill_consent: r.prefill_consent,
        })
        .unwrap_or_default())
}

/// Writes the resident's whole profile.
pub async fn put(db: &Db, resident_id: i64, profile: &Profile) -> StoreResult<()> {
    sqlx::query(
        "insert into resident_profiles (resident_id, answers, prefill_consent, updated_at) \
         values ($1, $2, $3, $4) \
         on conflict (resident_id) do update set answers = excluded.answers, \
         prefill_consent = excluded.prefill_consent, updated_at = excluded.updated_at",
    )
    .bind(resident_id)
    .bind(Value::Object(profile.values.clone()).to_string())
    .bind(profile.prefill_consent)
    .bind(Timestamp::now())
    .execute(db.pool())
    .await?;
    Ok(())
}
