//! What the pages and the protocol adapters share at the HTTP edge, and
//! the catalogue's machine routes that are not a protocol of their own:
//! - the service's errors as `AppError` (the pages' error pages);
//! - a request's language, its API token (in every header CKAN clients
//!   use) and who may see private datasets;
//! - [`rendered`], which keeps the platform's error pages off a protocol's
//!   own error bodies;
//! - file downloads, and DCAT: `/catalog.{ext}` and `/dataset/{id}.{ext}`.

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use platform::web::AppError;
use serde::Deserialize;
use serde_json::Value;

use crate::dcat;
use crate::search::SearchRequest;
use crate::service::{self, OpenData, PaperCountError, ReadError, TokenError, WriteError};

impl From<WriteError> for AppError {
    /// A write's error that is not about a form's fields: the pages show
    /// field problems themselves before this.
    fn from(e: WriteError) -> AppError {
        match e {
            WriteError::NotFound | WriteError::NotAuthorized(_) => AppError::NotFound,
            WriteError::Invalid(p) => {
                AppError::internal(anyhow::anyhow!("unexpected validation error: {p:?}"))
            }
            WriteError::Files(_) | WriteError::Store(_) => {
                AppError::internal(anyhow::Error::new(e).context("catalogue write failed"))
            }
        }
    }
}

impl From<ReadError> for AppError {
    fn from(e: ReadError) -> AppError {
        match e {
            ReadError::Store(e) => AppError::from(e),
            ReadError::Files(e) => AppError::internal(e),
        }
    }
}

impl From<TokenError> for AppError {
    fn from(e: TokenError) -> AppError {
        match e {
            TokenError::NotFound => AppError::NotFound,
            TokenError::Store(e) => AppError::from(e),
        }
    }
}

impl From<PaperCountError> for AppError {
    fn from(e: PaperCountError) -> AppError {
        match e {
            PaperCountError::Store(e) => AppError::from(e),
            PaperCountError::Publishing(e) => AppError::internal(e),
        }
    }
}

/// Marks a response as complete, so the platform's error pages leave it alone
/// (CKAN's and Orion's error bodies are the protocol).
pub fn rendered(mut res: Response) -> Response {
    res.extensions_mut().insert(platform::web::error::Rendered);
    res
}

/// The language of a request (the platform's context, else Japanese).
pub fn lang_of<B>(req: &axum::http::Request<B>) -> platform::i18n::Lang {
    req.extensions()
        .get::<platform::web::RequestContext>()
        .map(|c| c.lang)
        .unwrap_or_default()
}

/// The API token in the request, if any: `Authorization: <token>`,
/// `Authorization: Bearer <token>` or `X-CKAN-API-Key`.
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

/// Downloads and DCAT.
pub fn router() -> Router<OpenData> {
    Router::new()
        .route(
            "/dataset/{id}/resource/{resource_id}/download/{filename}",
            get(download),
        )
        .route(
            "/dataset/{id}/resource/{resource_id}/download",
            get(download_bare),
        )
        .route("/catalog.{ext}", get(catalog))
}

/// Who may see private datasets in a browser or with a token: the owning local government.
pub async fn viewer_organisation(
    state: &OpenData,
    req_headers: &HeaderMap,
    ctx: Option<&platform::web::RequestContext>,
) -> Option<i64> {
    if let Some(token) = token_of(req_headers)
        && let Ok(Some(actor)) = service::tokens::actor(&state.platform.db, &token).await
    {
        return Some(actor.organisation_id);
    }
    let session = ctx?.session.as_ref()?;
    session.staff_ready().map(|s| s.organisation_id)
}

