//! The spine's story, on SQLite and PostgreSQL: a resident signs up, finds
//! the high-school application by search, answers with a 和暦 birth date,
//! saves a draft, resumes it, submits it twice with the same key (one
//! application, one receipt number), sees 送信済 in their list and withdraws
//! another application. Then the same journey through the pages, with cookies
//! and CSRF tokens like a browser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, backends};
use serde_json::{Value, json};

fn hs_answers_rest() -> Value {
    json!({
        "address": {"prefecture": "三重県", "city": "津市広明町13番地", "building": ""},
        "phone": "059-224-3070",
        "junior_high": "津市立西橋内中学校",
        "school": "tsu",
        "department": "general",
        "selection": "early",
        "guardian_name": {"family": "三重", "given": "太郎", "family_kana": "みえ", "given_kana": "たろう"},
        "guardian_relationship": "father",
        "agree": true
    })
}

async fn find_high_school(client: &mut common::Client) -> i64 {
    let res = client.get("/api/v1/procedures?q=%E9%AB%98%E6%A0%A1").await; // 高校
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    let hs = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str().unwrap().contains("県立高等学校入学願書"))
        .unwrap_or_else(|| panic!("高校 finds the high-school application: {body}"));
    hs["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_resident_journey_through_the_api() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut api = t.client();

        // Sign up, then sign in for a token.
        let res = api.post_json("/api/v1/residents", &json!({"email": "hanako@example.jp", "password": "とても長いパスワード", "display_name": "三重 花子"})).await;
        assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text());
        assert_eq!(res.json()["status"], "verification_sent");
        // The address is proved by the link mailed to it.
        t.verify_email("hanako@example.jp").await;
        api.api_sign_in("hanako@example.jp", "とても長いパスワード", "resident")
            .await;

        // 駐車 finds the parking permit; 高校 finds the high-school application.
        let res = api.get("/api/v1/procedures?q=%E9%A7%90%E8%BB%8A").await;
        assert!(res.json()["items"].as_array().unwrap().iter().any(|p| {
            p["name"]
                .as_str()
                .unwrap()
                .contains("三重おもいやり駐車場利用証")
        }));
        let hs = find_high_school(&mut api).await;
        let procedure = api.get(&format!("/api/v1/procedures/{hs}")).await.json();
        assert!(procedure["accepts_applications"].as_bool().unwrap());
        assert!(
            procedure["form"]["definition"]["pages"]
                .as_array()
                .unwrap()
                .len()
                >= 5
        );

        // A draft with a 和暦 birth date and a mistake.
        let res = api
            .post_json(
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": {
                    "name": {"family": "三重", "given": "花子", "family_kana": "ミエ", "given_kana": "ﾊﾅｺ"},
                    "birth_date": "平成22年4月1日",
                    "phone": "12345"
                }}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let draft = res.json();
        let id = draft["id"].as_i64().unwrap();
        assert_eq!(draft["status"], "draft");
        assert_eq!(
            draft["answers"]["birth_date"], "2010-04-01",
            "和暦 stored as ISO"
        );
        assert_eq!(
            draft["answers"]["name"]["given_kana"], "ハナコ",
            "half-width kana normalised"
        );
        assert!(
            draft["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["field"] == "phone"),
            "the bad phone number is reported"
        );
        assert!(draft["answers"].get("phone").is_none());

        // Resume it later: the saved answers are there; add the rest.
        let resumed = api.get(&format!("/api/v1/applications/{id}")).await.json();
        assert_eq!(resumed["answers"]["birth_date"], "2010-04-01");
        let res = api
            .send_json(
                Method::PATCH,
                &format!("/api/v1/applications/{id}"),
                &json!({"answers": hs_answers_rest()}),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(res.json().get("issues").is_none(), "{}", res.text());

        // Submit twice: one application, one receipt number.
        let first = api
            .post_json(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text());
        let second = api
            .post_json(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await;
        assert_eq!(second.status, StatusCode::OK);
        let receipt = first.json()["receipt_number"].as_str().unwrap().to_string();
        assert!(receipt.starts_with("240001-R"), "{receipt}");
        assert_eq!(second.json()["receipt_number"], receipt);

        // One-shot submission with an Idempotency-Key, sent twice from a flaky phone.
        let mut answers = hs_answers_rest();
        answers["name"] = json!({"family": "三重", "given": "次郎", "family_kana": "ミエ", "given_kana": "ジロウ"});
        answers["birth_date"] = json!("H22.5.5");
        let body = json!({"answers": answers, "submit": true});
        let uri = format!("/api/v1/procedures/{hs}/applications");
        let a = api
            .send_json(
                Method::POST,
                &uri,
                &body,
                &[("Idempotency-Key", "phone-retry-1")],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
        let b = api
            .send_json(
                Method::POST,
                &uri,
                &body,
                &[("Idempotency-Key", "phone-retry-1")],
            )
            .await;
        assert_eq!(
            b.status,
            StatusCode::OK,
            "a replay is not a new application: {}",
            b.text()
        );
        assert_eq!(a.json()["id"], b.json()["id"]);
        assert_eq!(a.json()["receipt_number"], b.json()["receipt_number"]);
        assert_ne!(a.json()["receipt_number"], json!(receipt));
        let mut different = body.clone();
        different["answers"]["junior_high"] = json!("別の中学校");
        let c = api
            .send_json(
                Method::POST,
                &uri,
                &different,
                &[("Idempotency-Key", "phone-retry-1")],
            )
            .await;
        assert_eq!(c.status, StatusCode::CONFLICT);
        assert_eq!(c.json()["error"]["code"], "idempotency_key_reused");

        // The list shows 送信済.
        let list = api.get("/api/v1/applications").await.json();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert!(
            items
                .iter()
                .all(|i| i["status"] == "submitted" && i["status_label"] == "送信済"),
            "{list}"
        );

        // The list pages: one at a time, then the rest, then nothing more;
        // a page key that is not one is refused.
        let first = api.get("/api/v1/applications?limit=1").await.json();
        assert_eq!(first["items"].as_array().unwrap().len(), 1, "{first}");
        let next = first["next_before"]
            .as_str()
            .expect("a next page")
            .to_string();
        let rest = api
            .get(&format!(
                "/api/v1/applications?limit=1&before={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .await
            .json();
        assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
        assert_ne!(rest["items"][0]["id"], first["items"][0]["id"]);
        let all = api.get("/api/v1/applications?limit=2").await.json();
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let end = all["next_before"].as_str().unwrap().to_string();
        let none = api
            .get(&format!(
                "/api/v1/applications?before={}",
                form_urlencoded::byte_serialize(end.as_bytes()).collect::<String>()
            ))
            .await
            .json();
        assert!(none["items"].as_array().unwrap().is_empty());
        assert!(none["next_before"].is_null());
        for bad in [
            "limit=0",
            "limit=201",
            "limit=x",
            "before=2026",
            "before=x_1",
        ] {
            let res = api.get(&format!("/api/v1/applications?{bad}")).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(res.json()["error"]["code"], "invalid_query");
        }

        // Withdraw the other one.
        let other = a.json()["id"].as_i64().unwrap();
        let res = api
            .post_json(
                &format!("/api/v1/applications/{other}/withdraw"),
                &json!({"reason": "重複して申請したため"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "withdrawn");
        assert_eq!(res.json()["status_label"], "取下げ");
        let again = api
            .post_json(
                &format!("/api/v1/applications/{other}/withdraw"),
                &json!({}),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["error"]["code"], "invalid_transition");
        let list = api.get("/api/v1/applications").await.json();
        let statuses: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert!(
            statuses.contains(&"submitted") && statuses.contains(&"withdrawn"),
            "{statuses:?}"
        );

        // Exactly two applications exist, each with its own receipt number.
        let n: i64 = sqlx::query_scalar("select count(*) from applications")
            .fetch_one(t.app.platform.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 2);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_resident_journey_through_the_pages() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let mut web = t.client();

        // Search from the catalogue page.
        let res = web.get("/procedures?q=%E9%AB%98%E6%A0%A1").await;
        assert_eq!(res.status, StatusCode::OK);
        let page = res.text();
        let start = page.find("href=\"/procedures/").unwrap() + "href=\"/procedures/".len();
        let hs: i64 = page[start..].split('"').next().unwrap().parse().unwrap();
        assert!(page.contains("県立高等学校入学願書"));

        // Applying needs an account; after signing up the resident goes
        // straight into the form, not back to the procedure page.
        let res = web.get(&format!("/procedures/{hs}")).await;
        assert!(
            res.text()
                .contains(&format!("/signin?next=/procedures/{hs}/apply"))
        );
        let res = web.get("/signup").await;
        let csrf = res.csrf();
        let res = web
            .post_form(
                "/signup",
                &[
                    ("_csrf", &csrf),
                    ("email", "jiro@example.jp"),
                    ("password", "とても長いパスワード"),
                    ("display_name", ""),
                    ("next", &format!("/procedures/{hs}/apply")),
                ],
            )
            .await;
        // The same answer whatever the address: check your e-mail; the link
        // in it signs in and goes straight on into the form.
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(
            res.text().contains("メールを確認してください"),
            "{}",
            res.text()
        );
        let link = t
            .mailed_link("account.verify_email", "jiro@example.jp")
            .await;
        let res = web.get(&link).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert_eq!(res.location(), format!("/procedures/{hs}/apply"));

        // Start: a form without its CSRF token is refused.
        let res = web.post_form(&format!("/procedures/{hs}/apply"), &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        let res = web.get(&format!("/procedures/{hs}/apply")).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let first = res.location();
        assert!(first.ends_with("/pages/applicant"), "{first}");
        // Following the same link again resumes that draft, it does not start another.
        let again = web.get(&format!("/procedures/{hs}/apply")).await;
        assert_eq!(again.location(), first);
        let app_path = first.trim_end_matches("/pages/applicant").to_string();
        let csrf = web.get(&first).await.csrf();

        // A wrong 和暦 date: the message suggests the right one and keeps what was typed.
        let res = web
            .post_form(
                &first,
                &[
                    ("_csrf", &csrf),
                    ("_action", "continue"),
                    ("name.family", "三重"),
                    ("name.given", "次郎"),
                    ("name.family_kana", "ミエ"),
                    ("name.given_kana", "ジロウ"),
                    ("birth_date", "平成31年5月1日"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = res.text();
        assert!(
            text.contains("令和元年5月1日"),
            "the error suggests the right era"
        );
        assert!(text.contains("value=\"次郎\""), "what was typed is kept");
        assert!(text.contains("error-summary"));
        let res = web
            .post_form(
                &first,
                &[
                    ("_csrf", &csrf),
                    ("_action", "continue"),
                    ("name.family", "三重"),
                    ("name.given", "次郎"),
                    ("name.family_kana", "ミエ"),
                    ("name.given_kana", "ジロウ"),
                    ("birth_date", "H22.4.1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(res.location().ends_with("/pages/address"));

        // Save a draft on the address page, with an invalid entry kept as typed.
        let address = format!("{app_path}/pages/address");
        let res = web
            .post_form(
                &address,
                &[
                    ("_csrf", &csrf),
                    ("_action", "save"),
                    ("address.prefecture", "三重県"),
                    ("address.city", ""),
                ],
            )
            .await;
        assert_eq!(res.location(), "/applications?saved=1");
        let list = web.get("/applications").await.text();
        assert!(list.contains("下書き"));
        // Resume: the application page sends the resident to the first page left to answer.
        let detail = web.get(&app_path).await.text();
        assert!(
            detail.contains(&format!("{app_path}/pages/address")),
            "resume link"
        );
        let page = web.get(&address).await.text();
        assert!(
            page.contains("<option value=\"三重県\" selected>"),
            "the saved prefecture is shown again"
        );

        for (path, fields) in [
            (
                "address",
                vec![
                    ("address.prefecture", "三重県"),
                    ("address.city", "津市広明町13番地"),
                    ("address.building", ""),
                ],
            ),
            ("phone", vec![("phone", "059-224-3070")]),
            ("junior_high", vec![("junior_high", "津市立西橋内中学校")]),
            ("school", vec![("school", "tsu")]),
            ("department", vec![("department", "general")]),
            ("selection", vec![("selection", "late")]),
            (
                "guardian",
                vec![
                    ("guardian_name.family", "三重"),
                    ("guardian_name.given", "太郎"),
                    ("guardian_name.family_kana", "ミエ"),
                    ("guardian_name.given_kana", "タロウ"),
                    ("guardian_relationship", "father"),
                ],
            ),
            ("declaration", vec![("agree", "yes")]),
        ] {
            let mut form = vec![("_csrf", csrf.as_str()), ("_action", "continue")];
            form.extend(fields);
            let res = web
                .post_form(&format!("{app_path}/pages/{path}"), &form)
                .await;
            assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}: {}", res.text());
        }
        let check = web.get(&format!("{app_path}/check")).await;
        assert_eq!(check.status, StatusCode::OK, "{}", check.text());
        let text = check.text();
        assert!(
            text.contains("2010年4月1日（平成22年4月1日）"),
            "dates shown both ways"
        );
        let submit = format!("{app_path}/submit");
        let res = web.post_form(&submit, &[("_csrf", &csrf)]).await;
        assert_eq!(res.location(), format!("{app_path}/receipt"));
        // The same button pressed twice: still one application.
        let res = web.post_form(&submit, &[("_csrf", &csrf)]).await;
        assert_eq!(res.location(), format!("{app_path}/receipt"));
        let receipt = web.get(&format!("{app_path}/receipt")).await.text();
        assert!(receipt.contains("240001-R"));
        let list = web.get("/applications").await.text();
        assert!(list.contains("送信済"));
        let n: i64 =
            sqlx::query_scalar("select count(*) from applications where status = 'submitted'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        assert_eq!(n, 1);

        // Another resident sees nothing of it.
        let mut other = t.client();
        other
            .page_sign_in("taro@example.jp", common::DEMO_PASSWORD, false)
            .await;
        assert_eq!(other.get(&app_path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.get(&format!("{app_path}/check")).await.status,
            StatusCode::NOT_FOUND
        );
        // Withdraw through the pages.
        let page = web.get(&format!("{app_path}/withdraw")).await;
        let res = web
            .post_form(
                &format!("{app_path}/withdraw"),
                &[("_csrf", &page.csrf()), ("reason", "")],
            )
            .await;
        assert_eq!(res.location(), "/applications?withdrawn=1");
        assert!(web.get("/applications").await.text().contains("取下げ"));
        t.finish().await;
    }
}
