//! What an operator relies on: `/metrics` for their monitoring.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{DEMO_PASSWORD, TestApp};
use platform::db::Backend;
use serde_json::json;

/// `/metrics` answers in Prometheus's text format: requests by route,
/// method and status with their latency, the writer's batches, background
/// jobs and the queue's depth, memory; with a token configured, only to it.
#[tokio::test]
async fn metrics_are_in_prometheus_text_format() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs: i64 = sqlx::query_scalar("select id from procedures where code = 'mie-parking-permit'")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
    let mut api = t.client();
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let res = api
        .post_json(
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {}}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let _ = api.get("/no/such/page").await;
    let res = t.client().get("/metrics").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text();
    assert!(
        text.contains(
            "madoguchi_http_requests_total{route=\"/api/v1/procedures/{id}/applications\",method=\"POST\",status=\"201\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains(
        "madoguchi_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"
    ));
    assert!(text.contains(
        "madoguchi_http_request_duration_seconds_bucket{route=\"/api/v1/session\",le=\"+Inf\"} 1"
    ));
    assert!(text.contains("# TYPE madoguchi_writer_batch_size histogram"));
    assert!(text.contains("madoguchi_jobs_queued "));
    assert!(text.contains("madoguchi_resident_memory_bytes "));
    assert!(text.contains("madoguchi_up 1"));
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    t.finish().await;

    let t = TestApp::with_demo_config(Backend::Sqlite, |c| {
        c.metrics_token = Some(platform::config::Secret::new("scrape-me".to_string()));
    })
    .await;
    let mut c = t.client();
    assert_eq!(c.get("/metrics").await.status, StatusCode::UNAUTHORIZED);
    let res = c
        .request(
            Method::GET,
            "/metrics",
            None,
            Vec::new(),
            &[("Authorization", "Bearer scrape-me")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    t.finish().await;
}

/// `/healthz` answers 200 while every long-running part runs, and 503 naming
/// the part that is down (the load balancer stops sending requests to it).
#[tokio::test]
async fn healthz_names_a_part_that_is_down() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let t = TestApp::new(Backend::Sqlite).await;
    let mut c = t.client();
    let res = c.get("/healthz").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        !t.app
            .platform
            .health
            .down()
            .contains(&"submission writer".to_string()),
        "the writer runs"
    );
    let up = Arc::new(AtomicBool::new(true));
    let probe = up.clone();
    t.app
        .platform
        .health
        .register("job runner", move || probe.load(Ordering::SeqCst));
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    up.store(false, Ordering::SeqCst);
    let res = c.get("/healthz").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().contains("job runner"), "{}", res.text());
    up.store(true, Ordering::SeqCst);
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    t.finish().await;
}

/// Maintenance (run every few minutes by the node holding its lease) purges
/// expired sessions and old rate-limit counters.
#[tokio::test]
async fn maintenance_purges_what_has_expired() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let db = &t.app.platform.db;
    let mut api = t.client();
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    platform::ratelimit::Shared::hit(db, "test:old", std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    // Age them: the session expired an hour ago, the counter is two days old.
    sqlx::query("update sessions set expires_at = '2000-01-01T00:00:00.000000Z'")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("update rate_limits set window_start = '2000-01-01T00:00:00.000000Z'")
        .execute(db.pool())
        .await
        .unwrap();
    assert!(count("select count(*) from sessions").await > 0);
    madoguchi::background::maintain(&t.app.platform).await;
    assert_eq!(count("select count(*) from sessions").await, 0);
    assert_eq!(count("select count(*) from rate_limits").await, 0);
    t.finish().await;
}
