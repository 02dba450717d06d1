//! Two `madoguchi serve` processes on one database and one S3-compatible
//! object store (s3s-fs, checking signatures), each with its own data
//! directory, driven alternately over TCP as a load balancer would, on
//! SQLite (two processes on one database file) and on PostgreSQL.
//!
//! Checked: sessions and CSRF tokens, drafts and attachments work across
//! nodes; sign-in rate limits hold across nodes; the same Idempotency-Key sent
//! to both at once gives one application and the same answer (never a 5xx);
//! two approvers on two nodes give one transition and a 409; receipt numbers
//! stay unique under load on both; each notification is sent once; the FAQ,
//! catalogue and open-data caches converge within their bounds; periodic work
//! holds a lease on one node.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a failed expectation is the test's failure"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::node::Node;
use common::procs::{Fleet, Load, submission};
use common::s3::S3Server;
use common::{Client, DEMO_PASSWORD, Smtp, backends};
use platform::db::Backend;
use serde_json::json;

#[test]
fn two_nodes_share_one_database_and_one_object_store() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in backends() {
        two_nodes(&rt, backend);
    }
}

fn two_nodes(rt: &tokio::runtime::Runtime, backend: Backend) {
    let t0 = Instant::now();
    let smtp = Smtp::start().expect("the SMTP leg is needed for the two-node test");
    let s3 = S3Server::start();
    let fleet = rt.block_on(Fleet::prepare(backend, 8, Some(&smtp), Some(&s3.store)));
    let (dir_a, dir_b) = (fleet.db.dir.join("node-a"), fleet.db.dir.join("node-b"));
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let mut a = Node::start(&dir_a, &fleet.env);
    let mut b = Node::start(&dir_b, &fleet.env);
    let (base_a, base_b) = (a.base.clone(), b.base.clone());
    eprintln!("{backend:?}: two nodes up after {:?}", t0.elapsed());

    rt.block_on(async {
        sessions_and_csrf_cross_nodes(&base_a, &base_b).await;
        drafts_and_attachments_cross_nodes(&fleet, &base_a, &base_b, &s3).await;
        sign_in_limits_hold_across_nodes(&base_a, &base_b).await;
        one_key_at_both_nodes_gives_one_application(&fleet, &base_a, &base_b).await;
        two_approvers_on_two_nodes_give_one_transition(&fleet, &base_a, &base_b).await;
        caches_converge(&fleet, &base_a, &base_b).await;
    });
    eprintln!(
        "{backend:?}: cross-node checks done after {:?}",
        t0.elapsed()
    );

    // Load alternating between the nodes: no error, receipts unique.
    let bases = Arc::new(RwLock::new(vec![base_a.clone(), base_b.clone()]));
    let load = Load::start(rt, &fleet, bases, Duration::from_millis(20));
    std::thread::sleep(Duration::from_secs(3));
    let acks = load.finish(rt);
    assert!(acks.len() > 20, "the load ran: {}", acks.len());

    rt.block_on(async {
        let db = fleet.connect().await;
        let twice: Vec<(String, i64)> = sqlx::query_as(
            "select receipt_number, count(*) from applications where receipt_number is not null \
             group by receipt_number having count(*) > 1",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert!(twice.is_empty(), "receipt numbers given twice: {twice:?}");
        for ack in &acks {
            let n: i64 = sqlx::query_scalar(
                "select count(*) from applications where resident_id = $1 and idempotency_key = $2",
            )
            .bind(ack.resident_id)
            .bind(&ack.key)
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(n, 1, "{ack:?}");
        }

        // Each notification is sent once, by one of the nodes.
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let open: i64 = sqlx::query_scalar("select count(*) from jobs where done_at is null")
                .fetch_one(db.pool())
                .await
                .unwrap();
            if open == 0 {
                break;
            }
            assert!(Instant::now() < until, "{open} jobs not done");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where kind like 'notify.%'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for m in smtp.messages() {
            let id = m
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(|l| l["message-id:".len()..].trim().to_string())
                .expect("a Message-ID");
            *seen.entry(id).or_default() += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "sent more than once: {twice:?}");
        assert_eq!(seen.len() as i64, jobs, "one e-mail per notification job");

        // Periodic work: one holder per lease, and it is one of the two nodes
        // (the log of exactly one names the publishing run).
        let leases: Vec<(String, String)> =
            sqlx::query_as("select name, holder from leases order by name")
                .fetch_all(db.pool())
                .await
                .unwrap();
        let names: Vec<&str> = leases.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"opendata.publishing") && names.contains(&"maintenance"),
            "{leases:?}"
        );
        db.close().await;
    });
    let published = |log: &str| log.contains("published the platform's own datasets");
    let (log_a, log_b) = (a.log_text(), b.log_text());
    assert!(
        published(&log_a) ^ published(&log_b),
        "exactly one node publishes (a: {}, b: {})",
        published(&log_a),
        published(&log_b)
    );

    // Nothing a node needs was written to its own disk: files are in the bucket.
    for dir in [&dir_a, &dir_b] {
        assert!(
            !dir.join("files").exists(),
            "{} holds files of its own",
            dir.display()
        );
    }

    for node in [&mut a, &mut b] {
        let (took, status) = node.terminate();
        assert!(
            status.success() && took < Duration::from_secs(10),
            "{status} {took:?}"
        );
    }
    fleet.audit_verify();
    rt.block_on(fleet.cleanup());
    eprintln!("{backend:?}: done after {:?}", t0.elapsed());
}

