//! Staff accounts for real (issue 14, item 4 in part): `madoguchi staff
//! add|disable|enable|set-role|reset` on the command line, a one-time
//! password that must be changed at the first sign-in (nothing else is
//! allowed until then, pages or API), disabling that ends the sessions, and
//! every change audited. On both backends. (TOTP is not built yet.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::StatusCode;
use common::{TestApp, backends};

/// Runs `madoguchi staff …` on the test installation; (success, stdout + stderr).
fn staff(t: &TestApp, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(common::node::binary())
        .arg("staff")
        .args(args)
        .arg("--data-dir")
        .arg(&t.db.dir)
        .args(["--database-url", &t.db.url])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn last_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn the_second_factor_is_required_good_once_and_counted_with_passwords() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let email = "hs.reviewer@pref.mie.example.jp";
        // A staff member whose phone was lost: the second factor is removed
        // (sessions end), and the next sign-in sets up a new one.
        let (ok, out) = staff(&t, &["reset-mfa", "--email", email]);
        assert!(ok, "{out}");
        let mut api = t.client();
        let res = api
            .post_json(
                "/api/v1/session",
                &serde_json::json!({"email": email, "password": common::DEMO_PASSWORD, "principal": "staff"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(res.json()["error"]["code"], "mfa_enrolment_required");
        let mut c = t.client();
        let res = c.page_sign_in(email, common::DEMO_PASSWORD, true).await;
        assert!(
            res.location().starts_with("/staff/mfa"),
            "{}",
            res.location()
        );
        let (secret, recovery) = enrol_with_codes(&mut c, "/staff").await;
        assert_eq!(c.get("/staff").await.status, StatusCode::OK);

        // The password alone opens nothing: the code page, and every staff page sends there.
        let mut d = t.client();
        let page = d.get("/staff/signin").await;
        let res = d
            .post_form(
                "/staff/signin",
                &[
                    ("_csrf", &page.csrf()),
                    ("email", email),
                    ("password", common::DEMO_PASSWORD),
                    ("next", "/staff"),
                ],
            )
            .await;
        assert_eq!(res.location(), "/staff/signin/code?next=%2Fstaff");
        let res = d.get("/staff").await;
        assert_eq!(res.location(), "/staff/signin/code?next=%2Fstaff");
        assert_eq!(
            d.get("/api/v1/staff/applications").await.json()["error"]["code"],
            "second_factor_required"
        );
        // A code already used (the one enrolment took) is refused.
        let page = d.get("/staff/signin/code?next=%2Fstaff").await;
        let used = common::totp_at(&secret, 0);
        let res = d
            .post_form(
                "/staff/signin/code",
                &[("_csrf", &page.csrf()), ("code", &used), ("next", "/staff")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text()
                .contains("確認コードが違うか、すでに使われています"),
            "{}",
            res.text()
        );
        // A recovery code works, once.
        let res = d
            .post_form(
                "/staff/signin/code",
                &[
                    ("_csrf", &page.csrf()),
                    ("code", &recovery[0].to_uppercase()),
                    ("next", "/staff"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert_eq!(res.location(), "/staff");
        assert_eq!(d.get("/staff").await.status, StatusCode::OK);
        let res = api
            .post_json(
                "/api/v1/session",
                &serde_json::json!({"email": email, "password": common::DEMO_PASSWORD, "principal": "staff", "otp": recovery[0]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        // The API without a code, or with a wrong one: refused; with the next code: a token.
        let res = api
            .post_json(
                "/api/v1/session",
                &serde_json::json!({"email": email, "password": common::DEMO_PASSWORD, "principal": "staff"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        let res = api
            .post_json(
                "/api/v1/session",
                &serde_json::json!({"email": email, "password": common::DEMO_PASSWORD, "principal": "staff", "otp": common::totp_at(&secret, 1)}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());

        // Wrong codes count against the same limit as wrong passwords.
        let mut e = t.client();
        let page = e.get("/staff/signin").await;
        e.post_form(
            "/staff/signin",
            &[
                ("_csrf", &page.csrf()),
                ("email", email),
                ("password", common::DEMO_PASSWORD),
                ("next", "/staff"),
            ],
        )
        .await;
        let page = e.get("/staff/signin/code?next=%2Fstaff").await;
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let res = e
                .post_form(
                    "/staff/signin/code",
                    &[
                        ("_csrf", &page.csrf()),
                        ("code", "999999"),
                        ("next", "/staff"),
                    ],
                )
                .await;
            statuses.push(res.status.as_u16());
        }
        assert!(
            statuses.contains(&422) && statuses.last() == Some(&429),
            "{statuses:?}"
        );

        let failed: i64 = sqlx::query_scalar(
            "select count(*) from audit_log where action = 'staff.second_factor_failed'",
        )
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
        assert!(failed >= 3, "{failed}");
        t.finish().await;
    }
}

#[tokio::test]
async fn a_staff_member_is_added_chooses_a_password_and_is_disabled() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        // Refused: an unknown organisation, section or role.
        let (ok, out) = staff(
            &t,
            &[
                "add",
                "--organisation",
                "999999",
                "--section",
                "x",
                "--email",
                "a@pref.mie.example.jp",
                "--name",
                "a",
            ],
        );
        assert!(!ok && out.contains("no organisation"), "{out}");
        let (ok, out) = staff(
            &t,
            &[
                "add",
                "--organisation",
                "240001",
                "--section",
                "koko-kyoiku",
                "--email",
                "a@pref.mie.example.jp",
                "--name",
                "a",
                "--roles",
                "boss",
            ],
        );
        assert!(!ok && out.contains("boss is not a role"), "{out}");

        let (ok, out) = staff(
            &t,
            &[
                "add",
                "--organisation",
                "240001",
                "--section",
                "koko-kyoiku",
                "--email",
                "new.staff@pref.mie.example.jp",
                "--name",
                "三重 新人",
                "--roles",
                "section_staff",
            ],
        );
        assert!(ok, "{out}");
        let one_time = last_line(&out);
        assert_eq!(one_time.len(), 20, "{out}");

        // The first sign-in leads to choosing a password; nothing else is open until then.
        let mut c = t.client();
        let res = c
            .page_sign_in("new.staff@pref.mie.example.jp", &one_time, true)
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let res = c.get("/staff").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(
            res.location().starts_with("/staff/password?next="),
            "{}",
            res.location()
        );
        let res = c.get("/api/v1/staff/applications").await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert_eq!(res.json()["error"]["code"], "password_change_required");
        let page = c.get("/staff/password?next=%2Fstaff").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("仮のパスワードでログインしました"));
        let csrf = page.csrf();
        // The one-time password again, or a wrong current one: refused at the field.
        let res = c
            .post_form(
                "/staff/password",
                &[
                    ("_csrf", &csrf),
                    ("next", "/staff"),
                    ("current_password", &one_time),
                    ("password", &one_time),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("href=\"#password\""), "{}", res.text());
        let res = c
            .post_form(
                "/staff/password",
                &[
                    ("_csrf", &csrf),
                    ("next", "/staff"),
                    ("current_password", "not it at all"),
                    ("password", "新しい長いパスワードです"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text().contains("href=\"#current_password\""),
            "{}",
            res.text()
        );
        let res = c
            .post_form(
                "/staff/password",
                &[
                    ("_csrf", &csrf),
                    ("next", "/staff"),
                    ("current_password", &one_time),
                    ("password", "新しい長いパスワードです"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert_eq!(res.location(), "/staff");
        // Then the second factor is set up: nothing else is open until it is.
        let res = c.get("/staff").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert_eq!(res.location(), "/staff/mfa?next=%2Fstaff");
        let res = c.get("/api/v1/staff/applications").await;
        assert_eq!(res.json()["error"]["code"], "mfa_enrolment_required");
        let secret = enrol(&mut c, "/staff").await;
        assert_eq!(c.get("/staff").await.status, StatusCode::OK);
        // The one-time password no longer signs in; the chosen one does.
        let mut other = t.client();
        let res = other
            .page_sign_in("new.staff@pref.mie.example.jp", &one_time, true)
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Roles change at the next request.
        let (ok, out) = staff(
            &t,
            &[
                "set-role",
                "--email",
                "new.staff@pref.mie.example.jp",
                "--roles",
                "section_staff,approver",
            ],
        );
        assert!(ok, "{out}");
        assert_eq!(c.get("/staff/approvals").await.status, StatusCode::OK);

        // Disabled: the session ends, and signing in fails.
        let (ok, out) = staff(&t, &["disable", "--email", "new.staff@pref.mie.example.jp"]);
        assert!(ok, "{out}");
        let res = c.get("/staff").await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        assert!(
            res.location().starts_with("/staff/signin"),
            "{}",
            res.location()
        );
        let res = other
            .page_sign_in(
                "new.staff@pref.mie.example.jp",
                "新しい長いパスワードです",
                true,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Enabled and reset: a new one-time password, to be changed again.
        let (ok, out) = staff(&t, &["enable", "--email", "new.staff@pref.mie.example.jp"]);
        assert!(ok, "{out}");
        let (ok, out) = staff(&t, &["reset", "--email", "new.staff@pref.mie.example.jp"]);
        assert!(ok, "{out}");
        let again = last_line(&out);
        let mut third = t.client();
        sign_in_with_code(&mut third, "new.staff@pref.mie.example.jp", &again, &secret).await;
        assert!(
            third
                .get("/staff")
                .await
                .location()
                .starts_with("/staff/password")
        );
        let (ok, out) = staff(&t, &["reset", "--email", "nobody@pref.mie.example.jp"]);
        assert!(!ok && out.contains("no staff account"), "{out}");

        // Every change is in the audit log.
        let actions: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
            .fetch_all(t.app.platform.db.pool())
            .await
            .unwrap();
        for wanted in [
            "staff.added",
            "staff.password_changed",
            "staff.roles_set",
            "staff.disabled",
            "staff.enabled",
            "staff.password_reset",
            "staff.mfa_enrolled",
        ] {
            assert!(
                actions.iter().any(|a| a == wanted),
                "{wanted} in {actions:?}"
            );
        }
        assert!(!actions.join(" ").contains(&one_time));
        t.finish().await;
    }
}

/// Sets up the second factor on the enrolment page the session was sent to:
/// reads the setup key from the page as a person types it into an
/// authenticator app, answers with its current code; returns the secret.
async fn enrol(c: &mut common::Client, next: &str) -> Vec<u8> {
    enrol_with_codes(c, next).await.0
}

/// [`enrol`], also returning the recovery codes shown.
async fn enrol_with_codes(c: &mut common::Client, next: &str) -> (Vec<u8>, Vec<String>) {
    let page = c
        .get(&format!(
            "/staff/mfa?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    let marker = "class=\"secret-key\" lang=\"en\" translate=\"no\">";
    let start = text.find(marker).expect("the setup key is shown") + marker.len();
    let key = &text[start..start + text[start..].find('<').unwrap()];
    let secret = platform::totp::from_base32(key).expect("the setup key is base32");
    assert_eq!(secret.len(), 20);
    assert!(text.contains("otpauth://totp/"), "{text}");
    // A wrong code first: refused at the field.
    let res = c
        .post_form(
            "/staff/mfa",
            &[("_csrf", &page.csrf()), ("next", next), ("code", "000000")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("href=\"#code\""), "{}", res.text());
    let code = common::totp_at(&secret, 0);
    let res = c
        .post_form(
            "/staff/mfa",
            &[("_csrf", &page.csrf()), ("next", next), ("code", &code)],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.text().contains("回復コード"), "{}", res.text());
    let codes: Vec<String> = res
        .text()
        .split("<li><code>")
        .skip(1)
        .map(|p| p[..p.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), platform::totp::RECOVERY_CODES);
    (secret, codes)
}

/// Signs in with a password and the current code of `secret` (the next
/// step's if the current one was used a moment ago).
async fn sign_in_with_code(
    c: &mut common::Client,
    email: &str,
    password: &str,
    secret: &[u8],
) -> common::Res {
    let page = c.get("/staff/signin").await;
    let res = c
        .post_form(
            "/staff/signin",
            &[
                ("_csrf", &page.csrf()),
                ("email", email),
                ("password", password),
                ("next", "/staff"),
            ],
        )
        .await;
    assert!(
        res.location().starts_with("/staff/signin/code"),
        "{}",
        res.location()
    );
    let mut last = None;
    for offset in [0, 1] {
        let page = c.get(&res.location()).await;
        let done = c
            .post_form(
                "/staff/signin/code",
                &[
                    ("_csrf", &page.csrf()),
                    ("code", &common::totp_at(secret, offset)),
                    ("next", "/staff"),
                ],
            )
            .await;
        if done.status == StatusCode::SEE_OTHER {
            return done;
        }
        last = Some(done);
    }
    panic!("the code was refused: {}", last.unwrap().text());
}
