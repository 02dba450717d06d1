//! Changing the catalogue: datasets, resources (with their files),
//! publishers and groups, from CKAN dictionaries (the API) or from the staff
//! pages' forms turned into the same dictionaries. Checks who may write, and
//! CKAN's validation rules, with CKAN's field-keyed messages.

use platform::i18n::Lang;
use serde_json::{Map, Value, json};

use crate::OpenData;
use crate::ckan::{CkanError, Upload};
use crate::model::{self, Dataset, Group, Organization, Resource};
use crate::store;

/// Who writes: a local government (through a token or a staff member).
#[derive(Debug, Clone)]
pub struct Actor {
    pub organisation_id: i64,
    /// For the audit trail: `token:<id>:<name>` or `staff:<id>`.
    pub label: String,
}

impl Actor {
    /// Who the audit log names: the staff member, the token, else the server.
    pub fn audit(&self) -> platform::audit::Actor {
        let mut parts = self.label.split(':');
        let kind = parts.next();
        let id = parts.next().and_then(|i| i.parse::<i64>().ok());
        match (kind, id) {
            (Some("staff"), Some(id)) => platform::audit::Actor::Staff(id),
            (Some("token"), Some(id)) => platform::audit::Actor::ApiToken(id),
            (Some("cli"), _) => platform::audit::Actor::Cli,
            _ => platform::audit::Actor::System,
        }
    }
}

