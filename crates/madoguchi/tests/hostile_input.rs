//! Hostile input, generated: bounded property tests (proptest) of every
//! parser that reads what outsiders send. Each must answer (a value or an
//! error) and never panic, and over HTTP never answer 5xx:
//!
//! - form definitions (TOML and JSON), from arbitrary text and from the demo
//!   forms mutated value by value;
//! - the FAQ CSV importer and the procedure-inventory importer (CSV and
//!   XLSX), from arbitrary bytes, CSV-like text and corrupted workbooks;
//! - multipart bodies (boundaries, headers, names, truncation) on the
//!   resident API, the pages and the CKAN API;
//! - CKAN `q`/`fq` (Lucene syntax, ranges, dates, escapes) through
//!   `package_search`.
//!
//! 和暦 and the other Japanese parsers have their own property tests in
//! `crates/jp/tests/properties.rs`. Case counts are fixed so the run is
//! bounded; a failing case is printed with its shrunk input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a failed expectation is the test's failure"
)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Client, DEMO_PASSWORD, TestApp, repo_root};
use platform::db::Backend;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn demo_forms() -> Vec<String> {
    let dir = repo_root().join("crates/madoguchi/demo/forms");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    out.sort();
    out
}

/// A random TOML value of any type, small.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        any::<String>().prop_map(toml::Value::String),
        "[a-z_]{0,12}".prop_map(toml::Value::String),
        any::<i64>().prop_map(toml::Value::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

/// Replaces, removes or adds the `n`th value met walking the tree.
fn mutate(v: &mut toml::Value, n: &mut usize, with: &toml::Value, op: u8) -> bool {
    if *n == 0 {
        match op % 3 {
            0 => *v = with.clone(),
            1 => {
                if let toml::Value::Table(t) = v
                    && let Some(k) = t.keys().next().cloned()
                {
                    t.remove(&k);
                } else {
                    *v = with.clone();
                }
            }
            _ => match v {
                toml::Value::Table(t) => {
                    t.insert("extra".into(), with.clone());
                }
                toml::Value::Array(a) => a.push(with.clone()),
                _ => *v = with.clone(),
            },
        }
        return true;
    }
    *n -= 1;
    match v {
        toml::Value::Table(t) => t.iter_mut().any(|(_, c)| mutate(c, n, with, op)),
        toml::Value::Array(a) => a.iter_mut().any(|c| mutate(c, n, with, op)),
        _ => false,
    }
}

#[test]
fn form_definitions_never_panic() {
    let forms = demo_forms();
    assert!(forms.len() >= 5);
    for form in &forms {
        assert!(
            procedures::form::FormDefinition::parse(form).is_ok(),
            "the demo forms parse"
        );
    }
    let mut r = runner(400);
    r.run(&any::<String>(), |text| {
        let _ = procedures::form::FormDefinition::parse(&text);
        let _ = procedures::form::FormDefinition::parse(&format!("{{{text}"));
        Ok(())
    })
    .unwrap();
    let parsed: Vec<toml::Value> = forms.iter().map(|f| toml::from_str(f).unwrap()).collect();
    let mut r = runner(1500);
    r.run(
        &(0..parsed.len(), 0usize..400, toml_value(), any::<u8>()),
        |(which, at, with, op)| {
            let mut v = parsed[which].clone();
            let mut n = at;
            mutate(&mut v, &mut n, &with, op);
            if let Ok(text) = toml::to_string(&v) {
                let _ = procedures::form::FormDefinition::parse(&text);
            }
            if let Ok(json) = serde_json::to_string(&v) {
                let _ = procedures::form::FormDefinition::parse(&json);
            }
            Ok(())
        },
    )
    .unwrap();
    // Byte-level damage to the text itself.
    let mut r = runner(400);
    r.run(
        &(
            0..forms.len(),
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            any::<String>(),
        ),
        |(which, a, b, insert)| {
            let text = &forms[which];
            let chars: Vec<char> = text.chars().collect();
            let (i, j) = (a.index(chars.len()), b.index(chars.len()));
            let (i, j) = (i.min(j), i.max(j));
            let damaged: String = chars[..i]
                .iter()
                .chain(insert.chars().collect::<Vec<_>>().iter())
                .chain(chars[j..].iter())
                .collect();
            let _ = procedures::form::FormDefinition::parse(&damaged);
            Ok(())
        },
    )
    .unwrap();
}

/// CSV-like text: cells with quotes, commas, newlines and Japanese.
fn csv_like() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        "[^\"]{0,12}",
        "\"[^\"]{0,10}\"",
        "\"[a-z,\n\"]{0,10}",
        "[0-9]{0,6}",
        Just("令和5年度".to_string()),
        Just("○".to_string()),
        Just(String::new()),
    ];
    let row = prop::collection::vec(cell, 0..8).prop_map(|cells| cells.join(","));
    (prop::collection::vec(row, 0..12), any::<bool>()).prop_map(|(rows, bom)| {
        let body = rows.join("\r\n");
        if bom { format!("\u{feff}{body}") } else { body }
    })
}

