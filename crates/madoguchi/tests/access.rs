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
        let hs: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        let mut resident = t.client();
        resident
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let answers = json!({
            "name": {"family": "三重", "given": "花子", "family_kana": "ミエ", "given_kana": "ハナコ"},
            "birth_date": "平成22年4月1日",
            "address": {"prefecture": "三重県", "city": "=HYPERLINK(\"http://evil.example\",\"x\")", "building": "@SUM(1)"},
            "phone": "059-224-3070",
            "junior_high": "+cmd|' /C calc'!A0",
            "school": "tsu",
            "department": "general",
            "selection": "early",
            "guardian_name": {"family": "三重", "given": "太郎", "family_kana": "ミエ", "given_kana": "タロウ"},
            "guardian_relationship": "father",
            "agree": true
        });
        let res = resident
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": answers, "submit": true}),
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
