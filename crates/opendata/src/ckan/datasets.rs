//! The actions that read datasets and resources: `package_list`,
//! `current_package_list_with_resources`, `package_show`, `package_search`,
//! `resource_show` and `resource_search`. Published datasets come from the
//! in-memory catalogue; deleted and draft ones, for their owner only, from
//! the service.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::call::Call;
use super::error::CkanError;
use crate::model;
use crate::search::SearchRequest;
use crate::service::{self, Entry};

fn entry_dicts(entries: &[Arc<Entry>]) -> Value {
    Value::Array(entries.iter().map(|e| e.dict.clone()).collect())
}

pub(super) async fn package_list(c: Call<'_>) -> Result<Value, CkanError> {
    let limit = c.int("limit", -1)?;
    let offset = c.int("offset", 0)?.max(0) as usize;
    let mut names: Vec<String> = c
        .state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| !e.dataset.private)
        .map(|e| e.dataset.name.clone())
        .collect();
    names.sort();
    let names = names.into_iter().skip(offset);
    let names: Vec<String> = if limit >= 0 {
        names.take(limit as usize).collect()
    } else {
        names.collect()
    };
    Ok(json!(names))
}

pub(super) async fn current_package_list_with_resources(c: Call<'_>) -> Result<Value, CkanError> {
    let limit = c.int("limit", 1000)?.clamp(0, 1000) as usize;
    let offset = c.int("offset", 0)?.max(0) as usize;
    let mut entries: Vec<_> = c
        .state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| !e.dataset.private)
        .collect();
    entries.sort_by(|a, b| {
        b.dataset
            .modified_at
            .cmp(&a.dataset.modified_at)
            .then_with(|| a.dataset.id.cmp(&b.dataset.id))
    });
    let page: Vec<_> = entries.into_iter().skip(offset).take(limit).collect();
    Ok(entry_dicts(&page))
}

/// The dataset `id` as the caller may see it (deleted or private ones only to their owner).
pub(super) async fn visible_dataset(c: &Call<'_>, id: &str) -> Result<Value, CkanError> {
    if let Some(e) = c.state.catalogue.get(id) {
        if c.visible(&e) {
            return Ok(e.dict.clone());
        }
        return Err(CkanError::not_found());
    }
    // Deleted and draft datasets: only their owner sees them.
    let Some(actor) = c.actor else {
        return Err(CkanError::not_found());
    };
    let d = service::datasets::owned(c.state, actor.organisation_id, id)
        .await?
        .ok_or_else(CkanError::not_found)?;
    Ok(service::datasets::dictionary_of(c.state, &d))
}

pub(super) async fn package_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c
        .str("id")
        .or_else(|| c.str("name_or_id"))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
    visible_dataset(&c, id.trim()).await
}