#[test]
fn the_importers_never_panic() {
    let mut r = runner(500);
    r.run(&prop::collection::vec(any::<u8>(), 0..2000), |bytes| {
        let _ = faq::entry::parse_csv(&bytes);
        let _ = faq::entry::parse_csv_lenient(&bytes);
        for name in ["x.csv", "x.xlsx", "x.txt"] {
            if let Ok(rows) = plans::inventory::rows(&bytes, name) {
                let _ = plans::inventory::parse(&rows);
            }
        }
        Ok(())
    })
    .unwrap();
    let mut r = runner(500);
    r.run(&(csv_like(), any::<bool>()), |(text, sjis)| {
        let header = "id,question,answer,area,url,organisation,section,procedure,keywords,question_en,answer_en,status,valid_from,valid_until\n";
        let with_header = format!("{header}{text}");
        let bytes = if sjis {
            encoding_rs::SHIFT_JIS.encode(&with_header).0.into_owned()
        } else {
            with_header.into_bytes()
        };
        let _ = faq::entry::parse_csv(&bytes);
        let inventory = format!("手続ID,手続名,実施状況,総手続件数\n{text}");
        if let Ok(rows) = plans::inventory::rows(inventory.as_bytes(), "x.csv") {
            let _ = plans::inventory::parse(&rows);
        }
        Ok(())
    })
    .unwrap();
    // A real workbook, then corrupted byte by byte.
    let workbook = {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, title) in ["手続ID", "手続名", "実施状況", "総手続件数"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *title).unwrap();
        }
        for row in 1..20u32 {
            sheet.write_string(row, 0, format!("P-{row}")).unwrap();
            sheet.write_string(row, 1, "転入届").unwrap();
            sheet.write_number(row, 2, 1.0).unwrap();
            sheet.write_number(row, 3, f64::from(row) * 10.0).unwrap();
        }
        book.save_to_buffer().unwrap()
    };
    assert!(
        plans::inventory::rows(&workbook, "x.xlsx").is_ok(),
        "the workbook reads"
    );
    let mut r = runner(300);
    r.run(
        &prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        |edits| {
            let mut bytes = workbook.clone();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if let Ok(rows) = plans::inventory::rows(&bytes, "x.xlsx") {
                let _ = plans::inventory::parse(&rows);
            }
            Ok(())
        },
    )
    .unwrap();
}

