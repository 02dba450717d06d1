//! Plans, KPIs and the procedure inventory, end to end on both backends: the
//! demo plans as the seeds write them, live figures that follow the platform,
//! the DX office's entries with their rules, and the inventory import.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::StatusCode;
use common::{Client, DEMO_PASSWORD, TestApp, backends, repo_root};
use serde_json::{Value, json};

async fn plan_of(client: &mut Client, organisation: &str) -> Value {
    let list = client.get("/api/v1/plans").await;
    assert_eq!(list.status, StatusCode::OK);
    let id = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organisation"]["code"] == organisation)
        .unwrap_or_else(|| panic!("no plan of {organisation}"))["id"]
        .as_i64()
        .unwrap();
    let res = client.get(&format!("/api/v1/plans/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

fn kpi_named<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .unwrap_or_else(|| panic!("no KPI {name}"))
}

fn ratio_of(kpi: &Value, fy: i64) -> Option<f64> {
    kpi["achievement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["fiscal_year"] == fy)
        .and_then(|a| a["ratio"].as_f64())
}

fn live_actual(kpi: &Value) -> f64 {
    kpi["actuals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["live"] == true)
        .unwrap_or_else(|| panic!("no live actual in {kpi}"))["value"]
        .as_f64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_plans_read_as_the_seeds_write_them() {
    for backend in backends() {
        let app = TestApp::with_demo(backend).await;
        let mut c = app.client();

        // Toyama: 10 projects, 28 KPIs; FY2021 電子申請対応手続数 1,792 of 3,300 = 0.54.
        let toyama = plan_of(&mut c, "160008").await;
        assert_eq!(
            toyama["projects"].as_array().unwrap().len(),
            10,
            "{backend:?}"
        );
        assert_eq!(toyama["kpis"].as_array().unwrap().len(), 28, "{backend:?}");
        let online = kpi_named(&toyama, "電子申請対応手続数(累計)");
        assert_eq!(ratio_of(online, 2021), Some(0.54), "{online}");
        assert_eq!(online["baseline"]["value"], 102.0);

        // A revised target keeps its previous value, shown on the page.
        let revised = toyama["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| {
                k["targets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| !t["revisions"].as_array().unwrap().is_empty())
            })
            .expect("a KPI with a revised target");
        let t = revised["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| !t["revisions"].as_array().unwrap().is_empty())
            .unwrap();
        let previous = t["revisions"][0]["previous"]["value"]
            .as_f64()
            .expect("a numeric previous target");
        let page = c.get(&format!("/kpis/{}", revised["id"])).await;
        assert_eq!(page.status, StatusCode::OK);
        let previous_text = plans::kpi::number(previous);
        assert!(
            page.text().contains(&previous_text),
            "the page shows the previous target {previous_text}"
        );

        // The plan, project and KPI pages, and the seeds' table as CSV and .xlsx.
        let id = toyama["id"].as_i64().unwrap();
        let plan_page = c.get(&format!("/plans/{id}?fy=2021")).await;
        assert_eq!(plan_page.status, StatusCode::OK);
        assert!(plan_page.text().contains("0.54"));
        let project = toyama["projects"][0]["id"].as_i64().unwrap();
        assert_eq!(
            c.get(&format!("/plans/{id}/projects/{project}"))
                .await
                .status,
            StatusCode::OK
        );
        let csv = c.get(&format!("/api/v1/plans/{id}/kpis.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
        let text = csv.text();
        let line = text
            .lines()
            .find(|l| l.contains("電子申請対応手続数(累計)"))
            .expect("the KPI's row");
        assert!(line.contains(",3300,1792,0.54,"), "{line}");
        assert_eq!(
            text.lines().count(),
            1 + toyama["kpis"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["series"].as_array().unwrap().len().max(1))
                .sum::<usize>()
        );
        let sjis = c
            .get(&format!("/api/v1/plans/{id}/kpis.csv?encoding=sjis"))
            .await;
        let (decoded, _, _) = encoding_rs::SHIFT_JIS.decode(&sjis.body);
        assert_eq!(
            decoded.replace('〓', "?").lines().count(),
            text.lines().count()
        );
        assert!(decoded.contains("電子申請対応手続数(累計)"));
        let xlsx = c.get(&format!("/api/v1/plans/{id}/kpis.xlsx")).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        {
            use calamine::{DataType, Reader};
            let mut wb =
                calamine::Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("a workbook");
            let sheet = wb.sheet_names()[0].clone();
            let range = wb.worksheet_range(&sheet).unwrap();
            let row = range
                .rows()
                .find(|r| {
                    r.iter()
                        .any(|c| c.get_string() == Some("電子申請対応手続数(累計)"))
                })
                .expect("the KPI's row");
            assert!(row.iter().any(|c| c.get_float() == Some(0.54)), "{row:?}");
        }

        // Mie: the strategy's indicators, and its inventory.
        let mie = plan_of(&mut c, "240001").await;
        assert!(mie["kpis"].as_array().unwrap().len() >= 5);
        assert_eq!(
            c.get(&format!("/plans/{}", mie["id"])).await.status,
            StatusCode::OK
        );
        let inventory = c.get("/api/v1/inventory/240001").await;
        assert_eq!(inventory.status, StatusCode::OK);
        assert!(
            inventory.json()["shares"]["priority"]["total"]
                .as_i64()
                .unwrap()
                > 0
        );
        assert_eq!(c.get("/inventory/240001").await.status, StatusCode::OK);

        // Search, and ids that are not ids.
        let found = c
            .get("/api/v1/kpis?q=%E9%9B%BB%E5%AD%90%E7%94%B3%E8%AB%8B")
            .await
            .json();
        assert!(
            found["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["name"] == "電子申請対応手続数(累計)")
        );
        for path in [
            "/plans/abc",
            "/plans/99999999999999999999",
            "/kpis/-1",
            "/plans/1/projects/x",
            "/inventory/nope",
            "/api/v1/kpis/0",
            "/api/v1/inventory/999999",
        ] {
            let res = c.get(path).await;
            assert!(
                res.status == StatusCode::NOT_FOUND || res.status == StatusCode::BAD_REQUEST,
                "{path}: {}",
                res.status
            );
        }
        app.finish().await;
    }
}

const NEW_PROCEDURE: &str = r#"
organisation = "{org}"

[[procedures]]
code = "{code}"
section = "{section}"
name = "テスト用の新しい手続"
name_en = "A new procedure for the test"
summary = "テスト用の手続です。"
summary_en = "A procedure for the test."
description = "テスト用の手続です。"
description_en = "A procedure for the test."
category = "environment"
basis = "local"
audience = "resident"
online = true
annual_volume = 500000
form = "forms/tsu-bulky-waste.toml"
"#;

async fn publish(app: &TestApp, org: &str, section: &str, code: &str) {
    let bundle = NEW_PROCEDURE
        .replace("{org}", org)
        .replace("{section}", section)
        .replace("{code}", code);
    let dir = repo_root().join("crates/madoguchi/demo");
    procedures::service::import::import_bundle(&app.app.platform.db, &bundle, |p: &str| {
        std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
}

const TSU_PLAN: &str = r#"
[plan]
organisation = "242012"
code = "tsu-test"
title = "津市のテスト計画"
period_start = 2020
period_end = 2040
source = "test"

[[kpis]]
code = "k1"
name = "電子申請できる手続の数"
unit = "件"
bound_metric = "procedures_online"
targets = [{ fiscal_year = 2040, value = 100 }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_figures_follow_what_the_platform_publishes() {
    for backend in backends() {
        let app = TestApp::with_demo(backend).await;
        let mut c = app.client();
        let db = &app.app.platform.db;
        let plan: plans::data::PlanFile = toml::from_str(TSU_PLAN).unwrap();
        plans::service::plans::load(db, &plan, false, platform::audit::Actor::Cli)
            .await
            .unwrap()
            .expect("loaded");
        let tsu = plan_of(&mut c, "242012").await;
        let before = live_actual(&tsu["kpis"][0]);
        assert_eq!(
            before, 1.0,
            "Tsu publishes one online procedure in the demo"
        );
        publish(&app, "242012", "kankyo-jigyo", "tsu-new-online").await;
        let tsu = plan_of(&mut c, "242012").await;
        assert_eq!(live_actual(&tsu["kpis"][0]), before + 1.0, "{backend:?}");

        // Mie's priority volume share: an inventory row not yet online, then the
        // procedure it names is published here and the share (and the KPI bound to it) rises.
        let mut dx = app.client();
        dx.api_sign_in("dx@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let csv = "手続ID,手続名,オンライン化の実施状況,年間受付件数,重点手続,県独自・法定,デジタル化予定年度,madoguchi手続コード\n\
                   T-1,テスト用の新しい手続,2,500000,○,県独自,令和8年度,mie-new-online\n";
        let res = dx
            .post_multipart(
                "/api/v1/staff/inventory",
                &[],
                &[("file", "t.csv", csv.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let share = |v: &Value| v["shares"]["priority"]["volume_share"].as_f64().unwrap();
        let s1 = share(&c.get("/api/v1/inventory/240001").await.json());
        let mie = plan_of(&mut c, "240001").await;
        let bound = mie["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["bound_metric"] == "priority_volume_share")
            .expect("Mie's KPI on the priority share")
            .clone();
        let k1 = live_actual(&bound);
        publish(&app, "240001", "digital-kaikaku", "mie-new-online").await;
        let inv = c.get("/api/v1/inventory/240001").await.json();
        let s2 = share(&inv);
        assert!(s2 > s1, "{s1} → {s2}");
        let item = inv["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item_id"] == "T-1")
            .unwrap();
        assert_eq!(item["online"], true);
        let k2 = live_actual(&c.get(&format!("/api/v1/kpis/{}", bound["id"])).await.json());
        assert!(k2 > k1, "{k1} → {k2}");
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dx_office_enters_actuals_and_revises_targets_by_the_rules() {
    for backend in backends() {
        let app = TestApp::with_demo(backend).await;
        let mut c = app.client();
        let toyama = plan_of(&mut c, "160008").await;
        let kpi = kpi_named(&toyama, "電子申請対応手続数(累計)").clone();
        let id = kpi["id"].as_i64().unwrap();
        let mut dx = app.client();
        dx.api_sign_in("admin@pref.toyama.example.jp", DEMO_PASSWORD, "staff")
            .await;

        // A revision without a reason is refused and changes nothing.
        let targets = format!("/api/v1/staff/kpis/{id}/targets");
        let res = dx.post_json(&targets, &json!({"fiscal_year": 2022, "target": {"kind": "value", "value": 4500}, "reason": " "})).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        assert_eq!(
            res.json()["error"]["fields"][0]["field"],
            "reason",
            "{}",
            res.text()
        );
        let unchanged = c.get(&format!("/api/v1/kpis/{id}")).await.json();
        assert_eq!(unchanged["targets"], kpi["targets"]);
        for bad in [
            json!({"fiscal_year": 2022, "target": {"kind": "value"}, "reason": "r"}),
            json!({"fiscal_year": 2022, "target": {"kind": "nonsense", "value": 1}, "reason": "r"}),
            json!({"fiscal_year": 2035, "target": {"kind": "value", "value": 1}, "reason": "r"}),
        ] {
            let res = dx.post_json(&targets, &bad).await;
            assert_eq!(
                res.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad}: {}",
                res.text()
            );
        }
        let res = dx.post_json(&targets, &json!({"fiscal_year": 2022, "target": {"kind": "value", "value": 4500}, "reason": "補助金の電子申請を前倒しするため"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let t = res.json()["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["fiscal_year"] == 2022)
            .unwrap()
            .clone();
        assert_eq!(t["target"]["value"], 4500.0);
        assert_eq!(t["revisions"][0]["previous"]["value"], 4300.0);
        let page = c.get(&format!("/kpis/{id}")).await.text();
        assert!(page.contains("4,300") && page.contains("補助金の電子申請を前倒しするため"));

        // Actuals: inside the plan's years, with a source.
        let actuals = format!("/api/v1/staff/kpis/{id}/actuals");
        let res = dx
            .post_json(
                &actuals,
                &json!({"fiscal_year": 2030, "value": 1, "source": "s"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.json()["error"]["fields"][0]["field"], "fiscal_year");
        let res = dx
            .post_json(
                &actuals,
                &json!({"fiscal_year": 2022, "value": 2500, "source": ""}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.json()["error"]["fields"][0]["field"], "source");
        let res = dx.post_json(&actuals, &json!({"fiscal_year": 2022, "value": 2500, "source": "電子申請システムの集計", "recorded_on": "令和5年3月31日"})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let after = c.get(&format!("/api/v1/kpis/{id}")).await.json();
        assert_eq!(
            ratio_of(&after, 2022),
            Some(0.56),
            "2,500 of 4,500, rounded"
        );
        let a = after["actuals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["fiscal_year"] == 2022)
            .unwrap();
        assert_eq!(a["recorded_on"], "2023-03-31");

        // Who may: another organisation's DX office finds nothing, section staff are refused, the anonymous must sign in.
        let mut mie_dx = app.client();
        mie_dx
            .api_sign_in("dx@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let body = json!({"fiscal_year": 2022, "value": 1, "source": "x"});
        assert_eq!(
            mie_dx.post_json(&actuals, &body).await.status,
            StatusCode::NOT_FOUND
        );
        let mut section = app.client();
        section
            .api_sign_in(
                "subsidy.staff@pref.toyama.example.jp",
                DEMO_PASSWORD,
                "staff",
            )
            .await;
        assert_eq!(
            section.post_json(&actuals, &body).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.client().post_json(&actuals, &body).await.status,
            StatusCode::UNAUTHORIZED
        );

        // A KPI the platform counts cannot be typed over.
        let mie = plan_of(&mut c, "240001").await;
        let bound = mie["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| !k["bound_metric"].is_null())
            .unwrap();
        let res = mie_dx
            .post_json(
                &format!("/api/v1/staff/kpis/{}/actuals", bound["id"]),
                &json!({"fiscal_year": 2023, "value": 1, "source": "x"}),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );

        // The same on the staff pages, in Japanese, with the answer kept.
        let mut page = app.client();
        page.page_sign_in("admin@pref.toyama.example.jp", DEMO_PASSWORD, true)
            .await;
        let form = page.get(&format!("/staff/kpis/{id}")).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text());
        let csrf = form.csrf();
        let res = page
            .post_form(
                &format!("/staff/kpis/{id}/targets"),
                &[
                    ("_csrf", &csrf),
                    ("fiscal_year", "2023"),
                    ("kind", "value"),
                    ("value", "６，０００"),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("修正の理由を入力してください"));
        let res = page
            .post_form(
                &format!("/staff/kpis/{id}/targets"),
                &[
                    ("_csrf", &csrf),
                    ("fiscal_year", "2023"),
                    ("kind", "value"),
                    ("value", "６，０００"),
                    ("reason", "前倒し"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        let saved = page.get(&res.location()).await;
        assert!(saved.text().contains("保存しました"));
        assert!(
            saved.text().contains("6,000件（5,300件から修正）"),
            "{}",
            saved.text()
        );

        // Every entry is in the audit chain.
        let v = platform::audit::verify(&app.app.platform.db).await.unwrap();
        assert!(v.broken.is_none());
        let n: i64 = sqlx::query_scalar("select count(*) from audit_log where action in ('kpi.actual_entered', 'kpi.target_revised')")
            .fetch_one(app.app.platform.db.pool())
            .await
            .unwrap();
        assert_eq!(n, 3);
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_import_reads_both_encodings_and_refuses_bad_rows_whole() {
    for backend in backends() {
        let app = TestApp::with_demo(backend).await;
        let mut c = app.client();
        let mut dx = app.client();
        dx.page_sign_in("dx@pref.mie.example.jp", DEMO_PASSWORD, true)
            .await;
        let csrf = dx.get("/staff/plans").await.csrf();
        let text = "手続ID,手続名,オンライン化の実施状況,年間受付件数,重点手続,県独自・法定,デジタル化予定年度\n\
                    Z-1,運転免許証の住所変更,2,30000,○,法定,令和7年度\n\
                    Z-2,犬の登録（旧字 髙﨑 を含む）,1,1200,,県独自,\n\
                    Z-3,浄化槽の設置届,4,800,,法定,R6\n";
        let mut utf8 = b"\xEF\xBB\xBF".to_vec();
        utf8.extend_from_slice(text.as_bytes());
        let res = dx
            .post_multipart(
                "/staff/inventory",
                &[("_csrf", &csrf)],
                &[("file", "utf8.csv", &utf8)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(res.text().contains("3 件の手続を取り込みました"));
        let first = c.get("/api/v1/inventory/240001").await.json();

        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let res = dx
            .post_multipart(
                "/staff/inventory",
                &[("_csrf", &csrf)],
                &[("file", "sjis.csv", &sjis)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let second = c.get("/api/v1/inventory/240001").await.json();
        assert_eq!(first, second, "Shift_JIS and UTF-8 read the same");
        let z2 = second["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item_id"] == "Z-2")
            .unwrap();
        assert_eq!(z2["name"], "犬の登録（旧字 髙﨑 を含む）");

        // A bad row: nothing is imported, the line and column are named.
        let bad = format!("{text}Z-4,,9,たくさん,○,法定,来年\n");
        let res = dx
            .post_multipart(
                "/staff/inventory",
                &[("_csrf", &csrf)],
                &[("file", "bad.csv", bad.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text();
        for expected in [
            "5行目（手続名）",
            "5行目（オンライン化の実施状況）",
            "5行目（年間受付件数）",
            "5行目（デジタル化予定年度）",
            "何も取り込んでいません",
        ] {
            assert!(page.contains(expected), "{expected} in the page");
        }
        assert_eq!(
            c.get("/api/v1/inventory/240001").await.json(),
            first,
            "nothing changed"
        );

        // Or the good rows only, the bad one reported.
        let res = dx
            .post_multipart(
                "/staff/inventory",
                &[("_csrf", &csrf), ("valid_rows_only", "1")],
                &[("file", "bad.csv", bad.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(res.text().contains("3 件の手続を取り込みました") && res.text().contains("5行目"));

        // Without a file, or as someone who may not.
        let res = dx
            .post_multipart("/staff/inventory", &[("_csrf", &csrf)], &[])
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut section = app.client();
        section
            .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        let res = section
            .post_multipart(
                "/api/v1/staff/inventory",
                &[],
                &[("file", "t.csv", text.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);

        // The API names each bad row in English or Japanese.
        let mut api = app.client();
        api.api_sign_in("dx@pref.mie.example.jp", DEMO_PASSWORD, "staff")
            .await;
        api.lang = Some("en".into());
        let res = api
            .post_multipart(
                "/api/v1/staff/inventory",
                &[],
                &[("file", "bad.csv", bad.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.json();
        assert!(
            body["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Line 5 (手続名)")),
            "{body}"
        );
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_to_plans_gets_a_clear_client_error() {
    let app = TestApp::with_demo(platform::db::Backend::Sqlite).await;
    let mut c = app.client();
    let toyama = plan_of(&mut c, "160008").await;
    let (plan, kpi) = (
        toyama["id"].as_i64().unwrap(),
        toyama["kpis"][0]["id"].as_i64().unwrap(),
    );
    let mut dx = app.client();
    dx.api_sign_in("admin@pref.toyama.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        br#"{"fiscal_year": "2022", "value": "many", "source": 5}"#.to_vec(),
        br#"{"fiscal_year": 99999999999, "value": 1e400, "source": "x"}"#.to_vec(),
        br#"{"fiscal_year": 2022, "value": 1, "source": "x", "extra": true}"#.to_vec(),
        br#"{"fiscal_year": 2022, "target": {"kind": "range", "low": 1}, "reason": "r"}"#.to_vec(),
        br#"{"fiscal_year": 2022, "target": {"kind": "text", "text": "   "}, "reason": "r"}"#.to_vec(),
        r#"{"fiscal_year": 2022, "value": 1, "source": "x", "recorded_on": "令和99999999999年1月1日"}"#.as_bytes().to_vec(),
        "{\"target\":".repeat(500).into_bytes(),
    ];
    for uri in [
        format!("/api/v1/staff/kpis/{kpi}/actuals"),
        format!("/api/v1/staff/kpis/{kpi}/targets"),
        "/api/v1/staff/inventory".to_string(),
    ] {
        for body in &bodies {
            for ct in [
                "application/json",
                "text/plain",
                "multipart/form-data; boundary=x",
            ] {
                let res = dx
                    .request(axum::http::Method::POST, &uri, Some(ct), body.clone(), &[])
                    .await;
                assert!(
                    res.status.is_client_error(),
                    "{uri} [{ct}] gave {}: {}",
                    res.status,
                    res.text()
                );
                assert!(
                    res.json()["error"]["code"].is_string(),
                    "{uri}: {}",
                    res.text()
                );
            }
        }
    }
    let unchanged = c.get(&format!("/api/v1/kpis/{kpi}")).await.json();
    assert_eq!(unchanged["targets"], toyama["kpis"][0]["targets"]);
    assert_eq!(unchanged["actuals"], toyama["kpis"][0]["actuals"]);
    for uri in [
        format!("/plans/{plan}?fy=%FF%FE"),
        format!("/plans/{plan}?fy=99999999999999999999"),
        format!("/plans/{plan}?fy=-1"),
        format!("/api/v1/plans/{plan}?fy=abc"),
        format!("/api/v1/plans/{plan}/kpis.csv?encoding=ebcdic"),
        "/api/v1/kpis?q=%00%FF".to_string(),
        format!("/api/v1/kpis?q={}", "あ".repeat(5000)),
        "/inventory/240001?priority=%00".to_string(),
        format!("/plans/{plan}/projects/99999999999999999999"),
    ] {
        let res = c.get(&uri).await;
        assert!(!res.status.is_server_error(), "{uri}: {}", res.status);
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dx_office_keeps_the_roadmap_and_loads_plan_files() {
    for backend in backends() {
        let app = TestApp::with_demo(backend).await;
        let mut c = app.client();
        let toyama = plan_of(&mut c, "160008").await;
        let plan = toyama["id"].as_i64().unwrap();
        let project = &toyama["projects"][0];
        let measure = project["measures"][0]["id"].as_i64().unwrap();
        let mut dx = app.client();
        dx.page_sign_in("admin@pref.toyama.example.jp", DEMO_PASSWORD, true)
            .await;
        let page_uri = format!("/staff/plans/{plan}/projects/{}", project["id"]);
        let page = dx.get(&page_uri).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let csrf = page.csrf();

        // Without the year's text: refused, what was typed kept.
        let uri = format!("/staff/roadmap/{measure}/2023");
        let res = dx
            .post_form(
                &uri,
                &[
                    ("_csrf", &csrf),
                    ("status", "delayed"),
                    ("text", " "),
                    ("check", "入札不調"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            res.text().contains("その年度の取組を入力してください")
                && res.text().contains("入札不調")
        );
        for bad in [
            format!("/staff/roadmap/{measure}/2030"),
            format!("/staff/roadmap/{measure}/x"),
            "/staff/roadmap/999999/2023".to_string(),
        ] {
            let res = dx
                .post_form(&bad, &[("_csrf", &csrf), ("status", "done"), ("text", "t")])
                .await;
            assert!(
                res.status == StatusCode::UNPROCESSABLE_ENTITY
                    || res.status == StatusCode::NOT_FOUND,
                "{bad}: {}",
                res.status
            );
        }
        let res = dx
            .post_form(
                &uri,
                &[
                    ("_csrf", &csrf),
                    ("status", "delayed"),
                    ("text", "電子申請の対象を全補助金へ拡大"),
                    ("check", "入札不調"),
                    ("act", "再入札"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert!(
            dx.get(&res.location())
                .await
                .text()
                .contains("保存しました")
        );
        let after = plan_of(&mut c, "160008").await;
        let entry = after["projects"][0]["measures"][0]["roadmap"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["fiscal_year"] == 2023)
            .unwrap()
            .clone();
        assert_eq!(
            (
                entry["status"].as_str(),
                entry["text"].as_str(),
                entry["act"].as_str()
            ),
            (
                Some("delayed"),
                Some("電子申請の対象を全補助金へ拡大"),
                Some("再入札")
            )
        );
        let public = c
            .get(&format!("/plans/{plan}/projects/{}", project["id"]))
            .await
            .text();
        assert!(public.contains("電子申請の対象を全補助金へ拡大") && public.contains("再入札"));

        // Another organisation's DX office finds nothing; section staff are refused.
        let mut mie = app.client();
        mie.page_sign_in("dx@pref.mie.example.jp", DEMO_PASSWORD, true)
            .await;
        let mie_csrf = mie.get("/staff/plans").await.csrf();
        assert_eq!(mie.get(&page_uri).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            mie.post_form(
                &uri,
                &[("_csrf", &mie_csrf), ("status", "done"), ("text", "x")]
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );
        let mut section = app.client();
        section
            .page_sign_in("subsidy.staff@pref.toyama.example.jp", DEMO_PASSWORD, true)
            .await;
        assert_eq!(section.get(&page_uri).await.status, StatusCode::FORBIDDEN);

        // A plan file: another organisation's is refused; a new one loads once, then only with "replace".
        let file = TSU_PLAN
            .replace("242012", "160008")
            .replace("tsu-test", "toyama-next");
        let res = dx
            .post_multipart(
                "/staff/plans/file",
                &[("_csrf", &csrf)],
                &[("file", "tsu.toml", TSU_PLAN.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("別の団体"));
        let res = dx
            .post_multipart(
                "/staff/plans/file",
                &[("_csrf", &csrf)],
                &[("file", "p.toml", b"[plan\ntitle = ")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        let res = dx
            .post_multipart(
                "/staff/plans/file",
                &[("_csrf", &csrf)],
                &[("file", "next.toml", file.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
        assert!(
            dx.get(&res.location())
                .await
                .text()
                .contains("計画を読み込みました")
        );
        let res = dx
            .post_multipart(
                "/staff/plans/file",
                &[("_csrf", &csrf)],
                &[("file", "next.toml", file.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().contains("すでにあります"));
        let res = dx
            .post_multipart(
                "/staff/plans/file",
                &[("_csrf", &csrf), ("replace", "1")],
                &[("file", "next.toml", file.as_bytes())],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let plans = c.get("/api/v1/plans").await.json();
        assert_eq!(
            plans["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["organisation"]["code"] == "160008")
                .count(),
            2
        );
        app.finish().await;
    }
}
