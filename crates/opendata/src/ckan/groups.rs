//! The actions that read publishers, groups and tags:
//! `organization_list`, `organization_list_for_user`, `organization_show`,
//! `group_list`, `group_show`, `tag_list` and `tag_show`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::call::Call;
use super::error::CkanError;
use crate::model;
use crate::service::Entry;

fn package_counts(c: &Call<'_>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in c.state.catalogue.all() {
        if e.dataset.private {
            continue;
        }
        *counts.entry(e.dataset.owner_org.clone()).or_insert(0) += 1;
        for g in &e.dataset.group_ids {
            *counts.entry(g.clone()).or_insert(0) += 1;
        }
    }
    counts
}

fn sort_and_page(
    c: &Call<'_>,
    mut items: Vec<(String, String, Value)>,
) -> Result<Vec<Value>, CkanError> {
    // (name, title, dict); CKAN sorts by title asc by default ("title asc"), accepts "name".
    let sort = c.str("sort").unwrap_or_else(|| "title asc".into());
    let desc = sort.to_lowercase().ends_with("desc");
    if sort.starts_with("name") {
        items.sort_by(|a, b| a.0.cmp(&b.0));
    } else if sort.starts_with("package_count") {
        items.sort_by(|a, b| count(&a.2).cmp(&count(&b.2)).then_with(|| a.0.cmp(&b.0)));
    } else {
        items.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    }
    if desc {
        items.reverse();
    }
    let offset = c.int("offset", 0)?.max(0) as usize;
    let limit = c.int("limit", 1000)?.clamp(0, 1000) as usize;
    let all_fields = c.bool("all_fields", false);
    Ok(items
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(name, _, dict)| {
            if all_fields {
                dict
            } else {
                Value::String(name)
            }
        })
        .collect())
}

/// `organization_list` and `group_list`: (name, title, id, dictionary) of the active ones.
fn list_groups(
    c: &Call<'_>,
    key: &str,
    all: Vec<(String, String, String, Value)>,
) -> Result<Value, CkanError> {
    let counts = package_counts(c);
    let wanted = c.list(key);
    let items = all
        .into_iter()
        .filter(|(name, ..)| wanted.is_empty() || wanted.contains(name))
        .map(|(name, title, id, mut d)| {
            set(
                &mut d,
                "package_count",
                json!(counts.get(&id).copied().unwrap_or(0)),
            );
            (name, title, d)
        })
        .collect();
    Ok(Value::Array(sort_and_page(c, items)?))
}

pub(super) async fn organization_list(c: Call<'_>) -> Result<Value, CkanError> {
    let all = c
        .state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.state == "active")
        .map(|o| (o.name.clone(), o.title.clone(), o.id.clone(), o.dict()))
        .collect();
    list_groups(&c, "organizations", all)
}

pub(super) async fn organization_list_for_user(c: Call<'_>) -> Result<Value, CkanError> {
    let Some(actor) = c.actor else {
        return Ok(json!([]));
    };
    let counts = package_counts(&c);
    Ok(Value::Array(
        c.state
            .catalogue
            .organizations()
            .into_iter()
            .filter(|o| o.organisation_id == actor.organisation_id && o.state == "active")
            .map(|o| {
                let mut d = o.dict();
                set(
                    &mut d,
                    "package_count",
                    json!(counts.get(&o.id).copied().unwrap_or(0)),
                );
                set(&mut d, "capacity", json!("admin"));
                d
            })
            .collect(),
    ))
}

fn datasets_of(c: &Call<'_>, pred: impl Fn(&Entry) -> bool, limit: usize) -> Vec<Value> {
    let mut entries: Vec<_> = c
        .state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| c.visible(e) && pred(e))
        .collect();
    entries.sort_by(|a, b| a.dataset.name.cmp(&b.dataset.name));
    entries
        .into_iter()
        .take(limit)
        .map(|e| e.dict.clone())
        .collect()
}

/// `organization_show` and `group_show`: the dictionary with its dataset count
/// and, with `include_datasets`, its visible datasets.
fn show_group(
    c: &Call<'_>,
    id: &str,
    mut d: Value,
    holds: impl Fn(&Entry) -> bool,
) -> Result<Value, CkanError> {
    let counts = package_counts(c);
    set(
        &mut d,
        "package_count",
        json!(counts.get(id).copied().unwrap_or(0)),
    );
    set(&mut d, "users", json!([]));
    set(&mut d, "extras", json!([]));
    set(&mut d, "tags", json!([]));
    set(&mut d, "groups", json!([]));
    if c.bool("include_datasets", false) {
        let limit = c.int("limit", 10)?.clamp(0, 1000) as usize;
        set(
            &mut d,
            "packages",
            Value::Array(datasets_of(c, holds, limit)),
        );
    }
    Ok(d)
}

pub(super) async fn organization_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    let o = c
        .state
        .catalogue
        .organization(id.trim())
        .filter(|o| o.state == "active")
        .ok_or_else(CkanError::not_found)?;
    show_group(&c, &o.id, o.dict(), |e| e.dataset.owner_org == o.id)
}

pub(super) async fn group_list(c: Call<'_>) -> Result<Value, CkanError> {
    let all = c
        .state
        .catalogue
        .groups()
        .into_iter()
        .filter(|g| g.state == "active")
        .map(|g| (g.name.clone(), g.title.clone(), g.id.clone(), g.dict()))
        .collect();
    list_groups(&c, "groups", all)
}

pub(super) async fn group_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    let g = c
        .state
        .catalogue
        .group(id.trim())
        .filter(|g| g.state == "active")
        .ok_or_else(CkanError::not_found)?;
    show_group(&c, &g.id, g.dict(), |e| e.dataset.group_ids.contains(&g.id))
}

fn all_tags(c: &Call<'_>) -> Vec<String> {
    let mut tags: Vec<String> = c
        .state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| !e.dataset.private)
        .flat_map(|e| e.dataset.tags.clone())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

pub(super) async fn tag_list(c: Call<'_>) -> Result<Value, CkanError> {
    let query = c.str("query").unwrap_or_default().to_lowercase();
    let tags: Vec<String> = all_tags(&c)
        .into_iter()
        .filter(|t| query.is_empty() || t.to_lowercase().contains(&query))
        .collect();
    if c.bool("all_fields", false) {
        Ok(Value::Array(
            tags.iter()
                .map(|t| json!({"id": model::id_for("tag", t), "name": t, "display_name": t, "vocabulary_id": null}))
                .collect(),
        ))
    } else {
        Ok(json!(tags))
    }
}

pub(super) async fn tag_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    let name = all_tags(&c)
        .into_iter()
        .find(|t| *t == id || model::id_for("tag", t) == id)
        .ok_or_else(CkanError::not_found)?;
    let mut d = json!({"id": model::id_for("tag", &name), "name": name, "display_name": name, "vocabulary_id": null});
    if c.bool("include_datasets", false) {
        set(
            &mut d,
            "packages",
            Value::Array(datasets_of(&c, |e| e.dataset.tags.contains(&name), 1000)),
        );
    }
    Ok(d)
}

/// Sets a key of a CKAN dictionary (a JSON object).
pub(super) fn set(dict: &mut Value, key: &str, value: Value) {
    if let Some(o) = dict.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}

/// A dictionary's `package_count`, if it has one.
fn count(dict: &Value) -> Option<u64> {
    dict.get("package_count").and_then(Value::as_u64)
}
