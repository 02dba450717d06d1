//! Bad input and attacks: every malformed or hostile request gets a clear
//! answer in our error shape, never a 500, and changes nothing.

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

async fn hs_id(t: &TestApp) -> i64 {
    sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

async fn parking_id(t: &TestApp) -> i64 {
    sqlx::query_scalar("select id from procedures where code = 'mie-parking-permit'")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn api_errors_have_a_stable_code_and_a_japanese_message() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs = hs_id(&t).await;
    let mut anon = t.client();
    let res = anon
        .post_json(&format!("/api/v1/procedures/{hs}/applications"), &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.json()["error"]["code"], "unauthorized");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ログイン")
    );

    let mut api = t.client();
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let uri = format!("/api/v1/procedures/{hs}/applications");
    let res = api
        .request(
            Method::POST,
            &uri,
            Some("application/json"),
            b"{\"answers\": {".to_vec(),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json()["error"]["code"], "malformed_json");
    let res = api.post_json(&uri, &json!({"answers": [1, 2]})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json()["error"]["code"], "invalid_body");
    let res = api
        .post_json(&uri, &json!({"answers": {}, "submit": true}))
        .await;
    assert_eq!(res.json()["error"]["code"], "idempotency_key_required");
    let res = api
        .send_json(
            Method::POST,
            &uri,
            &json!({"answers": {"birth_date": "平成31年5月1日"}, "submit": true}),
            &[("Idempotency-Key", "k1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = res.json()["error"]["fields"].as_array().unwrap().clone();
    let birth = fields.iter().find(|f| f["field"] == "birth_date").unwrap();
    assert_eq!(birth["code"], "date.era_ended");
    assert!(
        birth["message"]
            .as_str()
            .unwrap()
            .contains("令和元年5月1日")
    );
    assert!(
        fields.iter().any(|f| f["field"] == "name.family"),
        "missing answers are named: {fields:?}"
    );
    let res = api
        .post_json(&uri, &json!({"answers": {"nmae": "typo"}}))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["error"]["fields"][0]["field"], "nmae");

    // English when asked.
    api.lang = Some("en".into());
    let res = api.get("/api/v1/applications/999999").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"]["code"], "not_found");
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    api.lang = None;

    for path in [
        "/api/v1/applications/abc",
        "/api/v1/applications/-1",
        "/api/v1/applications/0",
        "/api/v1/procedures/99999999999999999999",
        "/api/v1/nothing-here",
    ] {
        let res = api.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.json()["error"]["code"], "not_found", "{path}");
    }
    let res = api
        .request(Method::PUT, "/api/v1/applications", None, Vec::new(), &[])
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.json()["error"]["code"], "method_not_allowed");
    // Nothing was created by any of it.
    let n: i64 = sqlx::query_scalar("select count(*) from applications")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    t.finish().await;
}

