//! A read-only NGSI-v2 API over the standard datasets, compatible with
//! FIWARE Orion's, so smart-city platforms and NGSI clients can read a
//! local government's published tables as context entities.
//!
//! Each row of a validated [`Table`] becomes an [`Entity`]
//! ([`entities_from_table`]); entities are grouped in [`EntitySet`]s, each
//! with the tenant (`Fiware-Service`) and service path
//! (`Fiware-ServicePath`) it is served under. A [`Provider`] gives the
//! current sets; [`router`] serves them:
//!
//! - `GET /version`, `GET /v2` (entry points)
//! - `GET /v2/entities` with `id`, `idPattern`, `type`, `typePattern`, `q`,
//!   `mq`, `georel`/`geometry`/`coords`, `attrs`, `limit`, `offset`,
//!   `orderBy` and `options` (`count`, `keyValues`, `values`, `unique`)
//! - `GET /v2/entities/{id}`, `…/attrs`, `…/attrs/{name}`,
//!   `…/attrs/{name}/value`
//! - `GET /v2/types`, `GET /v2/types/{type}`
//! - `GET /v2/subscriptions`, `GET /v2/registrations` (always empty)
//!
//! Errors have Orion's shape (`{"error": "BadRequest", "description":
//! …}`) and, where Orion has one, its description text. Other methods get
//! 405; unknown paths under `/v2` get Orion's 400 "service not found".
//! Regular expressions (`idPattern`, `typePattern`, `~=`) are run by a
//! small automaton without backtracking, so no pattern can make a request
//! slow.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::standard::{ColumnKind, Table};

/// The prefix of entity ids made by [`entities_from_table`] when callers
/// have no other: NGSI-LD's URN form, which NGSI-v2 clients accept too.
pub const DEFAULT_ID_PREFIX: &str = "urn:ngsi-ld:";

/// The Orion release whose NGSI-v2 API this one follows; `GET /version`
/// reports it, since clients check it.
pub const ORION_COMPAT_VERSION: &str = "3.10.1";

/// Entities per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;

/// The largest `limit` accepted (as Orion).
pub const MAX_LIMIT: usize = 1000;

/// The longest entity id (as Orion).
const MAX_ID_CHARS: usize = 256;

/// An NGSI entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: String,
    pub entity_type: String,
    /// Attributes in order: name, NGSI attribute type (`Text`, `Number`,
    /// `geo:json`, `DateTime` …), value.
    pub attrs: Vec<(String, String, Value)>,
}

impl Entity {
    /// The attribute with this name: its type and value.
    pub fn attr(&self, name: &str) -> Option<(&str, &Value)> {
        self.attrs
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, v)| (t.as_str(), v))
    }
}

/// Entities served under one tenant and service path.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    /// The `Fiware-Service` (compared in lowercase, as Orion).
    pub tenant: String,
    /// The `Fiware-ServicePath`, e.g. `/opendata/aed`; empty means `/`.
    pub service_path: String,
    pub entities: Vec<Entity>,
}

/// Turns a validated table into entities.
///
/// The id is `{id_prefix}{entity_type}:{全国地方公共団体コード}:{ID}`
/// (e.g. `urn:ngsi-ld:AED:242012:A-001` with [`DEFAULT_ID_PREFIX`]; a
/// prefix not ending in `:` gets one, so `aed_tsu` gives
/// `aed_tsu:AED:242012:A-001`, and an empty prefix gives
/// `AED:242012:A-001`); the row's number (1 for the first row) stands in
/// for an empty `ID`. The
/// id is NFKC-normalised and every character Orion does not allow in ids
/// (whitespace, controls, non-ASCII, `& ? / # < > " ' = ; ( ) %`) becomes
/// `_`; it is cut to 256 characters, and a repeated id gets `-2`, `-3` …
///
/// Attributes are named by the columns' `en` names; empty cells are
/// left out. Coordinates, counts are `Number`s, dates `DateTime`s, URLs
/// `URL`s, the rest `Text`. A row with both latitude and longitude also
/// gets `location`, a `geo:json` point (`[longitude, latitude]`).
pub fn entities_from_table(table: &Table, id_prefix: &str) -> Vec<Entity> {
    let template = table.template;
    let lg_code = template.column_index("localGovernmentCode");
    let id_column = template.column_index("identifier");
    let prefix = if id_prefix.is_empty() || id_prefix.ends_with(':') {
        id_prefix.to_string()
    } else {
        format!("{id_prefix}:")
    };
    let mut used: HashSet<String> = HashSet::new();
    let mut entities = Vec::with_capacity(table.rows.len());
    for (number, row) in table.rows.iter().enumerate() {
        let cell = |column: Option<usize>| {
            column
                .and_then(|c| row.get(c))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let local = cell(id_column).map_or_else(|| (number + 1).to_string(), str::to_string);
        let base = sanitize_id(&format!(
            "{prefix}{}:{}:{local}",
            template.entity_type,
            cell(lg_code).unwrap_or("unknown"),
        ));
        let mut id = base.clone();
        let mut n = 1;
        while used.contains(&id) {
            n += 1;
            let suffix = format!("-{n}");
            let keep = MAX_ID_CHARS.saturating_sub(suffix.len());
            id = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        }
        used.insert(id.clone());

        let mut attrs = Vec::new();
        let (mut lat, mut lon) = (None, None);
        for (column, value) in template.columns.iter().zip(row) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let (kind, json) = attr_value(column.kind, value);
            if kind == "Number" {
                match column.kind {
                    ColumnKind::Latitude => lat = json.as_f64(),
                    ColumnKind::Longitude => lon = json.as_f64(),
                    _ => {}
                }
            }
            attrs.push((column.en.to_string(), kind.to_string(), json));
        }
        if let (Some(lat), Some(lon)) = (lat, lon) {
            attrs.push((
                "location".to_string(),
                "geo:json".to_string(),
                json!({"type": "Point", "coordinates": [lon, lat]}),
            ));
        }
        entities.push(Entity {
            id,
            entity_type: template.entity_type.to_string(),
            attrs,
        });
    }
    entities
}

/// The NGSI type and JSON value of a cell.
fn attr_value(kind: ColumnKind, value: &str) -> (&'static str, Value) {
    let text = || ("Text", Value::String(value.to_string()));
    match kind {
        ColumnKind::Latitude | ColumnKind::Longitude => value
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(text, |n| ("Number", Value::Number(n))),
        ColumnKind::Count => value
            .parse::<i64>()
            .map_or_else(|_| text(), |n| ("Number", Value::from(n))),
        ColumnKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_or_else(
            |_| text(),
            |d| {
                (
                    "DateTime",
                    Value::String(d.format("%Y-%m-%dT00:00:00.000Z").to_string()),
                )
            },
        ),
        ColumnKind::Url => ("URL", Value::String(value.to_string())),
        _ => text(),
    }
}

/// Replaces the characters Orion does not allow in an id with `_` and
/// cuts it to 256 characters.
fn sanitize_id(raw: &str) -> String {
    let id: String = raw
        .nfkc()
        .map(|c| {
            if c.is_ascii_graphic() && !"&?/#<>\"'=;()%".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_ID_CHARS)
        .collect();
    if id.is_empty() { "_".to_string() } else { id }
}

/// Where the API's entities come from: called once per request.
pub trait Provider: Clone + Send + Sync + 'static {
    fn entity_sets(&self) -> impl Future<Output = Arc<Vec<EntitySet>>> + Send;
}

#[derive(Clone)]
struct Api<P> {
    provider: P,
    started: Instant,
}

/// The NGSI-v2 routes (`/version`, `/v2/…`), ready to merge into any
/// router. Every route also answers with a trailing slash.
pub fn router<P: Provider, S: Clone + Send + Sync + 'static>(provider: P) -> Router<S> {
    let api = Api {
        provider,
        started: Instant::now(),
    };
    let routes: Vec<(&str, MethodRouter<Api<P>>)> = vec![
        ("/version", get(version::<P>)),
        ("/v2", get(entry_points)),
        ("/v2/entities", get(list_entities::<P>)),
        ("/v2/entities/{id}", get(get_entity::<P>)),
        ("/v2/entities/{id}/attrs", get(get_entity_attrs::<P>)),
        ("/v2/entities/{id}/attrs/{name}", get(get_attr::<P>)),
        (
            "/v2/entities/{id}/attrs/{name}/value",
            get(get_attr_value::<P>),
        ),
        ("/v2/types", get(list_types::<P>)),
        ("/v2/types/{type}", get(get_type::<P>)),
        ("/v2/subscriptions", get(list_empty)),
        ("/v2/subscriptions/{id}", get(subscription_not_found)),
        ("/v2/registrations", get(list_empty)),
        ("/v2/registrations/{id}", get(registration_not_found)),
    ];
    let mut router = Router::new();
    for (path, method_router) in routes {
        let method_router = method_router.fallback(method_not_allowed);
        router = router
            .route(path, method_router.clone())
            .route(&format!("{path}/"), method_router);
    }
    router
        .route("/v2/{*rest}", any(service_not_found))
        .with_state(api)
}

// ---------------------------------------------------------------------------
// Responses.

/// An Orion error.
#[derive(Debug, Clone, PartialEq)]
struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl ApiError {
    fn bad_request(description: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "BadRequest",
            description: description.into(),
        }
    }

    fn not_found(description: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: "NotFound",
            description: description.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "description": self.description});
        json_response(self.status, &body, None)
    }
}

fn json_response(status: StatusCode, body: &impl Serialize, count: Option<usize>) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(count) = count
        && let Ok(value) = HeaderValue::from_str(&count.to_string())
    {
        headers.insert("fiware-total-count", value);
    }
    response
}

/// JSON rendered in a fixed key order (Orion's: `id`, `type`, then the
/// attributes as stored; `type`, `value`, `metadata`).
enum Out {
    Value(Value),
    Map(Vec<(String, Out)>),
    List(Vec<Out>),
}

