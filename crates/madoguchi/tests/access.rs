//! Identity and access at the HTTP edge (issue 14, the parts that stand):
//! redirects after sign-in go only to this site, rate limits cannot be
//! dodged with a forged `X-Forwarded-For` or a full-width address, cookies
//! are `__Host-` and `Secure` with HSTS unless the operator serves plain
//! HTTP, staff sessions end sooner than residents', sign-in and sign-out are
//! audited, and CSV exports do not carry formulas. Each on both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode, header};
use common::{DEMO_PASSWORD, TestApp, backends};
use serde_json::json;

async fn procedure_id(t: &TestApp, code: &str) -> i64 {
    sqlx::query_scalar("select id from procedures where code = $1")
        .bind(code)
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_redirect_after_sign_in_stays_on_this_site() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        for evil in [
            "/\t/evil.example",
            "/%09/evil.example",
            "//evil.example",
            "/\\evil.example",
            " //evil.example",
            "https://evil.example/",
            "/\r\n/evil.example",
        ] {
            let mut c = t.client();
            let csrf = c.get("/signin").await.csrf();
            let res = c
                .post_form(
                    "/signin",
                    &[
                        ("_csrf", &csrf),
                        ("email", "taro@example.jp"),
                        ("password", DEMO_PASSWORD),
                        ("next", evil),
                    ],
                )
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{evil:?}");
            let to = res.location();
            assert!(
                to.starts_with('/') && !to.starts_with("//"),
                "{evil:?} → {to:?}"
            );
            assert!(
                !to.contains('\\') && !to.contains('\t'),
                "{evil:?} → {to:?}"
            );
            let parsed = url::Url::parse("https://madoguchi.example/")
                .unwrap()
                .join(&to)
                .unwrap();
            assert_eq!(
                parsed.host_str(),
                Some("madoguchi.example"),
                "{evil:?} → {to:?}"
            );
        }
        t.finish().await;
    }
}

