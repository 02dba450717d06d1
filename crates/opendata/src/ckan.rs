//! CKAN's Action API v3 (`/api/3/action/{name}` and `/api/action/{name}`), as
//! real clients use it: ckanapi, CKAN's harvester, the CADDE connector.
//!
//! Requests: GET with (repeated) query keys; POST with a JSON body, form
//! fields, a form whose single key is JSON, or multipart (with a file in
//! `upload`). Answers: CKAN's envelope `{"help", "success", "result"}`, and
//! errors with CKAN's status codes and `__type` strings, which clients branch
//! on. Tokens: `Authorization: <token>`, `Authorization: Bearer <token>` or
//! `X-CKAN-API-Key`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::OpenData;
use crate::catalogue::Entry;
use crate::model;
use crate::search::SearchRequest;
use crate::service::{self, Actor};

/// CKAN's error classes.
#[derive(Debug)]
pub enum CkanError {
    NotFound(String),
    Authorization(String),
    /// Field-keyed messages.
    Validation(Map<String, Value>),
    SearchQuery(String),
    /// A malformed request (bad JSON, unknown action): CKAN answers 400 with a bare string.
    BadRequest(String),
    Internal,
}

impl CkanError {
    pub fn validation(field: &str, message: impl Into<String>) -> CkanError {
        let mut m = Map::new();
        m.insert(field.into(), json!([message.into()]));
        CkanError::Validation(m)
    }

    pub fn not_found() -> CkanError {
        CkanError::NotFound("Not found".into())
    }
}

impl From<platform::StoreError> for CkanError {
    fn from(e: platform::StoreError) -> CkanError {
        tracing::error!(error = %e, "catalogue storage failed");
        CkanError::Internal
    }
}

/// A request's parameters, whatever the encoding, and its file.
#[derive(Debug, Default)]
pub struct Params {
    pub data: Map<String, Value>,
    pub upload: Option<Upload>,
}

#[derive(Debug)]
pub struct Upload {
    pub filename: String,
    pub bytes: Bytes,
}

/// A parsing failure.
enum ParseError {
    TooLarge,
    Bad(String),
}

fn push_pair(data: &mut Map<String, Value>, k: String, v: String) {
    match data.get_mut(&k) {
        Some(Value::Array(list)) => list.push(Value::String(v)),
        Some(old) => {
            let first = old.take();
            *old = Value::Array(vec![first, Value::String(v)]);
        }
        None => {
            data.insert(k, Value::String(v));
        }
    }
}

fn pairs(bytes: &[u8]) -> Map<String, Value> {
    let mut data = Map::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        push_pair(&mut data, k.into_owned(), v.into_owned());
    }
    data
}

async fn parse_request(req: Request, upload_limit: usize) -> Result<Params, ParseError> {
    let query = req
        .uri()
        .query()
        .map(|q| pairs(q.as_bytes()))
        .unwrap_or_default();
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return Ok(Params {
            data: query,
            upload: None,
        });
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = if content_type.starts_with("multipart/form-data") {
        parse_multipart(req, upload_limit).await?
    } else {
        let body = read_body(req.into_body(), upload_limit.saturating_add(1 << 20)).await?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut data = pairs(&body);
            // A form whose single key is a JSON document (old clients post that way).
            if data.len() == 1
                && let Some((k, v)) = data.iter().next()
                && v.as_str().is_some_and(str::is_empty)
                && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(k)
            {
                data = obj;
            }
            Params { data, upload: None }
        } else if body.iter().all(u8::is_ascii_whitespace) {
            Params::default()
        } else {
            // JSON (whatever the content type says, as CKAN does).
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => Params {
                    data: obj,
                    upload: None,
                },
                Ok(_) => {
                    return Err(ParseError::Bad(
                        "Bad request - JSON Error: Request data JSON decoded to non-dict".into(),
                    ));
                }
                Err(e) => {
                    return Err(ParseError::Bad(format!(
                        "Bad request - JSON Error: Invalid request body: {e}"
                    )));
                }
            }
        }
    };
    for (k, v) in query {
        params.data.entry(k).or_insert(v);
    }
    Ok(params)
}

