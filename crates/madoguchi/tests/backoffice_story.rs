//! The back office's story, on SQLite and PostgreSQL: a resident applies for
//! the high-school entrance procedure; staff open it (送信済 → 処理中) and return
//! it for correction; the resident fixes it and sends it again; it passes a
//! two-step approval route (審査, 決裁); the resident sees 処理完了 and has
//! received exactly three e-mails on a real local SMTP server; `madoguchi
//! audit verify` passes; then an audit row altered by hand is named by it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{DEMO_PASSWORD, Smtp, TestApp, backends, subject};
use serde_json::{Value, json};

pub fn hs_answers() -> Value {
    json!({
        "name": {"family": "三重", "given": "花子", "family_kana": "ミエ", "given_kana": "ハナコ"},
        "birth_date": "平成22年4月1日",
        "address": {"prefecture": "三重県", "city": "津市広明町13番地", "building": ""},
        "phone": "059-224-3070",
        "junior_high": "津市立西橋内中学校",
        "school": "tsu",
        "department": "general",
        "selection": "early",
        "guardian_name": {"family": "三重", "given": "太郎", "family_kana": "ミエ", "given_kana": "タロウ"},
        "guardian_relationship": "father",
        "agree": true
    })
}

async fn act(client: &mut common::Client, id: i64, body: Value) -> common::Res {
    client
        .post_json(&format!("/api/v1/staff/applications/{id}/actions"), &body)
        .await
}

