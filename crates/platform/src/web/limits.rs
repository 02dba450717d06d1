//! Limits every request meets before its handler, so that no client can hold
//! the server: a body whose declared length is over the largest any route
//! accepts is refused before a byte of it is read (each route's own limit,
//! `DefaultBodyLimit`, then stops reading at that limit); at most
//! `max_concurrent_requests` are handled at once, and the others wait a
//! little, then get 503 `busy`; a request that takes longer than
//! `request_timeout_secs` (a client sending its body slowly included) ends
//! with 503 `timeout`. Health and metrics answer outside the limit.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::web::error::AppError;

/// How long a request waits for its turn before 503 `busy`.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// The limits of one server.
#[derive(Debug, Clone)]
pub struct Limits {
    permits: Arc<Semaphore>,
    max_body: u64,
    timeout: Duration,
}

impl Limits {
    /// `max_body`: the largest body any route accepts.
    pub fn new(max_concurrent: usize, max_body: u64, timeout: Duration) -> Limits {
        Limits {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            max_body,
            timeout,
        }
    }
}

/// Paths that answer whatever the load (a load balancer's probes, monitoring).
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The middleware (see the module docs).
pub async fn limit_requests(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body) {
        return AppError::PayloadTooLarge.into_response();
    }
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let permit =
        match tokio::time::timeout(QUEUE_WAIT, limits.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return AppError::Unavailable { code: "busy" }.into_response(),
        };
    let res = match tokio::time::timeout(limits.timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => AppError::Unavailable { code: "timeout" }.into_response(),
    };
    drop(permit);
    res
}