/// A multipart body with a random boundary, header lines, names and parts,
/// possibly cut short.
fn multipart_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let name = prop_oneof![
        4 => Just("file".to_string()),
        4 => Just("question".to_string()),
        1 => Just("_csrf".to_string()),
        2 => Just("upload".to_string()),
        2 => Just("package_id".to_string()),
        1 => "[^\"\r\n]{0,12}",
        1 => any::<String>(),
    ];
    let part = (
        name,
        prop::option::of(prop_oneof!["[a-zA-Z0-9_. ]{0,20}", any::<String>()]),
        prop::option::of("[a-z/+-]{0,30}"),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    );
    (
        prop_oneof![
            4 => "[A-Za-z0-9_-]{1,70}",
            // Characters a boundary may hold but a header must quote.
            1 => "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        ],
        prop::collection::vec(part, 0..5),
        prop::option::of(any::<prop::sample::Index>()),
        any::<bool>(),
        // Half the bodies are well formed, so they reach the handlers.
        any::<bool>(),
    )
        .prop_map(|(boundary, parts, cut, close, well_formed)| {
            let (cut, close) = if well_formed {
                (None, true)
            } else {
                (cut, close)
            };
            let mut body = Vec::new();
            for (name, filename, ctype, bytes, bare_lf) in parts {
                let bare_lf = bare_lf && !well_formed;
                let nl = if bare_lf { "\n" } else { "\r\n" };
                body.extend_from_slice(format!("--{boundary}{nl}").as_bytes());
                let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
                if let Some(f) = filename {
                    disposition.push_str(&format!("; filename=\"{f}\""));
                }
                body.extend_from_slice(disposition.as_bytes());
                body.extend_from_slice(nl.as_bytes());
                if let Some(t) = ctype {
                    body.extend_from_slice(format!("Content-Type: {t}{nl}").as_bytes());
                }
                body.extend_from_slice(nl.as_bytes());
                body.extend_from_slice(&bytes);
                body.extend_from_slice(nl.as_bytes());
            }
            if close {
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            if let Some(cut) = cut
                && !body.is_empty()
            {
                body.truncate(cut.index(body.len()));
            }
            (boundary, body)
        })
}

fn not_a_server_error(status: StatusCode, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "{what} answered {status}");
    Ok(())
}

