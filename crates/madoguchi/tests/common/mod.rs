//! Test harness: a fresh database per test on every backend under test, the
//! whole app built on it, and a small client that keeps cookies like a
//! browser, sending requests in-process through the router.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `MADOGUCHI_TEST_POSTGRES_URL` is set (e.g. postgres://postgres@127.0.0.1:5432/test):
//! each test gets its own database, created from that connection and dropped
//! afterwards. With `MADOGUCHI_REQUIRE_POSTGRES=1` (CI) a missing URL or an
//! unreachable server fails the test instead of skipping the leg.

#![allow(
    dead_code,
    reason = "each test binary uses part of the shared test support"
)]

pub mod node;
pub mod oidc;
pub mod procs;
pub mod s3;

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
            // Tests that want the semantic re-ranker turn it on (tests/faq.rs).
            faq_model: Some(PathBuf::from("off")),
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
        let _ = std::fs::remove_dir_all(platform::config::key_folder(&self.dir));
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
        TestApp::with_demo_config(backend, |_| {}).await
    }

    /// With the demo data loaded and the configuration adjusted by `adjust`.
    pub async fn with_demo_config(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new(backend).await;
        let mut config = db.config();
        adjust(&mut config);
        let app = madoguchi::app::build(config).await.expect("app builds");
        madoguchi::app::load_demo(&app).await.expect("demo loads");
        TestApp { app, db }
    }

    /// The link the last account e-mail of `kind` to `email` carries
    /// (`account.verify_email` → `/account/verify?token=…`), read from the
    /// outbox as the sender would compose it.
    pub async fn mailed_link(&self, kind: &str, email: &str) -> String {
        let payloads: Vec<String> =
            sqlx::query_scalar("select payload from jobs where kind = $1 order by id desc")
                .bind(kind)
                .fetch_all(self.app.platform.db.pool())
                .await
                .unwrap();
        let payload = payloads
            .iter()
            .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
            .find(|p| p["to"] == email)
            .unwrap_or_else(|| panic!("no {kind} e-mail to {email}"));
        let token = self
            .app
            .platform
            .keys
            .open(payload["token"].as_str().unwrap())
            .unwrap();
        let path = match kind {
            "account.reset_password" => "/signin/reset",
            _ => "/account/verify",
        };
        format!("{path}?token={token}")
    }

    /// Proves `email`'s address as its owner does: opens the link mailed to it.
    pub async fn verify_email(&self, email: &str) {
        let link = self.mailed_link("account.verify_email", email).await;
        let res = self.client().get(&link).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    }

    /// Runs every due background job (notifications) now.
    pub async fn run_jobs(&self) -> usize {
        self.app
            .jobs
            .drain(&self.app.platform.db)
            .await
            .expect("jobs run")
    }

    pub fn client(&self) -> Client {
        Client {
            router: self.app.router.clone(),
            remote: None,
            cookies: Vec::new(),
            bearer: None,
            lang: None,
        }
    }

    /// Ends the test: no page, message or e-mail of it asked for a message
    /// key without a text in its language (it would have shown the key, or
    /// Japanese on an English page).
    pub async fn finish(self) {
        let missing = self.app.platform.catalogue.missing();
        assert!(
            missing.is_empty(),
            "message keys without a text: {missing:?}"
        );
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

/// A `serve` process a [`Client`] talks to over TCP.
#[derive(Clone)]
pub struct Remote {
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Remote {
    pub fn new(base: &str) -> Remote {
        Remote {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let res = self
            .http
            .request(parts.method, format!("{}{}", self.base, parts.uri))
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.base, parts.uri));
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.unwrap().to_vec();
        (status, headers, body)
    }
}

impl Client {
    /// A client of the `serve` process at `base`, keeping no cookies yet.
    pub fn remote(base: &str) -> Client {
        Client {
            router: axum::Router::new(),
            remote: Some(Remote::new(base)),
            cookies: Vec::new(),
            bearer: None,
            lang: None,
        }
    }

    /// Sends the next requests to the process at `base` (same cookies and token).
    pub fn switch_to(&mut self, base: &str) {
        match &mut self.remote {
            Some(r) => r.base = base.to_string(),
            None => self.remote = Some(Remote::new(base)),
        }
    }
}

/// A client that keeps cookies (like a browser) or a bearer token (like an API client).
#[derive(Clone)]
pub struct Client {
    router: axum::Router,
    /// When set, requests go over TCP to this `serve` process instead of
    /// through the router in this process (tests with real nodes).
    pub remote: Option<Remote>,
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
        let req = req.body(Body::from(body)).unwrap();
        let (status, headers, body) = match &self.remote {
            None => {
                let res = self.router.clone().oneshot(req).await.unwrap();
                let status = res.status();
                let headers = res.headers().clone();
                let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
                (status, headers, body)
            }
            Some(remote) => remote.send(req).await,
        };
        for v in headers.get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(ck, _)| ck != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
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

    /// Signs in through the API and keeps the bearer token. Staff give the
    /// demo staff's second factor ([`totp_codes`]).
    pub async fn api_sign_in(&mut self, email: &str, password: &str, principal: &str) {
        let mut last = None;
        for otp in totp_codes() {
            let res = self
                .post_json(
                    "/api/v1/session",
                    &serde_json::json!({"email": email, "password": password, "principal": principal, "otp": otp}),
                )
                .await;
            if res.status == StatusCode::CREATED {
                self.bearer = Some(res.json()["token"].as_str().unwrap().to_string());
                return;
            }
            // A code used already (the same account signed in a moment ago): the next one.
            if principal != "staff" || res.status != StatusCode::UNAUTHORIZED {
                panic!("{}: {}", res.status, res.text());
            }
            last = Some(res);
        }
        panic!("staff sign-in refused: {:?}", last.map(|r| r.text()));
    }

    /// Signs in through the sign-in page (cookie session). Staff then give
    /// the demo staff's second factor on the code page; the answer returned
    /// is the last one (the redirect to where the sign-in goes, or the page
    /// that refused it, or the enrolment page for a staff member not enrolled).
    pub async fn page_sign_in(&mut self, email: &str, password: &str, staff: bool) -> Res {
        let path = if staff { "/staff/signin" } else { "/signin" };
        let page = self.get(path).await;
        let csrf = page.csrf();
        let res = self
            .post_form(
                path,
                &[
                    ("_csrf", &csrf),
                    ("email", email),
                    ("password", password),
                    ("next", "/"),
                ],
            )
            .await;
        if !staff || !res.location().starts_with("/staff/signin/code") {
            return res;
        }
        let to = res.location();
        let mut last = res;
        for code in totp_codes() {
            let page = self.get(&to).await;
            last = self
                .post_form(
                    "/staff/signin/code",
                    &[("_csrf", &page.csrf()), ("code", &code), ("next", "/")],
                )
                .await;
            if last.status != StatusCode::UNPROCESSABLE_ENTITY {
                return last;
            }
        }
        last
    }
}

/// The demo staff's second-factor key (printed by `serve --demo`).
pub const DEMO_TOTP_KEY: &str = madoguchi::demo::DEMO_TOTP_KEY;

/// The code of `secret` at now's step plus `offset`.
pub fn totp_at(secret: &[u8], offset: i64) -> String {
    let step = platform::totp::step_of(chrono::Utc::now().timestamp()) + offset;
    platform::totp::code(secret, step)
}

/// Codes of the demo staff's key to try, in order: now's, the next step's,
/// the previous step's (a code is good once, and a test may sign the same
/// account in more than once within 30 s), then, if all three were used,
/// now's again after the next step begins.
pub fn totp_codes() -> impl Iterator<Item = String> {
    let secret = platform::totp::from_base32(DEMO_TOTP_KEY).unwrap();
    let mut n = 0;
    std::iter::from_fn(move || {
        n += 1;
        match n {
            1 => Some(totp_at(&secret, 0)),
            2 => Some(totp_at(&secret, 1)),
            3 => Some(totp_at(&secret, -1)),
            4..=5 => {
                let now = chrono::Utc::now().timestamp();
                let wait =
                    platform::totp::STEP_SECS - now.rem_euclid(platform::totp::STEP_SECS) + 1;
                std::thread::sleep(std::time::Duration::from_secs(wait as u64));
                Some(totp_at(&secret, 1))
            }
            _ => None,
        }
    })
}

pub const DEMO_PASSWORD: &str = "madoguchi-demo-2026";

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A real SMTP server (aiosmtpd, `tests/smtp/server.py`) on a free local port,
/// storing what it receives in a directory. Needs `.venv` (scripts/setup-test-deps);
/// without it `start` returns None, or panics when `MADOGUCHI_REQUIRE_SMTP=1`.
pub struct Smtp {
    child: std::process::Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Smtp {
    pub fn start() -> Option<Smtp> {
        let python = repo_root().join(".venv/bin/python");
        if !python.exists() {
            if std::env::var("MADOGUCHI_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
                panic!(
                    "the SMTP leg is required but .venv is missing: run scripts/setup-test-deps"
                );
            }
            eprintln!(
                "note: the SMTP server is not installed (run scripts/setup-test-deps); e-mail checks skipped"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("madoguchi-smtp-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = std::process::Command::new(python)
            .arg(repo_root().join("tests/smtp/server.py"))
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("SMTP server port: {line:?}"));
        Some(Smtp { child, port, dir })
    }

    pub fn config(&self) -> platform::config::SmtpConfig {
        platform::config::SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            username: None,
            password: None,
            security: "none".into(),
            from: "noreply@pref.mie.example.jp".into(),
        }
    }

    /// The messages received so far, oldest first (raw RFC 5322 text).
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The decoded subject of an e-mail (RFC 2047 encoded words, base64 UTF-8).
pub fn subject(mail: &str) -> String {
    let raw = mail
        .lines()
        .skip_while(|l| !l.starts_with("Subject:"))
        .take_while(|l| l.starts_with("Subject:") || l.starts_with(' ') || l.starts_with('\t'))
        .map(|l| l.trim_start_matches("Subject:").trim())
        .collect::<Vec<_>>()
        .join("");
    decode_words(&raw)
}

fn decode_words(s: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let parts: Vec<&str> = after.splitn(3, '?').collect();
        if parts.len() == 3
            && let Some(end) = parts[2].find("?=")
        {
            let data = &parts[2][..end];
            let bytes = if parts[1].eq_ignore_ascii_case("B") {
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap_or_default()
            } else {
                data.replace('_', " ").into_bytes()
            };
            out.push_str(&String::from_utf8_lossy(&bytes));
            rest = &parts[2][end + 2..];
            continue;
        }
        out.push_str("=?");
        rest = after;
    }
    out.push_str(rest);
    out
}
