//! The NGSI-v2 routes and their handlers, over the entity sets a
//! [`Provider`] gives.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use serde_json::{Value, json};

use super::order::OrderBy;
use super::query::Filter;
use super::render::{render_attr, render_entity, select_attrs};
use super::request::{Format, Options, Params, Scope, check_path_segment};
use super::response::{ApiError, Out, json_response, method_not_allowed, service_not_found};
use crate::entities::{Entity, EntitySet};

/// The Orion release whose NGSI-v2 API this one follows; `GET /version`
/// reports it, since clients check it.
pub const ORION_COMPAT_VERSION: &str = "3.10.1";

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