#[tokio::test]
async fn a_forged_forwarded_for_or_a_full_width_address_does_not_dodge_the_limit() {
    for backend in backends() {
        let t = TestApp::with_demo_config(backend, |c| c.trust_forwarded_for = true).await;
        let mut c = t.client();
        // Each attempt forges a new left-most address; the proxy's entry (right-most) is the client.
        let mut limited_at = None;
        for i in 0..60 {
            let forged = format!("203.0.113.{i}, 198.51.100.7");
            let res = c
                .send_json(
                    Method::POST,
                    "/api/v1/session",
                    &json!({"email": format!("nobody{i}@example.jp"), "password": "wrong-password", "principal": "resident"}),
                    &[("X-Forwarded-For", &forged)],
                )
                .await;
            if res.status == StatusCode::TOO_MANY_REQUESTS {
                limited_at = Some(i);
                break;
            }
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
        }
        assert_eq!(
            limited_at,
            Some(50),
            "the 51st attempt from one client is refused"
        );

        // One account written eleven ways (full-width, upper case) from many clients.
        let variants = [
            "hanako@example.jp",
            "ＨＡＮＡＫＯ＠ＥＸＡＭＰＬＥ．ＪＰ",
            "Hanako@Example.JP",
            "ｈａｎａｋｏ@example.jp",
        ];
        let mut limited_at = None;
        for i in 0..15 {
            let res = c
                .send_json(
                    Method::POST,
                    "/api/v1/session",
                    &json!({"email": variants[i % variants.len()], "password": "wrong-password", "principal": "resident"}),
                    &[("X-Forwarded-For", &format!("192.0.2.{i}"))],
                )
                .await;
            if res.status == StatusCode::TOO_MANY_REQUESTS {
                limited_at = Some(i);
                break;
            }
        }
        assert_eq!(
            limited_at,
            Some(10),
            "the 11th attempt on one account is refused"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn cookies_are_host_only_and_secure_unless_plain_http_is_asked_for() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = t.client();
        let res = c.get("/signin").await;
        assert_eq!(
            res.headers
                .get(header::STRICT_TRANSPORT_SECURITY)
                .and_then(|v| v.to_str().ok()),
            Some("max-age=31536000; includeSubDomains")
        );
        let res = c
            .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        let cookies: Vec<String> = res
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("__Host-madoguchi_session="))
            .unwrap_or_else(|| panic!("{cookies:?}"));
        for attr in ["; Secure", "; HttpOnly", "; Path=/", "; SameSite=Lax"] {
            assert!(session.contains(attr), "{session}");
        }
        assert!(!session.contains("Domain="), "{session}");
        // Signed in with that cookie.
        assert_eq!(c.get("/applications").await.status, StatusCode::OK);
        t.finish().await;

        let t = TestApp::with_demo_config(backend, |c| c.insecure_http = true).await;
        let mut c = t.client();
        let res = c
            .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        assert!(res.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        let session: Vec<String> = res
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .filter(|c| c.contains("madoguchi_session="))
            .collect();
        assert!(session[0].starts_with("madoguchi_session="), "{session:?}");
        assert!(!session[0].contains("Secure"), "{session:?}");
        assert_eq!(c.get("/applications").await.status, StatusCode::OK);
        t.finish().await;
    }
}

#[tokio::test]
async fn staff_sessions_end_after_thirty_idle_minutes_and_twelve_hours() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let db = t.app.platform.db.clone();
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let mut resident = t.client();
        resident
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        // Idle: a staff session is given 30 minutes, a resident's 2 hours.
        let spans: Vec<(String, String, String)> = sqlx::query_as(
            "select principal, created_at, expires_at from sessions order by principal",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        for (principal, created, expires) in &spans {
            let created = chrono::DateTime::parse_from_rfc3339(created).unwrap();
            let expires = chrono::DateTime::parse_from_rfc3339(expires).unwrap();
            let minutes = (expires - created).num_minutes();
            match principal.as_str() {
                "staff" => assert_eq!(minutes, 30, "{principal}"),
                _ => assert_eq!(minutes, 120, "{principal}"),
            }
        }
        assert_eq!(
            staff.get("/api/v1/staff/applications").await.status,
            StatusCode::OK
        );
        // Absolute: started 13 hours ago and used all along.
        let thirteen_hours_ago =
            platform::db::Timestamp(chrono::Utc::now() - chrono::Duration::hours(13));
        sqlx::query("update sessions set created_at = $1")
            .bind(thirteen_hours_ago)
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(
            staff.get("/api/v1/staff/applications").await.status,
            StatusCode::UNAUTHORIZED,
            "a staff session ends after 12 hours"
        );
        assert_eq!(
            resident.get("/api/v1/applications").await.status,
            StatusCode::OK,
            "a resident's lasts 24 hours"
        );
        // Idle: nothing for 31 minutes.
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let now = chrono::Utc::now();
        sqlx::query("update sessions set last_seen_at = $1, expires_at = $2 where principal = 'staff' and created_at > $3")
            .bind(platform::db::Timestamp(now - chrono::Duration::minutes(31)))
            .bind(platform::db::Timestamp(now - chrono::Duration::minutes(1)))
            .bind(platform::db::Timestamp(now - chrono::Duration::hours(1)))
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(
            staff.get("/api/v1/staff/applications").await.status,
            StatusCode::UNAUTHORIZED
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn signing_in_and_out_and_failing_are_in_the_audit_log() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = t.client();
        let res = c
            .page_sign_in("taro@example.jp", "wrong password!", false)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        c.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        let page = c.get("/applications").await;
        let csrf = page.csrf();
        let res = c.post_form("/signout", &[("_csrf", &csrf)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let actions: Vec<(String, String)> =
            sqlx::query_as("select action, detail from audit_log order by id")
                .fetch_all(t.app.platform.db.pool())
                .await
                .unwrap();
        let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
        for wanted in [
            "resident.signin_failed",
            "resident.signed_in",
            "resident.signed_out",
            "staff.signed_in",
        ] {
            assert!(names.contains(&wanted), "{wanted} in {names:?}");
        }
        let (_, failed) = actions
            .iter()
            .find(|(a, _)| a == "resident.signin_failed")
            .unwrap();
        assert!(
            !failed.contains("taro@example.jp"),
            "no address in the log: {failed}"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn csv_exports_carry_no_formulas() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let hs = procedure_id(&t, "mie-hs-entrance").await;
        let mut resident = t.client();
        resident
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        // A complete application whose free text begins like formulas.
        let mut body = common::procs::submission(0);
        body["answers"]["address"]["city"] = json!("=HYPERLINK(\"http://evil.example\",\"x\")");
        body["answers"]["address"]["building"] = json!("@SUM(1)");
        body["answers"]["junior_high"] = json!("+cmd|' /C calc'!A0");
        let res = resident
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &body,
                &[("Idempotency-Key", "formula")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let csv = staff
            .get(&format!("/api/v1/staff/procedures/{hs}/export.csv"))
            .await
            .text();
        for line in csv.lines().skip(1) {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            for record in reader.records() {
                for cell in record.unwrap().iter() {
                    assert!(
                        !cell.starts_with(['=', '+', '@', '\t', '\r']),
                        "a cell a spreadsheet would run: {cell:?}"
                    );
                }
            }
        }
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(csv.contains("'+cmd"), "{csv}");
        t.finish().await;
    }
}

#[tokio::test]
async fn a_node_with_another_master_key_refuses_to_start() {
    for backend in backends() {
        let t = TestApp::with_demo_config(backend, |c| {
            c.secret_key = Some(platform::config::Secret::new("k".repeat(40)));
        })
        .await;
        let mut config = t.db.config();
        config.secret_key = Some(platform::config::Secret::new("k".repeat(40)));
        assert!(
            madoguchi::app::build(config.clone()).await.is_ok(),
            "the same key starts"
        );
        config.secret_key = Some(platform::config::Secret::new("w".repeat(40)));
        let err = madoguchi::app::build(config)
            .await
            .err()
            .expect("another key is refused");
        assert!(
            err.to_string()
                .contains("master key is not this installation's"),
            "{err}"
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn attachments_on_disk_do_not_read_without_the_key() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let permit = procedure_id(&t, "mie-parking-permit").await;
        let mut c = t.client();
        c.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        let first = c
            .get(&format!("/procedures/{permit}/apply"))
            .await
            .location();
        let app = first.rsplit_once("/pages/").unwrap().0.to_string();
        let page = format!("{app}/pages/certificate");
        let csrf = c.get(&page).await.csrf();
        let mut pdf = b"%PDF-1.4\n% MIE-CARD-COPY 123456789018\n".to_vec();
        pdf.extend_from_slice(&[b'x'; 2048]);
        pdf.extend_from_slice(b"\n%%EOF\n");
        let res = c
            .post_multipart(
                &page,
                &[("_csrf", &csrf), ("_action", "continue")],
                &[("certificate", "card.pdf", &pdf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        // Every stored file under the data directory: none holds the number.
        let mut stack = vec![t.db.dir.join("files")];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    seen += 1;
                    let bytes = std::fs::read(&path).unwrap();
                    assert!(
                        !bytes.windows(12).any(|w| w == b"123456789018"),
                        "{} holds the number in clear",
                        path.display()
                    );
                    assert!(!bytes.starts_with(b"%PDF"), "{}", path.display());
                }
            }
        }
        assert!(seen >= 1, "the attachment is stored");
        // Through the application, it reads as sent.
        let html = c.get(&page).await.text();
        let at = html
            .find("/attachments/")
            .expect("the attachment is listed");
        let href = format!(
            "{}{}",
            html[..at].rsplit('"').next().unwrap(),
            html[at..].split('"').next().unwrap()
        );
        let got = c.get(&href).await;
        assert_eq!(got.status, StatusCode::OK, "{href}");
        assert_eq!(got.body, pdf);
        t.finish().await;
    }
}

#[tokio::test]
async fn only_those_who_handle_applications_open_them() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let db = &t.app.platform.db;
        let hs = procedure_id(&t, "mie-hs-entrance").await;
        let (org, section): (i64, i64) =
            sqlx::query_as("select organisation_id, section_id from procedures where id = $1")
                .bind(hs)
                .fetch_one(db.pool())
                .await
                .unwrap();
        let mut resident = t.client();
        resident
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let res = resident
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &common::procs::submission(1),
                &[("Idempotency-Key", "role-rule")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let id = res.json()["id"].as_i64().unwrap();
        // The same section, but the DX office's and the administrator's roles only.
        let hash = platform::accounts::hash_password("とても長いパスワードです").unwrap();
        for (email, role) in [
            (
                "dx.same@pref.mie.example.jp",
                platform::accounts::Role::DxOffice,
            ),
            (
                "admin.same@pref.mie.example.jp",
                platform::accounts::Role::OrgAdmin,
            ),
        ] {
            let added = platform::accounts::insert_staff(
                db,
                platform::accounts::NewStaff {
                    organisation_id: org,
                    section_id: section,
                    email,
                    password_hash: Some(&hash),
                    name: "同じ所属",
                    roles: &[role],
                },
            )
            .await
            .unwrap();
            // Enrolled in the second factor with the demo staff's key.
            let secret = platform::totp::from_base32(common::DEMO_TOTP_KEY).unwrap();
            platform::second_factor::enrol_with(db, &t.app.platform.keys, added.id, &secret)
                .await
                .unwrap();
            let mut c = t.client();
            c.api_sign_in(email, "とても長いパスワードです", "staff")
                .await;
            let res = c.get(&format!("/api/v1/staff/applications/{id}")).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{email}: {}", res.text());
            let res = c.get("/api/v1/staff/applications").await;
            assert!(
                !res.text().contains(&format!("\"id\":{id}")),
                "{email} sees no application in the list: {}",
                res.text()
            );
            let res = c
                .get(&format!("/api/v1/staff/procedures/{hs}/export.csv"))
                .await;
            assert_ne!(res.status, StatusCode::OK, "{email} exports nothing");
        }
        // Section staff do.
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        assert_eq!(
            staff
                .get(&format!("/api/v1/staff/applications/{id}"))
                .await
                .status,
            StatusCode::OK
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn staff_pages_answer_only_the_office_network_when_it_is_set() {
    for backend in backends() {
        let t = TestApp::with_demo_config(backend, |c| {
            c.trust_forwarded_for = true;
            c.staff_networks = vec!["10.1.0.0/16".parse().unwrap()];
        })
        .await;
        let inside = [("X-Forwarded-For", "10.1.2.3")];
        let outside = [("X-Forwarded-For", "203.0.113.9")];
        let get = |path: &str, from: &[(&str, &str)]| {
            let mut c = t.client();
            let (path, from): (String, Vec<(String, String)>) = (
                path.to_string(),
                from.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            async move {
                let from: Vec<(&str, &str)> =
                    from.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                c.request(Method::GET, &path, None, Vec::new(), &from).await
            }
        };
        assert_eq!(get("/staff/signin", &inside).await.status, StatusCode::OK);
        let res = get("/staff/signin", &outside).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.text().contains("庁内のネットワーク"), "{}", res.text());
        let res = get("/api/v1/staff/applications", &outside).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(res.json()["error"]["code"], "staff_network_only");
        // Residents are served from anywhere.
        assert_eq!(get("/procedures", &outside).await.status, StatusCode::OK);
        // Staff cannot take an API session from outside either.
        let mut api = t.client();
        let res = api
            .send_json(
                Method::POST,
                "/api/v1/session",
                &json!({"email": "hs.staff@pref.mie.example.jp", "password": DEMO_PASSWORD, "principal": "staff"}),
                &outside,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        let secret = platform::totp::from_base32(common::DEMO_TOTP_KEY).unwrap();
        let res = api
            .send_json(
                Method::POST,
                "/api/v1/session",
                &json!({"email": "hs.staff@pref.mie.example.jp", "password": DEMO_PASSWORD, "principal": "staff", "otp": common::totp_at(&secret, 0)}),
                &inside,
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        t.finish().await;
    }
}

async fn new_draft(api: &mut common::Client, procedure: i64) -> i64 {
    let res = api
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{procedure}/applications"),
            &json!({"answers": {}}),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_discarded_drafts_files_are_deleted_unless_shared() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let permit = procedure_id(&t, "mie-parking-permit").await;
        let mut api = t.client();
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let first = new_draft(&mut api, permit).await;
        let second = new_draft(&mut api, permit).await;
        let pdf = |text: &str| {
            let mut b = format!("%PDF-1.4\n% {text}\n").into_bytes();
            b.extend_from_slice(&[b'x'; 1024]);
            b.extend_from_slice(b"\n%%EOF\n");
            b
        };
        let (shared, own) = (pdf("shared by two drafts"), pdf("only in the first draft"));
        for (id, bytes) in [(first, &shared), (second, &shared), (first, &own)] {
            let res = api
                .post_multipart(
                    &format!("/api/v1/applications/{id}/attachments"),
                    &[("question", "certificate")],
                    &[("file", "手帳.pdf", bytes)],
                )
                .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        }
        let res = api
            .send_json(
                Method::DELETE,
                &format!("/api/v1/applications/{first}"),
                &serde_json::Value::Null,
                &[],
            )
            .await;
        assert!(res.status.is_success(), "{}", res.text());
        // Maintenance (with no grace period here) deletes what nothing refers to.
        let files = &t.app.platform.files;
        let (shared_key, own_key) = (
            platform::crypto::sha256_hex(&shared),
            platform::crypto::sha256_hex(&own),
        );
        assert!(files.get(&own_key).await.unwrap().is_some());
        let deleted =
            madoguchi::background::purge_files(&t.app.platform, std::time::Duration::ZERO)
                .await
                .unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(
            files.get(&own_key).await.unwrap(),
            None,
            "the discarded draft's own file is gone"
        );
        assert_eq!(
            files.get(&shared_key).await.unwrap().as_deref(),
            Some(&shared[..]),
            "the file the other draft holds stays"
        );
        // Nothing is asked twice.
        let deleted =
            madoguchi::background::purge_files(&t.app.platform, std::time::Duration::ZERO)
                .await
                .unwrap();
        assert_eq!(deleted, 0);
        t.finish().await;
    }
}

#[tokio::test]
async fn decided_applications_are_purged_after_their_retention_period() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let db = t.app.platform.db.pool();
        let permit = procedure_id(&t, "mie-parking-permit").await;
        let mut api = t.client();
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let (old, recent) = (
            new_draft(&mut api, permit).await,
            new_draft(&mut api, permit).await,
        );
        let mut pdf = b"%PDF-1.4\n% a copy of a card\n".to_vec();
        pdf.extend_from_slice(&[b'x'; 1024]);
        pdf.extend_from_slice(b"\n%%EOF\n");
        for id in [old, recent] {
            let res = api
                .post_multipart(
                    &format!("/api/v1/applications/{id}/attachments"),
                    &[("question", "certificate")],
                    &[("file", "手帳.pdf", &pdf)],
                )
                .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        }
        // Both decided; one six years ago, one now. The procedure keeps five years.
        for (id, at) in [
            (old, "2020-01-06T00:00:00.000000Z"),
            (recent, "2026-12-01T00:00:00.000000Z"),
        ] {
            sqlx::query(
                "update applications set status = 'completed', answers = '{\"phone\":\"059-224-3070\"}', updated_at = $1 where id = $2",
            )
            .bind(at)
            .bind(id)
            .execute(db)
            .await
            .unwrap();
        }
        sqlx::query("update procedures set retention_years = 5 where id = $1")
            .bind(permit)
            .execute(db)
            .await
            .unwrap();
        madoguchi::background::maintain(&t.app.platform).await;

        let row = |id: i64| async move {
            let answers: String =
                sqlx::query_scalar("select answers from applications where id = $1")
                    .bind(id)
                    .fetch_one(db)
                    .await
                    .unwrap();
            let purged: Option<String> =
                sqlx::query_scalar("select purged_at from applications where id = $1")
                    .bind(id)
                    .fetch_one(db)
                    .await
                    .unwrap();
            let files: i64 =
                sqlx::query_scalar("select count(*) from attachments where application_id = $1")
                    .bind(id)
                    .fetch_one(db)
                    .await
                    .unwrap();
            (answers, purged.is_some(), files)
        };
        assert_eq!(row(old).await, ("{}".to_string(), true, 0));
        let (answers, purged, files) = row(recent).await;
        assert!(answers.contains("059-224-3070") && !purged && files == 1);
        // Its file is queued for deletion (still shared by the other: kept by maintenance).
        let queued: i64 =
            sqlx::query_scalar("select count(*) from file_deletions where storage_key = $1")
                .bind(platform::crypto::sha256_hex(&pdf))
                .fetch_one(db)
                .await
                .unwrap();
        assert_eq!(queued, 1);
        let audited: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'application.purged' and subject_id = $1",
        )
        .bind(old)
        .fetch_one(db)
        .await
        .unwrap();
        assert_eq!(audited, 1);
        // A second round changes nothing.
        madoguchi::background::maintain(&t.app.platform).await;
        assert_eq!(row(recent).await.2, 1);
        t.finish().await;
    }
}
