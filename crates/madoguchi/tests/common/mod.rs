//! Test harness: a fresh database per test on every backend under test, the
//! whole app built on it, and a small client that keeps cookies like a
//! browser, sending requests in-process through the router.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `MADOGUCHI_TEST_POSTGRES_URL` is set (e.g. postgres://postgres@127.0.0.1:5432/test):
//! each test gets its own database, created from that connection and dropped
//! afterwards. With `MADOGUCHI_REQUIRE_POSTGRES=1` (CI) a missing URL or an
//! unreachable server fails the test instead of skipping the leg.

#![allow(dead_code)]

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use platform::config::Config;
use platform::db::{Backend, Db, DbOptions};
use tower::ServiceExt;

/// A database for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: PathBuf,
    /// The PostgreSQL database to drop afterwards, and the admin URL to drop it from.
    drop: Option<(String, String)>,
}

fn unique() -> String {
    platform::crypto::hex(&platform::crypto::random_bytes::<6>())
}

/// The backends this test run covers.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("MADOGUCHI_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push(Backend::Postgres),
        _ => {
            if std::env::var("MADOGUCHI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("MADOGUCHI_REQUIRE_POSTGRES=1 but MADOGUCHI_TEST_POSTGRES_URL is not set");
            }
            eprintln!(
                "note: MADOGUCHI_TEST_POSTGRES_URL is not set; the PostgreSQL leg is skipped"
            );
        }
    }
    out
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = std::env::temp_dir().join(format!("madoguchi-test-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        match backend {
            Backend::Sqlite => {
                let url = platform::db::sqlite_url(&dir.join("test.db"));
                TestDb {
                    backend,
                    url,
                    dir,
                    drop: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("MADOGUCHI_TEST_POSTGRES_URL")
                    .expect("MADOGUCHI_TEST_POSTGRES_URL");
                let name = format!("madoguchi_test_{}", unique());
                let db = Db::connect(
                    &admin,
                    &DbOptions {
                        max_connections: 1,
                        ..Default::default()
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is unreachable: {e}"));
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(db.pool())
                    .await
                    .expect("create test database");
                db.close().await;
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("MADOGUCHI_TEST_POSTGRES_URL must end with /database"),
                };
                TestDb {
                    backend,
                    url,
                    dir,
                    drop: Some((admin, name)),
                }
            }
        }
    }

    pub fn config(&self) -> Config {
        Config {
            data_dir: self.dir.clone(),
            database_url: Some(platform::config::Secret::new(self.url.clone())),
            db_max_connections: 8,
            ..Config::default()
        }
    }

    /// Drops the PostgreSQL database and removes the directory.
    pub async fn cleanup(self) {
        if let Some((admin, name)) = &self.drop
            && let Ok(db) = Db::connect(
                admin,
                &DbOptions {
                    max_connections: 1,
                    ..Default::default()
                },
            )
            .await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(db.pool())
            .await;
            db.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The whole app on a test database.
pub struct TestApp {
    pub app: madoguchi::app::App,
    pub db: TestDb,
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await;
        let app = madoguchi::app::build(db.config())
            .await
            .expect("app builds");
        TestApp { app, db }
    }

    /// With the demo data loaded.
    pub async fn with_demo(backend: Backend) -> TestApp {
        let t = TestApp::new(backend).await;
        madoguchi::demo::load(&t.app.platform.db)
            .await
            .expect("demo loads");
        t
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.app.router.clone(),
            cookies: Vec::new(),
            bearer: None,
            lang: None,
        }
    }

    pub async fn finish(self) {
        self.app.platform.db.close().await;
        self.db.cleanup().await;
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn location(&self) -> String {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The value of the hidden `_csrf` field of the page.
    pub fn csrf(&self) -> String {
        let text = self.text();
        let marker = "name=\"_csrf\" value=\"";
        let start = text
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in page:\n{text}"))
            + marker.len();
        text[start..start + text[start..].find('"').unwrap()].to_string()
    }
}

/// A client that keeps cookies (like a browser) or a bearer token (like an API client).
#[derive(Clone)]
pub struct Client {
    router: axum::Router,
    cookies: Vec<(String, String)>,
    pub bearer: Option<String>,
    pub lang: Option<String>,
}

impl Client {
    pub async fn request(
        &mut self,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Res {
        let mut req = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(header::COOKIE, cookie);
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(l) = &self.lang {
            req = req.header(header::ACCEPT_LANGUAGE, l.as_str());
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(ck, _)| ck != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Res {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, uri: &str) -> Res {
        self.request(Method::GET, uri, None, Vec::new(), &[]).await
    }

    /// Posts a URL-encoded form.
    pub async fn post_form(&mut self, uri: &str, fields: &[(&str, &str)]) -> Res {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.request(
            Method::POST,
            uri,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
            &[],
        )
        .await
    }

    pub async fn post_json(&mut self, uri: &str, json: &serde_json::Value) -> Res {
        self.send_json(Method::POST, uri, json, &[]).await
    }

    pub async fn send_json(
        &mut self,
        method: Method,
        uri: &str,
        json: &serde_json::Value,
        extra: &[(&str, &str)],
    ) -> Res {
        self.request(
            method,
            uri,
            Some("application/json"),
            serde_json::to_vec(json).unwrap(),
            extra,
        )
        .await
    }

    /// Posts a multipart form; files are (field, filename, bytes).
    pub async fn post_multipart(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Res {
        let boundary = "madoguchi-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        for (k, name, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.request(
            Method::POST,
            uri,
            Some(&format!("multipart/form-data; boundary={boundary}")),
            body,
            &[],
        )
        .await
    }

    /// Signs in through the API and keeps the bearer token.
    pub async fn api_sign_in(&mut self, email: &str, password: &str, principal: &str) {
        let res = self
            .post_json(
                "/api/v1/session",
                &serde_json::json!({"email": email, "password": password, "principal": principal}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        self.bearer = Some(res.json()["token"].as_str().unwrap().to_string());
    }

    /// Signs in through the sign-in page (cookie session).
    pub async fn page_sign_in(&mut self, email: &str, password: &str, staff: bool) -> Res {
        let path = if staff { "/staff/signin" } else { "/signin" };
        let page = self.get(path).await;
        let csrf = page.csrf();
        self.post_form(
            path,
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

pub const DEMO_PASSWORD: &str = "madoguchi-demo-2026";
