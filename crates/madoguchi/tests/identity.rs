//! Sign-in with the My Number card (デジタル認証アプリ) and gBizID, against a
//! real OpenID provider started here (npm oidc-provider, tests/oidc): the
//! whole relying party (PKCE, state and nonce in the database,
//! private_key_jwt, client_secret_basic, ID token checks, acr, userinfo),
//! procedures that require either, and each kind of bad answer refused with a
//! Japanese page, nothing linked, and the refusal audited.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::oidc::{self, Login, Provider};
use common::{DEMO_PASSWORD, TestApp, backends};
use platform::db::Backend;
use serde_json::json;

async fn procedure_id(t: &TestApp, code: &str) -> i64 {
    sqlx::query_scalar("select id from procedures where code = $1")
        .bind(code)
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

async fn require(t: &TestApp, code: &str, identity: &str) -> i64 {
    let id = procedure_id(t, code).await;
    sqlx::query("update procedures set identity = $1 where id = $2")
        .bind(identity)
        .bind(id)
        .execute(t.app.platform.db.pool())
        .await
        .unwrap();
    id
}

async fn linked_count(t: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from resident_identities")
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

async fn audit_actions(t: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_scalar("select detail from audit_log where action = $1 order by id")
        .bind(action)
        .fetch_all(t.app.platform.db.pool())
        .await
        .unwrap()
}

fn card(account: &str, acr: &str) -> Login<'static> {
    Login {
        account: Box::leak(account.to_string().into_boxed_str()),
        acr: Box::leak(acr.to_string().into_boxed_str()),
        claims: json!({}),
    }
}

async fn app(backend: Backend, op: &Provider) -> TestApp {
    let config = op.config();
    TestApp::with_demo_config(backend, move |c| c.identity = config).await
}

/// Finishes a sign-in that has no account yet with a new address.
async fn new_account(
    client: &mut common::Client,
    callback: &common::Res,
    email: &str,
) -> common::Res {
    assert_eq!(
        callback.status,
        StatusCode::SEE_OTHER,
        "{}",
        callback.text()
    );
    let to = callback.location();
    assert!(to.starts_with("/signin/complete?token="), "{to}");
    let page = client.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let token = to.split("token=").nth(1).unwrap().to_string();
    let token = form_urlencoded::parse(format!("t={token}").as_bytes())
        .next()
        .unwrap()
        .1
        .to_string();
    client
        .post_form(
            "/signin/complete",
            &[
                ("_csrf", &page.csrf()),
                ("token", &token),
                ("email", email),
                ("password", ""),
                ("display_name", ""),
            ],
        )
        .await
}

#[tokio::test]
async fn a_resident_signs_in_with_the_my_number_card_and_applies_for_a_procedure_that_requires_it()
{
    let op = Provider::start();
    for backend in backends() {
        let t = app(backend, &op).await;
        let id = require(&t, "mie-hs-entrance", "mynumber_card").await;
        let apply = format!("/procedures/{id}/apply");

        // The sign-in page offers the card; a password session is not enough.
        let mut taro = t.client();
        assert!(
            taro.get("/signin")
                .await
                .text()
                .contains("/signin/mynumber")
        );
        taro.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        let res = taro.get(&apply).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(
            res.location(),
            format!("/signin/mynumber?require=mynumber_card&next=%2Fprocedures%2F{id}%2Fapply")
        );
        let mut api = t.client();
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let res = api
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{id}/applications"),
                &common::procs::submission(1),
                &[("idempotency-key", "card-1")],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "identity_required");

        // A new resident: the card, then an address for a new account.
        let mut c = t.client();
        let start = c
            .get(&format!(
                "/signin/mynumber?require=mynumber_card&next=%2Fprocedures%2F{id}%2Fapply"
            ))
            .await;
        assert!(
            start.text().contains("マイナンバーカード"),
            "{}",
            start.text()
        );
        let (back, _) = oidc::sign_in(
            &mut c,
            &op,
            "mynumber",
            &[
                ("next", &apply),
                ("require", "mynumber_card"),
                ("basic_info", "1"),
            ],
            card("card-resident-1", "aal3"),
        )
        .await;
        let done = new_account(&mut c, &back, "card.user@example.jp").await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
        assert_eq!(done.location(), apply);
        let res = c.get(&apply).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert!(
            res.location().starts_with("/applications/"),
            "{}",
            res.location()
        );

        // It submits (the JSON API with the browser session), once the
        // address is proved: the card says who the person is, not whose address it is.
        let csrf = c.get("/applications").await.csrf();
        let res = c
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{id}/applications"),
                &common::procs::submission(2),
                &[("idempotency-key", "card-2"), ("x-csrf-token", &csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "email_unverified");
        t.verify_email("card.user@example.jp").await;
        let res = c
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{id}/applications"),
                &common::procs::submission(2),
                &[("idempotency-key", "card-2"), ("x-csrf-token", &csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let app_id = res.json()["id"].as_i64().unwrap();
        let identified: String =
            sqlx::query_scalar("select identified_by from applications where id = $1")
                .bind(app_id)
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        let identified: serde_json::Value = serde_json::from_str(&identified).unwrap();
        assert_eq!(identified["method"], "mynumber_card");
        assert_eq!(identified["acr"], "aal3");

        // The same card signs in straight away next time, from another browser.
        let mut again = t.client();
        let (back, _) = oidc::sign_in(
            &mut again,
            &op,
            "mynumber",
            &[("next", "/applications")],
            card("card-resident-1", "aal3"),
        )
        .await;
        assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.text());
        assert_eq!(back.location(), "/applications");
        assert_eq!(again.get("/applications").await.status, StatusCode::OK);

        // The account has no password: the card cannot be unlinked.
        let page = again.get("/account/identities").await;
        assert!(
            page.text().contains("/account/identities/mynumber/unlink"),
            "{}",
            page.text()
        );
        let res = again
            .post_form(
                "/account/identities/mynumber/unlink",
                &[("_csrf", &page.csrf())],
            )
            .await;
        assert_eq!(res.location(), "/account/identities?error=last_way");
        assert_eq!(linked_count(&t).await, 1);

        // Taro links the card to his password account, then unlinks it.
        let (back, _) = oidc::sign_in(
            &mut taro,
            &op,
            "mynumber",
            &[("next", "/account/identities"), ("link", "1")],
            card("card-taro", "aal3"),
        )
        .await;
        assert_eq!(back.location(), "/account/identities", "{}", back.text());
        assert_eq!(linked_count(&t).await, 2);
        // Now signed in with the card, Taro may apply.
        let res = taro.get(&apply).await;
        assert!(
            res.location().starts_with("/applications/"),
            "{}",
            res.location()
        );
        let page = taro.get("/account/identities").await;
        let res = taro
            .post_form(
                "/account/identities/mynumber/unlink",
                &[("_csrf", &page.csrf())],
            )
            .await;
        assert_eq!(res.location(), "/account/identities?done=unlinked");
        assert_eq!(linked_count(&t).await, 1);

        assert_eq!(audit_actions(&t, "identity.linked").await.len(), 2);
        assert_eq!(audit_actions(&t, "identity.unlinked").await.len(), 1);
        assert!(!audit_actions(&t, "identity.signed_in").await.is_empty());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_business_signs_in_with_gbizid_and_its_corporate_number_fills_the_subsidy_form() {
    let op = Provider::start();
    for backend in backends() {
        let t = app(backend, &op).await;
        let id = require(&t, "toyama-iot-ai-subsidy", "gbizid_prime").await;
        let apply = format!("/procedures/{id}/apply");

        // A member account is not a prime account: refused, nothing linked.
        let mut member = t.client();
        let (back, _) = oidc::sign_in(
            &mut member,
            &op,
            "gbizid",
            &[("next", &apply), ("require", "gbizid_prime")],
            Login {
                account: "biz-member",
                acr: "",
                claims: json!({"account_type": "member"}),
            },
        )
        .await;
        assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.text());
        assert!(
            back.text().contains("この手続に必要な本人確認の方法"),
            "{}",
            back.text()
        );
        assert_eq!(linked_count(&t).await, 0);

        let mut c = t.client();
        let (back, _) = oidc::sign_in(
            &mut c,
            &op,
            "gbizid",
            &[("next", &apply), ("require", "gbizid_prime")],
            Login {
                account: "biz-prime",
                acr: "",
                claims: json!({"account_type": "prime", "corporate_number": "7000012050002", "corporate_name": "株式会社テスト"}),
            },
        )
        .await;
        let done = new_account(&mut c, &back, "hanako@corp.example.jp").await;
        assert_eq!(done.location(), apply, "{}", done.text());
        let res = c.get(&apply).await;
        let first = res.location();
        assert!(first.starts_with("/applications/"), "{first}");
        let page = c.get(&first).await;
        assert!(
            page.text().contains("value=\"7000012050002\""),
            "{}",
            page.text()
        );
        t.finish().await;
    }
}

/// A refused sign-in: a Japanese page, no session, nothing linked, audited with `reason`.
async fn assert_refused(t: &TestApp, res: &common::Res, reason: &str) {
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    let text = res.text();
    assert!(text.contains("本人確認ができませんでした"), "{text}");
    assert!(
        text.contains("連携やサインインは行われていません"),
        "{text}"
    );
    assert!(
        !res.headers
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().contains("session=")
                && !v.to_str().unwrap().contains("Max-Age=0")),
        "a session was started"
    );
    assert_eq!(linked_count(t).await, 0);
    let failed = audit_actions(t, "identity.signin_failed").await;
    assert!(
        failed
            .iter()
            .any(|d| d.contains(&format!("\"reason\":\"{reason}\""))),
        "no audit of {reason}: {failed:?}"
    );
}

async fn tampered(mode: &str, reason: &str) {
    let op = Provider::start();
    let t = app(Backend::Sqlite, &op).await;
    op.tamper(mode).await;
    let mut c = t.client();
    let (back, _) = oidc::sign_in(
        &mut c,
        &op,
        "mynumber",
        &[("next", "/applications")],
        card("card-x", "aal3"),
    )
    .await;
    assert_refused(&t, &back, reason).await;
    t.finish().await;
}

#[tokio::test]
async fn a_forged_id_token_is_refused() {
    tampered("forged", "signature").await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    tampered("expired", "expired").await;
}

#[tokio::test]
async fn an_issuer_one_character_off_is_refused() {
    tampered("issuer", "issuer").await;
}

#[tokio::test]
async fn an_id_token_without_the_nonce_is_refused() {
    tampered("no_nonce", "nonce").await;
}

#[tokio::test]
async fn a_replayed_id_token_is_refused() {
    let op = Provider::start();
    let t = app(Backend::Sqlite, &op).await;
    // A first sign-in whose ID token is then replayed (its nonce is the old flow's).
    let mut first = t.client();
    let (back, _) = oidc::sign_in(
        &mut first,
        &op,
        "mynumber",
        &[("next", "/applications")],
        card("card-y", "aal3"),
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    op.tamper("replay").await;
    let mut c = t.client();
    let (back, _) = oidc::sign_in(
        &mut c,
        &op,
        "mynumber",
        &[("next", "/applications")],
        card("card-y", "aal3"),
    )
    .await;
    assert_refused(&t, &back, "nonce").await;
    t.finish().await;
}

#[tokio::test]
async fn a_wrong_or_reused_state_and_another_browser_are_refused() {
    let op = Provider::start();
    let t = app(Backend::Sqlite, &op).await;
    let mut c = t.client();
    let path = oidc::to_callback(
        &mut c,
        &op,
        "mynumber",
        &[("next", "/applications")],
        card("card-z", "aal3"),
    )
    .await;
    // A state this installation never issued.
    let wrong = path.replace("state=", "state=x");
    assert_refused(&t, &c.get(&wrong).await, "state").await;
    // The same callback in another browser (no binding cookie).
    let mut other = t.client();
    assert_refused(&t, &other.get(&path).await, "state").await;
    // The state was used up by that attempt: the right browser cannot use it either.
    assert_refused(&t, &c.get(&path).await, "state").await;
    t.finish().await;
}

#[tokio::test]
async fn a_pkce_mismatch_is_refused() {
    let op = Provider::start();
    let t = app(Backend::Sqlite, &op).await;
    let mut c = t.client();
    let path = oidc::to_callback(
        &mut c,
        &op,
        "mynumber",
        &[("next", "/applications")],
        card("card-p", "aal3"),
    )
    .await;
    // The verifier kept for this sign-in is not the one the challenge was made from.
    let other = t
        .app
        .platform
        .keys
        .seal("another-verifier-that-does-not-match-the-challenge-00");
    sqlx::query("update identity_flows set code_verifier = $1")
        .bind(other)
        .execute(t.app.platform.db.pool())
        .await
        .unwrap();
    assert_refused(&t, &c.get(&path).await, "token_refused").await;
    t.finish().await;
}

#[tokio::test]
async fn an_acr_below_what_the_procedure_requires_is_refused() {
    let op = Provider::start();
    let t = app(Backend::Sqlite, &op).await;
    let id = require(&t, "mie-hs-entrance", "mynumber_card").await;
    let mut c = t.client();
    let next = format!("/procedures/{id}/apply");
    let (back, _) = oidc::sign_in(
        &mut c,
        &op,
        "mynumber",
        &[("next", &next), ("require", "mynumber_card")],
        card("card-weak", "aal1"),
    )
    .await;
    assert_refused(&t, &back, "acr").await;
    t.finish().await;
}
