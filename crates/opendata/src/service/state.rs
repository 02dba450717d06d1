//! The module's state ([`OpenData`]): the platform, the in-memory
//! catalogue, the upload limit, the NGSI entities of the last generation
//! and the lock that serialises this node's writes.

use std::sync::Arc;

use platform::Platform;

use super::catalogue::Catalogue;
use crate::entities::EntitySet;

/// The module's state.
#[derive(Clone, Debug)]
pub struct OpenData {
    pub platform: Platform,
    pub catalogue: Arc<Catalogue>,
    /// The largest resource file accepted, in bytes.
    pub upload_limit: usize,
    pub(crate) ngsi_cache: Arc<NgsiCache>,
    /// Serialises this node's catalogue writes (read, check, write); writes
    /// from other nodes are caught by the optimistic check in
    /// `service::changes::save`.
    pub(crate) writing: Arc<tokio::sync::Mutex<()>>,
}

impl OpenData {
    /// Loads the catalogue into memory in the background (a first search would otherwise wait for it).
    pub fn warm_up(&self) {
        let catalogue = self.catalogue.clone();
        tokio::spawn(async move {
            if let Err(e) = catalogue.current().await {
                tracing::warn!(error = %e, "loading the open-data catalogue failed");
            }
        });
    }

    pub fn new(platform: Platform) -> OpenData {
        let catalogue = Catalogue::new(platform.db.clone(), site_url(&platform.config));
        OpenData {
            upload_limit: platform.config.data_upload_bytes,
            catalogue: Arc::new(catalogue),
            platform,
            writing: Arc::new(tokio::sync::Mutex::new(())),
            ngsi_cache: Arc::new(NgsiCache(tokio::sync::Mutex::new((
                -1,
                Arc::new(Vec::new()),
            )))),
        }
    }
}

/// The NGSI entities of the last generation they were built for.
pub(crate) struct NgsiCache(pub tokio::sync::Mutex<(i64, Arc<Vec<EntitySet>>)>);

impl std::fmt::Debug for NgsiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NgsiCache")
    }
}

/// The URL links start with: the configured public URL, else the listening address.
pub fn site_url(config: &platform::config::Config) -> String {
    if let Some(base) = config.base_url.as_deref().filter(|b| !b.trim().is_empty()) {
        return base.trim().trim_end_matches('/').to_string();
    }
    let addr = config.addr;
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}