/// Appends the audit record of a catalogue change inside its transaction.
async fn audit(
    tx: &mut platform::db::WriteTx,
    actor: &Actor,
    action: &str,
    kind: &str,
    detail: Value,
) -> Result<(), CkanError> {
    platform::audit::append(
        tx,
        platform::audit::Entry {
            organisation_id: Some(actor.organisation_id),
            actor: actor.audit(),
            action,
            subject_kind: kind,
            subject_id: None,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Brings this node's copy up to date after a committed write. A failure is
/// logged, not returned: the write happened, and the next read retries.
async fn refreshed(state: &OpenData) {
    if let Err(e) = state.catalogue.refresh().await {
        tracing::warn!(error = %e, "refreshing the catalogue after a write failed");
    }
}

/// The largest number of resources, tags or extras a dataset may have.
pub const MAX_ITEMS: usize = 1000;

/// Whether a link is one we may publish: not `javascript:`, `data:` and the like.
fn unsafe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["javascript:", "data:", "vbscript:", "file:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The extra that marks a dataset as one of Japan's standard datasets.
pub const TEMPLATE_EXTRA: &str = "standard_template";

type Errors = Map<String, Value>;

fn add_error(errors: &mut Errors, field: &str, message: impl Into<String>) {
    let entry = errors.entry(field.to_string()).or_insert_with(|| json!([]));
    if let Value::Array(list) = entry {
        list.push(Value::String(message.into()));
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.first().map(|x| text(Some(x))).unwrap_or_default(),
        Some(other) => other.to_string(),
    }
}

fn boolean(v: Option<&Value>) -> Option<bool> {
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
fn structured(v: Option<&Value>) -> Option<Value> {
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

fn parse_tags(data: &Map<String, Value>, errors: &mut Errors) -> Option<Vec<String>> {
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
            add_error(errors, "tags", p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    if tags.len() > MAX_ITEMS {
        add_error(errors, "tags", format!("At most {MAX_ITEMS} tags"));
    }
    given.then_some(tags)
}

fn parse_extras(data: &Map<String, Value>, errors: &mut Errors) -> Option<Vec<(String, String)>> {
    let v = structured(data.get("extras"))?;
    let items = match v {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        Value::Object(o) => o
            .into_iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
        _ => {
            add_error(errors, "extras", "Extras must be a list of {key, value}");
            return Some(Vec::new());
        }
    };
    if items.len() > MAX_ITEMS {
        add_error(errors, "extras", format!("At most {MAX_ITEMS} extras"));
        return Some(Vec::new());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for item in items {
        let Value::Object(o) = item else {
            add_error(errors, "extras", "Extras must be a list of {key, value}");
            continue;
        };
        if boolean(o.get("deleted")) == Some(true) {
            continue;
        }
        let key = text(o.get("key")).trim().to_string();
        if key.is_empty() {
            add_error(
                errors,
                "extras",
                "There is a schema error: key: Missing value",
            );
            continue;
        }
        if out.iter().any(|(k, _)| *k == key) {
            add_error(errors, "extras", format!("There are duplicate keys: {key}"));
            continue;
        }
        if matches!(
            key.as_str(),
            "id" | "name" | "title" | "notes" | "tags" | "groups" | "resources" | "state"
        ) {
            add_error(
                errors,
                "extras",
                format!("There is a schema field with the same name: {key}"),
            );
            continue;
        }
        out.push((key, text(o.get("value"))));
    }
    Some(out)
}

fn parse_groups(
    state: &OpenData,
    data: &Map<String, Value>,
    errors: &mut Errors,
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
        match state.catalogue.group(key.trim()) {
            Some(g) if !ids.contains(&g.id) => ids.push(g.id),
            Some(_) => {}
            None => add_error(errors, "groups", format!("Group {key} does not exist")),
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
fn resource_from(
    dict: &Map<String, Value>,
    base: Option<&Resource>,
    dataset_id: &str,
    errors: &mut Errors,
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
        add_error(errors, field, "url: Please provide a valid URL");
    }
    match dict.get("size") {
        Some(Value::Number(n)) => r.size = n.as_i64(),
        Some(Value::String(s)) if !s.trim().is_empty() => match s.trim().parse::<i64>() {
            Ok(n) => r.size = Some(n),
            Err(_) => add_error(errors, field, "size: Invalid integer"),
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

fn parse_resources(
    data: &Map<String, Value>,
    existing: &[Resource],
    dataset_id: &str,
    errors: &mut Errors,
) -> Option<Vec<Resource>> {
    let v = structured(data.get("resources"))?;
    let Value::Array(items) = v else {
        add_error(errors, "resources", "Resources must be a list");
        return Some(existing.to_vec());
    };
    if items.len() > MAX_ITEMS {
        add_error(
            errors,
            "resources",
            format!("At most {MAX_ITEMS} resources"),
        );
        return Some(existing.to_vec());
    }
    let mut out: Vec<Resource> = Vec::new();
    for item in items {
        let Value::Object(o) = item else {
            add_error(errors, "resources", "A resource must be a dictionary");
            continue;
        };
        let id = text(o.get("id"));
        let base = existing.iter().find(|r| !id.is_empty() && r.id == id);
        let r = resource_from(&o, base, dataset_id, errors, "resources");
        if out.iter().any(|x| x.id == r.id) {
            add_error(
                errors,
                "resources",
                format!("Duplicate resource id {}", r.id),
            );
            continue;
        }
        out.push(r);
    }
    Some(out)
}

/// The publisher `key` names, which `actor` must be allowed to write to.
fn owner(
    state: &OpenData,
    actor: &Actor,
    key: &str,
    errors: &mut Errors,
) -> Result<Option<Organization>, CkanError> {
    match state.catalogue.organization(key.trim()) {
        Some(o) if o.organisation_id == actor.organisation_id => Ok(Some(o)),
        Some(o) => Err(CkanError::Authorization(format!(
            "User {} not authorized to add dataset to organization {}",
            actor.label, o.name
        ))),
        None => {
            add_error(errors, "owner_org", "Organization does not exist");
            Ok(None)
        }
    }
}

/// The publisher of a local government (its default one), created on first use.
pub async fn default_owner(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Organization, CkanError> {
    if let Some(o) = state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.organisation_id == organisation_id)
        .min_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.name.cmp(&b.name))
        })
    {
        return Ok(o);
    }
    let org = platform::orgs::organisation_by_id(&state.platform.db, organisation_id)
        .await?
        .ok_or_else(|| CkanError::Authorization("Unknown organisation".into()))?;
    let o = store::default_organization(&state.platform.db, &org).await?;
    refreshed(state).await;
    Ok(o)
}

/// Applies the rules of Japan's standard datasets: the BODIK tags and CC BY 4.0 by default.
fn apply_template(d: &mut Dataset, errors: &mut Errors, licence_given: bool) {
    let Some(key) = d.extra(TEMPLATE_EXTRA).map(str::to_string) else {
        return;
    };
    let Some(t) = crate::standard::template(key.trim()) else {
        let keys: Vec<&str> = crate::standard::templates().iter().map(|t| t.key).collect();
        add_error(
            errors,
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

/// `package_create`: returns the new dataset's id.
pub async fn create_dataset(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
    lang: Lang,
) -> Result<String, CkanError> {
    let mut errors = Errors::new();
    let name = text(data.get("name")).trim().to_string();
    if let Some(p) = model::name_problem(&name) {
        add_error(&mut errors, "name", p);
    }
    let owner_key = text(data.get("owner_org"));
    let org = if owner_key.trim().is_empty() {
        Some(default_owner(state, actor.organisation_id).await?)
    } else {
        owner(state, actor, &owner_key, &mut errors)?
    };
    let now = model::now();
    let id_given = text(data.get("id")).trim().to_string();
    let mut d = Dataset {
        id: if model::is_uuid(&id_given) {
            id_given.clone()
        } else {
            model::new_id()
        },
        name: name.clone(),
        title: text(data.get("title")).trim().to_string(),
        notes: text(data.get("notes")),
        owner_org: org.as_ref().map(|o| o.id.clone()).unwrap_or_default(),
        license_id: text(data.get("license_id")).trim().to_string(),
        author: text(data.get("author")),
        author_email: text(data.get("author_email")),
        maintainer: text(data.get("maintainer")),
        maintainer_email: text(data.get("maintainer_email")),
        url: text(data.get("url")).trim().to_string(),
        version: text(data.get("version")),
        private: boolean(data.get("private")).unwrap_or(false),
        state: match text(data.get("state")).as_str() {
            "draft" => "draft".into(),
            _ => "active".into(),
        },
        tags: parse_tags(data, &mut errors).unwrap_or_default(),
        group_ids: parse_groups(state, data, &mut errors).unwrap_or_default(),
        extras: parse_extras(data, &mut errors).unwrap_or_default(),
        creator_user_id: model::id_for("user", &actor.label),
        publisher_key: None,
        created_at: now.clone(),
        modified_at: now,
        resources: Vec::new(),
    };
    if d.title.is_empty() {
        d.title = d.name.clone();
    }
    if unsafe_url(&d.url) {
        add_error(&mut errors, "url", "Please provide a valid URL");
    }
    let licence_given = !d.license_id.is_empty();
    if !licence_given {
        d.license_id = model::DEFAULT_LICENCE.to_string();
    }
    apply_template(&mut d, &mut errors, licence_given);
    d.resources = parse_resources(data, &[], &d.id, &mut errors).unwrap_or_default();
    if !errors.is_empty() {
        return Err(CkanError::Validation(errors));
    }
    let _writing = state.writing.lock().await;
    let mut tx = state.platform.db.begin().await?;
    store::free_deleted_name(&mut tx, &d.name).await?;
    if store::dataset_exists(&mut tx, &d.name).await? {
        tx.rollback().await?;
        return Err(CkanError::validation("name", "That URL is already in use."));
    }
    if id_given == d.id && store::dataset_exists(&mut tx, &d.id).await? {
        tx.rollback().await?;
        return Err(CkanError::validation("id", "Dataset id already exists"));
    }
    for r in &mut d.resources {
        if store::resource_owner_in(&mut tx, &r.id).await?.is_some() {
            r.id = model::new_id();
        }
    }
    let seq = store::bump(&mut tx).await?;
    store::save_dataset(&mut tx, &d, seq, true).await?;
    audit(
        &mut tx,
        actor,
        "dataset.created",
        "dataset",
        json!({"id": d.id, "name": d.name, "private": d.private}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    let _ = lang;
    Ok(d.id)
}

/// The dataset `id` for writing by `actor` (any state but purged).
async fn writable(state: &OpenData, actor: &Actor, id: &str) -> Result<Dataset, CkanError> {
    let d = store::dataset(&state.platform.db, id)
        .await?
        .ok_or_else(CkanError::not_found)?;
    let org = state.catalogue.organization(&d.owner_org);
    if org.map(|o| o.organisation_id) != Some(actor.organisation_id) {
        return Err(CkanError::Authorization(format!(
            "User {} not authorized to edit package {}",
            actor.label, d.name
        )));
    }
    Ok(d)
}

/// Writes a changed dataset, if nobody changed it since it was read
/// (`read_at`: its `metadata_modified` then); another node's concurrent write
/// gets CKAN's 409 instead of being lost.
async fn save(
    state: &OpenData,
    actor: &Actor,
    action: &str,
    d: &Dataset,
    read_at: &str,
) -> Result<(), CkanError> {
    let mut tx = state.platform.db.begin().await?;
    if !store::unchanged_since(&mut tx, &d.id, read_at).await? {
        return Err(CkanError::validation(
            "id",
            "The dataset was changed by someone else at the same time: read it again and retry.",
        ));
    }
    // Client-given resource ids must not be another dataset's.
    for r in &d.resources {
        if let Some(owner) = store::resource_owner_in(&mut tx, &r.id).await?
            && owner != d.id
        {
            return Err(CkanError::validation(
                "resources",
                format!("Resource id {} is already in use", r.id),
            ));
        }
    }
    let seq = store::bump(&mut tx).await?;
    store::save_dataset(&mut tx, d, seq, false).await?;
    let resources: Vec<&str> = d.resources.iter().map(|r| r.id.as_str()).collect();
    audit(&mut tx, actor, action, "dataset", json!({"id": d.id, "name": d.name, "state": d.state, "private": d.private, "resources": resources})).await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(())
}

/// `package_update` (`patch` = false: omitted fields are reset, except resources) and `package_patch`.
pub async fn update_dataset(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    patch: bool,
    lang: Lang,
) -> Result<String, CkanError> {
    let _writing = state.writing.lock().await;
    let old = writable(state, actor, id).await?;
    let mut errors = Errors::new();
    let mut d = old.clone();
    let field = |k: &str, current: &str| -> String {
        match data.get(k) {
            Some(v) => text(Some(v)),
            None if patch => current.to_string(),
            None => String::new(),
        }
    };
    if data.contains_key("name") || !patch {
        let name = text(data.get("name")).trim().to_string();
        let name = if name.is_empty() && !data.contains_key("name") {
            old.name.clone()
        } else {
            name
        };
        if let Some(p) = model::name_problem(&name) {
            add_error(&mut errors, "name", p);
        }
        d.name = name;
    }
    d.title = field("title", &old.title).trim().to_string();
    if d.title.is_empty() {
        d.title = d.name.clone();
    }
    d.notes = field("notes", &old.notes);
    d.author = field("author", &old.author);
    d.author_email = field("author_email", &old.author_email);
    d.maintainer = field("maintainer", &old.maintainer);
    d.maintainer_email = field("maintainer_email", &old.maintainer_email);
    d.url = field("url", &old.url).trim().to_string();
    if unsafe_url(&d.url) {
        add_error(&mut errors, "url", "Please provide a valid URL");
    }
    d.version = field("version", &old.version);
    // As CKAN: an update without a licence clears it (only a new dataset gets the default).
    d.license_id = field("license_id", &old.license_id).trim().to_string();
    let licence_given = !d.license_id.is_empty();
    // `private` and `state` keep their values unless given (as CKAN's update does).
    if let Some(p) = boolean(data.get("private")) {
        d.private = p;
    }
    if let Some(s) = data.get("state") {
        d.state = match text(Some(s)).as_str() {
            "draft" => "draft".into(),
            "deleted" => "deleted".into(),
            _ => "active".into(),
        };
    }
    if data.contains_key("owner_org") {
        let key = text(data.get("owner_org"));
        if key.trim().is_empty() {
            add_error(&mut errors, "owner_org", "Missing value");
        } else if let Some(o) = owner(state, actor, &key, &mut errors)? {
            d.owner_org = o.id;
        }
    }
    match parse_tags(data, &mut errors) {
        Some(t) => d.tags = t,
        None if !patch => d.tags = Vec::new(),
        None => {}
    }
    match parse_groups(state, data, &mut errors) {
        Some(g) => d.group_ids = g,
        None if !patch => d.group_ids = Vec::new(),
        None => {}
    }
    match parse_extras(data, &mut errors) {
        Some(e) => d.extras = e,
        None if !patch => d.extras = Vec::new(),
        None => {}
    }
    apply_template(&mut d, &mut errors, licence_given);
    if let Some(r) = parse_resources(data, &old.resources, &d.id, &mut errors) {
        d.resources = r;
    }
    if !errors.is_empty() {
        return Err(CkanError::Validation(errors));
    }
    if d.name != old.name {
        let mut tx = state.platform.db.begin().await?;
        let taken = store::dataset_exists(&mut tx, &d.name).await?;
        tx.rollback().await?;
        if taken {
            return Err(CkanError::validation("name", "That URL is already in use."));
        }
    }
    d.modified_at = model::now();
    save(state, actor, "dataset.updated", &d, &old.modified_at).await?;
    let _ = lang;
    Ok(d.id)
}

/// `package_delete`: the dataset stays, with state `deleted`.
pub async fn delete_dataset(state: &OpenData, actor: &Actor, id: &str) -> Result<(), CkanError> {
    let _writing = state.writing.lock().await;
    let mut d = writable(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    d.state = "deleted".into();
    d.modified_at = model::now();
    save(state, actor, "dataset.deleted", &d, &read_at).await
}

/// Stores an uploaded file under `r` (after the standard template's check, if any).
async fn attach(
    state: &OpenData,
    d: &mut Dataset,
    r: &mut Resource,
    upload: Upload,
    lang: Lang,
) -> Result<(), CkanError> {
    if upload.bytes.len() > state.upload_limit {
        return Err(CkanError::validation("upload", "File upload too large"));
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
        let messages: Vec<Value> = problems
            .iter()
            .take(100)
            .map(|p| Value::String(p.message(&tr)))
            .collect();
        let mut m = Map::new();
        m.insert("upload".into(), Value::Array(messages));
        return Err(CkanError::Validation(m));
    }
    let key = state.platform.files.put(&upload.bytes).await.map_err(|e| {
        tracing::error!(error = %e, "storing an upload failed");
        CkanError::Internal
    })?;
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
pub fn ensure_ngsi_resource(state: &OpenData, d: &mut Dataset) {
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
    let tenant = crate::ngsi_tenant(state, d);
    let service_path = crate::ngsi_service_path(d);
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
pub async fn create_resource(
    state: &OpenData,
    actor: &Actor,
    package_id: &str,
    data: &Map<String, Value>,
    upload: Option<Upload>,
    lang: Lang,
) -> Result<(String, String), CkanError> {
    let _writing = state.writing.lock().await;
    let mut d = writable(state, actor, package_id).await?;
    let read_at = d.modified_at.clone();
    let mut errors = Errors::new();
    let mut r = resource_from(data, None, &d.id, &mut errors, "url");
    if d.resources.iter().any(|x| x.id == r.id)
        || store::resource_dataset(&state.platform.db, &r.id)
            .await?
            .is_some()
    {
        r.id = model::new_id();
    }
    if !errors.is_empty() {
        return Err(CkanError::Validation(errors));
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
) -> Result<Dataset, CkanError> {
    let dataset_id = store::resource_dataset(&state.platform.db, id)
        .await?
        .ok_or_else(CkanError::not_found)?;
    writable(state, actor, &dataset_id).await
}

/// `resource_update` and `resource_patch`: returns (dataset id, resource id).
pub async fn update_resource(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    upload: Option<Upload>,
    patch: bool,
    lang: Lang,
) -> Result<(String, String), CkanError> {
    let _writing = state.writing.lock().await;
    let mut d = dataset_of_resource(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    let pos = d
        .resources
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(CkanError::not_found)?;
    let old = d.resources[pos].clone();
    let mut errors = Errors::new();
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
        return Err(CkanError::Validation(errors));
    }
    if let Some(u) = upload {
        attach(state, &mut d, &mut r, u, lang).await?;
    }
    d.resources[pos] = r;
    ensure_ngsi_resource(state, &mut d);
    d.modified_at = model::now();
    save(state, actor, "resource.updated", &d, &read_at).await?;
    Ok((d.id, id.to_string()))
}

/// `resource_delete`.
pub async fn delete_resource(state: &OpenData, actor: &Actor, id: &str) -> Result<(), CkanError> {
    let _writing = state.writing.lock().await;
    let mut d = dataset_of_resource(state, actor, id).await?;
    let read_at = d.modified_at.clone();
    d.resources.retain(|r| r.id != id);
    d.modified_at = model::now();
    save(state, actor, "resource.deleted", &d, &read_at).await
}

/// The checked fields of a new publisher or group (they share one namespace, as in CKAN).
struct NewGroup {
    id: String,
    name: String,
    title: String,
    description: String,
    image_url: String,
}

fn new_group(state: &OpenData, data: &Map<String, Value>) -> Result<NewGroup, CkanError> {
    let mut errors = Errors::new();
    let name = text(data.get("name")).trim().to_string();
    if let Some(p) = model::name_problem(&name) {
        add_error(&mut errors, "name", p);
    }
    let mut title = text(data.get("title")).trim().to_string();
    if title.is_empty() {
        title = name.clone();
    }
    let image_url = text(data.get("image_url")).trim().to_string();
    if unsafe_url(&image_url) {
        add_error(&mut errors, "image_url", "Please provide a valid URL");
    }
    let taken = |key: &str| {
        state.catalogue.organization(key).is_some() || state.catalogue.group(key).is_some()
    };
    if errors.is_empty() && taken(&name) {
        add_error(&mut errors, "name", "Group name already exists in database");
    }
    if !errors.is_empty() {
        return Err(CkanError::Validation(errors));
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

/// `organization_create`: a publisher under the actor's local government.
pub async fn create_organization(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<Organization, CkanError> {
    let _writing = state.writing.lock().await;
    let g = new_group(state, data)?;
    let o = Organization {
        id: g.id,
        name: g.name,
        title: g.title,
        description: g.description,
        image_url: g.image_url,
        organisation_id: actor.organisation_id,
        state: "active".into(),
        created_at: model::now(),
    };
    let mut tx = state.platform.db.begin().await?;
    store::insert_organization(&mut tx, &o).await?;
    store::bump(&mut tx).await?;
    audit(
        &mut tx,
        actor,
        "publisher.created",
        "publisher",
        json!({"id": o.id, "name": o.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(o)
}

/// `group_create`.
pub async fn create_group(
    state: &OpenData,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<Group, CkanError> {
    let _writing = state.writing.lock().await;
    let n = new_group(state, data)?;
    let g = Group {
        id: n.id,
        name: n.name,
        title: n.title,
        description: n.description,
        image_url: n.image_url,
        state: "active".into(),
        created_at: model::now(),
    };
    let mut tx = state.platform.db.begin().await?;
    store::insert_group(&mut tx, &g).await?;
    store::bump(&mut tx).await?;
    audit(
        &mut tx,
        actor,
        "group.created",
        "group",
        json!({"id": g.id, "name": g.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(g)
}

/// `organization_update` and `organization_patch`: title, description and image of a publisher.
pub async fn update_organization(
    state: &OpenData,
    actor: &Actor,
    id: &str,
    data: &Map<String, Value>,
    patch: bool,
) -> Result<Organization, CkanError> {
    let mut o = state
        .catalogue
        .organization(id)
        .ok_or_else(CkanError::not_found)?;
    if o.organisation_id != actor.organisation_id {
        return Err(CkanError::Authorization(format!(
            "User {} not authorized to edit organization {}",
            actor.label, o.name
        )));
    }
    let field = |k: &str, current: &str| -> String {
        match data.get(k) {
            Some(v) => text(Some(v)),
            None if patch => current.to_string(),
            None => String::new(),
        }
    };
    o.title = field("title", &o.title).trim().to_string();
    if o.title.is_empty() {
        o.title = o.name.clone();
    }
    o.description = field("description", &o.description);
    o.image_url = field("image_url", &o.image_url).trim().to_string();
    let mut tx = state.platform.db.begin().await?;
    store::update_organization(&mut tx, &o).await?;
    let seq = store::bump(&mut tx).await?;
    // Its datasets' dictionaries name it: every node rebuilds them.
    store::touch_datasets_of(&mut tx, &o.id, seq).await?;
    audit(
        &mut tx,
        actor,
        "publisher.updated",
        "publisher",
        json!({"id": o.id, "name": o.name}),
    )
    .await?;
    tx.commit().await?;
    refreshed(state).await;
    Ok(o)
}
