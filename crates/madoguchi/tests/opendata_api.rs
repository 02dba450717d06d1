//! The open-data APIs' edges, on both backends: every write and every read is
//! scoped (a token writes only its own local government's datasets; private
//! datasets stay invisible to everyone else in every protocol), and malformed
//! requests get CKAN's, Orion's or a plain 4xx answer, never a 500.
//! (The happy paths with real clients are in `opendata_compat.rs`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use axum::http::Method;
use common::{Client, TestApp};
use serde_json::{Value, json};

async fn org_and_token(t: &TestApp, code: &str, name: &str, name_en: &str) -> String {
    let db = &t.app.platform.db;
    let org = platform::orgs::insert_organisation(db, code, name, name_en, None)
        .await
        .unwrap();
    opendata::service::tokens::issue(db, org.id, "test", "test")
        .await
        .unwrap()
}

fn with_token(t: &TestApp, token: &str) -> Client {
    let mut c = t.client();
    c.bearer = Some(token.to_string());
    c
}

async fn action(c: &mut Client, name: &str, body: Value) -> (u16, Value) {
    let res = c.post_json(&format!("/api/3/action/{name}"), &body).await;
    (res.status.as_u16(), res.json())
}

#[tokio::test]
async fn tokens_write_only_their_own_datasets_and_private_ones_stay_private() {
    for backend in common::backends() {
        let t = TestApp::new(backend).await;
        let mie = org_and_token(&t, "240001", "三重県", "Mie Prefecture").await;
        let tsu = org_and_token(&t, "242012", "津市", "Tsu City").await;
        let mut a = with_token(&t, &mie);
        let mut b = with_token(&t, &tsu);
        let mut anon = t.client();

        let (s, v) = action(
            &mut a,
            "package_create",
            json!({"name": "mie-private", "title": "非公開の調査", "private": true}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["result"]["owner_org"], v["result"]["organization"]["id"]);
        assert_eq!(v["result"]["organization"]["name"], "mie-prefecture");
        let (s, v) = action(
            &mut a,
            "package_create",
            json!({"name": "mie-public", "title": "公開データ"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let res = a
            .post_multipart(
                "/api/3/action/resource_create",
                &[("package_id", "mie-private"), ("name", "非公開ファイル")],
                &[("upload", "secret.csv", "a,b\n1,2\n".as_bytes())],
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let download = res.json()["result"]["url"]
            .as_str()
            .unwrap()
            .split_once("/dataset/")
            .map(|(_, p)| format!("/dataset/{p}"))
            .unwrap();

        // Another local government's token: the private dataset does not exist for it.
        for c in [&mut b, &mut anon] {
            let (s, v) = action(c, "package_show", json!({"id": "mie-private"})).await;
            assert_eq!(s, 404, "{v}");
            assert_eq!(v["error"]["__type"], "Not Found Error");
            let (_, v) = action(
                c,
                "package_search",
                json!({"q": "非公開", "include_private": true}),
            )
            .await;
            assert_eq!(v["result"]["count"], 0, "{v}");
            let (_, v) = action(c, "package_list", json!({})).await;
            assert_eq!(v["result"], json!(["mie-public"]));
            assert_eq!(c.get(&download).await.status, 404);
            assert_eq!(c.get("/dataset/mie-private.ttl").await.status, 404);
            assert_eq!(c.get("/catalog.ttl?q=非公開").await.status, 200);
            assert!(!c.get("/catalog.ttl").await.text().contains("mie-private"));
        }
        // Not even through facets with a zero minimum count.
        let res = anon
            .get("/api/3/action/package_search?rows=0&facet.mincount=0&facet.limit=-1&facet.field=%5B%22name%22%2C%22tags%22%2C%22organization%22%2C%22res_format%22%5D")
            .await;
        assert!(!res.text().contains("mie-private"), "{}", res.text());
        // Writes need POST (a GET never changes anything).
        let res = a.get("/api/3/action/package_delete?id=mie-public").await;
        assert_eq!(res.status, 400, "{}", res.text());
        // Its owner sees it, in search with include_private too.
        let (s, _) = action(&mut a, "package_show", json!({"id": "mie-private"})).await;
        assert_eq!(s, 200);
        let (_, v) = action(
            &mut a,
            "package_search",
            json!({"q": "非公開", "include_private": true}),
        )
        .await;
        assert_eq!(v["result"]["count"], 1, "{v}");
        let file = a.get(&download).await;
        assert_eq!(file.body, b"a,b\n1,2\n");
        assert!(
            file.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;")
        );
        assert_eq!(
            file.headers["content-security-policy"],
            "default-src 'none'; sandbox"
        );

        let (s, v) = action(
            &mut a,
            "package_update",
            json!({"id": "mie-private", "name": "mie-private", "title": "非公開の調査（改）"}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["result"]["private"], true,
            "an update without `private` keeps it"
        );
        let (s, v) = action(
            &mut a,
            "package_patch",
            json!({"id": "mie-public", "url": "javascript:alert(1)"}),
        )
        .await;
        assert_eq!(
            (s, v["error"]["__type"].clone()),
            (409, json!("Validation Error")),
            "{v}"
        );

        // Writes across local governments are refused with CKAN's Authorization Error.
        for (name, body) in [
            (
                "package_patch",
                json!({"id": "mie-public", "title": "乗っ取り"}),
            ),
            (
                "package_update",
                json!({"id": "mie-public", "name": "mie-public"}),
            ),
            ("package_delete", json!({"id": "mie-public"})),
            (
                "resource_create",
                json!({"package_id": "mie-public", "url": "https://x.example.jp/a.csv"}),
            ),
            (
                "package_create",
                json!({"name": "in-mie", "owner_org": "mie-prefecture"}),
            ),
            (
                "organization_patch",
                json!({"id": "mie-prefecture", "title": "乗っ取り"}),
            ),
        ] {
            let (s, v) = action(&mut b, name, body).await;
            assert_eq!(s, 403, "{name}: {v}");
            assert_eq!(v["error"]["__type"], "Authorization Error", "{name}");
        }
        let (s, v) = action(&mut anon, "package_create", json!({"name": "anon"})).await;
        assert_eq!(
            (s, v["error"]["__type"].clone()),
            (403, json!("Authorization Error"))
        );
        let (_, v) = action(&mut anon, "package_show", json!({"id": "mie-public"})).await;
        assert_eq!(v["result"]["title"], "公開データ", "nothing changed");
        t.finish().await;
    }
}

#[tokio::test]
async fn validation_errors_are_ckans_field_keyed_messages() {
    for backend in common::backends() {
        let t = TestApp::new(backend).await;
        let token = org_and_token(&t, "240001", "三重県", "Mie Prefecture").await;
        let mut a = with_token(&t, &token);
        let (s, _) = action(&mut a, "package_create", json!({"name": "taken"})).await;
        assert_eq!(s, 200);
        for (body, field) in [
            (json!({"name": "taken"}), "name"),
            (json!({"name": "Upper Case"}), "name"),
            (json!({"name": "x"}), "name"),
            (json!({}), "name"),
            (
                json!({"name": "ok-name", "owner_org": "no-such-org"}),
                "owner_org",
            ),
            (
                json!({"name": "ok-name", "tags": [{"name": "a,b"}]}),
                "tags",
            ),
            (
                json!({"name": "ok-name", "groups": [{"name": "no-such-group"}]}),
                "groups",
            ),
            (
                json!({"name": "ok-name", "extras": [{"key": "", "value": "x"}]}),
                "extras",
            ),
            (
                json!({"name": "ok-name", "extras": [{"key": "standard_template", "value": "nope"}]}),
                "extras",
            ),
        ] {
            let (s, v) = action(&mut a, "package_create", body.clone()).await;
            assert_eq!(s, 409, "{body}: {v}");
            assert_eq!(v["error"]["__type"], "Validation Error", "{body}");
            assert!(v["error"][field].is_array(), "{body}: {v}");
        }
        let (s, v) = action(
            &mut a,
            "organization_create",
            json!({"name": "mie-prefecture"}),
        )
        .await;
        assert_eq!(s, 409, "{v}");
        let (_, v) = action(&mut a, "package_list", json!({})).await;
        assert_eq!(v["result"], json!(["taken"]), "nothing else was created");
        // A deleted dataset's name is free again (as in CKAN 2.10): the old one is renamed to its id.
        let (_, old) = action(&mut a, "package_show", json!({"id": "taken"})).await;
        let old_id = old["result"]["id"].as_str().unwrap().to_string();
        let (s, _) = action(&mut a, "package_delete", json!({"id": "taken"})).await;
        assert_eq!(s, 200);
        let (s, v) = action(&mut a, "package_create", json!({"name": "taken"})).await;
        assert_eq!(s, 200, "{v}");
        assert_ne!(v["result"]["id"], old_id.as_str());
        let (_, v) = action(&mut a, "package_show", json!({"id": old_id})).await;
        assert_eq!(v["result"]["state"], "deleted", "{v}");
        assert_eq!(v["result"]["name"], old_id.as_str());
        t.finish().await;
    }
}

/// Uploads above the configured size get CKAN's message and leave nothing behind.
#[tokio::test]
async fn an_upload_too_large_changes_nothing() {
    let db = common::TestDb::new(platform::db::Backend::Sqlite).await;
    let mut config = db.config();
    config.data_upload_bytes = 2_000;
    let app = madoguchi::app::build(config).await.expect("app builds");
    let t = TestApp { app, db };
    let token = org_and_token(&t, "242012", "津市", "Tsu City").await;
    let mut a = with_token(&t, &token);
    let (s, v) = action(&mut a, "package_create", json!({"name": "big-file"})).await;
    assert_eq!(s, 200, "{v}");
    let files_before = count_files(&t.app.platform.config.data_dir.join("files"));
    for size in [2_001usize, 50_000, 3_000_000] {
        let big = vec![b'x'; size];
        let res = a
            .post_multipart(
                "/api/3/action/resource_create",
                &[("package_id", "big-file")],
                &[("upload", "big.csv", &big)],
            )
            .await;
        assert_eq!(res.status, 409, "{size}: {}", res.text());
        assert_eq!(
            res.json()["error"],
            json!({"__type": "Validation Error", "upload": ["File upload too large"]})
        );
    }
    let (_, v) = action(&mut a, "package_show", json!({"id": "big-file"})).await;
    assert_eq!(v["result"]["num_resources"], 0);
    assert_eq!(
        count_files(&t.app.platform.config.data_dir.join("files")),
        files_before
    );
    t.finish().await;
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() { count_files(&p) } else { 1 }
        })
        .sum()
}

/// Malformed requests to every open-data protocol: a 4xx in the protocol's
/// own shape, never a 500 or a panic.
#[tokio::test]
async fn malformed_requests_never_get_a_500() {
    for backend in common::backends() {
        let t = TestApp::new(backend).await;
        let token = org_and_token(&t, "240001", "三重県", "Mie Prefecture").await;
        let mut a = with_token(&t, &token);
        let (s, _) = action(&mut a, "package_create", json!({"name": "target"})).await;
        assert_eq!(s, 200);
        let long = "あ".repeat(10_000);
        let json_cases: Vec<(&str, Value)> = vec![
            ("package_search", json!({"rows": "abc"})),
            ("package_search", json!({"rows": -1})),
            ("package_search", json!({"start": "1e99"})),
            ("package_search", json!({"rows": 1.5})),
            ("package_search", json!({"fq": "(((("})),
            (
                "package_search",
                json!({"fq": "metadata_modified:[2024 TO"}),
            ),
            ("package_search", json!({"q": long})),
            ("package_search", json!({"q": "\u{0}\u{1}"})),
            ("package_search", json!({"sort": "nonsense desc"})),
            ("package_search", json!({"sort": "name sideways"})),
            ("package_search", json!({"facet.field": [1, {"a": 2}]})),
            ("package_search", json!({"facet.field": "[not json"})),
            ("package_search", json!({"facet.limit": "x"})),
            ("package_search", json!({"fq_list": {"a": 1}})),
            ("package_show", json!({"id": null})),
            ("package_show", json!({"id": ["a", "b"]})),
            ("package_show", json!({"id": long})),
            ("resource_show", json!({})),
            ("resource_search", json!({"query": "no colon"})),
            ("resource_search", json!({"query": "bad field!:x"})),
            ("organization_show", json!({"id": {"x": 1}})),
            ("group_list", json!({"limit": "many"})),
            ("help_show", json!({"name": "nope"})),
            (
                "package_create",
                json!({"name": "t2", "tags": 5, "resources": "x", "extras": 7, "private": "maybe"}),
            ),
            ("package_create", json!({"name": "t3", "resources": [1, 2]})),
            (
                "package_create",
                json!({"name": "t4", "resources": [{"size": "big"}]}),
            ),
            ("package_patch", json!({"id": "target", "groups": "nope"})),
            ("package_update", json!({"id": "no-such"})),
            ("resource_create", json!({"package_id": "no-such"})),
            ("resource_patch", json!({"id": "no-such"})),
            ("resource_create", json!({})),
            ("organization_create", json!({"name": 5})),
            ("group_create", json!({"name": "Bad Name"})),
        ];
        for (name, body) in json_cases {
            let (s, v) = action(&mut a, name, body.clone()).await;
            // Either an answer (a long or odd free-text query is a fair question)
            // or CKAN's error envelope; never a 500.
            match s {
                200 => assert_eq!(v["success"], true, "{name} {body}: {v}"),
                400..500 => {
                    assert_eq!(v["success"], false, "{name} {body}: {v}");
                    assert!(v["error"]["__type"].is_string(), "{name} {body}: {v}");
                }
                _ => panic!("{name} {body}: {s} {v}"),
            }
        }
        // These are errors, with CKAN's classes.
        for (name, body, kind) in [
            ("package_search", json!({"rows": "abc"}), "Validation Error"),
            (
                "package_search",
                json!({"fq": "(((("}),
                "Search Query Error",
            ),
            (
                "package_search",
                json!({"sort": "nonsense desc"}),
                "Search Query Error",
            ),
            ("package_show", json!({"id": "no-such"}), "Not Found Error"),
            (
                "package_create",
                json!({"name": "t3", "resources": [1, 2]}),
                "Validation Error",
            ),
            (
                "resource_create",
                json!({"package_id": "no-such"}),
                "Not Found Error",
            ),
        ] {
            let (_, v) = action(&mut a, name, body.clone()).await;
            assert_eq!(v["error"]["__type"], kind, "{name} {body}: {v}");
        }
        let raw: Vec<(Method, &str, Option<&str>, Vec<u8>)> = vec![
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("application/json"),
                b"{not json".to_vec(),
            ),
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("application/json"),
                b"[1,2]".to_vec(),
            ),
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("application/json"),
                vec![0xff, 0xfe, 0x00],
            ),
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("multipart/form-data; boundary=x"),
                b"garbage".to_vec(),
            ),
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("multipart/form-data"),
                b"--x\r\n".to_vec(),
            ),
            (
                Method::POST,
                "/api/3/action/package_search",
                Some("application/x-www-form-urlencoded"),
                b"rows=%FF%FE&q=%00".to_vec(),
            ),
            (
                Method::GET,
                "/api/3/action/package_search?q=%FF%FE&rows=%00",
                None,
                vec![],
            ),
            (Method::GET, "/api/3/action/no_such_action", None, vec![]),
            (
                Method::DELETE,
                "/api/3/action/package_show?id=target",
                None,
                vec![],
            ),
            (
                Method::GET,
                "/api/action/package_search?fq=%22unbalanced",
                None,
                vec![],
            ),
            (Method::GET, "/catalog.ttl?page=abc", None, vec![]),
            (Method::GET, "/catalog.ttl?page=0", None, vec![]),
            (Method::GET, "/catalog.ttl?fq=((((", None, vec![]),
            (
                Method::GET,
                "/catalog.ttl?modified_since=yesterday",
                None,
                vec![],
            ),
            (Method::GET, "/catalog.exe", None, vec![]),
            (Method::GET, "/dataset/no-such.ttl", None, vec![]),
            (
                Method::GET,
                "/dataset/x/resource/y/download/z",
                None,
                vec![],
            ),
            (Method::GET, "/v2/entities?limit=0", None, vec![]),
            (Method::GET, "/v2/entities?limit=abc", None, vec![]),
            (Method::GET, "/v2/entities?limit=100000", None, vec![]),
            (Method::GET, "/v2/entities?id=%3Cscript%3E", None, vec![]),
            (Method::GET, "/v2/entities?q=((", None, vec![]),
            (
                Method::GET,
                "/v2/entities?idPattern=(((((a*)*)*)*)*b",
                None,
                vec![],
            ),
            (Method::GET, "/v2/entities?options=bogus", None, vec![]),
            (Method::GET, "/v2/entities/nope", None, vec![]),
            (Method::GET, "/v2/types/Nope", None, vec![]),
            (
                Method::POST,
                "/v2/entities",
                Some("application/json"),
                b"{}".to_vec(),
            ),
            (Method::GET, "/v2/nothing/here", None, vec![]),
        ];
        for (method, uri, ct, body) in raw {
            let res = a.request(method.clone(), uri, ct, body, &[]).await;
            let s = res.status.as_u16();
            assert!(
                (400..500).contains(&s),
                "{method} {uri}: {s} {}",
                res.text()
            );
            if uri.starts_with("/api/") && s != 405 {
                let v: Value = serde_json::from_slice(&res.body)
                    .unwrap_or_else(|_| panic!("{method} {uri}: {s} {}", res.text()));
                assert!(
                    v.is_string() || v["error"]["__type"].is_string(),
                    "{method} {uri}: {v}"
                );
            }
            if uri.starts_with("/v2/") {
                let v: Value = serde_json::from_slice(&res.body)
                    .unwrap_or_else(|_| panic!("{method} {uri}: {s} {}", res.text()));
                assert!(v["error"].is_string(), "{uri}: {v}");
            }
        }
        // A bad tenant header gets Orion's 400.
        let res = a
            .request(
                Method::GET,
                "/v2/entities",
                None,
                vec![],
                &[("fiware-service", "bad tenant!")],
            )
            .await;
        assert_eq!(res.status, 400, "{}", res.text());
        assert_eq!(res.json()["error"], "BadRequest");
        t.finish().await;
    }
}

