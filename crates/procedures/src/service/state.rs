//! The module's state: the platform, the catalogue every node keeps in
//! memory, the cache of parsed form versions, and the submission writer.

use std::collections::HashMap;
use std::sync::Arc;

use platform::Platform;
use platform::db::{Db, StoreError, StoreResult};
use tokio::sync::RwLock;

use crate::form::FormDefinition;
use crate::service::catalogue::Catalogue;
use crate::service::postal::PostalCodes;
use crate::service::writer::Writer;
use crate::store::catalogue as store;

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
        let version = store::form_version(db, form_version_id)
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
    pub catalogue: Arc<Catalogue>,
    pub forms: Arc<FormCache>,
    pub writer: Writer,
    pub postal: PostalCodes,
}

impl Procedures {
    /// Builds the state and starts the submission writer on the current runtime.
    pub fn start(platform: Platform) -> Procedures {
        let writer = Writer::start_counted(platform.db.clone(), platform.metrics.clone());
        platform
            .health
            .register("submission writer", writer.probe());
        let postal = PostalCodes::new(platform.config.postal_codes.as_deref());
        Procedures {
            platform,
            catalogue: Arc::new(Catalogue::new()),
            forms: Arc::new(FormCache::default()),
            postal,
            writer,
        }
    }
}
