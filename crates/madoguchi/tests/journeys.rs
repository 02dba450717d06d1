//! The everyday journeys as people live them (issue 13), over HTTP: finding a
//! procedure with the words residents use, the procedure page, date rules,
//! drafts and corrections waiting for the resident, the resubmission's own
//! receipt, staff errors at their fields with what was typed kept, and each
//! role landing where its work is. The browser walk (`tests/browser`) covers
//! the same pages at 360 px with axe.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{DEMO_PASSWORD, TestApp};
use platform::db::Backend;
use serde_json::{Value, json};

fn encode(s: &str) -> String {
    platform::web::encode_component(s)
}

async fn procedure_id(t: &TestApp, code: &str) -> i64 {
    sqlx::query_scalar("select id from procedures where code = $1")
        .bind(code)
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn residents_find_procedures_with_their_own_words() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    // Each used to find nothing (the usual kanji, the reading, the notebook
    // residents hold, everyday words for what they need).
    for words in [
        "車椅子",
        "くるまいす",
        "身体障害者手帳",
        "身障者",
        "歩けない",
        "駐車許可",
        "障がい者 駐車",
        "車いす 駐車場",
        "妊婦",
    ] {
        let res = c
            .get(&format!("/api/v1/procedures?q={}", encode(words)))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let names: Vec<String> = res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        assert!(
            names.iter().any(|n| n.contains("おもいやり駐車場利用証")),
            "{words} finds the parking permit: {names:?}"
        );
    }
    // Readings from the FAQ's dictionary (loaded in the background at start):
    // a name typed in kana finds the name written in kanji.
    let mut found = Vec::new();
    for _ in 0..120 {
        let res = c
            .get(&format!(
                "/api/v1/procedures?q={}",
                encode("ちゅうしゃじょう りよう")
            ))
            .await;
        found = res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        found.iter().any(|n| n.contains("おもいやり駐車場利用証")),
        "ちゅうしゃじょう りよう finds 駐車場利用証 by its reading: {found:?}"
    );
    let res = c
        .get(&format!(
            "/api/v1/procedures?q={}",
            encode("にゅうがくがんしょ")
        ))
        .await;
    assert!(
        res.text().contains("県立高等学校入学願書"),
        "{}",
        res.text()
    );
    // Nothing matches: said plainly, with the FAQ's answer to the same words
    // one step away and who to ask; not "0件の手続きが見つかりました".
    let page = c.get(&format!("/procedures?q={}", encode("住民票"))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("「住民票」に合う手続きは見つかりませんでした。"),
        "{html}"
    );
    assert!(!html.contains("0件の手続きが見つかりました"), "{html}");
    assert!(
        html.contains(&format!("href=\"/faq?q={}\"", encode("住民票"))),
        "{html}"
    );
    assert!(html.contains("担当窓口にお問い合わせください"), "{html}");
    t.finish().await;
}

#[tokio::test]
async fn the_procedure_page_says_things_once_and_the_phone_can_be_tapped() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    let id = procedure_id(&t, "mie-parking-permit").await;
    let html = c.get(&format!("/procedures/{id}")).await.text();
    assert!(!html.contains("無料（無料）"), "{html}");
    assert!(html.contains("子ども・福祉部 地域福祉課"), "{html}");
    assert!(!html.contains("（子ども・福祉部）"), "{html}");
    assert!(html.contains("href=\"tel:0592242256\""), "{html}");
    // What GOV.UK's "before you start" tells, before the button.
    let before = html.find("申請する前に").expect("before you start");
    for label in ["申請できる人", "標準処理期間", "有効期間", "結果の知らせ方"]
    {
        let at = html.find(label).unwrap_or_else(|| panic!("{label}"));
        assert!(at > before, "{label}");
    }
    assert!(before < html.find("ログインして申請する").unwrap());
    // English too.
    let html = c.get(&format!("/procedures/{id}?lang=en")).await.text();
    assert!(html.contains("href=\"tel:0592242256\""), "{html}");
    assert!(html.contains("How long it takes"), "{html}");
    t.finish().await;
}