#[tokio::test]
async fn residents_cannot_see_or_touch_each_others_applications() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs = hs_id(&t).await;
    let mut taro = t.client();
    taro.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let draft = taro
        .post_json(
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {"phone": "059-224-3070"}}),
        )
        .await
        .json();
    let id = draft["id"].as_i64().unwrap();

    let mut eve = t.client();
    let res = eve
        .post_json(
            "/api/v1/residents",
            &json!({"email": "eve@example.jp", "password": "eve's long password"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    eve.api_sign_in("eve@example.jp", "eve's long password", "resident")
        .await;
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/applications/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/applications/{id}"),
            Some(json!({"answers": {"phone": "03-0000-0000"}})),
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/submit"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/withdraw"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/api/v1/applications/{id}"), None),
    ] {
        let res = match body {
            Some(b) => eve.send_json(method.clone(), &path, &b, &[]).await,
            None => {
                eve.request(method.clone(), &path, None, Vec::new(), &[])
                    .await
            }
        };
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let list = eve.get("/api/v1/applications").await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let still = taro.get(&format!("/api/v1/applications/{id}")).await.json();
    assert_eq!(still["answers"]["phone"], "059-224-3070", "nothing changed");
    t.finish().await;
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_size() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let parking = parking_id(&t).await;
    let mut web = t.client();
    web.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    let page = web.get(&format!("/procedures/{parking}")).await;
    let csrf = page.csrf();
    let res = web
        .post_form(&format!("/procedures/{parking}/apply"), &[("_csrf", &csrf)])
        .await;
    let app_path = res.location().rsplit_once("/pages/").unwrap().0.to_string();
    // Find the page of the certificate question.
    let page_id: String = {
        let def: String = sqlx::query_scalar("select definition from form_versions fv join procedures p on p.current_form_id = fv.id where p.id = $1")
            .bind(parking)
            .fetch_one(t.app.platform.db.pool())
            .await
            .unwrap();
        let def: serde_json::Value = serde_json::from_str(&def).unwrap();
        def["pages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["questions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|q| q["id"] == "certificate")
            })
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let uri = format!("{app_path}/pages/{page_id}");
    // An executable renamed .pdf is refused with a message.
    let res = web
        .post_multipart(
            &uri,
            &[("_csrf", &csrf), ("_action", "continue")],
            &[(
                "certificate",
                "shougaisha-techo.pdf",
                b"MZ\x90\x00\x03\x00\x00\x00 not a pdf",
            )],
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(
        res.text().contains("PDF"),
        "the message names the accepted types"
    );
    // Over the question's limit (5 MB): refused with a message, not a 500.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(6 * 1024 * 1024, b'x');
    let res = web
        .post_multipart(
            &uri,
            &[("_csrf", &csrf), ("_action", "continue")],
            &[("certificate", "big.pdf", &big)],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("5.0 MB"), "{}", res.text());
    // Over the server's body limit (20 MB): 413 with a page in Japanese.
    let mut huge = b"%PDF-1.7\n".to_vec();
    huge.resize(21 * 1024 * 1024, b'x');
    let res = web
        .post_multipart(
            &uri,
            &[("_csrf", &csrf), ("_action", "continue")],
            &[("certificate", "huge.pdf", &huge)],
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        res.text().contains("ファイルが大きすぎます"),
        "{}",
        res.text()
    );
    // A real PDF is accepted, stored, and downloadable with its verified type.
    let res = web
        .post_multipart(
            &uri,
            &[("_csrf", &csrf), ("_action", "save")],
            &[("certificate", "手帳.PDF", b"%PDF-1.4\n%test\n")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let att: (i64, String) = sqlx::query_as("select id, filename from attachments")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
    assert_eq!(att.1, "手帳.pdf");
    let res = web.get(&format!("{app_path}/attachments/{}", att.0)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-type"], "application/pdf");
    assert_eq!(res.body, b"%PDF-1.4\n%test\n");
    // Someone else cannot download it.
    let mut other = t.client();
    let res = other
        .post_json(
            "/api/v1/residents",
            &json!({"email": "x@example.jp", "password": "a long password"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    other
        .page_sign_in("x@example.jp", "a long password", false)
        .await;
    assert_eq!(
        other
            .get(&format!("{app_path}/attachments/{}", att.0))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    t.finish().await;
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut web = t.client();
    let page = web.get("/signin").await;
    let res = web
        .post_form(
            "/signin",
            &[("email", "taro@example.jp"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.text().contains("有効期限"));
    let res = web
        .post_form(
            "/signin",
            &[
                ("_csrf", "forged"),
                ("email", "taro@example.jp"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // A token from another visitor does not work either.
    let mut other = t.client();
    let theirs = other.get("/signin").await.csrf();
    let res = web
        .post_form(
            "/signin",
            &[
                ("_csrf", &theirs),
                ("email", "taro@example.jp"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = web
        .post_form(
            "/signin",
            &[
                ("_csrf", &page.csrf()),
                ("email", "taro@example.jp"),
                ("password", DEMO_PASSWORD),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // After signing in the token changes; the old one is refused.
    let res = web.post_form("/signout", &[("_csrf", &page.csrf())]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // A browser session calling the API must send X-CSRF-Token for writes.
    let hs = hs_id(&t).await;
    let res = web
        .post_json(
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {}}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.json()["error"]["code"], "csrf_failed");
    let token = web.get("/applications").await.csrf();
    let res = web
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {}}),
            &[("x-csrf-token", &token)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    t.finish().await;
}

#[tokio::test]
async fn sign_in_is_rate_limited() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut api = t.client();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = api
            .post_json(
                "/api/v1/session",
                &json!({"email": "taro@example.jp", "password": "wrong password"}),
            )
            .await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    let res = api
        .post_json(
            "/api/v1/session",
            &json!({"email": "taro@example.jp", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(res.headers.contains_key("retry-after"));
    t.finish().await;
}

#[tokio::test]
async fn no_request_however_malformed_gets_a_500() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs = hs_id(&t).await;
    let mut api = t.client();
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let draft = api
        .post_json(
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {}}),
        )
        .await
        .json();
    let id = draft["id"].as_i64().unwrap();
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        br#"{"answers": {"name": 5, "birth_date": {"x": 1}, "school": ["tsu"], "guardian_name": "x", "address": [1]}}"#.to_vec(),
        r#"{"answers": {"birth_date": "令和99999999999999999年1月1日", "phone": "📞📞📞", "junior_high": "\u0000\u0007"}}"#.as_bytes().to_vec(),
        format!(r#"{{"answers": {{"junior_high": "{}"}}}}"#, "あ".repeat(100_000)).into_bytes(),
        br#"{"answers": {}, "submit": "yes"}"#.to_vec(),
        "{\"answers\":".repeat(500).into_bytes(),
    ];
    let targets = [
        (
            Method::POST,
            format!("/api/v1/procedures/{hs}/applications"),
        ),
        (Method::PATCH, format!("/api/v1/applications/{id}")),
        (Method::POST, format!("/api/v1/applications/{id}/submit")),
        (Method::POST, format!("/api/v1/applications/{id}/withdraw")),
        (Method::POST, "/api/v1/session".to_string()),
        (Method::POST, "/api/v1/residents".to_string()),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/attachments"),
        ),
    ];
    for (method, uri) in &targets {
        for body in &bodies {
            for ct in [
                "application/json",
                "text/plain",
                "multipart/form-data; boundary=x",
            ] {
                let res = api
                    .request(
                        method.clone(),
                        uri,
                        Some(ct),
                        body.clone(),
                        &[("Idempotency-Key", "k")],
                    )
                    .await;
                assert!(
                    res.status.is_client_error() || res.status.is_success(),
                    "{method} {uri} [{ct}] gave {}: {}",
                    res.status,
                    res.text()
                );
                if res.status.is_client_error() && res.status != StatusCode::METHOD_NOT_ALLOWED {
                    assert!(
                        res.json()["error"]["code"].is_string(),
                        "{method} {uri}: {}",
                        res.text()
                    );
                }
            }
        }
    }
    // Pages too.
    let mut web = t.client();
    web.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    for uri in [
        format!("/applications/{id}/pages/%00"),
        format!("/applications/{id}/pages/{}", "x".repeat(5000)),
        "/procedures?q=%FF%FE&organisation=%00&category=..%2F..".to_string(),
        "/procedures/1e9".to_string(),
        format!("/applications/{id}/attachments/../../etc/passwd"),
        "/signin?next=https://evil.example/".to_string(),
    ] {
        let res = web.get(&uri).await;
        assert!(!res.status.is_server_error(), "{uri}: {}", res.status);
    }
    let res = web
        .request(
            Method::POST,
            &format!("/applications/{id}/pages/applicant"),
            Some("application/x-www-form-urlencoded"),
            b"%%%%&&&===".to_vec(),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    t.finish().await;
}

#[test]
fn every_api_route_is_in_the_openapi_document() {
    let doc: serde_json::Value =
        serde_json::from_str(madoguchi::app::OPENAPI).expect("the document is JSON");
    let documented: std::collections::BTreeSet<String> =
        doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut routed = std::collections::BTreeSet::new();
    let root = common::repo_root().join("crates");
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.to_string_lossy().contains("/src/")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices(".route(") {
                    let rest = text[i + 7..].trim_start();
                    if let Some(rest) = rest.strip_prefix('"') {
                        let route = &rest[..rest.find('"').unwrap()];
                        if route.starts_with("/api/v1/") && route != "/api/v1/openapi.json" {
                            routed.insert(route.to_string());
                        }
                    }
                }
            }
        }
    }
    assert!(routed.len() >= 15, "routes found: {routed:?}");
    let missing: Vec<&String> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    let stale: Vec<&String> = documented
        .iter()
        .filter(|p| p.starts_with("/api/v1/"))
        .filter(|p| !routed.contains(*p))
        .collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");
}

/// Dates at the ends of the calendar in the inbox's and the exports' filters
/// are an empty list, not a 500 (they reached an `expect` on the start of a
/// day in Japan time, and the export's last day had a placeholder without a
/// value).
#[tokio::test]
async fn staff_date_filters_at_the_ends_of_time_are_not_a_500() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs = hs_id(&t).await;
    let mut staff = t.client();
    staff
        .page_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, true)
        .await;
    let mut api = t.client();
    api.api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    for range in [
        "from=-262143-01-01",
        "to=-262143-01-01",
        "from=%2B262142-12-31",
        "to=%2B262142-12-31",
        "from=-262143-01-01&to=%2B262142-12-31",
    ] {
        for uri in [
            format!("/staff?{range}"),
            format!("/staff/procedures/{hs}/export.csv?{range}"),
            format!("/staff/procedures/{hs}/export.xlsx?{range}"),
        ] {
            let res = staff.get(&uri).await;
            assert!(!res.status.is_server_error(), "{uri}: {}", res.status);
        }
        let uri = format!("/api/v1/staff/applications?{range}");
        let res = api.get(&uri).await;
        assert!(!res.status.is_server_error(), "{uri}: {}", res.status);
    }
    t.finish().await;
}

/// A request that would hold the server gets an answer of its own: a body
/// declared larger than any route takes is refused before it is read, a
/// client that never finishes its body is cut off at the request timeout,
/// and when every slot is taken a request waits a little, then gets 503
/// `busy` (before, none of these had a limit: a slow client held the server).
#[tokio::test]
async fn slow_and_oversized_requests_do_not_hold_the_server() {
    use tower::ServiceExt;
    let t = TestApp::with_demo_config(Backend::Sqlite, |c| {
        c.max_concurrent_requests = 1;
        c.request_timeout_secs = 2;
    })
    .await;
    let router = t.app.router.clone();
    // A body that never arrives.
    let endless = || {
        axum::body::Body::from_stream(futures_util::stream::pending::<
            Result<Vec<u8>, std::io::Error>,
        >())
    };
    let post = |length: &'static str| {
        axum::http::Request::builder()
            .method(Method::POST)
            .uri("/signin")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("content-length", length)
            .body(endless())
            .unwrap()
    };
    let within = std::time::Duration::from_secs(10);

    // Declared larger than anything accepted: refused at once, unread.
    let res = tokio::time::timeout(within, router.clone().oneshot(post("10000000000")))
        .await
        .expect("answered without reading the body")
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // A body that never finishes: cut off at the request timeout.
    let started = std::time::Instant::now();
    let res = tokio::time::timeout(within, router.clone().oneshot(post("100")))
        .await
        .expect("cut off at the request timeout")
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));

    // The only slot taken by a slow client: another request waits, then is told the server is busy.
    t.finish().await;
    let t = TestApp::with_demo_config(Backend::Sqlite, |c| {
        c.max_concurrent_requests = 1;
        c.request_timeout_secs = 60;
    })
    .await;
    let router = t.app.router.clone();
    let slow = tokio::spawn(router.clone().oneshot(post("100")));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let res = tokio::time::timeout(
        within,
        router.clone().oneshot(
            axum::http::Request::builder()
                .uri("/procedures")
                .body(axum::body::Body::empty())
                .unwrap(),
        ),
    )
    .await
    .expect("answered")
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("10")
    );
    // Health answers whatever the load.
    let res = router
        .clone()
        .oneshot(
            axum::http::Request::builder()
                .uri("/healthz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    slow.abort();
    t.finish().await;
}

/// Every error code an API answer can carry (`AppError::BadRequest`,
/// `Conflict`, … with a literal `code`) has a message in Japanese and in
/// English: found by reading every crate's sources, so a new code without a
/// message fails here (an untranslated `error.invalid_query` once reached
/// residents as the key itself).
#[tokio::test]
async fn every_error_code_has_a_message_in_both_languages() {
    use platform::i18n::Lang;
    let t = TestApp::new(Backend::Sqlite).await;
    let catalogue = &t.app.platform.catalogue;
    let crates = common::repo_root().join("crates");
    let mut codes = std::collections::BTreeSet::new();
    let mut stack = vec![crates];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("target") && !path.ends_with("tests") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs")
                || !path.to_string_lossy().contains("/src/")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["bad_request(\"", "code: \"", "AppError::conflict(\""] {
                for (i, _) in text.match_indices(marker) {
                    let rest = &text[i + marker.len()..];
                    let code: String = rest.chars().take_while(|c| *c != '"').collect();
                    if !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    {
                        codes.insert(code);
                    }
                }
            }
        }
    }
    assert!(codes.len() > 10, "codes found: {codes:?}");
    let missing: Vec<String> = codes
        .iter()
        .flat_map(|c| {
            [Lang::Ja, Lang::En]
                .into_iter()
                .filter(move |l| !catalogue.contains(*l, &format!("error.{c}")))
                .map(move |l| format!("{l:?} error.{c}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "error codes without a message: {missing:?}"
    );
    t.finish().await;
}