impl Serialize for Out {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Value(v) => v.serialize(serializer),
            Out::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

async fn method_not_allowed() -> Response {
    let mut response = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "MethodNotAllowed",
        description: "method not allowed".to_string(),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

async fn service_not_found() -> Response {
    ApiError::bad_request("Service not found. Check your URL as probably it is wrong.")
        .into_response()
}

// ---------------------------------------------------------------------------
// Requests: URI parameters and the tenancy headers.

/// URI parameters Orion checks for forbidden characters less or not at
/// all.
fn forbidden_in_param(key: &str, value: &str) -> bool {
    let forbidden = |s: &str, except: &str| {
        s.chars()
            .any(|c| "<>\"'=;()".contains(c) && !except.contains(c))
    };
    match key {
        "q" | "mq" | "idPattern" => forbidden(key, ""),
        "georel" | "geometry" => forbidden(key, "") || forbidden(value, "=;"),
        "coords" => forbidden(key, "") || forbidden(value, ";"),
        _ => forbidden(key, "") || forbidden(value, ""),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URI parameters (the last of a repeated one wins, as Orion).
#[derive(Debug, Default)]
struct Params(HashMap<String, String>);

impl Params {
    fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut params = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (percent_decode(key), percent_decode(value));
            if value.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "Empty right-hand-side for URI param /{key}/"
                )));
            }
            if forbidden_in_param(&key, &value) {
                return Err(ApiError::bad_request("invalid character in URI parameter"));
            }
            params.insert(key, value);
        }
        Ok(Params(params))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    fn limit(&self) -> Result<usize, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(DEFAULT_LIMIT);
        };
        if !raw.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::bad_request(format!(
                "Bad pagination limit: /{raw}/ [must be a decimal number]"
            )));
        }
        match raw.parse::<usize>() {
            Ok(0) => Err(ApiError::bad_request(format!(
                "Bad pagination limit: /{raw}/ [a value of ZERO is unacceptable]"
            ))),
            Ok(n) if n <= MAX_LIMIT => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "Bad pagination limit: /{raw}/ [max: {MAX_LIMIT}]"
            ))),
        }
    }

    fn offset(&self) -> Result<usize, ApiError> {
        let Some(raw) = self.get("offset") else {
            return Ok(0);
        };
        if !raw.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::bad_request(format!(
                "Bad pagination offset: /{raw}/ [must be a decimal number]"
            )));
        }
        Ok(raw.parse::<usize>().unwrap_or(usize::MAX))
    }

    fn options(&self) -> Result<Options, ApiError> {
        let mut options = Options::default();
        for option in self.list("options").unwrap_or_default() {
            match option.as_str() {
                "count" => options.count = true,
                "keyValues" => options.format = options.format.max(Format::KeyValues),
                "values" => options.format = options.format.max(Format::Values),
                "unique" => options.format = Format::Unique,
                "normalized"
                | "noAttrDetail"
                | "append"
                | "upsert"
                | "skipForwarding"
                | "forcedUpdate"
                | "overrideMetadata"
                | "flowControl"
                | "fullCounters"
                | "skipInitialNotification" => {}
                _ => {
                    return Err(ApiError::bad_request(
                        "Invalid value for URI param /options/",
                    ));
                }
            }
        }
        Ok(options)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Format {
    #[default]
    Normalized,
    KeyValues,
    Values,
    Unique,
}

#[derive(Debug, Default)]
struct Options {
    count: bool,
    format: Format,
}

/// Which service paths a request reads.
#[derive(Debug, Clone, PartialEq)]
enum PathFilter {
    All,
    Exact(String),
    Subtree(String),
}

impl PathFilter {
    fn matches(&self, path: &str) -> bool {
        match self {
            PathFilter::All => true,
            PathFilter::Exact(p) => path == p,
            PathFilter::Subtree(p) => {
                path == p
                    || p == "/"
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        }
    }
}

fn normalize_service_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The tenancy of a request.
struct Scope {
    tenant: Option<String>,
    paths: Vec<PathFilter>,
}

impl Scope {
    fn from_headers(headers: &HeaderMap) -> Result<Scope, ApiError> {
        let tenant = match headers.get("fiware-service") {
            None => None,
            Some(value) => {
                let bad = || {
                    ApiError::bad_request(
                        "bad character in tenant name - only underscore and alphanumeric characters are allowed",
                    )
                };
                let value = value.to_str().map_err(|_| bad())?.trim().to_lowercase();
                if value.chars().count() > 50 {
                    return Err(ApiError::bad_request(
                        "bad length - a tenant name can be max 50 characters long",
                    ));
                }
                if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(bad());
                }
                (!value.is_empty()).then_some(value)
            }
        };
        let mut paths = Vec::new();
        if let Some(value) = headers.get("fiware-servicepath") {
            let value = value.to_str().map_err(|_| {
                ApiError::bad_request("a component of ServicePath contains an illegal character")
            })?;
            let list: Vec<&str> = value.split(',').collect();
            if list.len() > 10 {
                return Err(ApiError::bad_request(
                    "too many service paths - a maximum of ten service paths is allowed",
                ));
            }
            for path in list {
                paths.push(parse_service_path(path)?);
            }
        }
        if paths.is_empty() {
            paths.push(PathFilter::All);
        }
        Ok(Scope { tenant, paths })
    }

    fn sets<'a>(&self, sets: &'a [EntitySet]) -> impl Iterator<Item = &'a EntitySet> {
        sets.iter().filter(move |set| {
            self.tenant
                .as_ref()
                .is_none_or(|t| set.tenant.trim().to_lowercase() == *t)
                && {
                    let path = normalize_service_path(&set.service_path);
                    self.paths.iter().any(|p| p.matches(&path))
                }
        })
    }
}

fn parse_service_path(raw: &str) -> Result<PathFilter, ApiError> {
    let path = raw.trim();
    if path.is_empty() {
        return Ok(PathFilter::All);
    }
    if !path.starts_with('/') {
        return Err(ApiError::bad_request(
            "Only /absolute/ Service Paths allowed [a service path must begin with /]",
        ));
    }
    let path = normalize_service_path(path);
    let components: Vec<&str> = path.split('/').skip(1).filter(|c| !c.is_empty()).collect();
    if components.len() > 10 {
        return Err(ApiError::bad_request("too many components in ServicePath"));
    }
    let last = components.len().saturating_sub(1);
    for (i, component) in components.iter().enumerate() {
        if component.chars().count() > 50 {
            return Err(ApiError::bad_request(
                "component-name too long in ServicePath",
            ));
        }
        if i == last && *component == "#" {
            continue;
        }
        if !component
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ApiError::bad_request(
                "a component of ServicePath contains an illegal character",
            ));
        }
    }
    Ok(match path.strip_suffix("/#") {
        Some("") => PathFilter::All,
        Some(base) => PathFilter::Subtree(base.to_string()),
        None => PathFilter::Exact(path),
    })
}

/// The checks Orion makes on the URL path itself.
fn check_path_segment(segment: &str) -> Result<(), ApiError> {
    if segment.chars().any(|c| "<>\"'=;()".contains(c)) {
        Err(ApiError::bad_request("invalid character in URI"))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Handlers.

async fn version<P: Provider>(State(api): State<Api<P>>) -> Response {
    let secs = api.started.elapsed().as_secs();
    let uptime = format!(
        "{} d, {} h, {} m, {} s",
        secs / 86_400,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    );
    let body = json!({
        "orion": {
            "version": ORION_COMPAT_VERSION,
            "uptime": uptime,
            "git_hash": "nogitversion",
            "compile_time": "nodate",
            "compiled_by": "madoguchi",
            "compiled_in": "madoguchi",
            "release_date": "nodate",
            "machine": std::env::consts::ARCH,
            "doc": format!("https://fiware-orion.rtfd.io/en/{ORION_COMPAT_VERSION}/"),
            "libversions": {}
        },
        "madoguchi": {
            "version": env!("CARGO_PKG_VERSION"),
            "api": "NGSI-v2, read-only",
            "note": "This is madoguchi's open-data catalogue serving its datasets through an Orion-compatible NGSI-v2 API; it is not Orion Context Broker."
        }
    });
    json_response(StatusCode::OK, &body, None)
}

async fn entry_points() -> Response {
    let body = json!({
        "entities_url": "/v2/entities",
        "types_url": "/v2/types",
        "subscriptions_url": "/v2/subscriptions",
        "registrations_url": "/v2/registrations"
    });
    json_response(StatusCode::OK, &body, None)
}

async fn list_empty(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let result = (|| {
        let params = Params::parse(query.as_deref())?;
        Scope::from_headers(&headers)?;
        params.limit()?;
        params.offset()?;
        params.options()
    })();
    match result {
        Ok(options) => json_response(StatusCode::OK, &json!([]), options.count.then_some(0)),
        Err(e) => e.into_response(),
    }
}

async fn subscription_not_found() -> Response {
    ApiError::not_found("The requested subscription has not been found. Check id").into_response()
}

async fn registration_not_found() -> Response {
    ApiError::not_found("The requested registration has not been found. Check id").into_response()
}

/// Everything a request for entities needs.
struct Request {
    sets: Arc<Vec<EntitySet>>,
    scope: Scope,
    params: Params,
    options: Options,
}

impl Request {
    async fn new<P: Provider>(
        api: &Api<P>,
        headers: &HeaderMap,
        query: Option<&str>,
    ) -> Result<Request, ApiError> {
        let params = Params::parse(query)?;
        let scope = Scope::from_headers(headers)?;
        let options = params.options()?;
        let sets = api.provider.entity_sets().await;
        Ok(Request {
            sets,
            scope,
            params,
            options,
        })
    }

    fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.scope
            .sets(&self.sets)
            .flat_map(|set| set.entities.iter())
    }

    /// The one entity with this id (and the `type` parameter's type).
    fn entity(&self, id: &str) -> Result<&Entity, ApiError> {
        check_path_segment(id)?;
        let types = self.params.list("type");
        let mut found = self
            .entities()
            .filter(|e| e.id == id && types.as_ref().is_none_or(|t| t.contains(&e.entity_type)));
        let first = found.next().ok_or_else(|| {
            ApiError::not_found("The requested entity has not been found. Check type and id")
        })?;
        if found.next().is_some() {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                error: "TooManyResults",
                description: "More than one matching entity. Please refine your query".to_string(),
            });
        }
        Ok(first)
    }

    fn attrs(&self) -> Option<Vec<String>> {
        self.params.list("attrs")
    }
}

fn path_error(rejection: PathRejection) -> ApiError {
    ApiError::bad_request(format!("invalid URL path: {}", rejection.body_text()))
}

async fn list_entities<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match list_entities_inner(&api, &headers, query.as_deref()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn list_entities_inner<P: Provider>(
    api: &Api<P>,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let request = Request::new(api, headers, query).await?;
    let params = &request.params;
    let limit = params.limit()?;
    let offset = params.offset()?;
    let filter = Filter::parse(params)?;
    let order = OrderBy::parse(params.get("orderBy"), filter.geo.as_ref())?;
    let mut matched: Vec<(usize, &Entity)> = request
        .entities()
        .enumerate()
        .filter(|(_, e)| filter.matches(e))
        .collect();
    order.sort(&mut matched, filter.geo.as_ref());
    let total = matched.len();
    let page: Vec<&Entity> = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, e)| e)
        .collect();
    let attrs = request.attrs();
    let mut items: Vec<Out> = page
        .iter()
        .map(|e| render_entity(e, attrs.as_deref(), request.options.format))
        .collect();
    if request.options.format == Format::Unique {
        let mut seen = HashSet::new();
        items.retain(|item| seen.insert(serde_json::to_string(item).unwrap_or_default()));
    }
    Ok(json_response(
        StatusCode::OK,
        &Out::List(items),
        request.options.count.then_some(total),
    ))
}