#[tokio::test]
async fn a_birth_date_in_the_future_is_refused() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    c.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let id = procedure_id(&t, "mie-parking-permit").await;
    let next_year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let next_year: i32 = next_year.parse::<i32>().unwrap() + 1;
    for (typed, refused) in [
        ("2031-01-01".to_string(), true),
        ("令和99年1月1日".to_string(), true),
        (format!("{next_year}-01-01"), true),
        ("昭和50年5月5日".to_string(), false),
    ] {
        let res = c
            .send_json(
                Method::POST,
                &format!("/api/v1/procedures/{id}/applications"),
                &json!({"answers": {"birth_date": typed}}),
                &[],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let issues = res.json()["issues"].clone();
        let on_birth: Vec<&Value> = issues
            .as_array()
            .map(|a| a.iter().filter(|i| i["field"] == "birth_date").collect())
            .unwrap_or_default();
        if refused {
            assert_eq!(on_birth.len(), 1, "{typed}: {issues}");
            assert_eq!(on_birth[0]["code"], "answer.date_too_late", "{typed}");
            let message = on_birth[0]["message"].as_str().unwrap();
            assert!(message.contains("以前の日付"), "{message}");
        } else {
            assert!(on_birth.is_empty(), "{typed}: {issues}");
        }
    }
    t.finish().await;
}

