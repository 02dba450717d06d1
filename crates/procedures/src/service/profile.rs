//! The resident's profile: reading and saving it (checked by the same rules
//! as a form's answers), filling a new application from it with the
//! resident's consent, and updating it from an application they sent.

use platform::db::{Db, StoreResult};
use serde_json::{Map, Value};

use crate::applications::Application;
use crate::form::FormDefinition;
use crate::form::answers::{self, Issue};
use crate::profile::{self, Profile};
use crate::service::Procedures;
use crate::store::applications as applications_store;
use crate::store::profiles as store;

/// The marker a prefilled draft carries in its pending input (the form's
/// pages say that answers came from the profile).
pub const PREFILLED: &str = "_prefilled";

pub async fn get(db: &Db, resident_id: i64) -> StoreResult<Profile> {
    store::get(db, resident_id).await
}

/// Saves the profile from the profile page's fields. Nothing is saved when
/// something does not validate; the problems come back by field.
pub async fn save(
    state: &Procedures,
    resident_id: i64,
    raw: &Map<String, Value>,
    prefill_consent: bool,
) -> StoreResult<Result<Profile, Vec<Issue>>> {
    let page = profile::page(|_| (String::new(), String::new()));
    let (values, issues) = answers::validate_page(&page, raw, &Map::new(), &state.platform.keys);
    if !issues.is_empty() {
        return Ok(Err(issues));
    }
    let profile = Profile {
        values,
        prefill_consent,
    };
    store::put(&state.platform.db, resident_id, &profile).await?;
    Ok(Ok(profile))
}

/// Fills a new draft from the profile when the resident agreed to it;
/// returns the draft as it is now.
pub async fn prefill_draft(
    state: &Procedures,
    app: Application,
    def: &FormDefinition,
    identity: Option<&platform::identity::Verified>,
) -> StoreResult<Application> {
    let db = &state.platform.db;
    let profile = store::get(db, app.resident_id).await?;
    let mut filled = if profile.prefill_consent {
        profile::prefill(def, &profile)
    } else {
        serde_json::Map::new()
    };
    filled.extend(profile::prefill_from_identity(def, identity));
    if filled.is_empty() {
        return Ok(app);
    }
    let mut answers = app.answers_map();
    answers.extend(filled);
    let mut pending = app.pending_map();
    pending.insert(PREFILLED.into(), Value::String("1".into()));
    let mut tx = db.begin().await?;
    applications_store::save_answers(&mut tx, app.id, app.resident_id, &answers, &pending).await?;
    tx.commit().await?;
    Ok(
        applications_store::for_resident(db, app.id, app.resident_id)
            .await?
            .unwrap_or(app),
    )
}

/// Takes the resident's name, address, phone … from an application they
/// sent into their profile (they asked for it on the check page).
pub async fn update_from_application(
    db: &Db,
    app: &Application,
    def: &FormDefinition,
) -> StoreResult<()> {
    let given = profile::from_answers(def, &app.answers_map());
    if given.is_empty() {
        return Ok(());
    }
    let mut profile = store::get(db, app.resident_id).await?;
    profile.values.extend(given);
    store::put(db, app.resident_id, &profile).await
}
