//! The organisation administrator's staff page (issue 14): add a staff
//! member (one-time password shown once), roles, disable and enable, a new
//! one-time password, a reset second factor; only within the administrator's
//! own organisation, only for administrators, never against themselves.
//! Both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::StatusCode;
use common::{DEMO_PASSWORD, TestApp, backends};

async fn staff_id(t: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("select id from staff where email = $1")
        .bind(email)
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_administrator_manages_their_organisations_staff_only() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        // Not an administrator: refused.
        let mut staff = t.client();
        staff
            .page_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, true)
            .await;
        assert_eq!(
            staff.get("/staff/admin/staff").await.status,
            StatusCode::FORBIDDEN
        );

        let mut admin = t.client();
        let res = admin
            .page_sign_in("admin@pref.mie.example.jp", DEMO_PASSWORD, true)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let page = admin.get("/staff/admin/staff").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let text = page.text();
        assert!(text.contains("hs.staff@pref.mie.example.jp"));
        // Another organisation's staff are not listed.
        assert!(!text.contains("admin@pref.toyama.example.jp"));
        let csrf = page.csrf();
        let section: i64 = sqlx::query_scalar(
            "select id from sections where code = 'koko-kyoiku' and organisation_id = (select id from organisations where code = '240001')",
        )
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();

        // Adding: errors at their fields, then the one-time password once.
        let res = admin
            .post_form(
                "/staff/admin/staff",
                &[("_csrf", &csrf), ("email", "not an address"), ("name", "")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        for anchor in ["#email", "#name", "#section", "#roles"] {
            assert!(
                res.text().contains(&format!("href=\"{anchor}\"")),
                "{anchor}: {}",
                res.text()
            );
        }
        let section_text = section.to_string();
        let res = admin
            .post_form(
                "/staff/admin/staff",
                &[
                    ("_csrf", &csrf),
                    ("email", "new.colleague@pref.mie.example.jp"),
                    ("name", "三重 新人"),
                    ("section", &section_text),
                    ("roles", "section_staff"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let text = res.text();
        let marker = "<code class=\"secret-key\" lang=\"en\" translate=\"no\">";
        let start = text.find(marker).expect("the one-time password is shown") + marker.len();
        let one_time = text[start..start + text[start..].find('<').unwrap()].to_string();
        assert_eq!(one_time.len(), 20);
        // It signs in, and must choose a password first.
        let mut newcomer = t.client();
        newcomer
            .page_sign_in("new.colleague@pref.mie.example.jp", &one_time, true)
            .await;
        assert!(
            newcomer
                .get("/staff")
                .await
                .location()
                .starts_with("/staff/password")
        );
        // The same address again: refused at the field.
        let res = admin
            .post_form(
                "/staff/admin/staff",
                &[
                    ("_csrf", &csrf),
                    ("email", "new.colleague@pref.mie.example.jp"),
                    ("name", "二人目"),
                    ("section", &section_text),
                    ("roles", "approver"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        let id = staff_id(&t, "new.colleague@pref.mie.example.jp").await;
        let act = |action: &'static str, extra: Vec<(&'static str, &'static str)>| {
            let mut fields = vec![("_csrf", csrf.clone()), ("_action", action.to_string())];
            fields.extend(extra.into_iter().map(|(k, v)| (k, v.to_string())));
            fields
        };
        let post = |c: &mut common::Client, id: i64, fields: Vec<(&'static str, String)>| {
            let mut c = c.clone();
            async move {
                let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                c.post_form(&format!("/staff/admin/staff/{id}"), &f).await
            }
        };
        // Roles, disable (the newcomer's session ends), enable, a new one-time password, the second factor.
        let res = post(
            &mut admin,
            id,
            act(
                "roles",
                vec![("roles", "section_staff"), ("roles", "approver")],
            ),
        )
        .await;
        assert_eq!(res.location(), "/staff/admin/staff?done=roles");
        let roles: String = sqlx::query_scalar("select roles from staff where id = $1")
            .bind(id)
            .fetch_one(t.app.platform.db.pool())
            .await
            .unwrap();
        assert!(roles.contains("approver"), "{roles}");
        let res = post(&mut admin, id, act("disable", vec![])).await;
        assert_eq!(res.location(), "/staff/admin/staff?done=disabled");
        assert!(
            newcomer
                .get("/staff/password")
                .await
                .location()
                .starts_with("/staff/signin")
        );
        let res = post(&mut admin, id, act("enable", vec![])).await;
        assert_eq!(res.location(), "/staff/admin/staff?done=enabled");
        let res = post(&mut admin, id, act("reset_password", vec![])).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.text().contains(marker));
        let res = post(&mut admin, id, act("reset_mfa", vec![])).await;
        assert_eq!(res.location(), "/staff/admin/staff?done=mfa");

        // Never against themselves; never another organisation's staff.
        let me = staff_id(&t, "admin@pref.mie.example.jp").await;
        for (action, extra) in [
            ("disable", vec![]),
            ("roles", vec![("roles", "section_staff")]),
            ("reset_mfa", vec![]),
        ] {
            let res = post(&mut admin, me, act(action, extra)).await;
            assert_eq!(res.location(), "/staff/admin/staff?done=self", "{action}");
        }
        let toyama = staff_id(&t, "admin@pref.toyama.example.jp").await;
        let res = post(&mut admin, toyama, act("disable", vec![])).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        let disabled: i64 = sqlx::query_scalar("select count(*) from staff where disabled = $1")
            .bind(true)
            .fetch_one(t.app.platform.db.pool())
            .await
            .unwrap();
        assert_eq!(disabled, 0);

        // Each change is audited with the administrator as the actor.
        let actions: Vec<String> = sqlx::query_scalar(
            "select action from audit_log where actor_kind = 'staff' and actor_id = $1 and subject_kind = 'staff' \
             and action <> 'staff.signed_in' order by id",
        )
        .bind(me)
        .fetch_all(t.app.platform.db.pool())
        .await
        .unwrap();
        assert_eq!(
            actions,
            [
                "staff.added",
                "staff.roles_set",
                "staff.disabled",
                "staff.enabled",
                "staff.password_reset",
                "staff.mfa_reset"
            ]
        );
        t.finish().await;
    }
}