/// The demo resident (taro@example.jp) sends a complete high-school
/// application through the API: its id and receipt number.
async fn send_high_school_application(t: &TestApp, key: &str) -> (i64, String) {
    let hs = procedure_id(t, "mie-hs-entrance").await;
    let mut resident = t.client();
    resident
        .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let answers = json!({
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
    });
    let res = resident
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": answers, "submit": true}),
            &[("Idempotency-Key", key)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    (
        body["id"].as_i64().unwrap(),
        body["receipt_number"].as_str().unwrap().to_string(),
    )
}

/// Signs in through the staff page without saying where to go, as a person does.
async fn staff_sign_in(c: &mut common::Client, email: &str) -> String {
    let csrf = c.get("/staff/signin").await.csrf();
    let res = c
        .post_form(
            "/staff/signin",
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    // The second factor: the demo staff's current code.
    let code_page = res.location();
    assert!(code_page.starts_with("/staff/signin/code"), "{code_page}");
    let mut res = None;
    for code in common::totp_codes() {
        let page = c.get(&code_page).await;
        let next = form_urlencoded::parse(code_page.split_once('?').unwrap().1.as_bytes())
            .find(|(k, _)| k == "next")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let done = c
            .post_form(
                "/staff/signin/code",
                &[("_csrf", &page.csrf()), ("code", &code), ("next", &next)],
            )
            .await;
        if done.status == StatusCode::SEE_OTHER {
            res = Some(done);
            break;
        }
    }
    let res = res.expect("the code is taken");
    let first = res.location();
    let res = c.get(&first).await;
    if res.status == StatusCode::SEE_OTHER {
        res.location()
    } else {
        first
    }
}

#[tokio::test]
async fn each_staff_role_lands_where_its_work_is() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    for (email, lands) in [
        ("hs.staff@pref.mie.example.jp", "/staff"),
        ("hs.head@pref.mie.example.jp", "/staff/approvals"),
    ] {
        let mut c = t.client();
        assert_eq!(staff_sign_in(&mut c, email).await, lands, "{email}");
        let menu = c.get("/staff").await.text();
        assert!(!menu.contains("href=\"/staff/plans\""), "{email}");
    }
    // The DX office lands on its plans and finds them in the staff menu, in
    // words for staff (not a path in the source code).
    let mut dx = t.client();
    assert_eq!(
        staff_sign_in(&mut dx, "dx@pref.mie.example.jp").await,
        "/staff/plans"
    );
    let menu = dx.get("/staff").await.text();
    assert!(menu.contains("href=\"/staff/plans\""), "{menu}");
    let plans = dx.get("/staff/plans").await.text();
    assert!(!plans.contains("crates/"), "{plans}");
    t.finish().await;
}

#[tokio::test]
async fn corrections_and_decisions_through_the_pages() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    // The resident sends the high-school application through the API.
    let (id, receipt) = send_high_school_application(&t, "journeys-1").await;

    // Staff find it by receipt number (typed in full width too), by name,
    // and by its reading in hiragana.
    let mut staff = t.client();
    staff_sign_in(&mut staff, "hs.staff@pref.mie.example.jp").await;
    let link = format!("href=\"/staff/applications/{id}\"");
    let full_width: String = receipt
        .chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | '-' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            c => c,
        })
        .collect();
    for words in [
        receipt.as_str(),
        &receipt.to_lowercase(),
        &full_width,
        "三重 花子",
        "みえ はなこ",
    ] {
        let html = staff
            .get(&format!("/staff?q={}", encode(words)))
            .await
            .text();
        assert!(html.contains(&link), "{words} finds it");
    }
    for words in ["三重 次郎", "100%", "_"] {
        let html = staff
            .get(&format!("/staff?q={}", encode(words)))
            .await
            .text();
        assert!(!html.contains(&link), "{words} does not find it");
    }

    // Staff open it and start the review on the page.
    let page = staff.get(&format!("/staff/applications/{id}")).await;
    let html = page.text();
    // The application comes before what can be done with it.
    let answers_at = html.find("<h2>申請内容</h2>").unwrap();
    let actions_at = html.find("<h2>処理</h2>").unwrap();
    assert!(answers_at < actions_at, "answers above the actions");
    let csrf = page.csrf();
    let version = |html: &str| {
        let at = html.find("name=\"version\" value=\"").unwrap() + 22;
        html[at..].split('"').next().unwrap().to_string()
    };
    let v = version(&html);
    let res = act_on_page(&mut staff, id, &csrf, &v, &[("action", "start_review")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());

    // No decision is chosen for them; drafting without one says so at the
    // choice, and the reason typed is kept.
    let html = staff.get(&format!("/staff/applications/{id}")).await.text();
    assert!(
        !html.contains("value=\"grant\" checked"),
        "no default decision"
    );
    let v = version(&html);
    let res = act_on_page(
        &mut staff,
        id,
        &csrf,
        &v,
        &[("action", "draft"), ("reason", "書類がそろっています")],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("id=\"outcome-error\""), "{html}");
    assert!(html.contains("href=\"#outcome\""), "{html}");
    assert!(html.contains(">書類がそろっています</textarea>"), "{html}");

    // Sending back with no message: the error is at the message box.
    let res = act_on_page(
        &mut staff,
        id,
        &csrf,
        &v,
        &[("action", "return"), ("message", "  ")],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("id=\"message-error\""), "{html}");
    assert!(html.contains("href=\"#message\""), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    // What the two ways back mean is said where they are.
    assert!(html.contains("申請者が直して再提出するまで"), "{html}");

    // Sent back with a message.
    let res = act_on_page(
        &mut staff,
        id,
        &csrf,
        &v,
        &[
            ("action", "return"),
            ("message", "中学校名を正式な名称で書いてください。"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());

    // The resident signs in on the page: the application to correct is shown
    // first, on the home page and in the list.
    let mut browser = t.client();
    let res = browser
        .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let home = browser.get("/").await.text();
    assert!(home.contains("続きが必要な申請があります"), "{home}");
    assert!(home.contains("修正して再提出する"), "{home}");
    let list = browser.get("/applications").await.text();
    assert!(
        list.find("続きが必要な申請があります").unwrap() < list.find("<table").unwrap(),
        "{list}"
    );
    // The correction message is on the pages being corrected.
    let check = browser.get(&format!("/applications/{id}/check")).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text());
    let check_html = check.text();
    assert!(
        check_html.contains("中学校名を正式な名称で書いてください。"),
        "{check_html}"
    );
    assert!(check_html.contains("この内容で再提出する"), "{check_html}");
    let csrf = check.csrf();
    let res = browser
        .post_form(&format!("/applications/{id}/submit"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let receipt = browser.get(&res.location()).await.text();
    assert!(receipt.contains("再提出を受け付けました"), "{receipt}");
    assert!(!receipt.contains("<h1>申請を受け付けました"), "{receipt}");
    // Staff see it as 再提出, with when.
    let inbox = staff.get("/staff?status=submitted").await.text();
    let row = &inbox[inbox.find(&link).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains(">再提出</span>"), "{row}");
    assert!(row.contains("再提出 20"), "{row}");

    // The application page continues the review: the correction asked for
    // and what changed come first, above the answers.
    let html = staff.get(&format!("/staff/applications/{id}")).await.text();
    let asked = html
        .find("依頼した修正：")
        .expect("the correction asked for is shown");
    assert!(
        html[asked..].contains("中学校名を正式な名称で書いてください。"),
        "{html}"
    );
    assert!(
        html.contains("変更点を確かめて、審査を続けてください"),
        "{html}"
    );
    assert!(
        asked < html.find("<h2>申請内容</h2>").unwrap_or(usize::MAX),
        "{html}"
    );

    // A decision drafted: its history line reads as words, for both.
    let v = version(&html);
    let res = act_on_page(
        &mut staff,
        id,
        &csrf_of(&html),
        &v,
        &[("action", "start_review")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let html = staff.get(&format!("/staff/applications/{id}")).await.text();
    let res = act_on_page(
        &mut staff,
        id,
        &csrf_of(&html),
        &version(&html),
        &[("action", "draft"), ("outcome", "grant"), ("reason", "")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    for html in [
        staff.get(&format!("/staff/applications/{id}")).await.text(),
        browser.get(&format!("/applications/{id}")).await.text(),
        browser
            .get(&format!("/applications/{id}?lang=en"))
            .await
            .text(),
    ] {
        assert!(!html.contains("event.decision_drafted"), "{html}");
    }
    // The two approvers sign; the resident's page says what was decided and
    // what happens next.
    sign_all(&t, id).await;
    let html = browser
        .get(&format!("/applications/{id}?lang=ja"))
        .await
        .text();
    assert!(html.contains("申請が認められました"), "{html}");
    assert!(html.contains("受け取り方"), "{html}");
    assert!(html.contains("href=\"tel:0592242913\""), "{html}");
    // `finish` fails on any message key asked for without a text.
    t.finish().await;
}

async fn act(c: &mut common::Client, id: i64, mut body: Value) -> common::Res {
    let v = c
        .get(&format!("/api/v1/staff/applications/{id}"))
        .await
        .json()["version"]
        .clone();
    body["version"] = v;
    c.post_json(&format!("/api/v1/staff/applications/{id}/actions"), &body)
        .await
}

/// The high-school route's two steps (審査, 決裁) signed by their approvers.
async fn sign_all(t: &TestApp, id: i64) {
    for email in [
        "hs.reviewer@pref.mie.example.jp",
        "hs.head@pref.mie.example.jp",
    ] {
        let mut c = t.client();
        c.api_sign_in(email, DEMO_PASSWORD, "staff").await;
        let res = act(&mut c, id, json!({"action": "approve"})).await;
        assert_eq!(res.status, StatusCode::OK, "{email}: {}", res.text());
    }
}

#[tokio::test]
async fn a_refusal_tells_the_resident_why_and_what_next() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let (id, _) = send_high_school_application(&t, "journeys-refusal").await;
    let mut staff = t.client();
    staff
        .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    for body in [
        json!({"action": "start_review"}),
        json!({"action": "draft", "outcome": "refuse", "reason": "出願期間を過ぎてから届きました。"}),
    ] {
        let res = act(&mut staff, id, body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }
    sign_all(&t, id).await;
    let mut browser = t.client();
    browser
        .page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    let html = browser.get(&format!("/applications/{id}")).await.text();
    assert!(html.contains("申請は認められませんでした"), "{html}");
    assert!(html.contains("出願期間を過ぎてから届きました。"), "{html}");
    assert!(html.contains("審査請求"), "{html}");
    let html = browser
        .get(&format!("/applications/{id}?lang=en"))
        .await
        .text();
    assert!(html.contains("Your application has been refused"), "{html}");
    t.finish().await;
}

/// Posts a staff action from the application's page (the page's CSRF token
/// and the version it showed, then the action's own fields).
async fn act_on_page(
    staff: &mut common::Client,
    id: i64,
    csrf: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> common::Res {
    let mut all = vec![("_csrf", csrf), ("version", version)];
    all.extend_from_slice(fields);
    staff
        .post_form(&format!("/staff/applications/{id}/actions"), &all)
        .await
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn a_refused_file_says_what_was_wrong_with_it() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let permit = procedure_id(&t, "mie-parking-permit").await;
    let mut c = t.client();
    c.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    let csrf = c.get(&format!("/procedures/{permit}")).await.csrf();
    let res = c
        .post_form(&format!("/procedures/{permit}/apply"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let first = res.location();
    let app = first
        .trim_start_matches("/applications/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let page = format!("/applications/{app}/pages/certificate");
    let csrf = c.get(&page).await.csrf();
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.resize(4096, 0);
    let mut big_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    big_jpeg.resize(6 * 1024 * 1024, 0);
    let text = "メモです\n".repeat(10);
    for (name, bytes, says) in [
        (
            "memo.txt",
            text.as_bytes(),
            vec!["「memo.txt」", "テキスト", "PDF、JPEG、PNG"],
        ),
        (
            "IMG_0001.JPG",
            &big_jpeg[..],
            vec!["「IMG_0001.JPG」", "6.0 MB", "大きすぎます", "5.0 MB以下"],
        ),
        ("empty.pdf", &[][..], vec!["「empty.pdf」", "空です"]),
        (
            "broken.pdf",
            &[0x00, 0x01, 0x02, 0xFF, 0xFE, 0x00][..],
            vec!["「broken.pdf」", "読み取れません"],
        ),
    ] {
        let res = c
            .post_multipart(
                &page,
                &[("_csrf", &csrf), ("_action", "continue")],
                &[("certificate", name, bytes)],
            )
            .await;
        let html = res.text();
        for s in &says {
            assert!(
                html.contains(s),
                "{name}: {s} in {}",
                &html[html.find("error-summary").unwrap_or(0)..]
                    [..2000.min(html.len() - html.find("error-summary").unwrap_or(0))]
            );
        }
        // One problem, the file's own (not "choose a file" as well).
        assert_eq!(html.matches("class=\"error-message\"").count(), 1, "{name}");
    }
    // An iPhone photo (HEIC) is taken.
    let res = c
        .post_multipart(
            &page,
            &[("_csrf", &csrf), ("_action", "continue")],
            &[("certificate", "IMG_0002.HEIC", &heic)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let attached: i64 = sqlx::query_scalar(
        "select count(*) from attachments where application_id = $1 and kind = 'heic'",
    )
    .bind(app.parse::<i64>().unwrap())
    .fetch_one(t.app.platform.db.pool())
    .await
    .unwrap();
    assert_eq!(attached, 1);
    t.finish().await;
}

#[tokio::test]
async fn residents_read_plans_without_our_transcription_notes() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    let list = c.get("/plans").await.text();
    let mut pages: Vec<String> = list
        .match_indices("href=\"/plans/")
        .map(|(at, _)| list[at + 6..].split('"').next().unwrap().to_string())
        .collect();
    pages.sort();
    pages.dedup();
    assert!(pages.len() >= 3, "{pages:?}");
    let mut kpis = Vec::new();
    for page in &pages {
        let html = c.get(page).await.text();
        for internal in ["seeds/", ".txt", "見え消し", " l.", "（l.", "notes 参照"] {
            assert!(!html.contains(internal), "{page} shows {internal:?}");
        }
        for prefix in ["href=\"/kpis/", "href=\"/plans/"] {
            kpis.extend(
                html.match_indices(prefix)
                    .map(|(at, _)| html[at + 6..].split('"').next().unwrap().to_string())
                    .filter(|l| l.contains("/kpis/") || l.contains("/projects/"))
                    .take(3),
            );
        }
    }
    assert!(!kpis.is_empty());
    let mut more = Vec::new();
    for page in kpis.iter().filter(|p| p.contains("/projects/")) {
        let html = c.get(page).await.text();
        more.extend(
            html.match_indices("href=\"/kpis/")
                .map(|(at, _)| html[at + 6..].split('"').next().unwrap().to_string())
                .take(3),
        );
    }
    kpis.extend(more);
    assert!(kpis.iter().any(|k| k.starts_with("/kpis/")), "{kpis:?}");
    for kpi in &kpis {
        let html = c.get(kpi).await.text();
        for internal in ["seeds/", ".txt", " l.", "（l."] {
            assert!(!html.contains(internal), "{kpi} shows {internal:?}");
        }
    }
    // Staff checking the transcription still see where it came from.
    let mut staff = t.client();
    staff_sign_in(&mut staff, "dx@pref.mie.example.jp").await;
    let mie = pages
        .iter()
        .find(|p| c_contains_mie(&list, p))
        .cloned()
        .unwrap_or_else(|| pages[0].clone());
    let html = staff.get(&mie).await.text();
    assert!(html.contains(".txt"), "staff see the source: {mie}");
    t.finish().await;
}

/// Whether the plans list links `page` next to 三重県's name.
fn c_contains_mie(list: &str, page: &str) -> bool {
    list.find(&format!("href=\"{page}\""))
        .map(|at| {
            list[at..]
                .chars()
                .take(400)
                .collect::<String>()
                .contains("三重")
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn a_refused_kpi_value_keeps_what_was_typed_at_its_field() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut staff = t.client();
    staff_sign_in(&mut staff, "dx@pref.mie.example.jp").await;
    let list = staff.get("/staff/plans").await.text();
    // Names, not internal codes.
    for code in ["r3-main", "gyosei-6-1"] {
        assert!(!list.contains(code), "the staff plans page shows {code}");
    }
    let mut page = None;
    for (at, _) in list.match_indices("href=\"/staff/kpis/") {
        let link = list[at + 6..].split('"').next().unwrap().to_string();
        let html = staff.get(&link).await;
        if html.text().contains("id=\"a-value\"") {
            page = Some((link, html));
            break;
        }
    }
    let (link, html) = page.expect("a KPI entered by hand");
    let text = html.text();
    assert!(
        !text.contains(">kensei-report-r3<"),
        "policy areas are named, not coded"
    );
    // The current fiscal year (or the plan's nearest) is chosen, not the first.
    let now = jp::fiscal::fiscal_year_of(platform::db::Timestamp::now().jst().date_naive());
    let selected = text[text.find("id=\"a-fy\"").unwrap()..]
        .split("</select>")
        .next()
        .unwrap()
        .to_string();
    let years: Vec<i32> = selected
        .match_indices("<option value=\"")
        .map(|(at, _)| selected[at + 15..][..4].parse().unwrap())
        .collect();
    let chosen: i32 = {
        let at = selected.find("\" selected").expect("a year is chosen");
        selected[at - 4..at].parse().unwrap()
    };
    let nearest = *years.iter().min_by_key(|y| (**y - now).abs()).unwrap();
    assert_eq!(chosen, nearest, "{years:?}");
    let first = years[0];
    let other = if chosen == first { first + 1 } else { first };
    let res = staff
        .post_form(
            &format!("{link}/actuals"),
            &[
                ("_csrf", &html.csrf()),
                ("fiscal_year", &other.to_string()),
                ("value", "約33%"),
                ("source", "県政レポート"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("id=\"a-value-error\""), "{html}");
    assert!(html.contains("href=\"#a-value\""), "{html}");
    assert!(html.contains("value=\"約33%\""), "{html}");
    assert!(html.contains("value=\"県政レポート\""), "{html}");
    assert!(
        html.contains(&format!("value=\"{other}\" selected")),
        "the year chosen is kept"
    );
    t.finish().await;
}

#[tokio::test]
async fn exports_are_filtered_and_named_for_what_they_hold() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let hs = procedure_id(&t, "mie-hs-entrance").await;
    let mut staff = t.client();
    staff_sign_in(&mut staff, "hs.staff@pref.mie.example.jp").await;
    let page = staff.get("/staff/procedures").await.text();
    assert!(page.contains(&format!("id=\"x-status-{hs}\"")), "{page}");
    assert!(page.contains(&format!("id=\"x-from-{hs}\"")), "{page}");
    let today = platform::db::Timestamp::now()
        .jst()
        .format("%Y%m%d")
        .to_string();
    let mut names = Vec::new();
    for query in [
        "",
        "?encoding=sjis",
        "?status=submitted&from=2026-04-01&to=",
    ] {
        let res = staff
            .get(&format!("/staff/procedures/{hs}/export.csv{query}"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{query}");
        names.push(
            res.headers["content-disposition"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert!(
        names[0].contains(&format!("filename=\"mie-hs-entrance-{today}-utf8.csv\"")),
        "{names:?}"
    );
    assert!(
        names[1].contains(&format!("filename=\"mie-hs-entrance-{today}-sjis.csv\"")),
        "{names:?}"
    );
    assert!(
        names[2].contains(&format!(
            "filename=\"mie-hs-entrance-{today}-submitted-received-20260401--utf8.csv\""
        )),
        "{names:?}"
    );
    t.finish().await;
}

/// The postal-code directory the test setup installs (`scripts/setup-postal-codes`).
fn require_postal_directory() {
    let installed = platform::config::installed("var/postal/postal-codes.tsv")
        .into_iter()
        .any(|p| p.is_file());
    assert!(
        installed,
        "the postal-code directory is not installed: run scripts/setup-postal-codes (scripts/test does)"
    );
}

#[tokio::test]
async fn a_postal_code_fills_the_address_without_javascript_and_through_the_api() {
    require_postal_directory();
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    // The API: public, Japan Post's places, errors by cause.
    let res = c.get("/api/v1/postal-codes/5140006").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    assert_eq!(body["postal_code"], "514-0006");
    assert_eq!(body["places"][0]["prefecture"], "三重県");
    assert_eq!(body["places"][0]["city"], "津市");
    assert_eq!(body["places"][0]["town"], "広明町");
    let res = c
        .get(&format!(
            "/api/v1/postal-codes/{}",
            encode("〒９３０－０００５")
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["places"][0]["prefecture"], "富山県");
    let res = c.get("/api/v1/postal-codes/0000000").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"]["code"], "unknown_postal_code");
    let res = c.get("/api/v1/postal-codes/514").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.json()["error"]["fields"][0]["code"],
        "postal_code.wrong_length"
    );

    // The high-school application's address page asks the postal code, and
    // its button fills the address in a round trip.
    c.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    let hs = procedure_id(&t, "mie-hs-entrance").await;
    let res = c.get(&format!("/procedures/{hs}/apply")).await;
    let first = res.location();
    let app_path = first.rsplit_once("/pages/").unwrap().0.to_string();
    let page = c.get(&format!("{app_path}/pages/address")).await;
    let html = page.text();
    assert!(html.contains("name=\"postal_code\""), "{html}");
    assert!(html.contains("value=\"postal.postal_code\""), "{html}");
    assert!(html.contains("/assets/postal.js?v="), "{html}");
    let csrf = page.csrf();
    let res = c
        .post_form(
            &format!("{app_path}/pages/address"),
            &[
                ("_csrf", &csrf),
                ("_action", "postal.postal_code"),
                ("postal_code", "５１４－０００６"),
                ("address.prefecture", ""),
                ("address.city", ""),
                ("address.building", "県庁アパート101"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let back = res.location();
    assert!(
        back.contains("/pages/address?postal=5140006#address-city"),
        "{back}"
    );
    let html = c.get(&back).await.text();
    assert!(
        html.contains("<option value=\"三重県\" selected>"),
        "{html}"
    );
    assert!(html.contains("value=\"津市広明町\""), "{html}");
    assert!(
        html.contains("value=\"県庁アパート101\""),
        "what was typed is kept: {html}"
    );
    assert!(
        html.contains("〒514-0006 の住所（三重県津市広明町）を入れました。"),
        "{html}"
    );

    // A code no place has: said at the postal-code field, what was typed kept.
    let csrf = csrf_of(&html);
    let res = c
        .post_form(
            &format!("{app_path}/pages/address"),
            &[
                ("_csrf", &csrf),
                ("_action", "postal.postal_code"),
                ("postal_code", "000-0000"),
                ("address.prefecture", "三重県"),
                ("address.city", "津市広明町13番地"),
                ("address.building", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(
        html.contains("この郵便番号の住所は見つかりませんでした。"),
        "{html}"
    );
    assert!(
        html.contains("href=\"#postal_code\""),
        "the summary links to the field: {html}"
    );
    assert!(html.contains("value=\"000-0000\""), "{html}");
    assert!(html.contains("value=\"津市広明町13番地\""), "{html}");
    t.finish().await;
}

#[tokio::test]
async fn a_profile_fills_new_applications_only_with_consent_and_learns_from_one() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    let mut c = t.client();
    c.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
        .await;
    let parking = procedure_id(&t, "mie-parking-permit").await;

    // The profile page: the account's e-mail already there.
    let page = c.get("/profile").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("value=\"taro@example.jp\""), "{html}");
    let csrf = page.csrf();
    let profile = |consent: bool, kana: &'static str| {
        let mut f = vec![
            ("name.family", "三重"),
            ("name.given", "太郎"),
            ("name.family_kana", "みえ"),
            ("name.given_kana", kana),
            ("postal_code", "5140006"),
            ("address.prefecture", "三重県"),
            ("address.city", "津市広明町13番地"),
            ("address.building", ""),
            ("phone", "059-224-3070"),
            ("email", "taro@example.jp"),
            ("_action", "save"),
        ];
        if consent {
            f.push(("prefill_consent", "yes"));
        }
        f
    };
    // A bad reading: the error at its field, nothing saved, what was typed kept.
    let mut bad = profile(true, "Taro");
    bad.push(("_csrf", &csrf));
    let res = c.post_form("/profile", &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text();
    assert!(html.contains("href=\"#name-given_kana\""), "{html}");
    assert!(html.contains("value=\"Taro\""), "{html}");

    // Saved without consent: a new application starts empty.
    let mut fields = profile(false, "たろう");
    fields.push(("_csrf", &csrf));
    let res = c.post_form("/profile", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    let first = c
        .get(&format!("/procedures/{parking}/apply"))
        .await
        .location();
    let html = c.get(&first).await.text();
    assert!(
        !html.contains("value=\"三重\""),
        "no consent, nothing filled: {html}"
    );
    let app_path = first.rsplit_once("/pages/").unwrap().0.to_string();
    let csrf = csrf_of(&html);
    let res = c
        .post_form(&format!("{app_path}/discard"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());

    // With consent: the name, address and phone are there, and the page says so.
    let csrf = c.get("/profile").await.csrf();
    let mut fields = profile(true, "たろう");
    fields.push(("_csrf", &csrf));
    let res = c.post_form("/profile", &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(
        c.get("/profile?saved=1")
            .await
            .text()
            .contains("プロフィールを保存しました。")
    );
    let first = c
        .get(&format!("/procedures/{parking}/apply"))
        .await
        .location();
    let html = c.get(&first).await.text();
    assert!(html.contains("value=\"三重\""), "{html}");
    assert!(
        html.contains("value=\"タロウ\""),
        "readings are kept as katakana: {html}"
    );
    assert!(
        html.contains("プロフィールの情報を入れてあります。"),
        "{html}"
    );
    let app_path = first.rsplit_once("/pages/").unwrap().0.to_string();
    let id: i64 = app_path.rsplit('/').next().unwrap().parse().unwrap();
    let address: String = sqlx::query_scalar("select answers from applications where id = $1")
        .bind(id)
        .fetch_one(t.app.platform.db.pool())
        .await
        .unwrap();
    let answers: Value = serde_json::from_str(&address).unwrap();
    assert_eq!(answers["address"]["city"], "津市広明町13番地");
    assert_eq!(answers["phone"], "059-224-3070");

    // Updating the profile from an application: the check page offers it,
    // and only a ticked box changes the profile.
    let hs = procedure_id(&t, "mie-hs-entrance").await;
    let mut api = t.client();
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let answers = json!({
        "name": {"family": "伊勢", "given": "花子", "family_kana": "イセ", "given_kana": "ハナコ"},
        "birth_date": "平成22年4月1日",
        "postal_code": "514-0006",
        "address": {"prefecture": "三重県", "city": "津市広明町20番地", "building": ""},
        "phone": "059-224-3070",
        "junior_high": "津市立西橋内中学校",
        "school": "tsu",
        "department": "general",
        "selection": "early",
        "guardian_name": {"family": "伊勢", "given": "一郎", "family_kana": "イセ", "given_kana": "イチロウ"},
        "guardian_relationship": "father",
        "agree": true
    });
    let res = api
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": answers}),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let draft = res.json()["id"].as_i64().unwrap();
    let check = c.get(&format!("/applications/{draft}/check")).await;
    let html = check.text();
    assert!(
        html.contains("この申請の氏名・住所・電話番号などで、プロフィールを更新する"),
        "{html}"
    );
    let csrf = check.csrf();
    let res = c
        .post_form(
            &format!("/applications/{draft}/submit"),
            &[("_csrf", &csrf), ("update_profile", "yes")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    assert!(res.location().ends_with("/receipt"), "{}", res.location());
    let html = c.get("/profile").await.text();
    assert!(
        html.contains("value=\"伊勢\""),
        "the guardian's name is the resident's: {html}"
    );
    assert!(html.contains("value=\"津市広明町20番地\""), "{html}");
    assert!(
        html.contains("value=\"059-224-3070\""),
        "kept where the form did not ask it: {html}"
    );
    t.finish().await;
}

#[tokio::test]
async fn every_email_resolves_every_key_and_placeholder_in_both_languages() {
    let t = TestApp::with_demo(Backend::Sqlite).await;
    for lang in [platform::i18n::Lang::Ja, platform::i18n::Lang::En] {
        let tr = t.app.platform.tr(lang);
        for (key, placeholders) in backoffice::service::notify::TEMPLATES {
            for part in ["subject", "body"] {
                let full = format!("{key}.{part}");
                assert!(tr.has(&full), "{lang:?}: {full} is not in the catalogue");
                let args: Vec<(&str, String)> = placeholders
                    .iter()
                    .map(|p| (*p, format!("<{p}>")))
                    .collect();
                let text = tr.f(&full, &args);
                assert!(
                    !text.contains(key),
                    "{lang:?}: {full} shows its key: {text}"
                );
                assert!(
                    !text.contains('{') && !text.contains('}'),
                    "{lang:?}: {full} leaves a placeholder unfilled: {text}"
                );
            }
        }
    }
    t.finish().await;
}
