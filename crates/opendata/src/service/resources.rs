//! Resources: `resource_create`, `resource_update`/`_patch` and
//! `resource_delete`, uploaded files (checked against their standard
//! template first), the NGSI-v2 resource of a standard dataset, and reading
//! a stored file back.

use platform::i18n::Lang;
use serde_json::{Map, Value, json};

use super::changes::{save, writable};
use super::entities::tenant_of;
use super::error::{ReadError, WriteError};
use super::state::OpenData;
use crate::dictionary::{Problems, guess_type, resource_from};
use crate::entities;
use crate::model::{self, Actor, Dataset, Resource, TEMPLATE_EXTRA, Upload};
use crate::store;

/// Stores an uploaded file under `r` (after the standard template's check, if any).
async fn attach(
    state: &OpenData,
    d: &mut Dataset,
    r: &mut Resource,
    upload: Upload,
    lang: Lang,
) -> Result<(), WriteError> {
    if upload.bytes.len() > state.upload_limit {
        return Err(WriteError::invalid("upload", "File upload too large"));
    }
    let filename = if upload.filename.trim().is_empty() {
        model::download_name(&r.url)
    } else {
        model::download_name(&upload.filename)
    };
    let (mime, format) = guess_type(&filename);
    if r.format.is_empty() || r.url_type != "upload" {
        r.format = format.to_string();
    }
    if r.mimetype.is_empty() || r.url_type != "upload" {
        r.mimetype = mime.to_string();
    }
    if let Some(key) = d.extra(TEMPLATE_EXTRA)
        && let Some(t) = crate::standard::template(key.trim())
        && r.format.eq_ignore_ascii_case("csv")
        && let Err(problems) = crate::standard::validate(t, &upload.bytes)
    {
        let tr = state.platform.tr(lang);
        let mut messages = Problems::new();
        for p in problems.iter().take(100) {
            messages.add("upload", p.message(&tr));
        }
        return Err(messages.into());
    }
    let key = state
        .platform
        .files
        .put(&upload.bytes)
        .await
        .map_err(WriteError::Files)?;
    r.file_key = Some(key);
    r.url_type = "upload".into();
    r.url = filename;
    r.size = Some(upload.bytes.len() as i64);
    r.modified_at = model::now();
    r.extras
        .insert("last_modified".into(), Value::String(r.modified_at.clone()));
    Ok(())
}

/// Adds or refreshes the NGSI-v2 resource of a standard dataset with a stored table.
fn ensure_ngsi_resource(state: &OpenData, d: &mut Dataset) {
    let Some(t) = d
        .extra(TEMPLATE_EXTRA)
        .and_then(|k| crate::standard::template(k.trim()))
    else {
        return;
    };
    let has_table = d
        .resources
        .iter()
        .any(|r| r.is_stored_upload() && r.format.eq_ignore_ascii_case("csv"));
    if !has_table
        || d.resources.iter().any(|r| {
            r.extras.get("caddec_resource_type").and_then(Value::as_str) == Some("api/ngsi")
        })
    {
        return;
    }
    let tenant = tenant_of(state, d);
    let service_path = entities::service_path(&d.name);
    let now = model::now();
    let mut extras = Map::new();
    extras.insert("caddec_resource_type".into(), json!("api/ngsi"));
    extras.insert("ngsi_entity_type".into(), json!(t.entity_type));
    extras.insert("ngsi_tenant".into(), json!(tenant));
    extras.insert("ngsi_service_path".into(), json!(service_path));
    d.resources.push(Resource {
        id: model::new_id(),
        dataset_id: d.id.clone(),
        position: d.resources.len() as i64,
        name: format!("{} (NGSI-v2 API)", t.name_ja),
        description:
            "FIWARE NGSI-v2 で同じデータを提供します。 / The same data as NGSI-v2 entities.".into(),
        format: "NGSI-v2".into(),
        mimetype: "application/json".into(),
        url: format!(
            "{}/v2/entities?type={}",
            state.catalogue.site_url(),
            t.entity_type
        ),
        url_type: String::new(),
        file_key: None,
        size: None,
        hash: String::new(),
        extras,
        created_at: now.clone(),
        modified_at: now,
    });
}