/// Reads a whole body up to `cap` bytes. A longer body is still read to its
/// end (up to a hard bound), so the client can read our answer instead of
/// seeing its connection reset.
async fn read_body(body: axum::body::Body, cap: usize) -> Result<Bytes, ParseError> {
    use futures_util::StreamExt;
    let drain_bound = cap.saturating_mul(4).saturating_add(64 << 20);
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ParseError::Bad(format!("Bad request - {e}")))?;
        total = total.saturating_add(chunk.len());
        if total <= cap {
            buf.extend_from_slice(&chunk);
        } else if total > drain_bound {
            break;
        }
    }
    if total > cap {
        return Err(ParseError::TooLarge);
    }
    Ok(Bytes::from(buf))
}

/// Reads a body to its end (up to a bound) and drops it.
async fn drain(body: axum::body::Body, cap: usize) {
    use futures_util::StreamExt;
    let bound = cap.saturating_mul(4).saturating_add(64 << 20);
    let mut stream = body.into_data_stream();
    let mut total = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        total = total.saturating_add(chunk.len());
        if total > bound {
            break;
        }
    }
}

async fn parse_multipart(req: Request, upload_limit: usize) -> Result<Params, ParseError> {
    let (parts, body) = req.into_parts();
    // The file plus a little room for the other fields and the boundaries.
    let body = read_body(body, upload_limit.saturating_add(256 << 10)).await?;
    let req = Request::from_parts(parts, axum::body::Body::from(body));
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| ParseError::Bad(format!("Bad request - {}", e.body_text())))?;
    let mut params = Params::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ParseError::TooLarge
                } else {
                    ParseError::Bad(format!("Bad request - {}", e.body_text()))
                });
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ParseError::TooLarge
                } else {
                    ParseError::Bad(format!("Bad request - {}", e.body_text()))
                });
            }
        };
        match filename {
            Some(filename) if name == "upload" || !bytes.is_empty() => {
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                if bytes.len() > upload_limit {
                    return Err(ParseError::TooLarge);
                }
                params.upload = Some(Upload { filename, bytes });
            }
            _ => push_pair(
                &mut params.data,
                name,
                String::from_utf8_lossy(&bytes).into_owned(),
            ),
        }
    }
    Ok(params)
}

/// The token in the request, if any.
pub fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-ckan-api-key").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if !v.is_empty() {
            return Some(v.to_string());
        }
    }
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match v.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => v,
    };
    (!token.is_empty()).then(|| token.to_string())
}

/// Who is calling: a token's local government, or nobody.
pub async fn actor_of(state: &OpenData, headers: &HeaderMap) -> Result<Option<Actor>, CkanError> {
    let Some(token) = token_of(headers) else {
        return Ok(None);
    };
    let Some(t) = crate::store::token(&state.platform.db, &token).await? else {
        return Ok(None);
    };
    crate::store::touch_token(&state.platform.db, &t).await;
    Ok(Some(Actor {
        organisation_id: t.organisation_id,
        label: format!("token:{}:{}", t.id, t.name),
    }))
}

fn help_url(state: &OpenData, action: &str) -> String {
    format!(
        "{}/api/3/action/help_show?name={action}",
        state.catalogue.site_url()
    )
}

