//! The API's [`Provider`] in this module: the NGSI entity sets the
//! catalogue's service builds from the public standard datasets.

use std::sync::Arc;

use super::routes::Provider;
use crate::entities::EntitySet;
use crate::service::{self, OpenData};

/// The NGSI-v2 API's source: every public standard dataset's stored table.
#[derive(Clone)]
pub struct NgsiSource(pub OpenData);

impl Provider for NgsiSource {
    async fn entity_sets(&self) -> Arc<Vec<EntitySet>> {
        service::entities::sets(&self.0).await
    }
}