async fn get_entity<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let result = async {
        let Path(id) = id.map_err(path_error)?;
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let entity = request.entity(&id)?;
        let attrs = request.attrs();
        Ok::<_, ApiError>(json_response(
            StatusCode::OK,
            &render_entity(entity, attrs.as_deref(), request.options.format),
            None,
        ))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn get_entity_attrs<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let result = async {
        let Path(id) = id.map_err(path_error)?;
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let entity = request.entity(&id)?;
        let attrs = request.attrs();
        let selected = select_attrs(entity, attrs.as_deref());
        let body = match request.options.format {
            Format::Normalized => Out::Map(
                selected
                    .iter()
                    .flatten()
                    .map(|(n, t, v)| (n.to_string(), render_attr(t, v)))
                    .collect(),
            ),
            Format::KeyValues => Out::Map(
                selected
                    .iter()
                    .flatten()
                    .map(|(n, _, v)| (n.to_string(), Out::Value((*v).clone())))
                    .collect(),
            ),
            Format::Values | Format::Unique => Out::List(
                selected
                    .iter()
                    .map(|a| Out::Value(a.map_or(Value::Null, |(_, _, v)| v.clone())))
                    .collect(),
            ),
        };
        Ok::<_, ApiError>(json_response(StatusCode::OK, &body, None))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

fn find_attr<'a>(
    request: &'a Request,
    id: &str,
    name: &str,
) -> Result<(&'a str, &'a Value), ApiError> {
    check_path_segment(name)?;
    let entity = request.entity(id)?;
    entity
        .attr(name)
        .ok_or_else(|| ApiError::not_found("The entity does not have such an attribute"))
}

async fn get_attr<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let result = async {
        let Path((id, name)) = path.map_err(path_error)?;
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let (attr_type, value) = find_attr(&request, &id, &name)?;
        Ok::<_, ApiError>(json_response(
            StatusCode::OK,
            &render_attr(attr_type, value),
            None,
        ))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn get_attr_value<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let result = async {
        let Path((id, name)) = path.map_err(path_error)?;
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let (_, value) = find_attr(&request, &id, &name)?;
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains("text/plain")
            && !accept.contains("json")
            && !value.is_object()
            && !value.is_array()
        {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut response = (StatusCode::OK, text).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return Ok(response);
        }
        Ok::<_, ApiError>(json_response(StatusCode::OK, value, None))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

/// Per type: attribute name → attribute types, and the number of
/// entities.
type TypeSummary = BTreeMap<String, (BTreeMap<String, BTreeSet<String>>, usize)>;

fn summarize_types<'a>(entities: impl Iterator<Item = &'a Entity>) -> TypeSummary {
    let mut types: TypeSummary = BTreeMap::new();
    for entity in entities {
        let (attrs, count) = types.entry(entity.entity_type.clone()).or_default();
        *count += 1;
        for (name, attr_type, _) in &entity.attrs {
            attrs
                .entry(name.clone())
                .or_default()
                .insert(attr_type.clone());
        }
    }
    types
}

fn render_type_attrs(attrs: &BTreeMap<String, BTreeSet<String>>) -> Out {
    Out::Map(
        attrs
            .iter()
            .map(|(name, types)| {
                (
                    name.clone(),
                    Out::Map(vec![(
                        "types".to_string(),
                        Out::Value(json!(types.iter().collect::<Vec<_>>())),
                    )]),
                )
            })
            .collect(),
    )
}

async fn list_types<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let limit = request.params.limit()?;
        let offset = request.params.offset()?;
        let types = summarize_types(request.entities());
        let total = types.len();
        let page = types.iter().skip(offset).take(limit);
        let body = if request.options.format >= Format::Values {
            Out::List(page.map(|(t, _)| Out::Value(json!(t))).collect())
        } else {
            Out::List(
                page.map(|(t, (attrs, count))| {
                    Out::Map(vec![
                        ("type".to_string(), Out::Value(json!(t))),
                        ("attrs".to_string(), render_type_attrs(attrs)),
                        ("count".to_string(), Out::Value(json!(count))),
                    ])
                })
                .collect(),
            )
        };
        Ok::<_, ApiError>(json_response(
            StatusCode::OK,
            &body,
            request.options.count.then_some(total),
        ))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

async fn get_type<P: Provider>(
    State(api): State<Api<P>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    entity_type: Result<Path<String>, PathRejection>,
) -> Response {
    let result = async {
        let Path(entity_type) = entity_type.map_err(path_error)?;
        check_path_segment(&entity_type)?;
        let request = Request::new(&api, &headers, query.as_deref()).await?;
        let types = summarize_types(request.entities().filter(|e| e.entity_type == entity_type));
        let (attrs, count) = types
            .get(&entity_type)
            .ok_or_else(|| ApiError::not_found("Entity type not found"))?;
        let body = Out::Map(vec![
            ("attrs".to_string(), render_type_attrs(attrs)),
            ("count".to_string(), Out::Value(json!(count))),
        ]);
        Ok::<_, ApiError>(json_response(StatusCode::OK, &body, None))
    };
    result.await.unwrap_or_else(IntoResponse::into_response)
}

// ---------------------------------------------------------------------------
// Rendering.

type Attr<'a> = (&'a str, &'a str, &'a Value);

/// The attributes to render: all (in entity order) without `attrs` or with
/// `*` in it, else those named, in that order (`None` for one the entity
/// lacks).
fn select_attrs<'a>(entity: &'a Entity, attrs: Option<&'a [String]>) -> Vec<Option<Attr<'a>>> {
    let all = || {
        entity
            .attrs
            .iter()
            .map(|(n, t, v)| Some((n.as_str(), t.as_str(), v)))
            .collect()
    };
    match attrs {
        None => all(),
        Some(list) if list.iter().any(|a| a == "*") => all(),
        Some(list) => list
            .iter()
            .map(|name| {
                entity
                    .attrs
                    .iter()
                    .find(|(n, _, _)| n == name)
                    .map(|(n, t, v)| (n.as_str(), t.as_str(), v))
            })
            .collect(),
    }
}

fn render_attr(attr_type: &str, value: &Value) -> Out {
    Out::Map(vec![
        ("type".to_string(), Out::Value(json!(attr_type))),
        ("value".to_string(), Out::Value(value.clone())),
        ("metadata".to_string(), Out::Value(json!({}))),
    ])
}

fn render_entity(entity: &Entity, attrs: Option<&[String]>, format: Format) -> Out {
    let selected = select_attrs(entity, attrs);
    match format {
        Format::Values | Format::Unique => Out::List(
            selected
                .iter()
                .map(|a| Out::Value(a.map_or(Value::Null, |(_, _, v)| v.clone())))
                .collect(),
        ),
        Format::Normalized | Format::KeyValues => {
            let mut map = vec![
                ("id".to_string(), Out::Value(json!(entity.id))),
                ("type".to_string(), Out::Value(json!(entity.entity_type))),
            ];
            for (name, attr_type, value) in selected.into_iter().flatten() {
                let rendered = if format == Format::KeyValues {
                    Out::Value(value.clone())
                } else {
                    render_attr(attr_type, value)
                };
                map.push((name.to_string(), rendered));
            }
            Out::Map(map)
        }
    }
}

// ---------------------------------------------------------------------------
// Filters: id, idPattern, type, typePattern, q, mq and geo-queries.

struct Filter {
    ids: Option<HashSet<String>>,
    id_pattern: Option<pattern::Regex>,
    types: Option<HashSet<String>>,
    type_pattern: Option<pattern::Regex>,
    q: Vec<Statement>,
    mq: Vec<Statement>,
    geo: Option<GeoQuery>,
}

impl Filter {
    fn parse(params: &Params) -> Result<Filter, ApiError> {
        if params.get("id").is_some() && params.get("idPattern").is_some() {
            return Err(ApiError::bad_request(
                "Incompatible parameters: id, IdPattern",
            ));
        }
        if params.get("type").is_some() && params.get("typePattern").is_some() {
            return Err(ApiError::bad_request(
                "Incompatible parameters: type, typePattern",
            ));
        }
        let regex = |key: &str| {
            params
                .get(key)
                .map(|p| {
                    pattern::Regex::new(p)
                        .map_err(|e| ApiError::bad_request(format!("Invalid regex for {key}: {e}")))
                })
                .transpose()
        };
        Ok(Filter {
            ids: params.list("id").map(|l| l.into_iter().collect()),
            id_pattern: regex("idPattern")?,
            types: params.list("type").map(|l| l.into_iter().collect()),
            type_pattern: regex("typePattern")?,
            q: params
                .get("q")
                .map(parse_q)
                .transpose()?
                .unwrap_or_default(),
            mq: params
                .get("mq")
                .map(parse_q)
                .transpose()?
                .unwrap_or_default(),
            geo: GeoQuery::parse(params)?,
        })
    }

    fn matches(&self, entity: &Entity) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&entity.id))
            && self
                .id_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&entity.id))
            && self
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&entity.entity_type))
            && self
                .type_pattern
                .as_ref()
                .is_none_or(|p| p.is_match(&entity.entity_type))
            && self.q.iter().all(|s| s.matches(entity))
            // Entities have no metadata: only negated statements hold.
            && self.mq.iter().all(|s| matches!(s, Statement::NotExists(_)))
            && self.geo.as_ref().is_none_or(|g| g.matches(entity))
    }
}

/// A value on the right of a q statement.
#[derive(Debug, Clone, PartialEq)]
struct Literal {
    text: String,
    /// In single quotes: always a string.
    quoted: bool,
}

impl Literal {
    fn number(&self) -> Option<f64> {
        if self.quoted {
            return None;
        }
        self.text.parse::<f64>().ok().filter(|n| n.is_finite())
    }

    fn equals(&self, attr_type: &str, value: &Value) -> bool {
        if let Some(Ordering::Equal) = self.compare(attr_type, value) {
            return true;
        }
        match value {
            Value::String(s) => *s == self.text,
            Value::Bool(b) => !self.quoted && self.text == b.to_string(),
            Value::Null => !self.quoted && self.text == "null",
            _ => false,
        }
    }

    /// The order of `value` relative to this literal, when comparable:
    /// numbers numerically, dates (of `DateTime` attributes) in time,
    /// strings as strings.
    fn compare(&self, attr_type: &str, value: &Value) -> Option<Ordering> {
        match value {
            Value::Number(n) => n.as_f64()?.partial_cmp(&self.number()?),
            Value::String(s) => {
                if attr_type == "DateTime"
                    && let (Some(a), Some(b)) = (parse_date(s), parse_date(&self.text))
                {
                    return Some(a.cmp(&b));
                }
                if self.number().is_some() && !self.quoted {
                    // A number literal is compared with numbers only.
                    return None;
                }
                Some(s.as_str().cmp(self.text.as_str()))
            }
            _ => None,
        }
    }
}

fn parse_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Match,
}

#[derive(Debug)]
enum Rhs {
    List(Vec<Literal>),
    Range(Literal, Literal),
    Pattern(pattern::Regex),
}

#[derive(Debug)]
enum Statement {
    Exists(Vec<String>),
    NotExists(Vec<String>),
    Compare { path: Vec<String>, op: Op, rhs: Rhs },
}

