//! Residents' accounts (issue 14): sign-up answers the same whether the
//! address is new or registered (the e-mail says which); an address is
//! proved by a mailed link before the first submission; a forgotten password
//! is reset by a link, once. Each on both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{DEMO_PASSWORD, TestApp, backends};
use serde_json::json;

async fn jobs_to(t: &TestApp, kind: &str, email: &str) -> usize {
    let payloads: Vec<String> = sqlx::query_scalar("select payload from jobs where kind = $1")
        .bind(kind)
        .fetch_all(t.app.platform.db.pool())
        .await
        .unwrap();
    payloads
        .iter()
        .filter(|p| serde_json::from_str::<serde_json::Value>(p).unwrap()["to"] == email)
        .count()
}

async fn forgot(c: &mut common::Client, email: &str) -> common::Res {
    let csrf = c.get("/signin/forgot").await.csrf();
    c.post_form("/signin/forgot", &[("_csrf", &csrf), ("email", email)])
        .await
}

async fn sign_up_page(c: &mut common::Client, email: &str) -> common::Res {
    let csrf = c.get("/signup").await.csrf();
    c.post_form(
        "/signup",
        &[
            ("_csrf", &csrf),
            ("email", email),
            ("password", "とても長いパスワードです"),
            ("display_name", ""),
            ("next", "/applications"),
        ],
    )
    .await
}

#[tokio::test]
async fn sign_up_answers_the_same_for_a_new_and_a_registered_address() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut c = t.client();
        let registered = sign_up_page(&mut c, "taro@example.jp").await;
        let new = sign_up_page(&mut c, "jiro@example.jp").await;
        assert_eq!(registered.status, StatusCode::OK);
        assert_eq!(new.status, StatusCode::OK);
        assert_eq!(registered.text(), new.text(), "the two answers differ");
        assert!(
            !new.headers.contains_key("set-cookie")
                || !new.headers["set-cookie"]
                    .to_str()
                    .unwrap()
                    .contains("session")
        );
        // The e-mails differ: the registered address is told so, the new one gets its link.
        assert_eq!(
            jobs_to(&t, "account.already_registered", "taro@example.jp").await,
            1
        );
        assert_eq!(
            jobs_to(&t, "account.verify_email", "taro@example.jp").await,
            0
        );
        assert_eq!(
            jobs_to(&t, "account.verify_email", "jiro@example.jp").await,
            1
        );
        // The API too: 202 and the same body.
        let mut api = t.client();
        let a = api
            .post_json(
                "/api/v1/residents",
                &json!({"email": "taro@example.jp", "password": "とても長いパスワードです"}),
            )
            .await;
        let b = api
            .post_json(
                "/api/v1/residents",
                &json!({"email": "saburo@example.jp", "password": "とても長いパスワードです"}),
            )
            .await;
        assert_eq!((a.status, a.body.clone()), (b.status, b.body.clone()));
        assert_eq!(a.status, StatusCode::ACCEPTED);
        // A bad password is still said at the field (it tells nothing about the address).
        let res = api
            .post_json(
                "/api/v1/residents",
                &json!({"email": "shiro@example.jp", "password": "short"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Not proved yet: signing in works, sending does not.
        let mut jiro = t.client();
        jiro.api_sign_in("jiro@example.jp", "とても長いパスワードです", "resident")
            .await;
        let hs: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        let res = jiro
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &common::procs::submission(1),
                &[("idempotency-key", "v-1")],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "email_unverified");
        // The page to send the link again.
        let mut web = t.client();
        web.page_sign_in("jiro@example.jp", "とても長いパスワードです", false)
            .await;
        let page = web.get("/account/verify-email?next=%2Fapplications").await;
        assert!(page.text().contains("jiro@example.jp"), "{}", page.text());
        let res = web
            .post_form(
                "/account/verify-email",
                &[("_csrf", &page.csrf()), ("next", "/applications")],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            jobs_to(&t, "account.verify_email", "jiro@example.jp").await,
            2
        );
        // The link proves it, once.
        let link = t
            .mailed_link("account.verify_email", "jiro@example.jp")
            .await;
        let res = web.get(&link).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(res.location(), "/applications");
        assert_eq!(web.get(&link).await.status, StatusCode::NOT_FOUND);
        let res = jiro
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &common::procs::submission(1),
                &[("idempotency-key", "v-1")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_the_mailed_link_once() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut old_session = t.client();
        old_session
            .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        assert_eq!(
            old_session.get("/applications").await.status,
            StatusCode::OK
        );

        let mut c = t.client();
        // The same answer for an address without an account; no e-mail to it.
        let unknown = forgot(&mut c, "nobody@example.jp").await;
        let known = forgot(&mut c, "taro@example.jp").await;
        assert_eq!(unknown.status, StatusCode::OK);
        assert_eq!(unknown.text(), known.text());
        assert_eq!(
            jobs_to(&t, "account.reset_password", "nobody@example.jp").await,
            0
        );
        assert_eq!(
            jobs_to(&t, "account.reset_password", "taro@example.jp").await,
            1
        );
        assert!(c.get("/signin").await.text().contains("/signin/forgot"));

        let link = t
            .mailed_link("account.reset_password", "taro@example.jp")
            .await;
        let page = c.get(&link).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let token = link.split("token=").nth(1).unwrap();
        // Too short: refused at the field, and the link still works.
        let res = c
            .post_form(
                "/signin/reset",
                &[
                    ("_csrf", &page.csrf()),
                    ("token", token),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("href=\"#password\""), "{}", res.text());
        let res = c
            .post_form(
                "/signin/reset",
                &[
                    ("_csrf", &page.csrf()),
                    ("token", token),
                    ("password", "あたらしい長いパスワード"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert_eq!(res.location(), "/applications");
        // Once only; the old password and the sessions it opened are gone.
        assert_eq!(c.get(&link).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            old_session.get("/applications").await.status,
            StatusCode::SEE_OTHER
        );
        let res = t
            .client()
            .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = t
            .client()
            .page_sign_in("taro@example.jp", "あたらしい長いパスワード", false)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let audited: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'resident.password_reset'",
        )
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
        assert_eq!(audited, 1);
        t.finish().await;
    }
}