/// `resource_create`: returns (dataset id, resource id).
pub async fn create(
    state: &OpenData,
    actor: &Actor,
    package_id: &str,
    data: &Map<String, Value>,
    upload: Option<Upload>,
    lang: Lang,
) -> Result<(String, String), WriteError> {
    let _writing = state.writing.lock().await;
    let mut d = writable(state, actor, package_id).await?;
    let read_at = d.modified_at.clone();
    let mut errors = Problems::new();
    let mut r = resource_from(data, None, &d.id, &mut errors, "url");
    if d.resources.iter().any(|x| x.id == r.id)
        || store::resource_dataset(&state.platform.db, &r.id)
            .await?
            .is_some()
    {
        r.id = model::new_id();
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if let Some(u) = upload {
        attach(state, &mut d, &mut r, u, lang).await?;
    }
    let id = r.id.clone();
    r.position = d.resources.len() as i64;
    d.resources.push(r);
    ensure_ngsi_resource(state, &mut d);
    d.modified_at = model::now();
    save(state, actor, "resource.created", &d, &read_at).await?;
    Ok((d.id, id))
}

async fn dataset_of_resource(
    state: &OpenData,
    actor: &Actor,
    id: &str,
) -> Result<Dataset, WriteError> {
    let dataset_id = store::resource_dataset(&state.platform.db, id)
        .await?
        .ok_or(WriteError::NotFound)?;
    writable(state, actor, &dataset_id).await
}

/// `resource_update` and `resource_patch`: returns (dataset id, resource id).
pub async fn update(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    upload: Option<Upload>,
    patch: bool,
    lang: Lang,
) -> Result<(String, String), WriteError> {
    let _writing = state.writing.lock().await;
    let mut d = dataset_of_resource(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    let pos = d
        .resources
        .iter()
        .position(|r| r.id == id)
        .ok_or(WriteError::NotFound)?;
    let old = d.resources.get(pos).cloned().ok_or(WriteError::NotFound)?;
    let mut errors = Problems::new();
    let mut r = if patch {
        resource_from(data, Some(&old), &d.id, &mut errors, "url")
    } else {
        // An update replaces the description fields; the stored file stays unless the url changes.
        let mut base = old.clone();
        base.name.clear();
        base.description.clear();
        base.extras.clear();
        if !data.contains_key("format") {
            base.format.clear();
        }
        resource_from(data, Some(&base), &d.id, &mut errors, "url")
    };
    r.id = old.id.clone();
    r.created_at = old.created_at.clone();
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if let Some(u) = upload {
        attach(state, &mut d, &mut r, u, lang).await?;
    }
    if let Some(slot) = d.resources.get_mut(pos) {
        *slot = r;
    }
    ensure_ngsi_resource(state, &mut d);
    d.modified_at = model::now();
    save(state, actor, "resource.updated", &d, &read_at).await?;
    Ok((d.id, id.to_string()))
}

/// `resource_delete`.
pub async fn delete(state: &OpenData, actor: &Actor, id: &str) -> Result<(), WriteError> {
    let _writing = state.writing.lock().await;
    let mut d = dataset_of_resource(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    d.resources.retain(|r| r.id != id);
    d.modified_at = model::now();
    save(state, actor, "resource.deleted", &d, &read_at).await
}

/// The bytes of a resource's stored file; `None` when it has none or the
/// file is gone.
pub async fn stored_file(state: &OpenData, r: &Resource) -> Result<Option<Vec<u8>>, ReadError> {
    let Some(key) = r.file_key.as_deref() else {
        return Ok(None);
    };
    state
        .platform
        .files
        .get(key)
        .await
        .map_err(ReadError::Files)
}
