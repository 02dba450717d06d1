//! Reading a request: the URI parameters (with Orion's checks of forbidden
//! characters, limits, offsets and options) and the tenancy headers
//! (`Fiware-Service`, `Fiware-ServicePath`).

use std::collections::HashMap;

use axum::http::HeaderMap;

use super::response::ApiError;
use crate::entities::EntitySet;

/// Entities per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 20;

/// The largest `limit` accepted (as Orion).
pub const MAX_LIMIT: usize = 1000;

/// URI parameters Orion checks for forbidden characters less or not at
/// all.
pub(super) fn forbidden_in_param(key: &str, value: &str) -> bool {
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

pub(super) fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match (b, tail) {
            (b'+', _) => out.push(b' '),
            (b'%', [h, l, after @ ..]) => match (hex(*h), hex(*l)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    rest = after;
                }
                _ => out.push(b'%'),
            },
            (b, _) => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URI parameters (the last of a repeated one wins, as Orion).
#[derive(Debug, Default)]
pub(super) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
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

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub(super) fn list(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
    }

    pub(super) fn limit(&self) -> Result<usize, ApiError> {
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

    pub(super) fn offset(&self) -> Result<usize, ApiError> {
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

    pub(super) fn options(&self) -> Result<Options, ApiError> {
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
pub(super) enum Format {
    #[default]
    Normalized,
    KeyValues,
    Values,
    Unique,
}

#[derive(Debug, Default)]
pub(super) struct Options {
    pub(super) count: bool,
    pub(super) format: Format,
}

/// Which service paths a request reads.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PathFilter {
    All,
    Exact(String),
    Subtree(String),
}

impl PathFilter {
    pub(super) fn matches(&self, path: &str) -> bool {
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

pub(super) fn normalize_service_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The tenancy of a request.
pub(super) struct Scope {
    tenant: Option<String>,
    paths: Vec<PathFilter>,
}

impl Scope {
    pub(super) fn from_headers(headers: &HeaderMap) -> Result<Scope, ApiError> {
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

    pub(super) fn sets<'a>(&self, sets: &'a [EntitySet]) -> impl Iterator<Item = &'a EntitySet> {
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

pub(super) fn parse_service_path(raw: &str) -> Result<PathFilter, ApiError> {
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
pub(super) fn check_path_segment(segment: &str) -> Result<(), ApiError> {
    if segment.chars().any(|c| "<>\"'=;()".contains(c)) {
        Err(ApiError::bad_request("invalid character in URI"))
    } else {
        Ok(())
    }
}