async fn download_bare(
    state: State<OpenData>,
    Path((id, resource_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    download(state, Path((id, resource_id, String::new())), req).await
}

/// `GET /dataset/{id}/resource/{rid}/download/{filename}`: the stored file.
async fn download(
    State(state): State<OpenData>,
    Path((id, resource_id, _filename)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    if state.catalogue.current().await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let Some(entry) = state.catalogue.get(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if entry.dataset.private {
        let ctx = req
            .extensions()
            .get::<platform::web::RequestContext>()
            .cloned();
        if viewer_organisation(&state, req.headers(), ctx.as_ref()).await
            != Some(entry.organisation_id)
        {
            return StatusCode::NOT_FOUND.into_response();
        }
    }
    let Some(r) = entry
        .dataset
        .resources
        .iter()
        .find(|r| r.id == resource_id && r.is_stored_upload())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let bytes = match service::resources::stored_file(&state, r).await {
        Ok(Some(b)) => b,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading a resource file failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mime = if r.mimetype.is_empty() {
        "application/octet-stream"
    } else {
        r.mimetype.as_str()
    };
    let name = crate::model::download_name(&r.url);
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        platform::web::encode_component(&name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if entry.dataset.private {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        h.insert(
            header::VARY,
            HeaderValue::from_static("Authorization, Cookie, X-CKAN-API-Key"),
        );
    } else {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
    }
    // A published file is data, never a page of ours: whatever its media type
    // says, a browser that renders it anyway runs nothing and reaches nothing.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    res
}

#[derive(Debug, Default, Deserialize)]
pub struct CatalogQuery {
    pub page: Option<String>,
    pub modified_since: Option<String>,
    pub q: Option<String>,
    pub fq: Option<String>,
}

fn dcat_error(status: StatusCode, message: &str) -> Response {
    rendered(
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            message.to_string(),
        )
            .into_response(),
    )
}

fn site(state: &OpenData) -> (String, String) {
    let b = &state.platform.config.branding;
    (state.catalogue.site_url().to_string(), b.site_name.clone())
}

fn dcat_response(format: dcat::Format, body: String) -> Response {
    let mut res = body.into_response();
    if let Ok(v) = HeaderValue::from_str(format.media_type()) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res
}

/// The number of datasets on a page of the DCAT catalogue.
pub const CATALOG_PAGE: usize = 100;

/// `GET /catalog.{ttl,rdf,xml,jsonld,n3}`: the catalogue as DCAT, 100 datasets a page.
async fn catalog(
    State(state): State<OpenData>,
    Path(ext): Path<String>,
    query: Result<Query<CatalogQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(format) = dcat::Format::from_extension(&ext) else {
        return dcat_error(
            StatusCode::NOT_FOUND,
            "Unknown format: use ttl, rdf, xml, jsonld or n3",
        );
    };
    let Ok(Query(q)) = query else {
        return dcat_error(StatusCode::BAD_REQUEST, "Bad query string");
    };
    let page = match q.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => match p.parse::<u64>() {
            Ok(n) if (1..1_000_000).contains(&n) => n,
            _ => {
                return dcat_error(
                    StatusCode::BAD_REQUEST,
                    "\"page\" parameter must be a positive integer",
                );
            }
        },
    };
    let mut fq = Vec::new();
    if let Some(f) = q.fq.clone().filter(|f| !f.trim().is_empty()) {
        fq.push(f);
    }
    if let Some(since) = q
        .modified_since
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let Some(when) = parse_since(since) else {
            return dcat_error(
                StatusCode::BAD_REQUEST,
                "\"modified_since\" must be an ISO-8601 date",
            );
        };
        fq.push(format!("metadata_modified:[{when} TO *]"));
    }
    if state.catalogue.current().await.is_err() {
        return dcat_error(StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable");
    }
    let req = SearchRequest {
        q: q.q.clone(),
        fq,
        sort: Some("metadata_modified desc".into()),
        rows: CATALOG_PAGE,
        start: (page as usize - 1) * CATALOG_PAGE,
        facet_fields: Vec::new(),
        facet_limit: 0,
        facet_mincount: 1,
        private_orgs: Vec::new(),
    };
    let (count, entries, _) = match state.catalogue.search(&req) {
        Ok(r) => r,
        Err(e) => {
            return dcat_error(
                StatusCode::BAD_REQUEST,
                &format!("Search Query is invalid: {e}"),
            );
        }
    };
    let packages: Vec<Value> = entries.iter().map(|e| e.dict.clone()).collect();
    let (url, title) = site(&state);
    let mut base = format!("{url}/catalog.{}?", format.extension());
    for (k, v) in [
        ("q", &q.q),
        ("fq", &q.fq),
        ("modified_since", &q.modified_since),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            base.push_str(&format!("{k}={}&", platform::web::encode_component(v)));
        }
    }
    let paging = dcat::Paging {
        page,
        items_per_page: CATALOG_PAGE as u64,
        total_items: count as u64,
        base,
    };
    let modified = entries.first().map(|e| e.dataset.modified_at.clone());
    let site = dcat::Site {
        url: &url,
        title: &title,
        description: "オープンデータカタログ / Open data catalogue",
        language: "ja",
        modified: modified.as_deref(),
    };
    dcat_response(format, dcat::catalog(format, &site, &packages, &paging))
}

fn parse_since(s: &str) -> Option<String> {
    // Microseconds are kept: "since" includes a dataset modified at that very instant.
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(
            d.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
        );
    }
    if let Some(t) = crate::model::parse_ckan_time(s) {
        return Some(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| format!("{}T00:00:00Z", d.format("%Y-%m-%d")))
}

/// `GET /dataset/{id}.{ext}`: one dataset as DCAT (the pages route hands `{id}.{ext}` here).
pub async fn dataset_dcat(
    state: &OpenData,
    key: &str,
    ext: &str,
    viewer: Option<i64>,
) -> Option<Response> {
    let format = dcat::Format::from_extension(ext)?;
    if state.catalogue.current().await.is_err() {
        return Some(dcat_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
        ));
    }
    let entry = state.catalogue.get(key)?;
    if entry.dataset.private && viewer != Some(entry.organisation_id) {
        return None;
    }
    let (url, title) = site(state);
    let site = dcat::Site {
        url: &url,
        title: &title,
        description: "オープンデータカタログ / Open data catalogue",
        language: "ja",
        modified: None,
    };
    Some(dcat_response(
        format,
        dcat::dataset(format, &site, &entry.dict),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