fn envelope(state: &OpenData, action: &str, result: Result<Value, CkanError>) -> Response {
    let help = help_url(state, action);
    let (status, body) = match result {
        Ok(result) => (
            StatusCode::OK,
            json!({"help": help, "success": true, "result": result}),
        ),
        Err(CkanError::BadRequest(message)) => {
            return crate::rendered(
                (StatusCode::BAD_REQUEST, axum::Json(Value::String(message))).into_response(),
            );
        }
        Err(e) => {
            let (status, error) = match e {
                CkanError::NotFound(m) => (
                    StatusCode::NOT_FOUND,
                    json!({"__type": "Not Found Error", "message": m}),
                ),
                CkanError::Authorization(m) => (
                    StatusCode::FORBIDDEN,
                    json!({"__type": "Authorization Error", "message": m}),
                ),
                CkanError::Validation(mut fields) => {
                    fields.insert("__type".into(), json!("Validation Error"));
                    (StatusCode::CONFLICT, Value::Object(fields))
                }
                CkanError::SearchQuery(m) => (
                    StatusCode::BAD_REQUEST,
                    json!({"__type": "Search Query Error", "message": format!("Search Query is invalid: {m}")}),
                ),
                CkanError::Internal | CkanError::BadRequest(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"__type": "Internal Server Error", "message": "Internal Server Error"}),
                ),
            };
            (
                status,
                json!({"help": help, "success": false, "error": error}),
            )
        }
    };
    crate::rendered((status, axum::Json(body)).into_response())
}

/// `GET|POST /api/3/action/{name}` and `/api/action/{name}`.
pub async fn action(
    State(state): State<OpenData>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let lang = crate::lang_of(&req);
    let Some(handler) = ACTIONS.iter().find(|(n, _)| *n == name) else {
        return crate::rendered(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(Value::String(format!(
                    "Bad request - Action name not known: {name}"
                ))),
            )
                .into_response(),
        );
    };
    let writes = WRITE_ACTIONS.contains(&name.as_str());
    if writes && req.method() != Method::POST {
        return crate::rendered(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(Value::String(format!(
                    "Bad request - Action {name} changes data: use POST"
                ))),
            )
                .into_response(),
        );
    }
    let actor = match actor_of(&state, &headers).await {
        Ok(a) => a,
        Err(e) => return envelope(&state, &name, Err(e)),
    };
    if writes && actor.is_none() {
        // Refused without keeping the body: it is read and dropped (so that the
        // client reads this answer instead of a reset connection), never held.
        drain(req.into_body(), state.upload_limit).await;
        return envelope(
            &state,
            &name,
            Err(CkanError::Authorization(format!(
                "Action {name} requires an authenticated user"
            ))),
        );
    }
    // Files only come with resource_create/update/patch; other bodies are small.
    let limit = if matches!(
        name.as_str(),
        "resource_create" | "resource_update" | "resource_patch"
    ) {
        state.upload_limit
    } else {
        JSON_LIMIT.min(state.upload_limit)
    };
    let params = match parse_request(req, limit).await {
        Ok(p) => p,
        Err(ParseError::TooLarge) => {
            return envelope(
                &state,
                &name,
                Err(CkanError::validation("upload", "File upload too large")),
            );
        }
        Err(ParseError::Bad(m)) => return envelope(&state, &name, Err(CkanError::BadRequest(m))),
    };
    if let Err(e) = state.catalogue.current().await {
        // Answer from the copy this node has; the next request tries again.
        tracing::warn!(error = %e, "checking the catalogue's generation failed");
    }
    let call = Call {
        state: &state,
        actor: actor.as_ref(),
        params,
        lang,
    };
    let result = (handler.1)(call).await;
    envelope(&state, &name, result)
}

/// The actions that change data: POST only, and never without a token.
const WRITE_ACTIONS: &[&str] = &[
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "resource_create",
    "resource_update",
    "resource_patch",
    "resource_delete",
    "organization_create",
    "organization_update",
    "organization_patch",
    "group_create",
];

/// The largest request body other than a file upload.
const JSON_LIMIT: usize = 8 << 20;

/// One action call.
pub struct Call<'a> {
    pub state: &'a OpenData,
    pub actor: Option<&'a Actor>,
    pub params: Params,
    pub lang: platform::i18n::Lang,
}

