//! Crashes, tried as an operator would: a real `madoguchi serve` process under
//! concurrent submission load over TCP, killed with SIGKILL at random moments
//! and started again on the same data, on SQLite and on PostgreSQL; then
//! stopped with SIGTERM under load. Clients behave like phones: a request
//! that got no answer (or a 5xx/503) is sent again with the same
//! Idempotency-Key until it gets one.
//!
//! Afterwards: every acknowledged submission exists exactly once with the
//! receipt number it was acknowledged with; no receipt number twice; no
//! application without its history event, audit record and notification
//! job; `madoguchi audit verify` passes; and the real SMTP server received
//! each acknowledged application's receipt e-mail at least once, every copy
//! with the same Message-ID (the documented at-least-once delivery: a node
//! killed between the SMTP server's acceptance and the job's completion sends
//! it again).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a failed expectation is the test's failure"
)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::node::Node;
use common::procs::{Ack, Fleet, Load};
use common::{Smtp, backends};
use platform::db::Backend;

/// Kills per backend.
const KILLS: usize = 10;
/// Concurrent clients.
const CLIENTS: usize = 8;

#[test]
fn killed_at_random_moments_nothing_acknowledged_is_lost() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in backends() {
        crash_round(&rt, backend);
    }
}

fn crash_round(rt: &tokio::runtime::Runtime, backend: Backend) {
    let smtp = Smtp::start().expect("the SMTP leg is needed for the crash test");
    let fleet = rt.block_on(Fleet::prepare(backend, CLIENTS, Some(&smtp), None));
    let mut node = Node::start(&fleet.db.dir, &fleet.env);
    let bases = Arc::new(std::sync::RwLock::new(vec![node.base.clone()]));
    let load = Load::start(rt, &fleet, bases.clone(), Duration::from_millis(50));

    // SIGKILL at random moments, starting again on the same data each time.
    let mut kills_mid_flight = 0;
    for _ in 0..KILLS {
        let wait = 150 + u64::from(platform::crypto::random_bytes::<2>()[0]) * 4;
        std::thread::sleep(Duration::from_millis(wait));
        if load.in_flight() > 0 {
            kills_mid_flight += 1;
        }
        node.kill();
        node.restart();
        *bases.write().unwrap() = vec![node.base.clone()];
    }
    std::thread::sleep(Duration::from_millis(500));

    // SIGTERM under load: it drains and stops within 10 s, exit code 0.
    let (took, status) = node.terminate();
    assert!(
        took <= Duration::from_secs(10),
        "SIGTERM took {took:?} ({backend:?}); log:\n{}",
        node.log_text()
    );
    assert!(
        status.success(),
        "SIGTERM ends with {status} ({backend:?}); log:\n{}",
        node.log_text()
    );
    assert!(
        node.log_text().contains("stopped"),
        "the server logged its orderly stop:\n{}",
        node.log_text()
    );
    node.restart();
    *bases.write().unwrap() = vec![node.base.clone()];
    let acks = load.finish(rt);
    eprintln!(
        "{backend:?}: {} submissions acknowledged across {KILLS} kills ({kills_mid_flight} with requests in flight) and one SIGTERM; {} retries after lost answers",
        acks.len(),
        load_retries(&acks)
    );
    assert!(
        acks.len() >= CLIENTS * 2,
        "the load made progress between kills: {}",
        acks.len()
    );

    rt.block_on(async {
        let db = fleet.connect().await;
        check_acknowledged_exactly_once(&db, &acks).await;
        check_whole_applications(&db).await;
        // Every notification job gets done (jobs held by killed nodes are
        // taken over once their lock expires).
        wait_for_jobs(&db, Duration::from_secs(90)).await;
        check_mail(&db, &smtp, &acks).await;
        db.close().await;
    });
    fleet.audit_verify();
    drop(node);
    rt.block_on(fleet.cleanup());
}

fn load_retries(acks: &[Ack]) -> usize {
    acks.iter().map(|a| a.attempts.saturating_sub(1)).sum()
}

async fn check_acknowledged_exactly_once(db: &platform::db::Db, acks: &[Ack]) {
    for a in acks {
        let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
            "select id, receipt_number, status from applications where resident_id = $1 and idempotency_key = $2",
        )
        .bind(a.resident_id)
        .bind(&a.key)
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(rows.len(), 1, "acknowledged {a:?} exists once: {rows:?}");
        let (id, receipt, status) = &rows[0];
        assert_eq!(*id, a.id, "{a:?}");
        assert_eq!(receipt.as_deref(), Some(a.receipt.as_str()), "{a:?}");
        assert_eq!(status, "submitted", "{a:?}");
    }
    let residents: Vec<i64> = acks
        .iter()
        .map(|a| a.resident_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut in_db = 0i64;
    for r in residents {
        let n: i64 = sqlx::query_scalar("select count(*) from applications where resident_id = $1")
            .bind(r)
            .fetch_one(db.pool())
            .await
            .unwrap();
        in_db += n;
    }
    assert_eq!(
        in_db,
        acks.len() as i64,
        "no application exists that was not acknowledged (every lost answer was retried with its key)"
    );
    let twice: Vec<(String, i64)> = sqlx::query_as(
        "select receipt_number, count(*) from applications where receipt_number is not null \
         group by receipt_number having count(*) > 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(twice.is_empty(), "receipt numbers given twice: {twice:?}");
}

async fn check_whole_applications(db: &platform::db::Db) {
    let half: Vec<(i64,)> = sqlx::query_as(
        "select a.id from applications a where a.status = 'submitted' and ( \
           a.receipt_number is null or a.submitted_at is null \
           or not exists (select 1 from application_events e where e.application_id = a.id) \
           or not exists (select 1 from audit_log l where l.subject_kind = 'application' and l.subject_id = a.id) \
           or not exists (select 1 from jobs j where j.dedupe_key = 'application-received:' || a.id))",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(half.is_empty(), "half-written applications: {half:?}");
}

async fn wait_for_jobs(db: &platform::db::Db, within: Duration) {
    let until = std::time::Instant::now() + within;
    loop {
        let open: i64 = sqlx::query_scalar("select count(*) from jobs where done_at is null")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if open == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "{open} jobs still not done after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn check_mail(db: &platform::db::Db, smtp: &Smtp, acks: &[Ack]) {
    let mut by_id: HashMap<String, Vec<String>> = HashMap::new();
    for m in smtp.messages() {
        let id = header(&m, "Message-ID").expect("every message has a Message-ID");
        by_id.entry(id).or_default().push(m);
    }
    let mut duplicated = 0;
    for a in acks {
        let job: i64 = sqlx::query_scalar("select id from jobs where dedupe_key = $1")
            .bind(format!("application-received:{}", a.id))
            .fetch_one(db.pool())
            .await
            .unwrap();
        let copies = by_id
            .get(&format!("<job-{job}@madoguchi>"))
            .unwrap_or_else(|| panic!("no receipt e-mail for {a:?}"));
        assert!(
            copies
                .iter()
                .all(|c| c.starts_with(&format!("X-Test-Rcpt-To: {}", a.email))),
            "the e-mail for {a:?} went to its resident"
        );
        if copies.len() > 1 {
            duplicated += 1;
        }
    }
    assert_eq!(
        by_id.len(),
        acks.len(),
        "one Message-ID per acknowledged application, none for anything else"
    );
    eprintln!(
        "mail: {} receipt e-mails, {} delivered more than once (same Message-ID)",
        by_id.len(),
        duplicated
    );
}

fn header(mail: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    mail.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l.get(prefix.len()..).unwrap_or_default().trim().to_string())
}
