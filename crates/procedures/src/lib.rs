//! Online procedures (電子申請・届出): the catalogue residents search and
//! browse, the forms procedures ask (declarative definitions an organisation
//! admin imports), drafts, submission with receipt numbers, the resident's
//! list of applications and withdrawal, as pages and as a JSON API.
//!
//! - [`catalogue`]: procedures, categories, life events, form versions (storage);
//! - [`search`]: the in-memory, Japanese-aware catalogue search;
//! - [`form`]: form definitions, answer validation, display and HTML fields;
//! - [`applications`]: drafts, status, history, attachments (storage);
//! - [`writer`]: the group-commit submission writer;
//! - [`flow`]: what pages and API share (form cache, page order, saving a page);
//! - [`pages`] and [`api`]: the resident's pages and `/api/v1`.

pub mod api;
pub mod applications;
pub mod catalogue;
pub mod flow;
pub mod form;
pub mod import;
pub mod pages;
pub mod search;
pub mod writer;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;
use platform::db::{Db, StoreError, StoreResult};
use tokio::sync::RwLock;

use crate::form::FormDefinition;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026112102,
    description: "procedures",
    sqlite: include_str!("../migrations/sqlite/2026112102_procedures.sql"),
    postgres: include_str!("../migrations/postgres/2026112102_procedures.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

/// Parsed form versions by id. Versions never change once stored, so entries never go stale.
#[derive(Debug, Default)]
pub struct FormCache {
    forms: RwLock<HashMap<i64, Arc<FormDefinition>>>,
}

impl FormCache {
    pub async fn get(&self, db: &Db, form_version_id: i64) -> StoreResult<Arc<FormDefinition>> {
        if let Some(f) = self.forms.read().await.get(&form_version_id) {
            return Ok(f.clone());
        }
        let version = catalogue::form_version(db, form_version_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let def =
            Arc::new(version.parsed().map_err(|e| {
                StoreError::Conflict(format!("stored form {form_version_id}: {e}"))
            })?);
        self.forms
            .write()
            .await
            .insert(form_version_id, def.clone());
        Ok(def)
    }
}

/// The module's state: the platform plus the catalogue index, the form cache
/// and the submission writer.
#[derive(Clone, Debug)]
pub struct Procedures {
    pub platform: Platform,
    pub catalogue: Arc<search::Catalogue>,
    pub forms: Arc<FormCache>,
    pub writer: writer::Writer,
}

impl Procedures {
    /// Builds the state and starts the submission writer on the current runtime.
    pub fn start(platform: Platform) -> Procedures {
        let writer = writer::Writer::start(platform.db.clone());
        Procedures {
            platform,
            catalogue: Arc::new(search::Catalogue::new()),
            forms: Arc::new(FormCache::default()),
            writer,
        }
    }
}

impl FromRef<Procedures> for Platform {
    fn from_ref(p: &Procedures) -> Platform {
        p.platform.clone()
    }
}

/// The module's routes (pages and API), ready to merge into the platform's router.
pub fn router(state: Procedures) -> Router<Platform> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
}