impl Call<'_> {
    fn str(&self, key: &str) -> Option<String> {
        match self.params.data.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_string),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn required(&self, key: &str) -> Result<String, CkanError> {
        match self.str(key) {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(CkanError::validation(key, "Missing value")),
        }
    }

    fn int(&self, key: &str, default: i64) -> Result<i64, CkanError> {
        match self.params.data.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| CkanError::validation(key, "Invalid integer")),
            Some(_) => match self.str(key) {
                Some(s) if s.trim().is_empty() => Ok(default),
                Some(s) => s
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| CkanError::validation(key, "Invalid integer")),
                None => Ok(default),
            },
        }
    }

    fn bool(&self, key: &str, default: bool) -> bool {
        match self.params.data.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
            Some(_) => self
                .str(key)
                .map(|s| {
                    matches!(
                        s.trim().to_ascii_lowercase().as_str(),
                        "true" | "1" | "yes" | "on"
                    )
                })
                .unwrap_or(default),
            None => default,
        }
    }

    /// A list parameter in any encoding: a JSON list, a JSON string of a list,
    /// repeated keys, or a single bare value.
    fn list(&self, key: &str) -> Vec<String> {
        fn from_value(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Array(items) => items.iter().for_each(|i| from_value(i, out)),
                Value::String(s) => {
                    let t = s.trim();
                    if t.starts_with('[')
                        && let Ok(Value::Array(items)) = serde_json::from_str::<Value>(t)
                    {
                        items.iter().for_each(|i| from_value(i, out));
                    } else if !t.is_empty() {
                        out.push(t.to_string());
                    }
                }
                Value::Null => {}
                other => out.push(other.to_string()),
            }
        }
        let mut out = Vec::new();
        if let Some(v) = self.params.data.get(key) {
            from_value(v, &mut out);
        }
        out
    }

    fn visible(&self, e: &Entry) -> bool {
        !e.dataset.private
            || self
                .actor
                .is_some_and(|a| a.organisation_id == e.organisation_id)
    }
}

type ActionFn = for<'a> fn(
    Call<'a>,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Value, CkanError>> + Send + 'a>,
>;

macro_rules! action {
    ($f:path) => {{
        fn wrapped<'a>(
            c: Call<'a>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Value, CkanError>> + Send + 'a>,
        > {
            Box::pin($f(c))
        }
        wrapped as ActionFn
    }};
}

/// Every action this catalogue answers, with its help text.
pub static ACTIONS: &[(&str, ActionFn)] = &[
    ("package_list", action!(package_list)),
    (
        "current_package_list_with_resources",
        action!(current_package_list_with_resources),
    ),
    ("package_show", action!(package_show)),
    ("package_search", action!(package_search)),
    ("resource_show", action!(resource_show)),
    ("resource_search", action!(resource_search)),
    ("organization_list", action!(organization_list)),
    ("organization_show", action!(organization_show)),
    (
        "organization_list_for_user",
        action!(organization_list_for_user),
    ),
    ("group_list", action!(group_list)),
    ("group_show", action!(group_show)),
    ("tag_list", action!(tag_list)),
    ("tag_show", action!(tag_show)),
    ("license_list", action!(license_list)),
    ("status_show", action!(status_show)),
    ("site_read", action!(site_read)),
    ("help_show", action!(help_show)),
    ("package_create", action!(package_create)),
    ("package_update", action!(package_update)),
    ("package_patch", action!(package_patch)),
    ("package_delete", action!(package_delete)),
    ("resource_create", action!(resource_create)),
    ("resource_update", action!(resource_update)),
    ("resource_patch", action!(resource_patch)),
    ("resource_delete", action!(resource_delete)),
    ("organization_create", action!(organization_create)),
    ("organization_update", action!(organization_update)),
    ("organization_patch", action!(organization_patch)),
    ("group_create", action!(group_create)),
];