/// The search request of `package_search`'s parameters.
fn search_request(c: &Call<'_>) -> Result<SearchRequest, CkanError> {
    let rows = c.int("rows", 10)?;
    if rows < 0 {
        return Err(CkanError::validation("rows", "Must be a natural number"));
    }
    let start = c.int("start", 0)?;
    if start < 0 {
        return Err(CkanError::validation("start", "Must be a natural number"));
    }
    let mut fq = Vec::new();
    if let Some(f) = c.str("fq").filter(|s| !s.trim().is_empty()) {
        fq.push(f);
    }
    fq.extend(c.list("fq_list"));
    let facet_limit = c.int("facet.limit", 50)?;
    // At least 1: a zero count would list values of datasets the caller may not see.
    let facet_mincount = c.int("facet.mincount", 1)?.max(1) as usize;
    let private_orgs = if c.bool("include_private", false)
        && let Some(actor) = c.actor
    {
        c.state
            .catalogue
            .organizations()
            .into_iter()
            .filter(|o| o.organisation_id == actor.organisation_id)
            .map(|o| o.id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(SearchRequest {
        q: c.str("q"),
        fq,
        sort: c.str("sort").filter(|s| !s.trim().is_empty()),
        rows: rows.min(1000) as usize,
        start: start.min(i64::from(u32::MAX)) as usize,
        facet_fields: c.list("facet.field"),
        facet_limit,
        facet_mincount,
        private_orgs,
    })
}

pub(super) async fn package_search(c: Call<'_>) -> Result<Value, CkanError> {
    let req = search_request(&c)?;
    let (count, entries, facets) = c
        .state
        .catalogue
        .search(&req)
        .map_err(|e| CkanError::SearchQuery(e.to_string()))?;
    let orgs = c.state.catalogue.organizations();
    let groups = c.state.catalogue.groups();
    let mut facet_map = Map::new();
    let mut search_facets = Map::new();
    for (field, values) in &facets {
        let mut counts = Map::new();
        let mut items = Vec::new();
        for (value, n) in values {
            counts.insert(value.clone(), json!(n));
            let display = match field.as_str() {
                "organization" => orgs
                    .iter()
                    .find(|o| &o.name == value)
                    .map(|o| o.title.clone()),
                "groups" => groups
                    .iter()
                    .find(|g| &g.name == value)
                    .map(|g| g.title.clone()),
                "license_id" => model::licence(value).map(|l| l.title.to_string()),
                _ => None,
            }
            .unwrap_or_else(|| value.clone());
            items.push(json!({"name": value, "display_name": display, "count": n}));
        }
        facet_map.insert(field.clone(), Value::Object(counts));
        search_facets.insert(field.clone(), json!({"title": field, "items": items}));
    }
    Ok(json!({
        "count": count,
        "sort": req.sort.clone().unwrap_or_else(|| "score desc, metadata_modified desc".into()),
        "results": entry_dicts(&entries),
        "facets": facet_map,
        "search_facets": search_facets,
    }))
}

fn find_resource(c: &Call<'_>, id: &str) -> Option<(Arc<Entry>, Value)> {
    c.state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| c.visible(e))
        .find_map(|e| {
            let pos = e.dataset.resources.iter().position(|r| r.id == id)?;
            let dict = e
                .dict
                .get("resources")
                .and_then(|rs| rs.get(pos))
                .cloned()
                .unwrap_or_default();
            Some((e, dict))
        })
}

pub(super) async fn resource_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    find_resource(&c, id.trim())
        .map(|(_, d)| d)
        .ok_or_else(CkanError::not_found)
}

pub(super) async fn resource_search(c: Call<'_>) -> Result<Value, CkanError> {
    let queries = c.list("query");
    let mut terms = Vec::new();
    for q in &queries {
        let Some((field, term)) = q.split_once(':') else {
            return Err(CkanError::validation(
                "query",
                "Must be <field>:<value> pair(s)",
            ));
        };
        let field = field.trim();
        if field.is_empty()
            || !field
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            return Err(CkanError::validation(
                "query",
                format!("Field \"{field}\" not recognised in resource_search."),
            ));
        }
        terms.push((field.to_string(), term.trim().to_lowercase()));
    }
    let order_by = c.str("order_by");
    let offset = c.int("offset", 0)?.max(0) as usize;
    let limit = c.int("limit", -1)?;
    let mut found: Vec<Value> = Vec::new();
    let mut entries: Vec<_> = c
        .state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| !e.dataset.private)
        .collect();
    entries.sort_by(|a, b| a.dataset.id.cmp(&b.dataset.id));
    for e in entries {
        if let Some(resources) = e.dict.get("resources").and_then(Value::as_array) {
            for r in resources {
                let ok = terms.iter().all(|(field, term)| match r.get(field) {
                    Some(Value::String(s)) => s.to_lowercase().contains(term.as_str()),
                    Some(Value::Number(n)) => n.to_string() == *term,
                    _ => false,
                });
                if ok {
                    found.push(r.clone());
                }
            }
        }
    }
    if let Some(key) = order_by.filter(|k| !k.is_empty()) {
        found.sort_by(|a, b| {
            let a = a.get(&key).map(|v| v.to_string()).unwrap_or_default();
            let b = b.get(&key).map(|v| v.to_string()).unwrap_or_default();
            a.cmp(&b)
        });
    }
    let count = found.len();
    let results: Vec<Value> = found
        .into_iter()
        .skip(offset)
        .take(if limit >= 0 {
            limit as usize
        } else {
            usize::MAX
        })
        .collect();
    Ok(json!({"count": count, "results": results}))
}
