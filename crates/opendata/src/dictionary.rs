//! CKAN's dictionaries read into the catalogue's records, with CKAN's
//! validation rules and messages: names, tags, extras, groups, resources,
//! links, the standard datasets' defaults, and new publishers and groups.
//!
//! Domain logic, pure: the service reads what the CKAN API or a staff form
//! sends (both arrive as the same dictionaries) with these functions, and
//! collects what is wrong as [`Problems`], which the CKAN adapter answers
//! as a `Validation Error` and the pages show beside their fields.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::model::{self, Dataset, Group, Resource, TEMPLATE_EXTRA};

/// What is wrong with a dictionary, field by field, in CKAN's words
/// (`{"name": ["Missing value"]}`); fields in name order, as CKAN's JSON
/// lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(BTreeMap<String, Vec<String>>);

impl Problems {
    pub fn new() -> Problems {
        Problems::default()
    }

    /// One problem with one field.
    pub fn one(field: &str, message: impl Into<String>) -> Problems {
        let mut p = Problems::new();
        p.add(field, message);
        p
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each field with its messages, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(f, m)| (f.as_str(), m.as_slice()))
    }
}

/// The largest number of resources, tags or extras a dataset may have.
pub const MAX_ITEMS: usize = 1000;

/// Whether a link is one we may not publish: any scheme but `http` and
/// `https` (`javascript:`, `data:`, `file:` …), read as a browser reads it
/// (leading spaces and control characters dropped, tabs and newlines
/// removed). A path or an uploaded file's name has no scheme and is fine.
pub fn unsafe_url(url: &str) -> bool {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase();
    match cleaned.split_once(':') {
        Some((scheme, _)) if !scheme.is_empty() && !scheme.contains(['/', '?', '#']) => {
            !matches!(scheme, "http" | "https")
        }
        _ => false,
    }
}

pub fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.first().map(|x| text(Some(x))).unwrap_or_default(),
        Some(other) => other.to_string(),
    }
}

pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_i64().unwrap_or(0) != 0),
        Value::String(s) => Some(matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )),
        _ => None,
    }
}

/// A JSON value that may arrive as a JSON string (form and multipart bodies).
pub fn structured(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('[') || t.starts_with('{') {
                serde_json::from_str(t).ok()
            } else {
                Some(Value::String(s.clone()))
            }
        }
        other => Some(other.clone()),
    }
}

fn tag_problem(tag: &str) -> Option<String> {
    let n = tag.chars().count();
    if n == 0 {
        return Some("Tag \"\" length is less than minimum 1".into());
    }
    if n > 100 {
        return Some(format!("Tag \"{tag}\" length is more than maximum 100"));
    }
    if tag.chars().any(|c| c.is_control() || c == ',') {
        return Some(format!(
            "Tag \"{tag}\" must be alphanumeric characters or symbols: -_."
        ));
    }
    None
}