const HELP: &[(&str, &str)] = &[
    (
        "package_list",
        "Return a list of the names of the site's datasets (packages).\n\n:param limit: if given, the list of datasets will be broken into pages of at most ``limit`` datasets per page\n:param offset: when ``limit`` is given, the offset to start returning packages from\n:rtype: list of strings",
    ),
    (
        "package_show",
        "Return the metadata of a dataset (package) and its resources.\n\n:param id: the id or name of the dataset\n:rtype: dictionary",
    ),
    (
        "package_search",
        "Searches for packages satisfying a given search criteria.\n\nThe free-text query ``q`` understands Japanese (no spaces needed between words). ``fq`` and ``fq_list`` take Solr filter queries (field:value, \"phrases\", -, +, AND, OR, parentheses, ranges). Parameters: q, fq, fq_list, sort, rows (max 1000), start, facet.field, facet.limit, facet.mincount, include_private.\n:rtype: dictionary with count, results, facets, search_facets",
    ),
    (
        "resource_show",
        "Return the metadata of a resource.\n\n:param id: the id of the resource",
    ),
    (
        "resource_search",
        "Searches for resources satisfying a given search criteria.\n\n:param query: field:term, or a list of them (name, description, format, url, mimetype ...); terms match case-insensitively as substrings\n:param order_by, offset, limit",
    ),
    (
        "package_create",
        "Create a new dataset (package). Needs a token of the owning organization's local government.",
    ),
    (
        "package_update",
        "Update a dataset. Fields not given are reset, except resources, which stay unchanged when omitted.",
    ),
    (
        "package_patch",
        "Patch a dataset: only the given fields change.",
    ),
    (
        "package_delete",
        "Delete a dataset (it is kept with state 'deleted').",
    ),
    (
        "resource_create",
        "Append a resource to a dataset: a link (url) or a file in the multipart field ``upload``.",
    ),
    (
        "resource_update",
        "Update a resource; a new file may be given in ``upload``.",
    ),
    (
        "resource_patch",
        "Patch a resource: only the given fields change.",
    ),
    (
        "organization_create",
        "Create an organization (a publisher) under the token's local government.",
    ),
    (
        "status_show",
        "Return a dictionary with information about the site's configuration.",
    ),
];

fn entry_dicts(entries: &[std::sync::Arc<Entry>]) -> Value {
    Value::Array(entries.iter().map(|e| e.dict.clone()).collect())
}

async fn package_list(c: Call<'_>) -> Result<Value, CkanError> {
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

async fn current_package_list_with_resources(c: Call<'_>) -> Result<Value, CkanError> {
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
async fn visible_dataset(c: &Call<'_>, id: &str) -> Result<Value, CkanError> {
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
    let d = crate::store::dataset(&c.state.platform.db, id)
        .await?
        .ok_or_else(CkanError::not_found)?;
    let org = c.state.catalogue.organization(&d.owner_org);
    if org.as_ref().map(|o| o.organisation_id) != Some(actor.organisation_id) {
        return Err(CkanError::not_found());
    }
    let groups: Vec<model::Group> = d
        .group_ids
        .iter()
        .filter_map(|g| c.state.catalogue.group(g))
        .collect();
    let refs: Vec<&model::Group> = groups.iter().collect();
    Ok(model::package_dict(
        &d,
        org.as_ref(),
        &refs,
        c.state.catalogue.site_url(),
    ))
}

async fn package_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c
        .str("id")
        .or_else(|| c.str("name_or_id"))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| CkanError::validation("id", "Missing value"))?;
    visible_dataset(&c, id.trim()).await
}

/// The search request of `package_search`'s parameters.
pub fn search_request(c: &Call<'_>) -> Result<SearchRequest, CkanError> {
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

async fn package_search(c: Call<'_>) -> Result<Value, CkanError> {
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

fn find_resource(c: &Call<'_>, id: &str) -> Option<(std::sync::Arc<Entry>, Value)> {
    c.state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| c.visible(e))
        .find_map(|e| {
            let pos = e.dataset.resources.iter().position(|r| r.id == id)?;
            let dict = e.dict["resources"][pos].clone();
            Some((e, dict))
        })
}

async fn resource_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    find_resource(&c, id.trim())
        .map(|(_, d)| d)
        .ok_or_else(CkanError::not_found)
}

