//! The NGSI entity sets the NGSI-v2 adapter serves: every public standard
//! dataset's latest stored table that passes its template's check, as
//! entities under the dataset's tenant and service path; built once per
//! generation of the catalogue.

use std::sync::Arc;

use super::state::OpenData;
use crate::entities::{self, DEFAULT_ID_PREFIX, EntitySet, entities_from_table};
use crate::model::{Dataset, TEMPLATE_EXTRA};

/// The NGSI tenant (`Fiware-Service`) of a dataset: its publisher's name.
pub fn tenant_of(state: &OpenData, d: &Dataset) -> String {
    let publisher = state.catalogue.organization(&d.owner_org).map(|o| o.name);
    entities::tenant(publisher.as_deref())
}

/// The entity sets of the catalogue as this node has it (none while it
/// cannot be read).
pub async fn sets(state: &OpenData) -> Arc<Vec<EntitySet>> {
    if state.catalogue.current().await.is_err() {
        return Arc::new(Vec::new());
    }
    // Keyed on the copy the entities are built from (not the database's counter,
    // which may be ahead of it).
    let generation = state.catalogue.generation();
    let mut cache = state.ngsi_cache.0.lock().await;
    if cache.0 == generation && generation >= 0 {
        return cache.1.clone();
    }
    let mut sets = Vec::new();
    let mut entries = state.catalogue.all();
    entries.sort_by(|a, b| a.dataset.name.cmp(&b.dataset.name));
    for e in entries {
        if e.dataset.private {
            continue;
        }
        let Some(t) = e
            .dataset
            .extra(TEMPLATE_EXTRA)
            .and_then(|k| crate::standard::template(k.trim()))
        else {
            continue;
        };
        // The latest stored CSV that passes the template's check.
        for r in e.dataset.resources.iter().rev() {
            if !(r.is_stored_upload() && r.format.eq_ignore_ascii_case("csv")) {
                continue;
            }
            let Some(key) = r.file_key.as_deref() else {
                continue;
            };
            let Ok(Some(bytes)) = state.platform.files.get(key).await else {
                continue;
            };
            if let Ok(table) = crate::standard::validate(t, &bytes) {
                sets.push(EntitySet {
                    tenant: tenant_of(state, &e.dataset),
                    service_path: entities::service_path(&e.dataset.name),
                    entities: entities_from_table(&table, DEFAULT_ID_PREFIX),
                });
                break;
            }
        }
    }
    let sets = Arc::new(sets);
    *cache = (generation, sets.clone());
    sets
}