impl Statement {
    fn matches(&self, entity: &Entity) -> bool {
        match self {
            Statement::Exists(path) => lookup(entity, path).is_some(),
            Statement::NotExists(path) => lookup(entity, path).is_none(),
            Statement::Compare { path, op, rhs } => {
                let Some((attr_type, value)) = lookup(entity, path) else {
                    return false;
                };
                match (op, rhs) {
                    (Op::Eq, Rhs::List(list)) => list.iter().any(|l| l.equals(attr_type, value)),
                    (Op::Ne, Rhs::List(list)) => !list.iter().any(|l| l.equals(attr_type, value)),
                    (Op::Eq | Op::Ne, Rhs::Range(lo, hi)) => {
                        let inside = matches!(
                            lo.compare(attr_type, value),
                            Some(Ordering::Greater | Ordering::Equal)
                        ) && matches!(
                            hi.compare(attr_type, value),
                            Some(Ordering::Less | Ordering::Equal)
                        );
                        inside == (*op == Op::Eq)
                    }
                    (Op::Match, Rhs::Pattern(regex)) => {
                        value.as_str().is_some_and(|s| regex.is_match(s))
                    }
                    (_, Rhs::List(list)) => {
                        let Some(ordering) = list.first().and_then(|l| l.compare(attr_type, value))
                        else {
                            return false;
                        };
                        match op {
                            Op::Gt => ordering == Ordering::Greater,
                            Op::Ge => ordering != Ordering::Less,
                            Op::Lt => ordering == Ordering::Less,
                            Op::Le => ordering != Ordering::Greater,
                            _ => false,
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

/// The attribute (and the part of its value) a q path names:
/// `temperature`, `address.addressLocality`.
fn lookup<'a>(entity: &'a Entity, path: &[String]) -> Option<(&'a str, &'a Value)> {
    let (name, rest) = path.split_first()?;
    let (attr_type, mut value) = entity.attr(name)?;
    for key in rest {
        value = value.get(key)?;
    }
    Some((if rest.is_empty() { attr_type } else { "" }, value))
}

/// Splits on `separator` outside single quotes; `None` for an unclosed
/// quote.
fn split_outside_quotes(s: &str, separator: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    if quoted {
        return None;
    }
    parts.push(&s[start..]);
    Some(parts)
}

/// The byte index of the first `needle` outside single quotes.
fn find_outside_quotes(s: &str, needle: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted && s[i..].starts_with(needle) {
            return Some(i);
        }
    }
    None
}

fn literal(token: &str) -> Literal {
    let token = token.trim();
    match token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(inner) if token.len() >= 2 => Literal {
            text: inner.to_string(),
            quoted: true,
        },
        _ => Literal {
            text: token.to_string(),
            quoted: false,
        },
    }
}

const MAX_Q_STATEMENTS: usize = 100;

/// Parses the Simple Query Language: `;`-separated statements.
fn parse_q(q: &str) -> Result<Vec<Statement>, ApiError> {
    let statements = split_outside_quotes(q, ';')
        .ok_or_else(|| ApiError::bad_request("unclosed quote in q-item"))?;
    if statements.len() > MAX_Q_STATEMENTS {
        return Err(ApiError::bad_request("too many q-items"));
    }
    let mut parsed = Vec::new();
    for statement in statements {
        let statement = statement.trim();
        if statement.is_empty() {
            continue;
        }
        parsed.push(parse_statement(statement).map_err(ApiError::bad_request)?);
    }
    Ok(parsed)
}

fn attr_path(s: &str) -> Result<Vec<String>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(s);
    if s.is_empty() {
        return Err("empty left-hand-side in q-item".to_string());
    }
    if s.chars().any(|c| "<>\"'=;()".contains(c)) {
        return Err("invalid character found in URI param /q/".to_string());
    }
    let path: Vec<String> = s.split('.').map(|p| p.trim().to_string()).collect();
    if path.iter().any(String::is_empty) {
        return Err(format!("empty attribute name in /{s}/"));
    }
    Ok(path)
}

fn parse_statement(statement: &str) -> Result<Statement, String> {
    // As Orion: the first operator of this list found (outside quotes)
    // splits the statement, so `a<b>==3` has the left-hand side `a<b>`.
    const OPERATORS: [(&str, Op); 7] = [
        ("==", Op::Eq),
        ("~=", Op::Match),
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let found = OPERATORS.iter().find_map(|(symbol, op)| {
        find_outside_quotes(statement, symbol).map(|at| (at, symbol.len(), *op))
    });
    let Some((at, len, op)) = found else {
        return Ok(match statement.strip_prefix('!') {
            Some(rest) => Statement::NotExists(attr_path(rest)?),
            None => Statement::Exists(attr_path(statement)?),
        });
    };
    let (left, right) = (&statement[..at], statement[at + len..].trim());
    let path = attr_path(left)?;
    if right.is_empty() {
        return Err("empty right-hand-side in q-item".to_string());
    }
    let rhs = if op == Op::Match {
        let text = literal(right).text;
        Rhs::Pattern(pattern::Regex::new(&text)?)
    } else {
        let items = split_outside_quotes(right, ',').ok_or("unclosed quote")?;
        if items.len() == 1 && !literal(items[0]).quoted && right.contains("..") {
            let (lo, hi) = right.split_once("..").unwrap_or((right, ""));
            if lo.trim().is_empty() || hi.trim().is_empty() {
                return Err(format!("bad range in /{statement}/"));
            }
            Rhs::Range(literal(lo), literal(hi))
        } else {
            let list: Vec<Literal> = items.into_iter().map(literal).collect();
            if list.iter().any(|l| l.text.is_empty() && !l.quoted) {
                return Err(format!("empty item in /{statement}/"));
            }
            if list.len() > 1 && !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "a list is only allowed with == and != in /{statement}/"
                ));
            }
            Rhs::List(list)
        }
    };
    if matches!(rhs, Rhs::Range(..)) && !matches!(op, Op::Eq | Op::Ne) {
        return Err(format!(
            "a range is only allowed with == and != in /{statement}/"
        ));
    }
    Ok(Statement::Compare { path, op, rhs })
}

/// A geo-query (`georel`, `geometry`, `coords`; coordinates are
/// `latitude,longitude` as in Orion).
#[derive(Debug)]
struct GeoQuery {
    relation: GeoRelation,
    geometry: Geometry,
}

#[derive(Debug)]
enum GeoRelation {
    Near { max: Option<f64>, min: Option<f64> },
    CoveredBy,
    Intersects,
    Disjoint,
    Equals,
}

#[derive(Debug)]
enum Geometry {
    Point(f64, f64),
    Box(f64, f64, f64, f64),
    Polygon(Vec<(f64, f64)>),
    Line(Vec<(f64, f64)>),
}

impl GeoQuery {
    fn parse(params: &Params) -> Result<Option<GeoQuery>, ApiError> {
        let (georel, geometry, coords) = (
            params.get("georel"),
            params.get("geometry"),
            params.get("coords"),
        );
        if georel.is_none() && geometry.is_none() && coords.is_none() {
            return Ok(None);
        }
        let bad = |why: &str| ApiError::bad_request(format!("Invalid query: {why}"));
        let (georel, geometry, coords) = match (georel, geometry, coords) {
            (Some(georel), Some(geometry), Some(coords)) => (georel, geometry, coords),
            (_, None, Some(_)) => return Err(bad("URI param /coords/ used without /geometry/")),
            (_, Some(_), None) => return Err(bad("URI param /geometry/ used without /coords/")),
            (Some(_), None, _) => return Err(bad("URI param /georel/ used without /geometry/")),
            _ => return Err(bad("URI param /georel/ missing")),
        };
        let points: Vec<(f64, f64)> = coords
            .split(';')
            .map(|pair| {
                let (lat, lon) = pair.split_once(',')?;
                let (lat, lon) = (
                    lat.trim().parse::<f64>().ok()?,
                    lon.trim().parse::<f64>().ok()?,
                );
                (lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0)
                    .then_some((lat, lon))
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("invalid coordinates"))?;
        let geometry = match (geometry, points.as_slice()) {
            ("point", [p]) => Geometry::Point(p.0, p.1),
            ("box", [a, b]) => {
                Geometry::Box(a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1))
            }
            ("polygon", ps) if ps.len() >= 4 && ps.first() == ps.last() => {
                Geometry::Polygon(ps.to_vec())
            }
            ("line", ps) if ps.len() >= 2 => Geometry::Line(ps.to_vec()),
            _ => return Err(bad("invalid geometry or number of coordinates")),
        };
        let mut parts = georel.split(';');
        let relation = match parts.next().unwrap_or("") {
            "near" => {
                let (mut max, mut min) = (None, None);
                for modifier in parts {
                    let (key, value) = modifier
                        .split_once(':')
                        .ok_or_else(|| bad("invalid georel"))?;
                    let value = value
                        .trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad("invalid distance"))?;
                    match key.trim() {
                        "maxDistance" => max = Some(value),
                        "minDistance" => min = Some(value),
                        _ => return Err(bad("invalid georel")),
                    }
                }
                if (max.is_none() && min.is_none()) || !matches!(geometry, Geometry::Point(..)) {
                    return Err(bad("near needs a point and maxDistance or minDistance"));
                }
                GeoRelation::Near { max, min }
            }
            "coveredBy" => GeoRelation::CoveredBy,
            "intersects" => GeoRelation::Intersects,
            "disjoint" => GeoRelation::Disjoint,
            "equals" => GeoRelation::Equals,
            _ => return Err(bad("invalid georel")),
        };
        Ok(Some(GeoQuery { relation, geometry }))
    }

    /// The distance in metres from the query's point, for `near`.
    fn distance(&self, entity: &Entity) -> Option<f64> {
        let (lat, lon) = entity_point(entity)?;
        match self.geometry {
            Geometry::Point(plat, plon) => Some(haversine(lat, lon, plat, plon)),
            _ => None,
        }
    }

    fn matches(&self, entity: &Entity) -> bool {
        let Some((lat, lon)) = entity_point(entity) else {
            return false;
        };
        let inside = || match &self.geometry {
            Geometry::Point(plat, plon) => lat == *plat && lon == *plon,
            Geometry::Box(s, w, n, e) => (*s..=*n).contains(&lat) && (*w..=*e).contains(&lon),
            Geometry::Polygon(ring) => point_in_ring(lat, lon, ring),
            Geometry::Line(points) => points.windows(2).any(|w| on_segment(lat, lon, w[0], w[1])),
        };
        match &self.relation {
            GeoRelation::Near { max, min } => self
                .distance(entity)
                .is_some_and(|d| max.is_none_or(|max| d <= max) && min.is_none_or(|min| d >= min)),
            GeoRelation::CoveredBy | GeoRelation::Intersects => inside(),
            GeoRelation::Disjoint => !inside(),
            GeoRelation::Equals => matches!(self.geometry, Geometry::Point(..)) && inside(),
        }
    }
}

/// The entity's location: the first `geo:json` point attribute.
fn entity_point(entity: &Entity) -> Option<(f64, f64)> {
    entity.attrs.iter().find_map(|(_, attr_type, value)| {
        if attr_type != "geo:json" || value.get("type")?.as_str()? != "Point" {
            return None;
        }
        let coordinates = value.get("coordinates")?.as_array()?;
        let lon = coordinates.first()?.as_f64()?;
        let lat = coordinates.get(1)?.as_f64()?;
        Some((lat, lon))
    })
}

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Ray casting; points on the ring count as inside.
fn point_in_ring(lat: f64, lon: f64, ring: &[(f64, f64)]) -> bool {
    if ring.windows(2).any(|w| on_segment(lat, lon, w[0], w[1])) {
        return true;
    }
    let mut inside = false;
    for w in ring.windows(2) {
        let ((y1, x1), (y2, x2)) = (w[0], w[1]);
        if (y1 > lat) != (y2 > lat) && lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1 {
            inside = !inside;
        }
    }
    inside
}

fn on_segment(lat: f64, lon: f64, a: (f64, f64), b: (f64, f64)) -> bool {
    let cross = (b.0 - a.0) * (lon - a.1) - (b.1 - a.1) * (lat - a.0);
    cross.abs() < 1e-12
        && lat >= a.0.min(b.0)
        && lat <= a.0.max(b.0)
        && lon >= a.1.min(b.1)
        && lon <= a.1.max(b.1)
}

// ---------------------------------------------------------------------------
// Ordering.

#[derive(Debug)]
enum SortKey {
    Id,
    Type,
    /// Creation (and modification) order: the order of the sets and rows.
    Created,
    Distance,
    Attr(Vec<String>),
}

struct OrderBy(Vec<(SortKey, bool)>);

impl OrderBy {
    fn parse(raw: Option<&str>, geo: Option<&GeoQuery>) -> Result<OrderBy, ApiError> {
        let near = geo.is_some_and(|g| matches!(g.relation, GeoRelation::Near { .. }));
        let Some(raw) = raw else {
            // Like Orion (MongoDB's $near), near queries come nearest first.
            return Ok(OrderBy(if near {
                vec![(SortKey::Distance, false)]
            } else {
                Vec::new()
            }));
        };
        let mut keys = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, descending) = match item.strip_prefix('!') {
                Some(name) => (name, true),
                None => (item, false),
            };
            let key = match name {
                "id" => SortKey::Id,
                "type" => SortKey::Type,
                "dateCreated" | "dateModified" => SortKey::Created,
                "geo:distance" if near => SortKey::Distance,
                "geo:distance" => {
                    return Err(ApiError::bad_request(
                        "Invalid query: orderBy=geo:distance needs georel=near",
                    ));
                }
                _ => SortKey::Attr(
                    attr_path(name)
                        .map_err(|e| ApiError::bad_request(format!("Invalid orderBy: {e}")))?,
                ),
            };
            keys.push((key, descending));
        }
        Ok(OrderBy(keys))
    }

    fn sort(&self, entities: &mut [(usize, &Entity)], geo: Option<&GeoQuery>) {
        if self.0.is_empty() {
            return;
        }
        entities.sort_by(|(ia, a), (ib, b)| {
            for (key, descending) in &self.0 {
                let ordering = match key {
                    SortKey::Id => a.id.cmp(&b.id),
                    SortKey::Type => a.entity_type.cmp(&b.entity_type),
                    SortKey::Created => ia.cmp(ib),
                    SortKey::Distance => {
                        let d = |e: &Entity| geo.and_then(|g| g.distance(e)).unwrap_or(f64::MAX);
                        d(a).total_cmp(&d(b))
                    }
                    SortKey::Attr(path) => compare_values(
                        lookup(a, path).map(|(_, v)| v),
                        lookup(b, path).map(|(_, v)| v),
                    ),
                };
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            ia.cmp(ib)
        });
    }
}