async fn version(client: &mut common::Client, id: i64) -> i64 {
    let res = client
        .get(&format!("/api/v1/staff/applications/{id}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["version"].as_i64().unwrap()
}

fn audit_verify(t: &TestApp) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&t.db.dir)
        .args(["--database-url", &t.db.url])
        .output()
        .expect("madoguchi runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn apply_review_return_resubmit_approve_notify_and_audit() {
    for backend in backends() {
        let smtp = Smtp::start();
        let t =
            TestApp::with_demo_config(backend, |c| c.smtp = smtp.as_ref().map(Smtp::config)).await;
        let hs: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();

        // The resident applies.
        let mut resident = t.client();
        resident
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let mut answers = hs_answers();
        answers.as_object_mut().unwrap().remove("guardian_phone");
        let res = resident
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": answers, "submit": true}),
                &[("Idempotency-Key", "story-1")],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let id = res.json()["id"].as_i64().unwrap();
        let receipt = res.json()["receipt_number"].as_str().unwrap().to_string();
        t.run_jobs().await;

        // Staff of the section see it, unread, and open it (送信済 → 処理中).
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let inbox = staff
            .get("/api/v1/staff/applications?status=submitted")
            .await
            .json();
        let item = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{inbox}"))
            .clone();
        assert_eq!(item["unread"], true);
        assert_eq!(item["applicant"], "三重 花子");
        assert_eq!(inbox["counts"]["submitted"], 1);
        let v = version(&mut staff, id).await;
        let detail = staff
            .get(&format!("/api/v1/staff/applications/{id}"))
            .await
            .json();
        let birth = detail["answers_shown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["question"] == "birth_date")
            .unwrap()
            .clone();
        assert_eq!(
            birth["lines"][0], "2010年4月1日（平成22年4月1日）",
            "dates shown both ways"
        );
        let res = act(
            &mut staff,
            id,
            json!({"action": "start_review", "version": v}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status_label"], "処理中");
        let inbox = staff.get("/api/v1/staff/applications").await.json();
        assert_eq!(
            inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["id"] == id)
                .unwrap()["unread"],
            false,
            "opened by this staff member"
        );

        // A stale action (an old version) changes nothing.
        let res = act(
            &mut staff,
            id,
            json!({"action": "return", "version": v, "message": "x"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert_eq!(res.json()["error"]["code"], "stale");

        // Return for correction with a message.
        let v = version(&mut staff, id).await;
        let res = act(&mut staff, id, json!({"action": "return", "version": v, "message": "保護者の電話番号を記入してください。"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "returned");
        t.run_jobs().await;

        // The resident sees the request, fixes only that answer and sends it again.
        let app = resident
            .get(&format!("/api/v1/applications/{id}"))
            .await
            .json();
        assert_eq!(app["status_label"], "差し戻し");
        let res = resident
            .send_json(
                Method::PATCH,
                &format!("/api/v1/applications/{id}"),
                &json!({"answers": {"guardian_phone": "090-1234-5678"}}),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let res = resident
            .post_json(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "submitted");
        assert_eq!(
            res.json()["receipt_number"],
            receipt,
            "the receipt number stays"
        );
        t.run_jobs().await;

        // The history keeps both versions and shows what changed.
        let detail = staff
            .get(&format!("/api/v1/staff/applications/{id}"))
            .await
            .json();
        let changes = detail["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{detail}");
        let change = &changes[0]["changes"].as_array().unwrap()[0];
        assert_eq!(change["after"], "090-1234-5678");

        // Review again, draft the decision (起案), two sign-offs (審査, 決裁).
        let v = version(&mut staff, id).await;
        assert_eq!(
            act(
                &mut staff,
                id,
                json!({"action": "start_review", "version": v})
            )
            .await
            .status,
            StatusCode::OK
        );
        let v = version(&mut staff, id).await;
        let res = act(
            &mut staff,
            id,
            json!({"action": "draft", "version": v, "outcome": "grant", "reason": ""}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        // The drafter cannot sign their own draft.
        let v = version(&mut staff, id).await;
        let res = act(&mut staff, id, json!({"action": "approve", "version": v})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());

        let mut reviewer = t.client();
        reviewer
            .api_sign_in("hs.reviewer@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let waiting = reviewer.get("/api/v1/staff/approvals").await.json();
        assert_eq!(waiting["items"][0]["step_name"], "審査", "{waiting}");
        let v = version(&mut reviewer, id).await;
        let res = act(
            &mut reviewer,
            id,
            json!({"action": "approve", "version": v, "comment": "確認しました"}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "in_review", "one step left");
        // The reviewer cannot sign the next step too.
        let v = version(&mut reviewer, id).await;
        assert_eq!(
            act(
                &mut reviewer,
                id,
                json!({"action": "approve", "version": v})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );

        let mut head = t.client();
        head.api_sign_in("hs.head@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let v = version(&mut head, id).await;
        let res = act(&mut head, id, json!({"action": "approve", "version": v})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "completed");
        t.run_jobs().await;

        // The resident sees 処理完了; a decided application cannot be sent again.
        let app = resident
            .get(&format!("/api/v1/applications/{id}"))
            .await
            .json();
        assert_eq!(app["status_label"], "処理完了");
        let res = resident
            .post_json(&format!("/api/v1/applications/{id}/submit"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::CONFLICT);
        assert_eq!(
            resident
                .post_json(&format!("/api/v1/applications/{id}/withdraw"), &json!({}))
                .await
                .status,
            StatusCode::CONFLICT
        );

        // Exactly three e-mails: receipt, correction request, decision.
        if let Some(smtp) = &smtp {
            let mails = smtp.messages();
            let subjects: Vec<String> = mails.iter().map(|m| subject(m)).collect();
            assert_eq!(mails.len(), 3, "{subjects:?}");
            assert!(
                mails
                    .iter()
                    .all(|m| m.starts_with("X-Test-Rcpt-To: taro@example.jp")),
                "{mails:?}"
            );
            assert!(
                subjects[0].contains("申請を受け付けました") && subjects[0].contains(&receipt),
                "{subjects:?}"
            );
            assert!(subjects[1].contains("修正をお願いします"), "{subjects:?}");
            assert!(subjects[2].contains("審査結果"), "{subjects:?}");
            // Running the queue again sends nothing more.
            t.run_jobs().await;
            assert_eq!(smtp.messages().len(), 3);
        }

        // The audit chain verifies; an altered row is named.
        let (code, out) = audit_verify(&t);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("intact"), "{out}");
        let target: i64 =
            sqlx::query_scalar("select id from audit_log where action = 'application.returned'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        let mut tx = t.app.platform.db.begin().await.unwrap();
        sqlx::query("update audit_log set detail = '{\"edited\":true}' where id = $1")
            .bind(target)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (code, out) = audit_verify(&t);
        assert_eq!(code, 3, "{out}");
        assert!(out.contains(&format!("record {target}")), "{out}");
        // Every state change and every view left an audit record.
        let views: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'application.viewed' and subject_id = $1").bind(id).fetch_one(t.app.platform.db.pool()).await.unwrap();
        assert!(views >= 5, "{views}");
        drop(smtp);
        t.finish().await;
    }
}

#[tokio::test]
async fn two_approvers_clicking_at_once_give_one_transition() {
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
        let res = resident
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": hs_answers(), "submit": true}),
                &[("Idempotency-Key", "race")],
            )
            .await;
        let id = res.json()["id"].as_i64().unwrap();
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let v = version(&mut staff, id).await;
        act(
            &mut staff,
            id,
            json!({"action": "start_review", "version": v}),
        )
        .await;
        let v = version(&mut staff, id).await;
        act(&mut staff, id, json!({"action": "draft", "version": v, "outcome": "refuse", "reason": "定員を超えたため"})).await;

        // Both approvers may sign the 審査 step; both click at once.
        let mut a = t.client();
        a.api_sign_in("hs.reviewer@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let mut b = t.client();
        b.api_sign_in("hs.head@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let v = version(&mut a, id).await;
        let uri = format!("/api/v1/staff/applications/{id}/actions");
        let body = json!({"action": "approve", "version": v});
        let (ra, rb) = tokio::join!(a.post_json(&uri, &body), b.post_json(&uri, &body));
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", ra.text(), rb.text());
        let loser = if ra.status == StatusCode::CONFLICT {
            &ra
        } else {
            &rb
        };
        assert_eq!(loser.json()["error"]["code"], "stale");
        assert!(
            loser.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("先に"),
            "a clear message"
        );
        let approvals: i64 =
            sqlx::query_scalar("select count(*) from approval_actions where action = 'approved'")
                .fetch_one(t.app.platform.db.pool())
                .await
                .unwrap();
        assert_eq!(approvals, 1, "one transition, no lost update");

        // The resident withdraws while the decision is in approval: approving it now is refused and changes nothing.
        let res = resident
            .post_json(&format!("/api/v1/applications/{id}/withdraw"), &json!({}))
            .await;
        assert_eq!(res.json()["status"], "withdrawn");
        let winner = if ra.status == StatusCode::OK {
            &mut b
        } else {
            &mut a
        };
        let v = version(winner, id).await;
        let res = act(winner, id, json!({"action": "approve", "version": v})).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
        assert_eq!(res.json()["error"]["code"], "invalid_transition");
        let status: String = sqlx::query_scalar("select status from applications where id = $1")
            .bind(id)
            .fetch_one(t.app.platform.db.pool())
            .await
            .unwrap();
        assert_eq!(status, "withdrawn");
        t.finish().await;
    }
}

#[tokio::test]
async fn an_absent_approver_can_delegate_and_the_record_says_so() {
    let t = TestApp::with_demo(platform::db::Backend::Sqlite).await;
    let db = &t.app.platform.db;
    let hs: i64 = sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let mut resident = t.client();
    resident
        .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let id = resident
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": hs_answers(), "submit": true}),
            &[("Idempotency-Key", "d")],
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut staff = t.client();
    staff
        .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let v = version(&mut staff, id).await;
    act(
        &mut staff,
        id,
        json!({"action": "start_review", "version": v}),
    )
    .await;
    let v = version(&mut staff, id).await;
    act(
        &mut staff,
        id,
        json!({"action": "draft", "version": v, "outcome": "grant"}),
    )
    .await;
    let mut reviewer = t.client();
    reviewer
        .api_sign_in("hs.reviewer@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let v = version(&mut reviewer, id).await;
    assert_eq!(
        act(
            &mut reviewer,
            id,
            json!({"action": "approve", "version": v})
        )
        .await
        .status,
        StatusCode::OK
    );

    // The deputy is not an approver: without a delegation they cannot sign the 決裁 step.
    let mut deputy = t.client();
    deputy
        .api_sign_in("hs.deputy@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let v = version(&mut deputy, id).await;
    assert_eq!(
        act(&mut deputy, id, json!({"action": "approve", "version": v}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The section head, away, delegates to the deputy.
    let mut head = t.client();
    head.api_sign_in("hs.head@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let deputy_id: i64 =
        sqlx::query_scalar("select id from staff where email = 'hs.deputy@pref.mie.example.jp'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let now = platform::Timestamp::now();
    let res = head
        .post_json(
            "/api/v1/staff/delegations",
            &json!({"to_staff_id": deputy_id, "starts_at": now.plus(chrono::Duration::hours(-1)).to_db_string(), "ends_at": now.plus(chrono::Duration::days(3)).to_db_string()}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    // A delegation to someone of another organisation is refused.
    let toyama: i64 = sqlx::query_scalar(
        "select id from staff where email = 'subsidy.staff@pref.toyama.example.jp'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let res = head.post_json("/api/v1/staff/delegations", &json!({"to_staff_id": toyama, "starts_at": now.to_db_string(), "ends_at": now.plus(chrono::Duration::days(1)).to_db_string()})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    let v = version(&mut deputy, id).await;
    let res = act(
        &mut deputy,
        id,
        json!({"action": "approve", "version": v, "comment": "課長不在のため代決"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["status"], "completed");
    let (actor, behalf): (i64, Option<i64>) = sqlx::query_as("select actor_id, on_behalf_of from approval_actions where action = 'approved' order by id desc limit 1")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let head_id: i64 =
        sqlx::query_scalar("select id from staff where email = 'hs.head@pref.mie.example.jp'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (actor, behalf),
        (deputy_id, Some(head_id)),
        "the record says on whose behalf"
    );
    t.finish().await;
}

/// Staff starting the review of applications while their residents withdraw
/// them, all at once: every request gets its answer (200, or 409 for the one
/// that came second), never a 500. Both paths lock the application before the
/// audit chain's head (one lock order everywhere): when `review::act` took
/// the head first, PostgreSQL broke the resulting deadlocks by failing one
/// side with an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_and_withdrawal_at_once_never_deadlock() {
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
        let mut ids = Vec::new();
        for i in 0..24 {
            let res = resident
                .send_json(
                    Method::POST,
                    &format!("/api/v1/procedures/{hs}/applications"),
                    &json!({"answers": hs_answers(), "submit": true}),
                    &[("Idempotency-Key", &format!("lock-order-{i}"))],
                )
                .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
            ids.push(res.json()["id"].as_i64().unwrap());
        }
        let mut staff = t.client();
        staff
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let mut tasks = Vec::new();
        for id in ids {
            let v = version(&mut staff, id).await;
            let (mut s, mut r) = (staff.clone(), resident.clone());
            tasks.push(tokio::spawn(async move {
                let (act_uri, act) = (
                    format!("/api/v1/staff/applications/{id}/actions"),
                    json!({"action": "start_review", "version": v}),
                );
                let (withdraw_uri, empty) =
                    (format!("/api/v1/applications/{id}/withdraw"), json!({}));
                let (a, w) = tokio::join!(
                    s.post_json(&act_uri, &act),
                    r.post_json(&withdraw_uri, &empty)
                );
                (a.status.as_u16(), a.text(), w.status.as_u16(), w.text())
            }));
        }
        for task in tasks {
            let (a, at, w, wt) = task.await.unwrap();
            assert!(matches!(a, 200 | 409), "start_review: {a} {at}");
            assert!(matches!(w, 200 | 409), "withdraw: {w} {wt}");
        }
        let (code, out) = audit_verify(&t);
        assert_eq!(code, 0, "{out}");
        t.finish().await;
    }
}
