//! The HTTP edge shared by every module: request context and sessions,
//! CSRF-checked forms, errors, the page shell, assets, account pages, the
//! helpers every module's pages and API share (ids from paths, times for
//! people, file downloads), and the middleware stack that wraps the whole router.

pub mod account_pages;
pub mod assets;
pub mod context;
pub mod cookies;
pub mod download;
pub mod error;
pub mod error_pages;
pub mod format;
pub mod forms;
pub mod limits;
pub mod page;
pub mod path;
pub mod staff_admin;
pub mod url;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::Platform;
pub use context::{CurrentResident, CurrentStaff, RequestContext};
pub use download::stored_file;
pub use error::{AppError, Errors, FieldError};
pub use format::format_time;
pub use forms::{
    ApiJson, ApiMultipart, ApiQuery, CsrfAnyForm, CsrfForm, CsrfMultipart, PageQuery, Upload,
    api_flag, only_fields,
};
pub use page::{PageCtx, render, render_status};
pub use path::{page_key, parse_id, parse_page_key};
pub use url::{FormData, encode_component, parse_urlencoded, safe_next};

/// The platform's own routes: health, account pages, fixed text pages.
pub fn router() -> Router<Platform> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/accessibility", get(accessibility))
        .route("/privacy", get(privacy))
        .merge(account_pages::router())
        .merge(staff_admin::router())
}

/// `/healthz`: 200 `ok` while every long-running part runs; 503 naming
/// those that do not.
async fn healthz(State(platform): State<Platform>) -> Response {
    let down = platform.health.down();
    if down.is_empty() {
        return "ok".into_response();
    }
    let mut res = (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("unhealthy: {}\n", down.join(", ")),
    )
        .into_response();
    res.extensions_mut().insert(error::Rendered);
    res
}

async fn readyz(State(platform): State<Platform>) -> Response {
    if platform.db.ping().await {
        "ready".into_response()
    } else {
        let mut res = (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response();
        res.extensions_mut().insert(error::Rendered);
        res
    }
}

/// `/metrics`: this node's counters and gauges in Prometheus's text format.
async fn metrics(State(platform): State<Platform>, req: Request) -> Response {
    if let Some(token) = &platform.config.metrics_token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| {
            crate::crypto::constant_time_eq(g.as_bytes(), token.expose().as_bytes())
        }) {
            // A scraper, not a person: a plain 401, not the sign-in page.
            let mut res = (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "unauthorized\n",
            )
                .into_response();
            res.extensions_mut().insert(error::Rendered);
            return res;
        }
    }
    let queued = crate::jobs::counts(&platform.db).await;
    let mut gauges = vec![(
        "madoguchi_up",
        "1 while this node answers and its database does.",
        if queued.is_ok() { 1.0 } else { 0.0 },
    )];
    if let Ok(q) = &queued {
        gauges.push((
            "madoguchi_jobs_queued",
            "Background jobs waiting to run (all nodes).",
            q.pending as f64,
        ));
        gauges.push((
            "madoguchi_jobs_failed",
            "Background jobs given up after their last attempt (all nodes).",
            q.failed as f64,
        ));
    }
    if let Some(rss) = crate::metrics::resident_bytes() {
        gauges.push((
            "madoguchi_resident_memory_bytes",
            "This process's resident memory.",
            rss as f64,
        ));
    }
    let mut res = platform.metrics.render(&gauges).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

/// Counts every answer in the node's metrics: its route (as written in the
/// router), method, status and time.
async fn record_metrics(State(platform): State<Platform>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let res = next.run(req).await;
    platform.metrics.request(
        &route,
        &method,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}

#[derive(Template)]
#[template(path = "pages/text_page.html")]
struct TextPage {
    ctx: PageCtx,
    title: String,
    paragraphs: Vec<String>,
}

fn text_page(ctx: PageCtx, prefix: &str) -> Result<Response, AppError> {
    let title = ctx.t(&format!("{prefix}.title")).to_string();
    let paragraphs = (1..=9)
        .map(|i| format!("{prefix}.p{i}"))
        .filter(|k| ctx.tr.catalogue().contains(crate::i18n::Lang::Ja, k))
        .map(|k| ctx.t(&k).to_string())
        .collect();
    render(&TextPage {
        ctx,
        title,
        paragraphs,
    })
}

async fn accessibility(ctx: PageCtx) -> Result<Response, AppError> {
    text_page(ctx, "pages.accessibility")
}

async fn privacy(ctx: PageCtx) -> Result<Response, AppError> {
    text_page(ctx, "pages.privacy")
}

/// Security headers on every response. Pages load only the server's own
/// styles, scripts and images; nothing may frame them.
/// Whether the site is served over HTTPS only (no `--insecure-http`): then
/// browsers are told to use nothing else (HSTS, a year).
#[derive(Clone, Copy)]
struct Https(bool);

async fn security_headers(State(https): State<Https>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if https.0 {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    if !h.contains_key(header::X_FRAME_OPTIONS) {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Wraps the complete router with the middleware every request goes through,
/// outermost first: panic safety net, security headers, request context
/// (language, session, CSRF binding), error rendering (which needs the
/// context), the limits on bodies, concurrency and time (`limits`), the
/// body size limit of each route.
pub fn finish(router: Router<Platform>, platform: Platform) -> Router {
    let config = &platform.config;
    let limit = config.max_upload_bytes;
    // The largest body any route accepts: open-data files (multipart, with
    // their form fields around them) or the uploads of every other route.
    let largest = config.data_upload_bytes.max(limit) as u64 + 1024 * 1024;
    let limits = limits::Limits::new(
        config.max_concurrent_requests,
        largest,
        std::time::Duration::from_secs(config.request_timeout_secs.max(1)),
    );
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            limits,
            limits::limit_requests,
        ))
        .layer(middleware::from_fn_with_state(
            platform.clone(),
            error_pages::render_errors,
        ))
        .layer(middleware::from_fn_with_state(
            platform.clone(),
            context::context_layer,
        ))
        .layer(middleware::from_fn_with_state(
            Https(platform.config.secure_cookies()),
            security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            platform.clone(),
            record_metrics,
        ))
        .layer(middleware::from_fn(catch_panic))
        .with_state(platform)
}

/// Turns a panic in a handler into a 500 response (rendered by nobody: the
/// error middleware is inside); the panic is logged. Handlers must not panic;
/// this keeps the server answering if one does.
async fn catch_panic(req: Request, next: Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(_) => {
            tracing::error!("a request handler panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, axum::response::Html("<!doctype html><title>500</title><p>システムエラーが発生しました。時間をおいてもう一度お試しください。 / A system error occurred. Please try again later.</p>")).into_response()
        }
    }
}
