//! The authorisation matrix: every role against every resident and staff
//! endpoint, with the intended outcome of each pair, on both backends.
//!
//! Roles: anonymous; the resident who owns the application; another
//! resident; staff of the application's section (section staff, approver);
//! staff of another section of the same organisation; staff of another
//! organisation; the organisation's admin; its DX office. Requests that are
//! allowed are made so that they change nothing (a stale version, a body that
//! fails validation), so one matrix can run on one set of data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::Method;
use common::{Client, DEMO_PASSWORD, TestApp, backends};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    OtherResident,
    SectionStaff,
    SectionApprover,
    OtherSection,
    OtherOrganisation,
    OrgAdmin,
    DxOffice,
}

const ALL: [Who; 9] = [
    Who::Anonymous,
    Who::Owner,
    Who::OtherResident,
    Who::SectionStaff,
    Who::SectionApprover,
    Who::OtherSection,
    Who::OtherOrganisation,
    Who::OrgAdmin,
    Who::DxOffice,
];

fn account(who: Who) -> Option<(&'static str, &'static str)> {
    Some(match who {
        Who::Anonymous => return None,
        Who::Owner => ("taro@example.jp", "resident"),
        Who::OtherResident => ("business@example.jp", "resident"),
        Who::SectionStaff => ("hs.staff@pref.mie.example.jp", "staff"),
        Who::SectionApprover => ("hs.head@pref.mie.example.jp", "staff"),
        Who::OtherSection => ("welfare.staff@pref.mie.example.jp", "staff"),
        Who::OtherOrganisation => ("subsidy.staff@pref.toyama.example.jp", "staff"),
        Who::OrgAdmin => ("admin@pref.mie.example.jp", "staff"),
        Who::DxOffice => ("dx@pref.mie.example.jp", "staff"),
    })
}

fn is_resident(w: Who) -> bool {
    matches!(w, Who::Owner | Who::OtherResident)
}

fn is_section(w: Who) -> bool {
    matches!(w, Who::SectionStaff | Who::SectionApprover)
}

/// An endpoint, how to call it, and the outcome intended for each role.
struct Case {
    name: &'static str,
    api: bool,
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    expect: fn(Who) -> u16,
}

/// A resident API endpoint on the owner's application: the owner gets `ok`,
/// other residents 404, staff and the anonymous 401.
fn resident_api(owner_status: u16) -> impl Fn(Who) -> u16 {
    move |w| match w {
        Who::Owner => owner_status,
        Who::OtherResident => 404,
        _ => 401,
    }
}