async fn resource_search(c: Call<'_>) -> Result<Value, CkanError> {
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
        if let Some(resources) = e.dict["resources"].as_array() {
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
        items.sort_by(|a, b| {
            a.2["package_count"]
                .as_u64()
                .cmp(&b.2["package_count"].as_u64())
                .then_with(|| a.0.cmp(&b.0))
        });
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
            d["package_count"] = json!(counts.get(&id).copied().unwrap_or(0));
            (name, title, d)
        })
        .collect();
    Ok(Value::Array(sort_and_page(c, items)?))
}

async fn organization_list(c: Call<'_>) -> Result<Value, CkanError> {
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

async fn organization_list_for_user(c: Call<'_>) -> Result<Value, CkanError> {
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
                d["package_count"] = json!(counts.get(&o.id).copied().unwrap_or(0));
                d["capacity"] = json!("admin");
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
    d["package_count"] = json!(counts.get(id).copied().unwrap_or(0));
    d["users"] = json!([]);
    d["extras"] = json!([]);
    d["tags"] = json!([]);
    d["groups"] = json!([]);
    if c.bool("include_datasets", false) {
        let limit = c.int("limit", 10)?.clamp(0, 1000) as usize;
        d["packages"] = Value::Array(datasets_of(c, holds, limit));
    }
    Ok(d)
}

async fn organization_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    let o = c
        .state
        .catalogue
        .organization(id.trim())
        .filter(|o| o.state == "active")
        .ok_or_else(CkanError::not_found)?;
    show_group(&c, &o.id, o.dict(), |e| e.dataset.owner_org == o.id)
}

async fn group_list(c: Call<'_>) -> Result<Value, CkanError> {
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

async fn group_show(c: Call<'_>) -> Result<Value, CkanError> {
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

async fn tag_list(c: Call<'_>) -> Result<Value, CkanError> {
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

async fn tag_show(c: Call<'_>) -> Result<Value, CkanError> {
    let id = c.required("id")?;
    let name = all_tags(&c)
        .into_iter()
        .find(|t| *t == id || model::id_for("tag", t) == id)
        .ok_or_else(CkanError::not_found)?;
    let mut d = json!({"id": model::id_for("tag", &name), "name": name, "display_name": name, "vocabulary_id": null});
    if c.bool("include_datasets", false) {
        d["packages"] = Value::Array(datasets_of(&c, |e| e.dataset.tags.contains(&name), 1000));
    }
    Ok(d)
}

async fn license_list(_c: Call<'_>) -> Result<Value, CkanError> {
    Ok(Value::Array(
        model::LICENCES.iter().map(model::licence_dict).collect(),
    ))
}

async fn status_show(c: Call<'_>) -> Result<Value, CkanError> {
    let branding = &c.state.platform.config.branding;
    Ok(json!({
        "site_title": branding.site_name,
        "site_description": "",
        "site_url": c.state.catalogue.site_url(),
        "ckan_version": crate::CKAN_VERSION,
        "error_emails_to": null,
        "locale_default": "ja",
        "extensions": ["madoguchi", "dcat", "ngsi-v2", "standard-datasets"],
    }))
}

async fn site_read(_c: Call<'_>) -> Result<Value, CkanError> {
    Ok(Value::Bool(true))
}

async fn help_show(c: Call<'_>) -> Result<Value, CkanError> {
    let name = c.required("name")?;
    if !ACTIONS.iter().any(|(n, _)| *n == name) {
        return Err(CkanError::NotFound(format!(
            "Action function not found: {name}"
        )));
    }
    Ok(Value::String(
        HELP.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| h.to_string())
            .unwrap_or_else(|| format!("{name}: see CKAN's Action API documentation.")),
    ))
}

fn writer<'a>(c: &Call<'a>, what: &str) -> Result<&'a Actor, CkanError> {
    c.actor.ok_or_else(|| {
        CkanError::Authorization(format!("Action {what} requires an authenticated user"))
    })
}

async fn package_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_create")?;
    let d = service::create_dataset(c.state, actor, &c.params.data, c.lang).await?;
    visible_dataset(&c, &d).await
}

async fn package_update(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_update")?;
    let id = c.required("id").or_else(|_| c.required("name"))?;
    let d =
        service::update_dataset(c.state, actor, id.trim(), &c.params.data, false, c.lang).await?;
    visible_dataset(&c, &d).await
}