#[test]
fn multipart_bodies_never_get_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (t, api, web, ckan, draft, page_uri, csrf) = rt.block_on(async {
        let t = TestApp::with_demo(Backend::Sqlite).await;
        let db = &t.app.platform.db;
        let parking: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-parking-permit'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let mie = platform::orgs::organisation_by_code(db, "240001")
            .await
            .unwrap()
            .unwrap();
        let token = opendata::service::tokens::issue(db, mie.id, "fuzz", "test")
            .await
            .unwrap();
        let mut api = t.client();
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let draft = api
            .post_json(
                &format!("/api/v1/procedures/{parking}/applications"),
                &serde_json::json!({"answers": {}}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let mut web = t.client();
        web.page_sign_in("taro@example.jp", DEMO_PASSWORD, false)
            .await;
        let csrf = web.get(&format!("/procedures/{parking}")).await.csrf();
        let started = web
            .post_form(&format!("/procedures/{parking}/apply"), &[("_csrf", &csrf)])
            .await;
        let page_uri = started.location();
        let mut ckan = t.client();
        ckan.bearer = Some(token);
        let res = ckan
            .post_json(
                "/api/3/action/package_create",
                &serde_json::json!({"name": "fuzz-target"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        (t, api, web, ckan, draft, page_uri, csrf)
    });
    let seen = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut r = runner(300);
    r.run(&multipart_body(), |(boundary, body)| {
        let (mut api, mut web, mut ckan) = (api.clone(), web.clone(), ckan.clone());
        rt.block_on(async {
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let attach = format!("/api/v1/applications/{draft}/attachments");
            let res = api
                .request(
                    Method::POST,
                    &attach,
                    Some(&content_type),
                    body.clone(),
                    &[],
                )
                .await;
            not_a_server_error(res.status, "the attachment API")?;
            *seen.lock().unwrap().entry(res.status.as_u16()).or_default() += 1;
            let res = web
                .request(
                    Method::POST,
                    &page_uri,
                    Some(&content_type),
                    body.clone(),
                    &[("x-csrf-token", csrf.as_str())],
                )
                .await;
            not_a_server_error(res.status, "a form page")?;
            let res = ckan
                .request(
                    Method::POST,
                    "/api/3/action/resource_create",
                    Some(&content_type),
                    body.clone(),
                    &[],
                )
                .await;
            not_a_server_error(res.status, "CKAN resource_create")?;
            // A wrong or missing boundary.
            let res = api
                .request(
                    Method::POST,
                    &attach,
                    Some("multipart/form-data"),
                    body,
                    &[],
                )
                .await;
            not_a_server_error(res.status, "the attachment API without a boundary")
        })
    })
    .unwrap();
    // The bodies reached the handlers, not only the parser's refusal.
    let seen = seen.into_inner().unwrap();
    eprintln!("attachment API answers: {seen:?}");
    assert!(
        seen.keys().any(|s| *s != 400),
        "some generated bodies were read as multipart: {seen:?}"
    );
    rt.block_on(t.finish());
}

/// Lucene-like text: fields, phrases, ranges, boolean operators, wildcards,
/// escapes, dates with Solr's date math, and stray punctuation.
fn lucene_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-z_]{1,10}:",
        "\"[^\"]{0,10}\"?",
        Just("AND".to_string()),
        Just("OR".to_string()),
        Just("NOT".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("TO".to_string()),
        Just("*".to_string()),
        Just("?".to_string()),
        Just("\\".to_string()),
        Just("-".to_string()),
        Just("+".to_string()),
        Just("^2".to_string()),
        Just("~".to_string()),
        Just("NOW-1DAY/DAY".to_string()),
        Just("2024-01-01T00:00:00Z".to_string()),
        Just("metadata_modified:[* TO NOW]".to_string()),
        Just("tags:公園".to_string()),
        Just("res_format:CSV".to_string()),
        "[ぁ-んァ-ン一-龥]{1,4}",
        "[a-z0-9]{1,6}",
        any::<String>(),
    ];
    prop::collection::vec(token, 0..12).prop_map(|t| t.join(" "))
}

#[test]
fn ckan_queries_never_get_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (t, c): (TestApp, Client) = rt.block_on(async {
        let t = TestApp::with_demo(Backend::Sqlite).await;
        let c = t.client();
        (t, c)
    });
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::<bool, usize>::new());
    let mut r = runner(600);
    r.run(
        &(lucene_like(), lucene_like(), any::<bool>()),
        |(q, fq, post)| {
            let mut c = c.clone();
            rt.block_on(async {
                let res = if post {
                    c.post_json(
                    "/api/3/action/package_search",
                    &serde_json::json!({"q": q, "fq": fq, "facet.field": ["tags", "res_format"]}),
                )
                .await
                } else {
                    let query: String = form_urlencoded::Serializer::new(String::new())
                        .append_pair("q", &q)
                        .append_pair("fq", &fq)
                        .finish();
                    c.get(&format!("/api/3/action/package_search?{query}"))
                        .await
                };
                not_a_server_error(res.status, "package_search")?;
                let body: serde_json::Value = serde_json::from_slice(&res.body)
                    .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
                prop_assert!(body.get("success").is_some(), "a CKAN answer: {body}");
                *outcomes
                    .lock()
                    .unwrap()
                    .entry(body["success"] == serde_json::Value::Bool(true))
                    .or_default() += 1;
                // The dataset pages read the same syntax.
                let page = c
                    .get(&format!(
                        "/dataset?{}",
                        form_urlencoded::Serializer::new(String::new())
                            .append_pair("q", &q)
                            .finish()
                    ))
                    .await;
                not_a_server_error(page.status, "the dataset search page")
            })
        },
    )
    .unwrap();
    // Both kinds of answer happened: searches run, and invalid queries refused.
    let outcomes = outcomes.into_inner().unwrap();
    eprintln!("package_search (success → count): {outcomes:?}");
    assert!(outcomes.len() == 2, "{outcomes:?}");
    rt.block_on(t.finish());
}