#[tokio::test]
async fn every_role_against_every_endpoint() {
    for backend in backends() {
        let t = TestApp::with_demo(backend).await;
        let db = t.app.platform.db.clone();
        let hs: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(db.pool())
                .await
                .unwrap();

        // The owner's submitted application A and a draft D.
        let mut owner = t.client();
        owner
            .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let a = owner
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": backoffice_answers(), "submit": true}),
                &[("Idempotency-Key", "matrix")],
            )
            .await
            .json();
        let a_id = a["id"].as_i64().unwrap();
        let d_id = owner
            .post_json(
                &format!("/api/v1/procedures/{hs}/applications"),
                &json!({"answers": {}}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let att = owner
            .post_multipart(
                &format!("/api/v1/applications/{d_id}/attachments"),
                &[("question", "x")],
                &[("file", "a.pdf", b"%PDF-1.4")],
            )
            .await;
        assert_eq!(att.status, 422, "no such file question: {}", att.text());

        // API clients per role (bearer tokens) and browsers per role (cookie sessions).
        let mut api: Vec<(Who, Client)> = Vec::new();
        let mut web: Vec<(Who, Client)> = Vec::new();
        for who in ALL {
            let mut c = t.client();
            let mut w = t.client();
            if let Some((email, principal)) = account(who) {
                c.api_sign_in(email, DEMO_PASSWORD, principal).await;
                let res = w
                    .page_sign_in(email, DEMO_PASSWORD, principal == "staff")
                    .await;
                assert_eq!(res.status, 303, "{who:?} signs in");
            }
            api.push((who, c));
            web.push((who, w));
        }

        let stale = json!({"action": "start_review", "version": 0});
        let cases: Vec<Case> = vec![
            // Resident API.
            Case {
                name: "get my application",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/applications/{a_id}"),
                body: None,
                expect: |w| resident_api(200)(w),
            },
            Case {
                name: "list my applications",
                api: true,
                method: Method::GET,
                path: "/api/v1/applications".into(),
                body: None,
                expect: |w| if is_resident(w) { 200 } else { 401 },
            },
            Case {
                name: "update a submitted application",
                api: true,
                method: Method::PATCH,
                path: format!("/api/v1/applications/{a_id}"),
                body: Some(json!({"answers": {}})),
                expect: |w| resident_api(409)(w),
            },
            Case {
                name: "update a draft with a bad key",
                api: true,
                method: Method::PATCH,
                path: format!("/api/v1/applications/{d_id}"),
                body: Some(json!({"answers": {"nope": 1}})),
                expect: |w| resident_api(422)(w),
            },
            Case {
                name: "submit an incomplete draft",
                api: true,
                method: Method::POST,
                path: format!("/api/v1/applications/{d_id}/submit"),
                body: Some(json!({})),
                expect: |w| resident_api(422)(w),
            },
            Case {
                name: "withdraw a draft",
                api: true,
                method: Method::POST,
                path: format!("/api/v1/applications/{d_id}/withdraw"),
                body: Some(json!({})),
                expect: |w| resident_api(409)(w),
            },
            Case {
                name: "upload to a submitted application",
                api: true,
                method: Method::POST,
                path: format!("/api/v1/applications/{a_id}/attachments"),
                body: None,
                expect: |w| resident_api(409)(w),
            },
            Case {
                name: "download a missing attachment",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/applications/{a_id}/attachments/999999"),
                body: None,
                expect: |w| resident_api(404)(w),
            },
            Case {
                name: "start an application (empty draft allowed)",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/procedures/{hs}"),
                body: None,
                expect: |_| 200,
            },
            // Staff API.
            Case {
                name: "staff inbox",
                api: true,
                method: Method::GET,
                path: "/api/v1/staff/applications".into(),
                body: None,
                expect: |w| {
                    if matches!(w, Who::Anonymous) || is_resident(w) {
                        401
                    } else {
                        200
                    }
                },
            },
            Case {
                name: "staff: one application",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/staff/applications/{a_id}"),
                body: None,
                expect: staff_scoped(200),
            },
            Case {
                name: "staff: a draft is nobody's business",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/staff/applications/{d_id}"),
                body: None,
                expect: |w| {
                    if matches!(w, Who::Anonymous) || is_resident(w) {
                        401
                    } else {
                        404
                    }
                },
            },
            Case {
                name: "staff: act with a stale version",
                api: true,
                method: Method::POST,
                path: format!("/api/v1/staff/applications/{a_id}/actions"),
                body: Some(stale.clone()),
                expect: staff_scoped(409),
            },
            Case {
                name: "staff: export CSV",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/staff/procedures/{hs}/export.csv"),
                body: None,
                expect: staff_scoped(200),
            },
            Case {
                name: "staff: export xlsx",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/staff/procedures/{hs}/export.xlsx"),
                body: None,
                expect: staff_scoped(200),
            },
            Case {
                name: "staff: approvals waiting",
                api: true,
                method: Method::GET,
                path: "/api/v1/staff/approvals".into(),
                body: None,
                expect: |w| {
                    if matches!(w, Who::Anonymous) || is_resident(w) {
                        401
                    } else {
                        200
                    }
                },
            },
            Case {
                name: "staff: attachment of another section",
                api: true,
                method: Method::GET,
                path: format!("/api/v1/staff/applications/{a_id}/attachments/1"),
                body: None,
                expect: |w| {
                    if matches!(w, Who::Anonymous) || is_resident(w) {
                        401
                    } else {
                        404
                    }
                },
            },
            // Resident pages (a signed-out visitor, or staff, is sent to the sign-in page).
            Case {
                name: "page: my application",
                api: false,
                method: Method::GET,
                path: format!("/applications/{a_id}"),
                body: None,
                expect: |w| match w {
                    Who::Owner => 200,
                    Who::OtherResident => 404,
                    _ => 303,
                },
            },
            Case {
                name: "page: a question page of my draft",
                api: false,
                method: Method::GET,
                path: format!("/applications/{d_id}/pages/applicant"),
                body: None,
                expect: |w| match w {
                    Who::Owner => 200,
                    Who::OtherResident => 404,
                    _ => 303,
                },
            },
            // Staff pages.
            Case {
                name: "page: inbox",
                api: false,
                method: Method::GET,
                path: "/staff".into(),
                body: None,
                expect: |w| {
                    if matches!(w, Who::Anonymous) || is_resident(w) {
                        303
                    } else {
                        200
                    }
                },
            },
            Case {
                name: "page: staff application",
                api: false,
                method: Method::GET,
                path: format!("/staff/applications/{a_id}"),
                body: None,
                expect: |w| match w {
                    Who::Anonymous | Who::Owner | Who::OtherResident => 303,
                    w if is_section(w) => 200,
                    _ => 404,
                },
            },
            Case {
                name: "page: grouped export",
                api: false,
                method: Method::GET,
                path: format!("/staff/procedures/{hs}/grouped.xlsx"),
                body: None,
                expect: |w| match w {
                    Who::Anonymous | Who::Owner | Who::OtherResident => 303,
                    w if is_section(w) => 200,
                    _ => 404,
                },
            },
        ];

        let mut failures = Vec::new();
        let mut checked = 0;
        for case in &cases {
            for who in ALL {
                let client = if case.api {
                    &mut api.iter_mut().find(|(w, _)| *w == who).unwrap().1
                } else {
                    &mut web.iter_mut().find(|(w, _)| *w == who).unwrap().1
                };
                let res = match (&case.body, case.name) {
                    (_, "upload to a submitted application") => {
                        client
                            .post_multipart(
                                &case.path,
                                &[("question", "x")],
                                &[("file", "a.pdf", b"%PDF-1.4")],
                            )
                            .await
                    }
                    (Some(b), _) => {
                        client
                            .send_json(case.method.clone(), &case.path, b, &[])
                            .await
                    }
                    (None, _) => {
                        client
                            .request(case.method.clone(), &case.path, None, Vec::new(), &[])
                            .await
                    }
                };
                checked += 1;
                let want = (case.expect)(who);
                if res.status.as_u16() != want {
                    failures.push(format!(
                        "{} as {who:?}: got {}, want {want}: {}",
                        case.name,
                        res.status,
                        res.text().chars().take(200).collect::<String>()
                    ));
                }
            }
        }
        // State-changing staff pages need the CSRF token and the right role.
        for (who, client) in web.iter_mut() {
            let page = client.get("/staff/procedures").await;
            if page.status != 200 {
                continue;
            }
            let res = client
                .post_form(
                    &format!("/staff/procedures/{hs}/route"),
                    &[("_csrf", &page.csrf()), ("name_0", "起案")],
                )
                .await;
            checked += 1;
            let want = match who {
                Who::OrgAdmin => 422,          // allowed, but a one-step route is refused
                Who::OtherOrganisation => 404, // another organisation's procedure does not exist for them
                _ => 403,
            };
            if res.status.as_u16() != want {
                failures.push(format!(
                    "set route as {who:?}: got {}, want {want}",
                    res.status
                ));
            }
        }
        // The inbox lists the application only for its section.
        for (who, client) in api
            .iter_mut()
            .filter(|(w, _)| !matches!(w, Who::Anonymous) && !is_resident(*w))
        {
            let list = client.get("/api/v1/staff/applications").await.json();
            let listed = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == a_id);
            checked += 1;
            if listed != is_section(*who) {
                failures.push(format!("inbox of {who:?} lists A: {listed}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {checked} checks failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        // Nothing changed: A is still 送信済 and D still a draft.
        let statuses: Vec<(i64, String)> =
            sqlx::query_as("select id, status from applications order by id")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(
            statuses,
            vec![(a_id, "submitted".into()), (d_id, "draft".into())]
        );
        t.finish().await;
    }
}

/// A staff endpoint on the high-school section's data: its staff and approver
/// get `ok`; other staff 404; residents and the anonymous 401.
fn staff_scoped(ok: u16) -> fn(Who) -> u16 {
    match ok {
        200 => |w| match w {
            Who::Anonymous | Who::Owner | Who::OtherResident => 401,
            w if is_section(w) => 200,
            _ => 404,
        },
        409 => |w| match w {
            Who::Anonymous | Who::Owner | Who::OtherResident => 401,
            w if is_section(w) => 409,
            _ => 404,
        },
        _ => unreachable!(),
    }
}

fn backoffice_answers() -> serde_json::Value {
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