async fn sessions_and_csrf_cross_nodes(a: &str, b: &str) {
    // The sign-in form comes from A, is posted to B; the session works on A.
    let mut web = Client::remote(a);
    let page = web.get("/signin").await;
    let csrf = page.csrf();
    web.switch_to(b);
    let res = web
        .post_form(
            "/signin",
            &[
                ("_csrf", &csrf),
                ("email", "taro@example.jp"),
                ("password", DEMO_PASSWORD),
                ("next", "/applications"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    web.switch_to(a);
    let res = web.get("/applications").await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "signed in on A too: {}",
        res.text()
    );
    // A form from B posted to A with the session made on B: sign out works.
    web.switch_to(b);
    let csrf = web.get("/applications").await.csrf();
    web.switch_to(a);
    let res = web.post_form("/signout", &[("_csrf", &csrf)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    web.switch_to(b);
    let res = web.get("/applications").await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "signed out everywhere: {}",
        res.text()
    );
}

async fn drafts_and_attachments_cross_nodes(fleet: &Fleet, a: &str, b: &str, s3: &S3Server) {
    let mut api = Client::remote(a);
    api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let db = fleet.connect().await;
    let parking: i64 =
        sqlx::query_scalar("select id from procedures where code = 'mie-parking-permit'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let hs = fleet.procedure;
    db.close().await;

    // A draft begun on A, continued on B, sent from A.
    let draft = api
        .post_json(
            &format!("/api/v1/procedures/{hs}/applications"),
            &json!({"answers": {"junior_high": "津市立西橋内中学校"}}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text());
    let id = draft.json()["id"].as_i64().unwrap();
    api.switch_to(b);
    let mut rest = submission(1)["answers"].clone();
    rest.as_object_mut().unwrap().remove("junior_high");
    let res = api
        .send_json(
            Method::PATCH,
            &format!("/api/v1/applications/{id}"),
            &json!({"answers": rest}),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    api.switch_to(a);
    let res = api
        .post_json(&format!("/api/v1/applications/{id}/submit"), &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.json()["receipt_number"].is_string(), "{}", res.text());

    // An attachment uploaded to A is downloaded, byte for byte, from B.
    let parking_draft = api
        .post_json(
            &format!("/api/v1/procedures/{parking}/applications"),
            &json!({"answers": {}}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut pdf = b"%PDF-1.4\n%two nodes\n".to_vec();
    pdf.extend((0..50_000u32).map(|i| (i % 251) as u8));
    let res = api
        .post_multipart(
            &format!("/api/v1/applications/{parking_draft}/attachments"),
            &[("question", "certificate")],
            &[("file", "手帳.pdf", &pdf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let att = res.json()["id"].as_i64().unwrap();
    api.switch_to(b);
    let res = api
        .get(&format!(
            "/api/v1/applications/{parking_draft}/attachments/{att}"
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.body, pdf, "byte-identical from the other node");
    // It is in the bucket (s3s-fs keeps objects as files under its root),
    // encrypted: nothing of the file reads there.
    let key = platform::crypto::sha256_hex(&pdf);
    let object = s3.root.join(&s3.store.bucket).join("files").join(&key);
    let stored = std::fs::read(&object).unwrap_or_default();
    assert!(
        stored.len() > pdf.len() && !stored.windows(9).any(|w| w == b"two nodes"),
        "the object {} holds the file, encrypted",
        object.display()
    );
}

async fn sign_in_limits_hold_across_nodes(a: &str, b: &str) {
    let mut statuses = Vec::new();
    for i in 0..12 {
        let mut c = Client::remote(if i % 2 == 0 { a } else { b });
        let res = c
            .post_json(
                "/api/v1/session",
                &json!({"email": "hanako.limit@example.jp", "password": "wrong password"}),
            )
            .await;
        statuses.push(res.status.as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert_eq!(
        &statuses[10..],
        &[429, 429],
        "the 11th attempt is refused whichever node it reaches: {statuses:?}"
    );
}

async fn one_key_at_both_nodes_gives_one_application(fleet: &Fleet, a: &str, b: &str) {
    let resident = &fleet.residents[0];
    let http = reqwest::Client::new();
    let uri = |base: &str| format!("{base}/api/v1/procedures/{}/applications", fleet.procedure);
    for i in 0..20 {
        let key = format!("both-nodes-{i}");
        let body = submission(1000 + i);
        let send = |base: &str| {
            http.post(uri(base))
                .bearer_auth(&resident.token)
                .header("idempotency-key", &key)
                .json(&body)
                .send()
        };
        let (ra, rb) = tokio::join!(send(a), send(b));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let (sa, sb) = (ra.status().as_u16(), rb.status().as_u16());
        let (ja, jb): (serde_json::Value, serde_json::Value) =
            (ra.json().await.unwrap(), rb.json().await.unwrap());
        let mut statuses = [sa, sb];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 201], "try {i}: {ja} / {jb}");
        assert_eq!(ja["id"], jb["id"], "try {i}");
        assert_eq!(ja["receipt_number"], jb["receipt_number"], "try {i}");
    }
    let db = fleet.connect().await;
    let n: i64 = sqlx::query_scalar(
        "select count(*) from applications where resident_id = $1 and idempotency_key like 'both-nodes-%'",
    )
    .bind(resident.id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(n, 20, "one application per key");
    db.close().await;
}

async fn two_approvers_on_two_nodes_give_one_transition(fleet: &Fleet, a: &str, b: &str) {
    let mut resident = Client::remote(a);
    resident
        .api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
        .await;
    let res = resident
        .send_json(
            Method::POST,
            &format!("/api/v1/procedures/{}/applications", fleet.procedure),
            &submission(7),
            &[("Idempotency-Key", "approve-race")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let mut staff = Client::remote(b);
    staff
        .api_sign_in("hs.staff@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let uri = format!("/api/v1/staff/applications/{id}/actions");
    let version = |c: &mut Client| {
        let path = format!("/api/v1/staff/applications/{id}");
        let mut c = c.clone();
        async move { c.get(&path).await.json()["version"].as_i64().unwrap() }
    };
    let v = version(&mut staff).await;
    let res = staff
        .post_json(&uri, &json!({"action": "start_review", "version": v}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let v = version(&mut staff).await;
    let res = staff
        .post_json(
            &uri,
            &json!({"action": "draft", "version": v, "outcome": "refuse", "reason": "定員を超えたため"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let mut reviewer = Client::remote(a);
    reviewer
        .api_sign_in("hs.reviewer@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let mut head = Client::remote(b);
    head.api_sign_in("hs.head@pref.mie.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let v = version(&mut reviewer).await;
    let body = json!({"action": "approve", "version": v});
    let (ra, rb) = tokio::join!(reviewer.post_json(&uri, &body), head.post_json(&uri, &body));
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", ra.text(), rb.text());
    let db = fleet.connect().await;
    let approvals: i64 = sqlx::query_scalar(
        "select count(*) from approval_actions x join approval_cases c on c.id = x.case_id \
         where c.application_id = $1 and x.action = 'approved'",
    )
    .bind(id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(approvals, 1, "one transition");
    db.close().await;
}

/// Polls `check` on a node until it holds; how long that took.
async fn converges<F, Fut>(within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "not converged within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn caches_converge(fleet: &Fleet, a: &str, b: &str) {
    // FAQ: an entry imported on A answers on B within the engine's freshness (2 s).
    let mut staff = Client::remote(a);
    staff
        .api_sign_in("staff@city.tsu.example.jp", DEMO_PASSWORD, "staff")
        .await;
    let csv = "id,question,answer,area,url\nnode-1,粗大ごみの出し方を教えてください,粗大ごみは予約制です。電話で申し込んでください。,ごみ,\n";
    let res = staff
        .post_multipart(
            "/api/v1/staff/faq/import",
            &[],
            &[("file", "faq.csv", csv.as_bytes())],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let reader = Client::remote(b);
    let faq = converges(Duration::from_secs(10), || {
        let mut c = reader.clone();
        async move {
            let res = c
                .get("/api/v1/faq/search?q=%E7%B2%97%E5%A4%A7%E3%81%94%E3%81%BF%E3%81%AE%E5%87%BA%E3%81%97%E6%96%B9")
                .await;
            res.status == StatusCode::OK && res.json()["results"][0]["id"] == "node-1"
        }
    })
    .await;

    // Catalogue: a procedure renamed (any writer) is found under its new name on both.
    let db = fleet.connect().await;
    let (org, section, category): (i64, String, String) = sqlx::query_as(
        "select p.organisation_id, s.code, p.category from procedures p join sections s on s.id = p.section_id \
         where p.code = 'mie-parking-permit'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let input: procedures::catalogue::ProcedureInput = serde_json::from_value(json!({
        "code": "mie-parking-permit",
        "section": section,
        "name": "ひとにやさしい駐車場利用証の交付申請（二台運用）",
        "category": category,
    }))
    .unwrap();
    procedures::service::catalogue::upsert_procedure(&db, org, &input)
        .await
        .unwrap();
    db.close().await;
    let mut catalogue = Duration::ZERO;
    for base in [a, b] {
        let reader = Client::remote(base);
        let took = converges(Duration::from_secs(10), || {
            let mut c = reader.clone();
            async move {
                let res = c
                    .get("/api/v1/procedures?q=%E4%BA%8C%E5%8F%B0%E9%81%8B%E7%94%A8")
                    .await;
                res.status == StatusCode::OK && res.text().contains("二台運用")
            }
        })
        .await;
        catalogue = catalogue.max(took);
    }

    // Open data: a dataset created through A's CKAN API is found by B's package_search within 1 s.
    let mut writer = Client::remote(a);
    writer.bearer = Some(fleet.ckan_token.clone());
    let res = writer
        .post_json(
            "/api/3/action/package_create",
            &json!({"name": "two-nodes", "title": "二台運用の確認データ"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let reader = Client::remote(b);
    let opendata = converges(Duration::from_secs(10), || {
        let mut c = reader.clone();
        async move {
            let res = c.get("/api/3/action/package_search?q=two-nodes").await;
            res.status == StatusCode::OK && res.json()["result"]["count"] == 1
        }
    })
    .await;
    eprintln!(
        "caches converged across nodes: FAQ {faq:?} (bound 2 s), catalogue {catalogue:?} (bound: the next read), open data {opendata:?} (bound 1 s)"
    );
    assert!(faq <= Duration::from_secs(4), "FAQ {faq:?}");
    assert!(opendata <= Duration::from_secs(3), "open data {opendata:?}");
}