pub fn parse_tags(data: &Map<String, Value>, errors: &mut Problems) -> Option<Vec<String>> {
    let mut tags: Vec<String> = Vec::new();
    let mut given = false;
    if let Some(v) = structured(data.get("tags")) {
        given = true;
        let items = match v {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        for item in items {
            let name = match &item {
                Value::Object(o) => text(o.get("name")),
                other => text(Some(other)),
            };
            tags.push(name.trim().to_string());
        }
    }
    if let Some(s) = data.get("tag_string") {
        given = true;
        tags.extend(
            text(Some(s))
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
        );
    }
    for t in &tags {
        if let Some(p) = tag_problem(t) {
            errors.add("tags", p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    if tags.len() > MAX_ITEMS {
        errors.add("tags", format!("At most {MAX_ITEMS} tags"));
    }
    given.then_some(tags)
}

pub fn parse_extras(
    data: &Map<String, Value>,
    errors: &mut Problems,
) -> Option<Vec<(String, String)>> {
    let v = structured(data.get("extras"))?;
    let items = match v {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        Value::Object(o) => o
            .into_iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
        _ => {
            errors.add("extras", "Extras must be a list of {key, value}");
            return Some(Vec::new());
        }
    };
    if items.len() > MAX_ITEMS {
        errors.add("extras", format!("At most {MAX_ITEMS} extras"));
        return Some(Vec::new());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        let Value::Object(o) = item else {
            errors.add("extras", "Extras must be a list of {key, value}");
            continue;
        };
        if boolean(o.get("deleted")) == Some(true) {
            continue;
        }
        let key = text(o.get("key")).trim().to_string();
        if key.is_empty() {
            errors.add("extras", "There is a schema error: key: Missing value");
            continue;
        }
        if out.iter().any(|(k, _)| *k == key) {
            errors.add("extras", format!("There are duplicate keys: {key}"));
            continue;
        }
        if matches!(
            key.as_str(),
            "id" | "name" | "title" | "notes" | "tags" | "groups" | "resources" | "state"
        ) {
            errors.add(
                "extras",
                format!("There is a schema field with the same name: {key}"),
            );
            continue;
        }
        out.push((key, text(o.get("value"))));
    }
    Some(out)
}

/// The ids of the groups a dictionary names (by id or name, looked up with
/// `group`); `None` when it names none.
pub fn parse_groups(
    data: &Map<String, Value>,
    group: impl Fn(&str) -> Option<Group>,
    errors: &mut Problems,
) -> Option<Vec<String>> {
    let v = structured(data.get("groups"))?;
    let items = match v {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut ids = Vec::new();
    for item in items {
        let key = match &item {
            Value::Object(o) => {
                let id = text(o.get("id"));
                if id.is_empty() {
                    text(o.get("name"))
                } else {
                    id
                }
            }
            other => text(Some(other)),
        };
        match group(key.trim()) {
            Some(g) if !ids.contains(&g.id) => ids.push(g.id),
            Some(_) => {}
            None => errors.add("groups", format!("Group {key} does not exist")),
        }
    }
    Some(ids)
}

/// Keys of a resource dictionary that are not the resource's own extras.
const RESOURCE_KEYS: &[&str] = &[
    "id",
    "package_id",
    "position",
    "name",
    "description",
    "format",
    "mimetype",
    "url",
    "url_type",
    "size",
    "hash",
    "state",
    "created",
    "metadata_modified",
    "cache_url",
    "cache_last_updated",
    "datastore_active",
    "resource_type",
    "mimetype_inner",
    "upload",
    "clear_upload",
    "tracking_summary",
    "revision_id",
];

/// The media type and CKAN format of a file name.
pub fn guess_type(name: &str) -> (&'static str, &'static str) {
    let ext = name
        .rsplit('.')
        .next()
        .filter(|e| e.len() < name.len())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" => ("text/csv", "CSV"),
        "tsv" => ("text/tab-separated-values", "TSV"),
        "json" => ("application/json", "JSON"),
        "geojson" => ("application/geo+json", "GeoJSON"),
        "xml" => ("application/xml", "XML"),
        "pdf" => ("application/pdf", "PDF"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "XLSX",
        ),
        "xls" => ("application/vnd.ms-excel", "XLS"),
        "zip" => ("application/zip", "ZIP"),
        "txt" => ("text/plain", "TXT"),
        "html" | "htm" => ("text/html", "HTML"),
        "png" => ("image/png", "PNG"),
        "jpg" | "jpeg" => ("image/jpeg", "JPEG"),
        "ttl" => ("text/turtle", "RDF"),
        "rdf" => ("application/rdf+xml", "RDF"),
        _ => ("", ""),
    }
}

/// Builds a resource from its dictionary; `base` is the resource it replaces or patches.
pub fn resource_from(
    dict: &Map<String, Value>,
    base: Option<&Resource>,
    dataset_id: &str,
    errors: &mut Problems,
    field: &str,
) -> Resource {
    let now = model::now();
    let get = |k: &str| -> Option<String> { dict.get(k).map(|v| text(Some(v))) };
    let mut r = base.cloned().unwrap_or_else(|| Resource {
        id: String::new(),
        dataset_id: dataset_id.to_string(),
        position: 0,
        name: String::new(),
        description: String::new(),
        format: String::new(),
        mimetype: String::new(),
        url: String::new(),
        url_type: String::new(),
        file_key: None,
        size: None,
        hash: String::new(),
        extras: Map::new(),
        created_at: now.clone(),
        modified_at: now.clone(),
    });
    if r.id.is_empty() {
        let id = get("id").unwrap_or_default();
        r.id = if model::is_uuid(id.trim()) {
            id.trim().to_string()
        } else {
            model::new_id()
        };
    }
    if let Some(v) = get("name") {
        r.name = v;
    }
    if let Some(v) = get("description") {
        r.description = v;
    }
    if let Some(v) = get("format") {
        r.format = v.trim().to_string();
    }
    if let Some(v) = get("mimetype") {
        r.mimetype = v.trim().to_string();
    }
    if let Some(v) = get("hash") {
        r.hash = v;
    }
    if let Some(v) = get("url_type") {
        r.url_type = v.trim().to_string();
    }
    if let Some(url) = get("url") {
        let url = url.trim().to_string();
        let unchanged = base.is_some_and(|b| {
            b.url == url || (b.is_stored_upload() && url.rsplit('/').next() == Some(b.url.as_str()))
        });
        if !unchanged {
            // A new link: the stored file (if any) no longer backs it.
            r.file_key = None;
            r.url = url;
        } else if let Some(b) = base {
            r.url = b.url.clone();
        }
    }
    if r.url_type != "upload" {
        r.file_key = None;
    }
    if unsafe_url(&r.url) {
        errors.add(field, "url: Please provide a valid URL");
    }
    match dict.get("size") {
        Some(Value::Number(n)) => r.size = n.as_i64(),
        Some(Value::String(s)) if !s.trim().is_empty() => match s.trim().parse::<i64>() {
            Ok(n) => r.size = Some(n),
            Err(_) => errors.add(field, "size: Invalid integer"),
        },
        Some(Value::Null) if !r.is_stored_upload() => r.size = None,
        _ => {}
    }
    for (k, v) in dict {
        if RESOURCE_KEYS.contains(&k.as_str()) {
            continue;
        }
        r.extras.insert(k.clone(), v.clone());
    }
    if r.format.is_empty() {
        r.format = guess_type(&r.url).1.to_string();
    }
    if r.mimetype.is_empty() {
        r.mimetype = guess_type(&r.url).0.to_string();
    }
    r.modified_at = now;
    r
}

pub fn parse_resources(
    data: &Map<String, Value>,
    existing: &[Resource],
    dataset_id: &str,
    errors: &mut Problems,
) -> Option<Vec<Resource>> {
    let v = structured(data.get("resources"))?;
    let Value::Array(items) = v else {
        errors.add("resources", "Resources must be a list");
        return Some(existing.to_vec());
    };
    if items.len() > MAX_ITEMS {
        errors.add("resources", format!("At most {MAX_ITEMS} resources"));
        return Some(existing.to_vec());
    }
    let mut out: Vec<Resource> = Vec::new();
    for item in items {
        let Value::Object(o) = item else {
            errors.add("resources", "A resource must be a dictionary");
            continue;
        };
        let id = text(o.get("id"));
        let base = existing.iter().find(|r| !id.is_empty() && r.id == id);
        let r = resource_from(&o, base, dataset_id, errors, "resources");
        if out.iter().any(|x| x.id == r.id) {
            errors.add("resources", format!("Duplicate resource id {}", r.id));
            continue;
        }
        out.push(r);
    }
    Some(out)
}

/// Applies the rules of Japan's standard datasets: the BODIK tags and CC BY 4.0 by default.
pub fn apply_template(d: &mut Dataset, errors: &mut Problems, licence_given: bool) {
    let Some(key) = d.extra(TEMPLATE_EXTRA).map(str::to_string) else {
        return;
    };
    let Some(t) = crate::standard::template(key.trim()) else {
        let keys: Vec<&str> = crate::standard::templates().iter().map(|t| t.key).collect();
        errors.add(
            "extras",
            format!(
                "Unknown standard template {key}: use one of {}",
                keys.join(", ")
            ),
        );
        return;
    };
    for tag in [crate::standard::BODIK_TAG, t.name_ja] {
        if !d.tags.iter().any(|x| x == tag) {
            d.tags.push(tag.to_string());
        }
    }
    if !licence_given {
        d.license_id = model::DEFAULT_LICENCE.to_string();
    }
}

/// The checked fields of a new publisher or group (they share one namespace, as in CKAN).
pub struct NewGroup {
    pub id: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub image_url: String,
}

/// Reads a new publisher or group; `taken` says whether a name or id is
/// already a publisher's or a group's.
pub fn new_group(
    data: &Map<String, Value>,
    taken: impl Fn(&str) -> bool,
) -> Result<NewGroup, Problems> {
    let mut errors = Problems::new();
    let name = text(data.get("name")).trim().to_string();
    if let Some(p) = model::name_problem(&name) {
        errors.add("name", p);
    }
    let mut title = text(data.get("title")).trim().to_string();
    if title.is_empty() {
        title = name.clone();
    }
    let image_url = text(data.get("image_url")).trim().to_string();
    if unsafe_url(&image_url) {
        errors.add("image_url", "Please provide a valid URL");
    }
    if errors.is_empty() && taken(&name) {
        errors.add("name", "Group name already exists in database");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // A given id is kept when free (ckanapi load relies on it to resolve owner_org and groups).
    let id_given = text(data.get("id")).trim().to_string();
    Ok(NewGroup {
        id: if model::is_uuid(&id_given) && !taken(&id_given) {
            id_given
        } else {
            model::new_id()
        },
        name,
        title,
        description: text(data.get("description")),
        image_url,
    })
}

/// A text field of an update: the given value, else (for a patch) the
/// current one, else (for a full update) empty.
pub fn field(data: &Map<String, Value>, key: &str, current: &str, patch: bool) -> String {
    match data.get(key) {
        Some(v) => text(Some(v)),
        None if patch => current.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_published() {
        for ok in [
            "https://example.jp/a.csv",
            "HTTP://example.jp",
            "data.csv",
            "/dataset/x",
            "",
            "a.csv?x=1:2",
        ] {
            assert!(!unsafe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "\u{1}javascript:x",
            "data:text/html,x",
            "file:///etc/passwd",
            "ftp://example.jp/a.csv",
            "vbscript:x",
        ] {
            assert!(unsafe_url(bad), "{bad:?}");
        }
    }
}