async fn package_patch(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_patch")?;
    let id = c.required("id")?;
    let d =
        service::update_dataset(c.state, actor, id.trim(), &c.params.data, true, c.lang).await?;
    visible_dataset(&c, &d).await
}

async fn package_delete(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "package_delete")?;
    let id = c.required("id")?;
    service::delete_dataset(c.state, actor, id.trim()).await?;
    Ok(Value::Null)
}

async fn resource_create(mut c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "resource_create")?;
    let package_id = c.required("package_id")?;
    let upload = c.params.upload.take();
    let (dataset, resource_id) = service::create_resource(
        c.state,
        actor,
        package_id.trim(),
        &c.params.data,
        upload,
        c.lang,
    )
    .await?;
    resource_of(&c, &dataset, &resource_id).await
}

/// `resource_update` (`patch` = false) and `resource_patch`.
async fn resource_change(mut c: Call<'_>, name: &str, patch: bool) -> Result<Value, CkanError> {
    let actor = writer(&c, name)?;
    let id = c.required("id")?;
    let upload = c.params.upload.take();
    let (dataset, resource_id) = service::update_resource(
        c.state,
        actor,
        id.trim(),
        &c.params.data,
        upload,
        patch,
        c.lang,
    )
    .await?;
    resource_of(&c, &dataset, &resource_id).await
}

async fn resource_update(c: Call<'_>) -> Result<Value, CkanError> {
    resource_change(c, "resource_update", false).await
}

async fn resource_patch(c: Call<'_>) -> Result<Value, CkanError> {
    resource_change(c, "resource_patch", true).await
}

async fn resource_delete(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "resource_delete")?;
    let id = c.required("id")?;
    service::delete_resource(c.state, actor, id.trim()).await?;
    Ok(Value::Null)
}

async fn resource_of(c: &Call<'_>, dataset: &str, resource_id: &str) -> Result<Value, CkanError> {
    let dict = visible_dataset(c, dataset).await?;
    dict["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["id"] == resource_id))
        .cloned()
        .ok_or_else(CkanError::not_found)
}

async fn organization_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "organization_create")?;
    let o = service::create_organization(c.state, actor, &c.params.data).await?;
    let mut d = o.dict();
    d["package_count"] = json!(0);
    d["users"] = json!([]);
    d["extras"] = json!([]);
    Ok(d)
}

/// `organization_update` (`patch` = false) and `organization_patch`.
async fn organization_change(c: Call<'_>, name: &str, patch: bool) -> Result<Value, CkanError> {
    let actor = writer(&c, name)?;
    let id = c.required("id")?;
    let o = service::update_organization(c.state, actor, id.trim(), &c.params.data, patch).await?;
    Ok(o.dict())
}

async fn organization_update(c: Call<'_>) -> Result<Value, CkanError> {
    organization_change(c, "organization_update", false).await
}

async fn organization_patch(c: Call<'_>) -> Result<Value, CkanError> {
    organization_change(c, "organization_patch", true).await
}

async fn group_create(c: Call<'_>) -> Result<Value, CkanError> {
    let actor = writer(&c, "group_create")?;
    let g = service::create_group(c.state, actor, &c.params.data).await?;
    let mut d = g.dict();
    d["package_count"] = json!(0);
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let m = pairs(b"facet.field=tags&facet.field=res_format&q=%E5%85%AC%E5%9C%92");
        assert_eq!(m["facet.field"], json!(["tags", "res_format"]));
        assert_eq!(m["q"], json!("公園"));
    }

    #[test]
    fn tokens_in_every_header_clients_use() {
        for (name, value) in [
            ("authorization", "mdg_abc"),
            ("authorization", "Bearer mdg_abc"),
            ("x-ckan-api-key", "mdg_abc"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            assert_eq!(token_of(&h).as_deref(), Some("mdg_abc"), "{name}: {value}");
        }
        assert_eq!(token_of(&HeaderMap::new()), None);
    }
}