/// The platform publishes its procedure catalogue and monthly application
/// counts as datasets, and keeps them current without churning them.
#[tokio::test]
async fn the_platform_publishes_its_procedures_and_monthly_counts() {
    for backend in common::backends() {
        let t = TestApp::with_demo(backend).await;
        let mut anon = t.client();
        let (_, v) = action(
            &mut anon,
            "package_search",
            json!({"fq": "extras_publisher:madoguchi", "rows": 100}),
        )
        .await;
        let results = v["result"]["results"].as_array().unwrap().clone();
        let find = |suffix: &str| {
            results
                .iter()
                .find(|d| {
                    d["organization"]["title"] == "三重県"
                        && d["name"].as_str().unwrap().ends_with(suffix)
                })
                .cloned()
                .unwrap_or_else(|| panic!("no {suffix} dataset of Mie: {results:?}"))
        };
        let catalogue = find("-procedures");
        assert_eq!(catalogue["license_id"], "cc-by-4.0");
        let path = |d: &Value| {
            let url = d["resources"][0]["url"].as_str().unwrap().to_string();
            url.split_once("/dataset/")
                .map(|(_, p)| format!("/dataset/{p}"))
                .unwrap()
        };
        let csv = anon.get(&path(&catalogue)).await.text();
        assert!(csv.starts_with('\u{feff}'), "UTF-8 with BOM");
        assert!(csv.contains("三重県立高等学校入学願書"), "{csv}");
        assert!(
            anon.get(&format!(
                "/dataset/{}.ttl",
                catalogue["name"].as_str().unwrap()
            ))
            .await
            .text()
            .contains("dcat:Dataset")
        );

        // One more application to Mie's high-school entrance procedure this month.
        let monthly = find("-applications-monthly");
        let before = anon.get(&path(&monthly)).await.text();
        let db = &t.app.platform.db;
        let (procedure, org, section, form): (i64, i64, i64, i64) = sqlx::query_as(
            "select id, organisation_id, section_id, current_form_id from procedures where code = 'mie-hs-entrance'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        let resident = platform::accounts::insert_resident(db, "publish@example.jp", None, "")
            .await
            .unwrap();
        t.app
            .procedures
            .writer
            .submit(procedures::service::writer::Submission::New(
                procedures::service::writer::NewSubmission {
                    resident_id: resident.id,
                    organisation_id: org,
                    organisation_code: "240001".into(),
                    section_id: section,
                    procedure_id: procedure,
                    form_version_id: form,
                    answers: "{}".into(),
                    idempotency_key: "publish-test".into(),
                    request_hash: "publish-test".into(),
                    identified_by: r#"{"method":"password"}"#.into(),
                },
            ))
            .await
            .unwrap();
        let changed = opendata::service::publishing::run(&t.app.opendata)
            .await
            .unwrap();
        assert!(changed >= 1, "the monthly dataset changed");
        let (_, v) = action(&mut anon, "package_show", json!({"id": monthly["id"]})).await;
        let after = anon.get(&path(&v["result"])).await.text();
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let count = |text: &str| -> i64 {
            text.lines()
                .filter(|l| l.contains(&month) && l.contains("mie-hs-entrance"))
                .filter_map(|l| l.split(',').nth(5)?.parse::<i64>().ok())
                .sum()
        };
        assert_eq!(count(&after), count(&before) + 1, "{after}");
        assert_ne!(
            v["result"]["metadata_modified"],
            monthly["metadata_modified"]
        );

        // Nothing changed: nothing is rewritten (harvesters see the same metadata_modified).
        assert_eq!(
            opendata::service::publishing::run(&t.app.opendata)
                .await
                .unwrap(),
            0
        );
        let (_, again) = action(&mut anon, "package_show", json!({"id": monthly["id"]})).await;
        assert_eq!(
            again["result"]["metadata_modified"],
            v["result"]["metadata_modified"]
        );
        t.finish().await;
    }
}

/// An anonymous write is refused before its body is read: a client streaming
/// a 200 MB upload without a token gets its 403 after at most a small JSON
/// body's worth has been read (once, up to four times the upload limit plus
/// 64 MB was read and dropped first).
#[tokio::test]
async fn anonymous_writes_are_refused_before_their_body_is_read() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;
    let t = TestApp::new(platform::db::Backend::Sqlite).await;
    let read = Arc::new(AtomicUsize::new(0));
    let counter = read.clone();
    let chunk = axum::body::Bytes::from(vec![b'x'; 64 << 10]);
    let stream = futures_util::stream::iter((0..3200).map(move |_| {
        counter.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    }));
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/3/action/resource_create")
        .header("content-type", "multipart/form-data; boundary=x")
        .body(axum::body::Body::from_stream(stream))
        .unwrap();
    let res = t.app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["connection"], "close");
    let consumed = read.load(Ordering::SeqCst);
    assert!(
        consumed <= 1 << 20,
        "{consumed} bytes of an anonymous upload were read before its 403"
    );
    t.finish().await;
}
