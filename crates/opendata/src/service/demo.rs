//! Loading the demo catalogue ([`crate::demo`]) through the same use cases
//! as the API and the staff pages. Loading is idempotent: a group or
//! dataset that exists is left alone.

use platform::i18n::Lang;
use serde_json::{Map, Value, json};

use super::error::WriteError;
use super::state::OpenData;
use super::{datasets, publishers, resources};
use crate::demo::{Data, GROUPS, datasets as demo_datasets};
use crate::model::{Actor, TEMPLATE_EXTRA, Upload};
use crate::store;

fn failed(what: &str, e: WriteError) -> anyhow::Error {
    anyhow::anyhow!("demo open data, {what}: {e:?}")
}

/// Loads the demo groups and datasets (idempotent); returns how many datasets were added.
pub async fn load(state: &OpenData) -> anyhow::Result<usize> {
    let db = &state.platform.db;
    state.catalogue.refresh().await?;
    let mut orgs = Vec::new();
    for code in ["240001", "242012", "160008", "070009"] {
        if let Some(o) = platform::orgs::organisation_by_code(db, code).await? {
            orgs.push(o);
        }
    }
    let Some(first) = orgs.first() else {
        return Ok(0);
    };
    let system = Actor {
        organisation_id: first.id,
        label: "demo".into(),
    };
    for (name, title, description) in GROUPS {
        if state.catalogue.group(name).is_none() {
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            m.insert("title".into(), json!(title));
            m.insert("description".into(), json!(description));
            publishers::create_group(state, &system, &m)
                .await
                .map_err(|e| failed(name, e))?;
        }
    }
    let mut added = 0;
    for d in demo_datasets() {
        let Some(org) = orgs.iter().find(|o| o.code == d.org) else {
            continue;
        };
        if store::dataset(db, d.name).await?.is_some() {
            continue;
        }
        let actor = Actor {
            organisation_id: org.id,
            label: "demo".into(),
        };
        let owner = publishers::default_owner(state, org.id)
            .await
            .map_err(|e| failed(d.name, e))?;
        let mut extras: Vec<Value> = d
            .extras
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect();
        if let Some(t) = d.template {
            extras.push(json!({"key": TEMPLATE_EXTRA, "value": t}));
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(d.name));
        m.insert("title".into(), json!(d.title));
        m.insert("notes".into(), json!(d.notes));
        m.insert("owner_org".into(), json!(owner.id));
        m.insert("license_id".into(), json!(d.licence));
        m.insert("private".into(), json!(d.private));
        m.insert("tags".into(), json!(d.tags));
        m.insert(
            "groups".into(),
            Value::Array(d.groups.iter().map(|g| json!({"name": g})).collect()),
        );
        m.insert("extras".into(), Value::Array(extras));
        let id = datasets::create(state, &actor, &m)
            .await
            .map_err(|e| failed(d.name, e))?;
        for r in d.resources {
            let mut rm = Map::new();
            rm.insert("name".into(), json!(r.name));
            rm.insert("description".into(), json!(r.description));
            let upload = match r.data {
                Data::File(filename, bytes) => {
                    rm.insert("url".into(), json!(filename));
                    Some(Upload {
                        filename: filename.to_string(),
                        bytes,
                    })
                }
                Data::Link(url, format) => {
                    rm.insert("url".into(), json!(url));
                    rm.insert("format".into(), json!(format));
                    None
                }
            };
            resources::create(state, &actor, &id, &rm, upload, Lang::Ja)
                .await
                .map_err(|e| failed(&format!("{} / {}", d.name, r.name), e))?;
        }
        added += 1;
    }
    Ok(added)
}