/// MongoDB's order of values: missing and null, numbers, strings, objects,
/// arrays, booleans.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            Some(Value::Object(_)) => 3,
            Some(Value::Array(_)) => 4,
            Some(Value::Bool(_)) => 5,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

// ---------------------------------------------------------------------------

/// Regular expressions for `idPattern`, `typePattern` and `~=`: a
/// backtracking-free automaton (Thompson's construction, run as a set of
/// states), so matching takes time proportional to pattern × text.
///
/// Supported: literals, `.`, `^`, `$`, classes (`[a-z0-9_]`, `[^…]`),
/// `\d \w \s \D \W \S`, escapes of punctuation, groups `( … )` and
/// `(?: … )`, `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (a
/// following `?` — lazy — is accepted and changes nothing, as only
/// whether there is a match matters). Matching is a search: the pattern
/// may match anywhere unless anchored.
mod pattern {
    const MAX_PATTERN_CHARS: usize = 1024;
    const MAX_PROGRAM: usize = 20_000;
    const MAX_REPEAT: u32 = 1000;
    const MAX_DEPTH: usize = 64;

    #[derive(Debug, Clone)]
    struct Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    }

    impl Class {
        fn matches(&self, c: char) -> bool {
            self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != self.negated
        }
    }

    #[derive(Debug, Clone)]
    enum Node {
        Empty,
        Char(char),
        Any,
        Class(Class),
        Start,
        End,
        Concat(Vec<Node>),
        Alternate(Vec<Node>),
        Repeat(Box<Node>, u32, Option<u32>),
    }

    #[derive(Debug, Clone)]
    enum Inst {
        Char(char),
        Any,
        Class(usize),
        Split(usize, usize),
        Jump(usize),
        Start,
        End,
        Match,
    }

    #[derive(Debug)]
    pub struct Regex {
        program: Vec<Inst>,
        classes: Vec<Class>,
    }

    struct Parser {
        chars: Vec<char>,
        pos: usize,
        depth: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn alternate(&mut self) -> Result<Node, String> {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("pattern nested too deeply".into());
            }
            let mut branches = vec![self.concat()?];
            while self.peek() == Some('|') {
                self.pos += 1;
                branches.push(self.concat()?);
            }
            self.depth -= 1;
            Ok(if branches.len() == 1 {
                branches.pop().unwrap_or(Node::Empty)
            } else {
                Node::Alternate(branches)
            })
        }

        fn concat(&mut self) -> Result<Node, String> {
            let mut items = Vec::new();
            while let Some(c) = self.peek() {
                if c == '|' || c == ')' {
                    break;
                }
                let atom = self.atom()?;
                items.push(self.quantifiers(atom)?);
            }
            Ok(Node::Concat(items))
        }

        fn quantifiers(&mut self, mut atom: Node) -> Result<Node, String> {
            loop {
                let (min, max) = match self.peek() {
                    Some('*') => {
                        self.pos += 1;
                        (0, None)
                    }
                    Some('+') => {
                        self.pos += 1;
                        (1, None)
                    }
                    Some('?') => {
                        self.pos += 1;
                        (0, Some(1))
                    }
                    Some('{') => match self.braces()? {
                        Some(bounds) => bounds,
                        None => return Ok(atom),
                    },
                    _ => return Ok(atom),
                };
                if matches!(atom, Node::Start | Node::End | Node::Empty) {
                    return Err("nothing to repeat".into());
                }
                if self.peek() == Some('?') {
                    self.pos += 1; // lazy: the same for matching
                }
                atom = Node::Repeat(Box::new(atom), min, max);
            }
        }

        /// `{n}`, `{n,}`, `{n,m}`; `None` (and nothing consumed) when the
        /// brace is a literal.
        fn braces(&mut self) -> Result<Option<(u32, Option<u32>)>, String> {
            let rest: String = self.chars[self.pos..].iter().take(24).collect();
            let Some(close) = rest.find('}') else {
                return Ok(None);
            };
            let inner = &rest[1..close];
            let number = |s: &str| -> Option<u32> {
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
                    None
                } else {
                    s.parse::<u32>().ok().or(Some(u32::MAX))
                }
            };
            let bounds = match inner.split_once(',') {
                None => number(inner).map(|n| (n, Some(n))),
                Some((lo, "")) => number(lo).map(|n| (n, None)),
                Some((lo, hi)) => number(lo).zip(number(hi)).map(|(l, h)| (l, Some(h))),
            };
            let Some((min, max)) = bounds else {
                return Ok(None);
            };
            if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                return Err("bad repetition count".into());
            }
            self.pos += inner.chars().count() + 2;
            Ok(Some((min, max)))
        }

        fn atom(&mut self) -> Result<Node, String> {
            let Some(c) = self.peek() else {
                return Err("unexpected end".into());
            };
            self.pos += 1;
            Ok(match c {
                '.' => Node::Any,
                '^' => Node::Start,
                '$' => Node::End,
                '(' => {
                    if self.chars.get(self.pos..self.pos + 2) == Some(&['?', ':'][..]) {
                        self.pos += 2;
                    } else if self.peek() == Some('?') {
                        return Err("unsupported group".into());
                    }
                    let inner = self.alternate()?;
                    if self.peek() != Some(')') {
                        return Err("missing )".into());
                    }
                    self.pos += 1;
                    inner
                }
                ')' => return Err("unmatched )".into()),
                '[' => Node::Class(self.class()?),
                '\\' => self.escape(false)?,
                '*' | '+' | '?' => return Err("nothing to repeat".into()),
                c => Node::Char(c),
            })
        }

        fn escape(&mut self, in_class: bool) -> Result<Node, String> {
            let Some(c) = self.peek() else {
                return Err("trailing backslash".into());
            };
            self.pos += 1;
            let class = |negated: bool, ranges: &[(char, char)]| {
                Node::Class(Class {
                    negated,
                    ranges: ranges.to_vec(),
                })
            };
            const DIGIT: &[(char, char)] = &[('0', '9')];
            const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')];
            const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];
            Ok(match c {
                'd' => class(false, DIGIT),
                'w' => class(false, WORD),
                's' => class(false, SPACE),
                'D' | 'W' | 'S' if in_class => return Err("negated class escape in class".into()),
                'D' => class(true, DIGIT),
                'W' => class(true, WORD),
                'S' => class(true, SPACE),
                'n' => Node::Char('\n'),
                't' => Node::Char('\t'),
                'r' => Node::Char('\r'),
                c if c.is_ascii_alphanumeric() => {
                    return Err(format!("unsupported escape \\{c}"));
                }
                c => Node::Char(c),
            })
        }

        fn class(&mut self) -> Result<Class, String> {
            let mut class = Class {
                negated: false,
                ranges: Vec::new(),
            };
            if self.peek() == Some('^') {
                class.negated = true;
                self.pos += 1;
            }
            let mut first = true;
            loop {
                let Some(c) = self.peek() else {
                    return Err("missing ]".into());
                };
                if c == ']' && !first {
                    self.pos += 1;
                    return Ok(class);
                }
                first = false;
                self.pos += 1;
                let lo = if c == '\\' {
                    match self.escape(true)? {
                        Node::Char(c) => c,
                        Node::Class(inner) => {
                            class.ranges.extend(inner.ranges);
                            continue;
                        }
                        _ => return Err("bad escape in class".into()),
                    }
                } else {
                    c
                };
                let is_range = self.peek() == Some('-')
                    && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']');
                if is_range {
                    self.pos += 1;
                    let Some(mut hi) = self.peek() else {
                        return Err("missing ]".into());
                    };
                    self.pos += 1;
                    if hi == '\\' {
                        match self.escape(true)? {
                            Node::Char(c) => hi = c,
                            _ => return Err("bad range".into()),
                        }
                    }
                    if hi < lo {
                        return Err("bad range".into());
                    }
                    class.ranges.push((lo, hi));
                } else {
                    class.ranges.push((lo, lo));
                }
            }
        }
    }

    struct Compiler {
        program: Vec<Inst>,
        classes: Vec<Class>,
    }

    impl Compiler {
        fn push(&mut self, inst: Inst) -> Result<usize, String> {
            if self.program.len() >= MAX_PROGRAM {
                return Err("pattern too large".into());
            }
            self.program.push(inst);
            Ok(self.program.len() - 1)
        }

        fn emit(&mut self, node: &Node) -> Result<(), String> {
            match node {
                Node::Empty => {}
                Node::Char(c) => {
                    self.push(Inst::Char(*c))?;
                }
                Node::Any => {
                    self.push(Inst::Any)?;
                }
                Node::Class(class) => {
                    self.classes.push(class.clone());
                    self.push(Inst::Class(self.classes.len() - 1))?;
                }
                Node::Start => {
                    self.push(Inst::Start)?;
                }
                Node::End => {
                    self.push(Inst::End)?;
                }
                Node::Concat(items) => {
                    for item in items {
                        self.emit(item)?;
                    }
                }
                Node::Alternate(branches) => {
                    let mut jumps = Vec::new();
                    for (i, branch) in branches.iter().enumerate() {
                        if i + 1 < branches.len() {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.emit(branch)?;
                            jumps.push(self.push(Inst::Jump(0))?);
                            let next = self.program.len();
                            self.program[split] = Inst::Split(split + 1, next);
                        } else {
                            self.emit(branch)?;
                        }
                    }
                    let end = self.program.len();
                    for jump in jumps {
                        self.program[jump] = Inst::Jump(end);
                    }
                }
                Node::Repeat(inner, min, max) => {
                    for _ in 0..*min {
                        self.emit(inner)?;
                    }
                    match max {
                        None => {
                            let split = self.push(Inst::Split(0, 0))?;
                            self.emit(inner)?;
                            self.push(Inst::Jump(split))?;
                            let end = self.program.len();
                            self.program[split] = Inst::Split(split + 1, end);
                        }
                        Some(max) => {
                            let mut splits = Vec::new();
                            for _ in *min..*max {
                                splits.push(self.push(Inst::Split(0, 0))?);
                                self.emit(inner)?;
                            }
                            let end = self.program.len();
                            for split in splits {
                                self.program[split] = Inst::Split(split + 1, end);
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    impl Regex {
        pub fn new(pattern: &str) -> Result<Regex, String> {
            let chars: Vec<char> = pattern.chars().collect();
            if chars.len() > MAX_PATTERN_CHARS {
                return Err("pattern too long".into());
            }
            let mut parser = Parser {
                chars,
                pos: 0,
                depth: 0,
            };
            let node = parser.alternate()?;
            if parser.pos < parser.chars.len() {
                return Err("unmatched )".into());
            }
            let mut compiler = Compiler {
                program: Vec::new(),
                classes: Vec::new(),
            };
            compiler.emit(&node)?;
            compiler.push(Inst::Match)?;
            Ok(Regex {
                program: compiler.program,
                classes: compiler.classes,
            })
        }

        /// Adds the thread at `pc` and every state reachable from it
        /// without reading a character.
        fn add(
            &self,
            list: &mut Vec<usize>,
            marks: &mut [usize],
            pc: usize,
            at: usize,
            len: usize,
        ) -> bool {
            let mut stack = vec![pc];
            let mut matched = false;
            while let Some(pc) = stack.pop() {
                if marks[pc] == at {
                    continue;
                }
                marks[pc] = at;
                match self.program[pc] {
                    Inst::Jump(to) => stack.push(to),
                    Inst::Split(a, b) => {
                        stack.push(b);
                        stack.push(a);
                    }
                    Inst::Start => {
                        if at == 0 {
                            stack.push(pc + 1);
                        }
                    }
                    Inst::End => {
                        if at == len {
                            stack.push(pc + 1);
                        }
                    }
                    Inst::Match => matched = true,
                    _ => list.push(pc),
                }
            }
            matched
        }

        /// Whether the pattern matches anywhere in `text`.
        pub fn is_match(&self, text: &str) -> bool {
            let chars: Vec<char> = text.chars().collect();
            let len = chars.len();
            let mut marks = vec![usize::MAX; self.program.len()];
            let mut current: Vec<usize> = Vec::new();
            let mut next: Vec<usize> = Vec::new();
            for at in 0..=len {
                if self.add(&mut current, &mut marks, 0, at, len) {
                    return true;
                }
                let Some(&c) = chars.get(at) else {
                    break;
                };
                next.clear();
                for &pc in &current {
                    let step = match self.program[pc] {
                        Inst::Char(x) => x == c,
                        Inst::Any => c != '\n',
                        Inst::Class(i) => self.classes.get(i).is_some_and(|class| class.matches(c)),
                        _ => false,
                    };
                    if step && self.add(&mut next, &mut marks, pc + 1, at + 1, len) {
                        return true;
                    }
                }
                std::mem::swap(&mut current, &mut next);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::standard::{template, validate};
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use tower::ServiceExt;

    const AED_CSV: &str = "全国地方公共団体コード,ID,地方公共団体名,名称,所在地_連結表記,緯度,経度,設置位置,利用可能曜日,開始時間,終了時間,小児対応設備の有無,URL\n\
        242012,A-001,三重県津市,津市役所,三重県津市西丸之内23-1,34.7186,136.5056,1階ロビー,\"月,火,水,木,金\",08:30,17:15,有,https://www.city.tsu.lg.jp/\n\
        242012,A-002,三重県津市,津市図書館,三重県津市西丸之内37-8,34.7200,136.5030,2階カウンター,月～土,09:00,19:00,無,\n\
        242012,,三重県津市,津駅,三重県津市羽所町,34.7343,136.5107,改札横,毎日,05:00,24:00,有,\n\
        242012,A 4/あ,三重県津市,久居駅,三重県津市久居新町,34.6780,136.4680,駅前,,,,,\n";

    const FACILITY_CSV: &str = "全国地方公共団体コード,ID,名称,所在地_連結表記,緯度,経度,説明\n\
        242012,F-1,津市役所,三重県津市西丸之内23-1,34.7186,136.5056,本庁舎\n\
        242012,F-2,津市図書館,三重県津市西丸之内37-8,,,\n";

    const CHILDCARE_CSV: &str = "全国地方公共団体コード,ID,名称,種別,所在地_連結表記,収容定員,認可等年月日\n\
        242012,C-1,ひかり保育園,認可私立保育所,三重県津市1,90,2015-04-01\n\
        242012,C-2,みどり幼稚園,公立幼稚園,三重県津市2,120,1980-04-01\n";

    fn entities(key: &str, csv: &str) -> Vec<Entity> {
        let table =
            validate(template(key).unwrap(), csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        entities_from_table(&table, DEFAULT_ID_PREFIX)
    }

    fn sets() -> Vec<EntitySet> {
        let mut other = entities("public_facility", FACILITY_CSV);
        other.truncate(1);
        vec![
            EntitySet {
                tenant: "Tsu".into(),
                service_path: "/opendata/aed".into(),
                entities: entities("aed", AED_CSV),
            },
            EntitySet {
                tenant: "tsu".into(),
                service_path: "/opendata/facility/".into(),
                entities: entities("public_facility", FACILITY_CSV),
            },
            EntitySet {
                tenant: "tsu".into(),
                service_path: "/childcare".into(),
                entities: entities("childcare_facility", CHILDCARE_CSV),
            },
            EntitySet {
                tenant: "other".into(),
                service_path: String::new(),
                entities: other,
            },
        ]
    }

    #[derive(Clone)]
    struct Fixed(Arc<Vec<EntitySet>>);

    impl Provider for Fixed {
        fn entity_sets(&self) -> impl Future<Output = Arc<Vec<EntitySet>>> + Send {
            let sets = self.0.clone();
            async move { sets }
        }
    }

    struct Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: Value,
        text: String,
    }

    async fn call(method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
        let app: Router = router(Fixed(Arc::new(sets())));
        let mut request = HttpRequest::builder().method(method).uri(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    async fn get(uri: &str) -> Reply {
        call("GET", uri, &[]).await
    }

    fn ids(body: &Value) -> Vec<&str> {
        body.as_array()
            .unwrap_or_else(|| panic!("not an array: {body}"))
            .iter()
            .map(|e| e["id"].as_str().unwrap_or(""))
            .collect()
    }

    fn bad(reply: &Reply, description: &str) {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(
            reply.body,
            json!({"error": "BadRequest", "description": description})
        );
    }

    #[test]
    fn entities_from_a_table() {
        let aed = entities("aed", AED_CSV);
        assert_eq!(aed.len(), 4);
        assert_eq!(aed[0].id, "urn:ngsi-ld:AED:242012:A-001");
        assert_eq!(aed[0].entity_type, "AED");
        // No ID: the row number; characters Orion refuses become `_`.
        assert_eq!(aed[2].id, "urn:ngsi-ld:AED:242012:3");
        assert_eq!(aed[3].id, "urn:ngsi-ld:AED:242012:A_4__");
        assert_eq!(aed[0].attr("latitude"), Some(("Number", &json!(34.7186))));
        assert_eq!(aed[0].attr("name"), Some(("Text", &json!("津市役所"))));
        assert_eq!(
            aed[0].attr("url"),
            Some(("URL", &json!("https://www.city.tsu.lg.jp/")))
        );
        assert_eq!(
            aed[0].attr("location"),
            Some((
                "geo:json",
                &json!({"type": "Point", "coordinates": [136.5056, 34.7186]})
            ))
        );
        assert_eq!(aed[1].attr("url"), None, "empty cells are left out");
        assert_eq!(aed[3].attr("availableDays"), None);
        let facility = entities("public_facility", FACILITY_CSV);
        assert_eq!(facility[1].attr("location"), None);
        let childcare = entities("childcare_facility", CHILDCARE_CSV);
        assert_eq!(childcare[0].attr("capacity"), Some(("Number", &json!(90))));
        assert_eq!(
            childcare[0].attr("authorizationDate"),
            Some(("DateTime", &json!("2015-04-01T00:00:00.000Z")))
        );
        // Repeated ids get a suffix; ids stay within 256 characters.
        let csv = format!(
            "全国地方公共団体コード,ID,名称,所在地_連結表記,設置位置\n242012,x,a,b,c\n242012,x ,a,b,c\n242012,{long},a,b,c\n242012,{long}!,a,b,c\n",
            long = "y".repeat(300)
        );
        let table = crate::standard::Table {
            template: template("aed").unwrap(),
            rows: csv
                .lines()
                .skip(1)
                .map(|l| {
                    let cells: Vec<&str> = l.split(',').collect();
                    let mut row = vec![String::new(); template("aed").unwrap().columns.len()];
                    row[0] = cells[0].into();
                    row[1] = cells[1].into();
                    row
                })
                .collect(),
        };
        let list = entities_from_table(&table, "");
        assert_eq!(list[0].id, "AED:242012:x");
        assert_eq!(list[1].id, "AED:242012:x-2");
        assert_eq!(list[2].id.chars().count(), 256);
        assert_eq!(list[3].id.chars().count(), 256);
        assert!(list[3].id.ends_with("-2"));
        let unique: HashSet<&str> = list.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(unique.len(), 4);
        assert_eq!(
            entities_from_table(&table, "aed_tsu")[0].id,
            "aed_tsu:AED:242012:x"
        );
        assert_eq!(
            entities_from_table(&table, "urn:x:")[0].id,
            "urn:x:AED:242012:x"
        );
    }

    #[test]
    fn regex_subset() {
        let m = |p: &str, t: &str| pattern::Regex::new(p).unwrap().is_match(t);
        assert!(m("^urn:ngsi-ld:AED:.*", "urn:ngsi-ld:AED:242012:1"));
        assert!(!m("^AED", "urn:ngsi-ld:AED"));
        assert!(m("AED", "urn:ngsi-ld:AED:1"));
        assert!(m("A-00[12]$", "x:A-002"));
        assert!(!m("A-00[12]$", "x:A-003"));
        assert!(m("^[^:]+:[a-z-]+$", "urn:ngsi-ld"));
        assert!(m("^(Public|Childcare)Facility$", "ChildcareFacility"));
        assert!(!m("^(Public|Childcare)Facility$", "AED"));
        assert!(m("^\\d{6}$", "242012"));
        assert!(!m("^\\d{6}$", "24201"));
        assert!(m("^a{2,3}$", "aaa"));
        assert!(!m("^a{2,3}$", "aaaa"));
        assert!(m("^ab?c+$", "acc"));
        assert!(m("x{", "ax{"));
        assert!(m("図書館", "津市図書館"));
        assert!(m("^.*$", ""));
        assert!(m("", "anything"));
        assert!(m("a\\.b", "a.b"));
        assert!(!m("a\\.b", "axb"));
        assert!(m("[\\d-]+", "12-3"));
        for bad in [
            "(", ")", "[a-", "*a", "a{5,2}", "\\b", "(?=a)", "a{1001}", "[z-a]",
        ] {
            assert!(pattern::Regex::new(bad).is_err(), "{bad}");
        }
        assert!(pattern::Regex::new(&"(".repeat(100)).is_err());
        assert!(pattern::Regex::new(&"a".repeat(2000)).is_err());
        assert!(pattern::Regex::new("(a{1000}){1000}").is_err());
        // Patterns that make backtracking engines explode stay fast.
        let started = Instant::now();
        let evil = pattern::Regex::new("^(a*)*(a|aa)*b$").unwrap();
        assert!(!evil.is_match(&"a".repeat(5000)));
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn q_language() {
        let aed = entities("aed", AED_CSV);
        let childcare = entities("childcare_facility", CHILDCARE_CSV);
        let matching = |list: &[Entity], q: &str| -> Vec<String> {
            let statements = parse_q(q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
            list.iter()
                .filter(|e| statements.iter().all(|s| s.matches(e)))
                .map(|e| e.id.rsplit(':').next().unwrap_or("").to_string())
                .collect()
        };
        assert_eq!(matching(&aed, "pediatricEquipment==有"), ["A-001", "3"]);
        assert_eq!(matching(&aed, "pediatricEquipment!=有"), ["A-002"]);
        assert_eq!(matching(&aed, "latitude>34.72"), ["3"]);
        assert_eq!(matching(&aed, "latitude>=34.72"), ["A-002", "3"]);
        assert_eq!(matching(&aed, "latitude<34.7"), ["A_4__"]);
        assert_eq!(matching(&aed, "latitude==34.7..34.72"), ["A-001", "A-002"]);
        assert_eq!(matching(&aed, "latitude!=34.7..34.72"), ["3", "A_4__"]);
        assert_eq!(
            matching(&aed, "latitude==34.7186,34.678"),
            ["A-001", "A_4__"]
        );
        assert_eq!(matching(&aed, "name~=図書|駅$"), ["A-002", "3", "A_4__"]);
        assert_eq!(matching(&aed, "url"), ["A-001"]);
        assert_eq!(matching(&aed, "!url;pediatricEquipment"), ["A-002", "3"]);
        assert_eq!(matching(&aed, "startTime<09:00"), ["A-001", "3"]);
        assert_eq!(matching(&aed, "availableDays=='月,火,水,木,金'"), ["A-001"]);
        assert_eq!(
            matching(&aed, "identifier=='A-001',A-002"),
            ["A-001", "A-002"]
        );
        assert_eq!(
            matching(&aed, "location.type==Point;latitude<34.71"),
            ["A_4__"]
        );
        // Numbers as strings: 1 matches "1" (unquoted), '90' does not match 90.
        assert_eq!(matching(&childcare, "capacity==90"), ["C-1"]);
        assert_eq!(matching(&childcare, "capacity=='90'"), Vec::<String>::new());
        assert_eq!(matching(&childcare, "capacity>100"), ["C-2"]);
        assert_eq!(
            matching(&childcare, "authorizationDate>2000-01-01"),
            ["C-1"]
        );
        assert_eq!(
            matching(
                &childcare,
                "authorizationDate==1970-01-01..1990-12-31T23:59:59Z"
            ),
            ["C-2"]
        );
        assert_eq!(
            matching(&childcare, "facilityType=='認可私立保育所'"),
            ["C-1"]
        );
        for bad in [
            "a==", "==1", "a>1,2", "a=='x", "a~=(", "a>1..2", "a..b", "a==1..",
        ] {
            assert!(parse_q(bad).is_err(), "{bad}");
        }
        assert!(parse_q(";;").unwrap().is_empty());
    }

    #[tokio::test]
    async fn version_and_entry_points() {
        let reply = get("/version").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["orion"]["version"], ORION_COMPAT_VERSION);
        assert!(
            reply.body["orion"]["uptime"]
                .as_str()
                .unwrap()
                .ends_with(" s")
        );
        assert_eq!(reply.body["orion"]["compiled_by"], "madoguchi");
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        for uri in ["/v2", "/v2/"] {
            let reply = get(uri).await;
            assert_eq!(reply.body["entities_url"], "/v2/entities");
            assert_eq!(reply.body["registrations_url"], "/v2/registrations");
        }
        let reply = get("/version/").await;
        assert_eq!(reply.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn listing_and_paging() {
        let reply = get("/v2/entities?options=count").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers["fiware-total-count"], "9");
        assert_eq!(ids(&reply.body).len(), 9);
        let first = &reply.body[0];
        assert_eq!(first["id"], "urn:ngsi-ld:AED:242012:A-001");
        assert_eq!(first["type"], "AED");
        assert_eq!(
            first["name"],
            json!({"type": "Text", "value": "津市役所", "metadata": {}})
        );
        assert!(
            reply
                .text
                .starts_with("[{\"id\":\"urn:ngsi-ld:AED:242012:A-001\",\"type\":\"AED\",")
        );
        assert!(reply.headers.get("fiware-total-count").is_some());
        assert!(
            get("/v2/entities")
                .await
                .headers
                .get("fiware-total-count")
                .is_none()
        );

        let page = get("/v2/entities/?limit=2&offset=1&options=count").await;
        assert_eq!(page.headers["fiware-total-count"], "9");
        assert_eq!(
            ids(&page.body),
            ["urn:ngsi-ld:AED:242012:A-002", "urn:ngsi-ld:AED:242012:3"]
        );
        assert_eq!(ids(&get("/v2/entities?offset=100").await.body).len(), 0);

        bad(
            &get("/v2/entities?limit=0").await,
            "Bad pagination limit: /0/ [a value of ZERO is unacceptable]",
        );
        bad(
            &get("/v2/entities?limit=abc").await,
            "Bad pagination limit: /abc/ [must be a decimal number]",
        );
        bad(
            &get("/v2/entities?limit=-1").await,
            "Bad pagination limit: /-1/ [must be a decimal number]",
        );
        bad(
            &get("/v2/entities?limit=1001").await,
            "Bad pagination limit: /1001/ [max: 1000]",
        );
        bad(
            &get("/v2/entities?limit=99999999999999999999999").await,
            "Bad pagination limit: /99999999999999999999999/ [max: 1000]",
        );
        bad(
            &get("/v2/entities?offset=x").await,
            "Bad pagination offset: /x/ [must be a decimal number]",
        );
        bad(
            &get("/v2/entities?type=").await,
            "Empty right-hand-side for URI param /type/",
        );
        bad(
            &get("/v2/entities?options=bogus").await,
            "Invalid value for URI param /options/",
        );
        assert_eq!(get("/v2/entities?limit=1000").await.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn filters_and_options() {
        let reply = get("/v2/entities?type=PublicFacility,ChildcareFacility&limit=100").await;
        assert_eq!(ids(&reply.body).len(), 5);
        let reply =
            get("/v2/entities?id=urn:ngsi-ld:AED:242012:A-002,urn:ngsi-ld:AED:242012:3").await;
        assert_eq!(ids(&reply.body).len(), 2);
        let reply = get("/v2/entities?idPattern=%5Eurn:ngsi-ld:AED:242012:A-00%5B12%5D$").await;
        assert_eq!(
            ids(&reply.body),
            [
                "urn:ngsi-ld:AED:242012:A-001",
                "urn:ngsi-ld:AED:242012:A-002"
            ]
        );
        let reply = get("/v2/entities?typePattern=Facility$&options=count").await;
        assert_eq!(reply.headers["fiware-total-count"], "5");
        let reply = get("/v2/entities?q=pediatricEquipment==%E6%9C%89;latitude%3E34.72").await;
        assert_eq!(ids(&reply.body), ["urn:ngsi-ld:AED:242012:3"]);
        let reply =
            get("/v2/entities?q=capacity%3E=100&attrs=name,capacity&options=keyValues").await;
        assert_eq!(
            reply.body,
            json!([{"id": "urn:ngsi-ld:ChildcareFacility:242012:C-2", "type": "ChildcareFacility", "name": "みどり幼稚園", "capacity": 120}])
        );
        let reply =
            get("/v2/entities?type=AED&attrs=identifier,nope,name&options=values&limit=2").await;
        assert_eq!(
            reply.body,
            json!([["A-001", null, "津市役所"], ["A-002", null, "津市図書館"]])
        );
        let reply = get("/v2/entities?type=AED&attrs=pediatricEquipment&options=unique").await;
        assert_eq!(reply.body, json!([["有"], ["無"], [null]]));
        let reply = get("/v2/entities?type=AED&attrs=*&options=keyValues&limit=1").await;
        assert_eq!(reply.body[0]["installationLocation"], "1階ロビー");

        let reply = get("/v2/entities?type=AED&orderBy=!latitude").await;
        assert_eq!(
            ids(&reply.body),
            [
                "urn:ngsi-ld:AED:242012:3",
                "urn:ngsi-ld:AED:242012:A-002",
                "urn:ngsi-ld:AED:242012:A-001",
                "urn:ngsi-ld:AED:242012:A_4__"
            ]
        );
        let reply = get("/v2/entities?orderBy=url,!id&type=AED").await;
        assert_eq!(ids(&reply.body)[3], "urn:ngsi-ld:AED:242012:A-001");
        assert_eq!(ids(&reply.body)[0], "urn:ngsi-ld:AED:242012:A_4__");

        // Nearest first within 2 km of 津市役所.
        let reply = get("/v2/entities?georel=near;maxDistance:2000&geometry=point&coords=34.7186,136.5056&options=count").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            ids(&reply.body),
            [
                "urn:ngsi-ld:AED:242012:A-001",
                "urn:ngsi-ld:PublicFacility:242012:F-1",
                "urn:ngsi-ld:PublicFacility:242012:F-1",
                "urn:ngsi-ld:AED:242012:A-002",
                "urn:ngsi-ld:AED:242012:3"
            ]
        );
        let reply =
            get("/v2/entities?georel=coveredBy&geometry=box&coords=34.70,136.50;34.73,136.51")
                .await;
        assert_eq!(ids(&reply.body).len(), 4);
        bad(
            &get("/v2/entities?georel=near&geometry=point&coords=34,136").await,
            "Invalid query: near needs a point and maxDistance or minDistance",
        );

        bad(
            &get("/v2/entities?q=a%3E1,2").await,
            "a list is only allowed with == and != in /a>1,2/",
        );
        bad(
            &get("/v2/entities?q=a==").await,
            "empty right-hand-side in q-item",
        );
        bad(
            &get("/v2/entities?q=%3E3").await,
            "empty left-hand-side in q-item",
        );
        bad(
            &get("/v2/entities?q=a%3Cb%3E==3").await,
            "invalid character found in URI param /q/",
        );
        bad(
            &get("/v2/entities?coords=1,2").await,
            "Invalid query: URI param /coords/ used without /geometry/",
        );
        bad(
            &get("/v2/entities?id=a&idPattern=b").await,
            "Incompatible parameters: id, IdPattern",
        );
        bad(
            &get("/v2/entities?type=a&typePattern=b").await,
            "Incompatible parameters: type, typePattern",
        );
        assert_eq!(
            get("/v2/entities?idPattern=(").await.status,
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn forbidden_characters() {
        for uri in [
            "/v2/entities?type=%3Cscript%3E",
            "/v2/entities?attrs=name;x",
            "/v2/entities?orderBy=(name)",
            "/v2/entities?id=a'b",
            "/v2/entities?x%3Cy=1",
            "/v2/types?options=count%22",
        ] {
            bad(&get(uri).await, "invalid character in URI parameter");
        }
        // q and idPattern may use them.
        assert_eq!(
            get("/v2/entities?q=name==%27a%27").await.status,
            StatusCode::OK
        );
        assert_eq!(
            get("/v2/entities?idPattern=(AED)").await.status,
            StatusCode::OK
        );
        bad(&get("/v2/entities/a%3Cb").await, "invalid character in URI");
        bad(&get("/v2/types/(x)").await, "invalid character in URI");
    }

    #[tokio::test]
    async fn tenancy_headers() {
        let reply = call(
            "GET",
            "/v2/entities?options=count",
            &[("Fiware-Service", "TSU")],
        )
        .await;
        assert_eq!(reply.headers["fiware-total-count"], "8");
        let reply = call(
            "GET",
            "/v2/entities?options=count",
            &[("Fiware-Service", "other")],
        )
        .await;
        assert_eq!(reply.headers["fiware-total-count"], "1");
        let reply = call(
            "GET",
            "/v2/entities?options=count",
            &[("Fiware-Service", "nobody")],
        )
        .await;
        assert_eq!(reply.headers["fiware-total-count"], "0");
        let path = |p: &'static str| [("Fiware-Service", "tsu"), ("Fiware-ServicePath", p)];
        let count = |r: &Reply| {
            r.headers["fiware-total-count"]
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            count(&call("GET", "/v2/entities?options=count", &path("/opendata/aed")).await),
            "4"
        );
        assert_eq!(
            count(&call("GET", "/v2/entities?options=count", &path("/opendata")).await),
            "0"
        );
        assert_eq!(
            count(&call("GET", "/v2/entities?options=count", &path("/opendata/#")).await),
            "6"
        );
        assert_eq!(
            count(
                &call(
                    "GET",
                    "/v2/entities?options=count",
                    &path("/opendata/facility/")
                )
                .await
            ),
            "2"
        );
        assert_eq!(
            count(&call("GET", "/v2/entities?options=count", &path("/#")).await),
            "8"
        );
        assert_eq!(
            count(
                &call(
                    "GET",
                    "/v2/entities?options=count",
                    &path("/childcare, /opendata/aed")
                )
                .await
            ),
            "6"
        );
        let root = [("Fiware-ServicePath", "/")];
        assert_eq!(
            count(&call("GET", "/v2/entities?options=count", &root).await),
            "1"
        );

        bad(
            &call("GET", "/v2/entities", &[("Fiware-Service", "tsu-city")]).await,
            "bad character in tenant name - only underscore and alphanumeric characters are allowed",
        );
        bad(
            &call(
                "GET",
                "/v2/entities",
                &[("Fiware-Service", &"a".repeat(51))],
            )
            .await,
            "bad length - a tenant name can be max 50 characters long",
        );
        bad(
            &call("GET", "/v2/entities", &[("Fiware-ServicePath", "opendata")]).await,
            "Only /absolute/ Service Paths allowed [a service path must begin with /]",
        );
        bad(
            &call("GET", "/v2/types", &[("Fiware-ServicePath", "/open-data")]).await,
            "a component of ServicePath contains an illegal character",
        );
        bad(
            &call("GET", "/v2/entities", &[("Fiware-ServicePath", "/a/#/b")]).await,
            "a component of ServicePath contains an illegal character",
        );
        bad(
            &call(
                "GET",
                "/v2/entities",
                &[("Fiware-ServicePath", "/1/2/3/4/5/6/7/8/9/10/11")],
            )
            .await,
            "too many components in ServicePath",
        );
        bad(
            &call(
                "GET",
                "/v2/entities",
                &[("Fiware-ServicePath", &format!("/{}", "x".repeat(51)))],
            )
            .await,
            "component-name too long in ServicePath",
        );
        bad(
            &call(
                "GET",
                "/v2/entities",
                &[("Fiware-ServicePath", "/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k")],
            )
            .await,
            "too many service paths - a maximum of ten service paths is allowed",
        );
    }

    #[tokio::test]
    async fn single_entity_and_attributes() {
        let id = "urn:ngsi-ld:AED:242012:A-001";
        let reply = get(&format!("/v2/entities/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["id"], id);
        assert_eq!(reply.body["location"]["type"], "geo:json");
        let reply = get(&format!("/v2/entities/{id}/?options=keyValues&attrs=name")).await;
        assert_eq!(
            reply.body,
            json!({"id": id, "type": "AED", "name": "津市役所"})
        );
        let reply = get(&format!(
            "/v2/entities/{id}?type=AED&options=values&attrs=name,openingHours"
        ))
        .await;
        assert_eq!(reply.body, json!(["津市役所", null]));

        let not_found = json!({"error": "NotFound", "description": "The requested entity has not been found. Check type and id"});
        let reply = get(&format!("/v2/entities/{id}?type=PublicFacility")).await;
        assert_eq!(
            (reply.status, &reply.body),
            (StatusCode::NOT_FOUND, &not_found)
        );
        let reply = get("/v2/entities/nope").await;
        assert_eq!(
            (reply.status, &reply.body),
            (StatusCode::NOT_FOUND, &not_found)
        );

        // The same id in two tenants: ambiguous unless the tenant is given.
        let twice = "urn:ngsi-ld:PublicFacility:242012:F-1";
        let reply = get(&format!("/v2/entities/{twice}")).await;
        assert_eq!(reply.status, StatusCode::CONFLICT);
        assert_eq!(
            reply.body,
            json!({"error": "TooManyResults", "description": "More than one matching entity. Please refine your query"})
        );
        let reply = call(
            "GET",
            &format!("/v2/entities/{twice}"),
            &[("Fiware-Service", "other")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);

        let reply = get(&format!("/v2/entities/{id}/attrs?attrs=name,latitude")).await;
        assert_eq!(
            reply.body,
            json!({"name": {"type": "Text", "value": "津市役所", "metadata": {}}, "latitude": {"type": "Number", "value": 34.7186, "metadata": {}}})
        );
        let reply = get(&format!("/v2/entities/{id}/attrs/latitude")).await;
        assert_eq!(
            reply.body,
            json!({"type": "Number", "value": 34.7186, "metadata": {}})
        );
        let reply = get(&format!("/v2/entities/{id}/attrs/nope")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(
            reply.body,
            json!({"error": "NotFound", "description": "The entity does not have such an attribute"})
        );
        let reply = get(&format!("/v2/entities/{id}/attrs/location/value")).await;
        assert_eq!(
            reply.body,
            json!({"type": "Point", "coordinates": [136.5056, 34.7186]})
        );
        let reply = get(&format!("/v2/entities/{id}/attrs/name/value")).await;
        assert_eq!(reply.body, json!("津市役所"));
        let reply = call(
            "GET",
            &format!("/v2/entities/{id}/attrs/name/value"),
            &[("Accept", "text/plain")],
        )
        .await;
        assert_eq!(reply.text, "津市役所");
    }

    #[tokio::test]
    async fn types() {
        let reply = get("/v2/types?options=count").await;
        assert_eq!(reply.headers["fiware-total-count"], "3");
        let list = reply.body.as_array().unwrap();
        let names: Vec<&str> = list.iter().map(|t| t["type"].as_str().unwrap()).collect();
        assert_eq!(names, ["AED", "ChildcareFacility", "PublicFacility"]);
        assert_eq!(list[0]["count"], 4);
        assert_eq!(list[0]["attrs"]["latitude"], json!({"types": ["Number"]}));
        assert_eq!(list[0]["attrs"]["location"], json!({"types": ["geo:json"]}));
        assert_eq!(list[2]["count"], 3);
        let reply = get("/v2/types?options=values&limit=2&offset=1").await;
        assert_eq!(reply.body, json!(["ChildcareFacility", "PublicFacility"]));
        let reply = call("GET", "/v2/types/", &[("Fiware-Service", "other")]).await;
        assert_eq!(reply.body.as_array().unwrap().len(), 1);

        let reply = get("/v2/types/ChildcareFacility").await;
        assert_eq!(reply.body["count"], 2);
        assert_eq!(
            reply.body["attrs"]["authorizationDate"],
            json!({"types": ["DateTime"]})
        );
        let reply = get("/v2/types/Nope").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(
            reply.body,
            json!({"error": "NotFound", "description": "Entity type not found"})
        );
        bad(
            &get("/v2/types?limit=0").await,
            "Bad pagination limit: /0/ [a value of ZERO is unacceptable]",
        );
    }

    #[tokio::test]
    async fn read_only_and_unknown_routes() {
        for (method, uri) in [
            ("POST", "/v2/entities"),
            ("DELETE", "/v2/entities/urn:ngsi-ld:AED:242012:A-001"),
            ("PATCH", "/v2/entities/x/attrs"),
            ("PUT", "/v2/entities/x/attrs/name/value"),
            ("POST", "/v2/subscriptions"),
            ("POST", "/v2/entities/"),
        ] {
            let reply = call(method, uri, &[]).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_eq!(reply.body["error"], "MethodNotAllowed");
            assert_eq!(reply.headers[header::ALLOW], "GET");
            assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        }
        for uri in ["/v2/nothing", "/v2/entities/a/b/c/d/e", "/v2/op/update"] {
            bad(
                &get(uri).await,
                "Service not found. Check your URL as probably it is wrong.",
            );
        }
        assert_eq!(get("/v2/subscriptions?options=count").await.body, json!([]));
        assert_eq!(get("/v2/registrations").await.body, json!([]));
        assert_eq!(
            get("/v2/subscriptions/abc").await.status,
            StatusCode::NOT_FOUND
        );
    }

    /// A small xorshift generator for the fuzz tests.
    fn pseudo_random(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn parsers_survive_any_input() {
        let alphabet: Vec<char> = "ab.*+?|()[]{}^$\\-,;:=!<>~'\"0123456789 あ%#/"
            .chars()
            .collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let aed = entities("aed", AED_CSV);
        for round in 0..3000 {
            let len = (pseudo_random(&mut seed) % 24) as usize + round % 3;
            let text: String = (0..len)
                .map(|_| alphabet[(pseudo_random(&mut seed) % alphabet.len() as u64) as usize])
                .collect();
            if let Ok(regex) = pattern::Regex::new(&text) {
                for e in &aed {
                    let _ = regex.is_match(&e.id);
                }
            }
            if let Ok(statements) = parse_q(&text) {
                for e in &aed {
                    let _ = statements.iter().all(|s| s.matches(e));
                }
            }
            let _ = parse_service_path(&text);
            let _ = OrderBy::parse(Some(&text), None);
        }
    }

    #[tokio::test]
    async fn router_survives_any_query() {
        let pieces = [
            "q=",
            "idPattern=",
            "type=",
            "id=",
            "attrs=",
            "orderBy=",
            "options=",
            "limit=",
            "offset=",
            "georel=",
            "geometry=",
            "coords=",
            "mq=",
            "typePattern=",
            "&",
            "=",
            "%",
            "%2",
            "%E3%81",
            "%FF",
            "a",
            "1",
            ",",
            ";",
            "..",
            "!",
            "'",
            "(",
            ">",
            "<",
            "~",
            "near",
            "maxDistance:",
            "point",
            "box",
            "count",
            "keyValues",
            "values",
            "*",
            "..",
        ];
        let paths = [
            "/v2/entities?",
            "/v2/entities/urn:ngsi-ld:AED:242012:A-001?",
            "/v2/entities/urn:ngsi-ld:AED:242012:A-001/attrs?",
            "/v2/types?",
            "/v2/types/AED?",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let app: Router = router(Fixed(Arc::new(sets())));
        for _ in 0..1500 {
            let path = paths[(pseudo_random(&mut seed) % paths.len() as u64) as usize];
            let mut uri = path.to_string();
            for _ in 0..(pseudo_random(&mut seed) % 8) {
                uri.push_str(pieces[(pseudo_random(&mut seed) % pieces.len() as u64) as usize]);
            }
            let Ok(request) = HttpRequest::builder().uri(uri.as_str()).body(Body::empty()) else {
                continue;
            };
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            assert!(
                status == StatusCode::OK || status.is_client_error(),
                "{uri}: {status}"
            );
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(serde_json::from_slice::<Value>(&bytes).is_ok(), "{uri}");
        }
    }

    #[tokio::test]
    async fn odd_requests_never_fail_hard() {
        for uri in [
            "/v2/entities?q=%FF%FE",
            "/v2/entities?q=%",
            "/v2/entities?q=a%2",
            "/v2/entities?idPattern=%E3%81%82*",
            "/v2/entities?orderBy=!",
            "/v2/entities?orderBy=a..b",
            "/v2/entities?attrs=,,,",
            "/v2/entities?options=,",
            "/v2/entities?georel=near;maxDistance:x&geometry=point&coords=1,2",
            "/v2/entities?georel=coveredBy&geometry=polygon&coords=1,2;3,4",
            "/v2/entities?coords=a,b",
            "/v2/entities/%FF",
            "/v2/entities/%E3%81%82/attrs/%E3%81%82/value",
            "/v2/types/%E3%81%82",
        ] {
            let reply = get(uri).await;
            assert!(
                reply.status.is_success() || reply.status.is_client_error(),
                "{uri}: {}",
                reply.status
            );
            assert!(
                reply.body.is_object() || reply.body.is_array(),
                "{uri}: {}",
                reply.text
            );
        }
    }
}
