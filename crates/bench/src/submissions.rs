//! `madoguchi-bench submissions` and `madoguchi-bench window`: complete
//! high-school applications submitted over HTTP (the JSON API, one request
//! per application with an `Idempotency-Key`) to real `madoguchi serve`
//! processes (the release binary, with the FAQ model loaded as deployed),
//! by N concurrent clients in this process.
//!
//! `submissions` runs, per backend and per client count, `runs` measured
//! runs; before each, the database's raw ceiling is measured on the same
//! database: single 2 KB row INSERTs, one per transaction, durable (SQLite
//! WAL `synchronous=FULL`, PostgreSQL `synchronous_commit=on`), with as many
//! writers as clients. It prints each run and the medians: throughput and
//! its ratio to the ceiling, latency percentiles, errors, the server's
//! resident memory, and a durability check (applications in the database
//! against those acknowledged). With `--nodes 2` (PostgreSQL) two nodes run
//! behind Debian's `haproxy`.
//!
//! `window` is a prefecture's busiest day compressed: 17,000 applications
//! (Mie's high-school entrance window) sent as fast as the clients can, timed
//! from the first request to the last acknowledgement.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use platform::db::{Backend, Db, DbOptions};

use crate::processes::{Haproxy, Node};
use crate::support::{Scratch, with_scratch};

/// A complete application's body, the `n`th of a client.
pub fn body(n: u64) -> Bytes {
    let answers = serde_json::json!({
        "name": {"family": "三重", "given": format!("太郎{n}"), "family_kana": "みえ", "given_kana": "たろう"},
        "birth_date": "平成22年4月1日",
        "address": {"prefecture": "三重県", "city": "津市広明町13番地", "building": ""},
        "phone": "059-224-3070",
        "junior_high": "津市立西橋内中学校",
        "school": "tsu",
        "department": "general",
        "selection": "early",
        "guardian_name": {"family": "三重", "given": "花子", "family_kana": "ミエ", "given_kana": "ハナコ"},
        "guardian_relationship": "mother",
        "agree": true
    });
    // A `Value` always serialises.
    Bytes::from(
        serde_json::to_vec(&serde_json::json!({"answers": answers, "submit": true}))
            .unwrap_or_default(),
    )
}

/// What `submissions` measures.
pub struct Options {
    pub clients: Vec<usize>,
    pub warmup: Duration,
    pub measure: Duration,
    pub runs: usize,
    pub nodes: usize,
}

/// An installation ready to serve: the demo data, one resident with an API
/// token per client, the nodes' environment.
struct Prepared {
    procedure: i64,
    tokens: Vec<String>,
    env: Vec<(String, String)>,
}

async fn prepare(scratch: &Scratch, residents: usize) -> anyhow::Result<Prepared> {
    let secret = platform::crypto::hex(&platform::crypto::random_bytes::<32>());
    let config = platform::config::Config {
        data_dir: scratch.dir.join("setup"),
        database_url: Some(platform::config::Secret::new(scratch.url.clone())),
        secret_key: Some(platform::config::Secret::new(secret.clone())),
        faq_model: Some("off".into()),
        ..Default::default()
    };
    let app = madoguchi::app::build(config).await?;
    madoguchi::app::load_demo(&app).await?;
    let db = &app.platform.db;
    let procedure: i64 =
        sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
            .fetch_one(db.pool())
            .await?;
    // Accounts made directly: sign-in is not what is measured.
    let mut tokens = Vec::new();
    for i in 0..residents {
        let r = platform::accounts::insert_resident(db, &format!("bench{i}@example.jp"), None, "")
            .await?;
        tokens.push(
            platform::session::create(
                db,
                platform::session::Principal::Resident(r.id),
                platform::session::SessionKind::Api,
            )
            .await?,
        );
    }
    db.close().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut env = vec![
        ("MADOGUCHI_DATABASE_URL".to_string(), scratch.url.clone()),
        ("MADOGUCHI_SECRET_KEY".to_string(), secret),
        ("MADOGUCHI_DB_MAX_CONNECTIONS".to_string(), "16".to_string()),
        (
            "MADOGUCHI_MAX_CONCURRENT_REQUESTS".to_string(),
            "512".to_string(),
        ),
    ];
    // The FAQ chatbot as deployed (dictionary and model), when installed.
    for (var, path) in [
        ("MADOGUCHI_FAQ_DICTIONARY", root.join("var/ipadic")),
        (
            "MADOGUCHI_FAQ_MODEL",
            root.join("var/models/multilingual-e5-small"),
        ),
    ] {
        if path.exists() {
            env.push((var.to_string(), path.display().to_string()));
        }
    }
    Ok(Prepared {
        procedure,
        tokens,
        env,
    })
}

/// The nodes and, for several, the load balancer in front; the URL to load.
struct Fleet {
    nodes: Vec<Node>,
    proxy: Option<Haproxy>,
}

impl Fleet {
    fn start(scratch: &Scratch, env: &[(String, String)], nodes: usize) -> anyhow::Result<Fleet> {
        let started: Vec<Node> = (0..nodes)
            .map(|i| Node::start(&scratch.dir.join(format!("node{i}")), env))
            .collect::<anyhow::Result<_>>()?;
        let proxy = if nodes > 1 {
            Some(Haproxy::start(
                &scratch.dir,
                &started.iter().collect::<Vec<_>>(),
            )?)
        } else {
            None
        };
        Ok(Fleet {
            nodes: started,
            proxy,
        })
    }

    /// Waits until every node's FAQ index is ready with the semantic model
    /// (its first embedding of every entry is work a node does once, not
    /// what is measured), when the model is installed.
    fn wait_for_faq(&self, env: &[(String, String)]) -> anyhow::Result<()> {
        if !env.iter().any(|(k, _)| k == "MADOGUCHI_FAQ_MODEL") {
            return Ok(());
        }
        let started = Instant::now();
        for node in &self.nodes {
            let addr = node.base.trim_start_matches("http://").to_string();
            loop {
                use std::io::{Read, Write};
                let mut answer = String::new();
                if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                    let _ = write!(
                        s,
                        "GET /api/v1/faq/coverage HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
                    );
                    let _ = s.read_to_string(&mut answer);
                }
                if answer.contains("lexical+semantic") {
                    break;
                }
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(300),
                    "the FAQ model did not get ready"
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        println!(
            "FAQ index with the semantic model ready on every node after {:.0} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn base(&self) -> String {
        match &self.proxy {
            Some(p) => p.base.clone(),
            None => self
                .nodes
                .first()
                .map(|n| n.base.clone())
                .unwrap_or_default(),
        }
    }

    /// (largest resident, largest peak) over the nodes, MB.
    fn memory_mb(&self) -> (f64, f64) {
        self.nodes
            .iter()
            .map(Node::memory_mb)
            .fold((0.0, 0.0), |(r, p), (nr, np)| (r.max(nr), p.max(np)))
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One measured run's figures.
struct Run {
    rate: f64,
    ceiling: f64,
    p50: f64,
    p99: f64,
    errors: u64,
    durable: bool,
}

pub fn submissions(backend: Backend, pg_admin: &str, opts: &Options) -> anyhow::Result<()> {
    let label = match (backend, opts.nodes) {
        (Backend::Sqlite, _) => "SQLite, one node".to_string(),
        (Backend::Postgres, 1) => "PostgreSQL, one node".to_string(),
        (Backend::Postgres, n) => format!("PostgreSQL, {n} nodes behind haproxy"),
    };
    println!("\n== {label} ==");
    with_scratch(backend, pg_admin, |server_rt, client_rt, scratch| {
        let most = opts.clients.iter().copied().max().unwrap_or(1);
        let prepared = server_rt.block_on(prepare(scratch, most))?;
        let fleet = Fleet::start(scratch, &prepared.env, opts.nodes)?;
        fleet.wait_for_faq(&prepared.env)?;
        let (idle_rss, _) = fleet.memory_mb();
        println!("server resident memory, idle: {idle_rss:.0} MB");
        let db = server_rt.block_on(Db::connect(
            &scratch.url,
            &DbOptions {
                max_connections: most as u32 + 1,
                ..Default::default()
            },
        ))?;
        for &clients in &opts.clients {
            let mut runs = Vec::new();
            for r in 1..=opts.runs {
                let ceiling =
                    server_rt.block_on(raw_insert_ceiling(&db, clients, Duration::from_secs(3)))?;
                let before = server_rt.block_on(count(&db))?;
                let tokens = prepared.tokens.get(..clients).unwrap_or(&prepared.tokens);
                let stats = client_rt.block_on(load(
                    &fleet.base(),
                    prepared.procedure,
                    tokens,
                    &format!("c{clients}r{r}"),
                    opts.warmup,
                    opts.measure,
                ))?;
                let after = server_rt.block_on(count(&db))?;
                let rate = stats.measured_ok as f64 / opts.measure.as_secs_f64();
                let (p50, p99) = (stats.percentile(0.50), stats.percentile(0.99));
                let durable = after - before == stats.total_ok as i64;
                let (rss, peak) = fleet.memory_mb();
                println!(
                    "{clients} clients, run {r}: {rate:.0}/s ({:.2} of the {ceiling:.0}/s raw ceiling), p50 {p50:.1} ms, p99 {p99:.1} ms, errors {}, acknowledged {} = in database {}: {}, server {rss:.0} MB (peak {peak:.0} MB)",
                    rate / ceiling.max(1.0),
                    stats.errors,
                    stats.total_ok,
                    after - before,
                    if durable { "equal" } else { "DIFFERENT" },
                );
                if let Some(e) = &stats.first_error {
                    println!("  first error: {e}");
                }
                runs.push(Run {
                    rate,
                    ceiling,
                    p50,
                    p99,
                    errors: stats.errors,
                    durable,
                });
            }
            let rate = median(runs.iter().map(|r| r.rate).collect());
            let ceiling = median(runs.iter().map(|r| r.ceiling).collect());
            println!(
                "{label}, {clients} clients, median of {}: {rate:.0}/s = {:.2} of the median raw ceiling {ceiling:.0}/s; p50 {:.1} ms, p99 {:.1} ms; errors {}; every acknowledged application in the database: {}",
                runs.len(),
                rate / ceiling.max(1.0),
                median(runs.iter().map(|r| r.p50).collect()),
                median(runs.iter().map(|r| r.p99).collect()),
                runs.iter().map(|r| r.errors).sum::<u64>(),
                runs.iter().all(|r| r.durable),
            );
        }
        let (rss, peak) = fleet.memory_mb();
        println!("server resident memory after the runs: {rss:.0} MB (peak {peak:.0} MB)");
        server_rt.block_on(db.close());
        drop(fleet);
        Ok(())
    })
}

/// `window`: `applications` submissions by `clients` clients, as fast as they go.
pub fn window(
    backend: Backend,
    pg_admin: &str,
    applications: usize,
    clients: usize,
) -> anyhow::Result<()> {
    println!("\n== {backend:?}: {applications} applications, {clients} clients ==");
    with_scratch(backend, pg_admin, |server_rt, client_rt, scratch| {
        let prepared = server_rt.block_on(prepare(scratch, clients))?;
        let fleet = Fleet::start(scratch, &prepared.env, 1)?;
        fleet.wait_for_faq(&prepared.env)?;
        let db = server_rt.block_on(Db::connect(&scratch.url, &DbOptions::default()))?;
        let before = server_rt.block_on(count(&db))?;
        let base = fleet.base();
        let started = Instant::now();
        let stats = client_rt.block_on(send_all(
            &base,
            prepared.procedure,
            &prepared.tokens,
            applications,
        ))?;
        let took = started.elapsed().as_secs_f64();
        let after = server_rt.block_on(count(&db))?;
        let (rss, peak) = fleet.memory_mb();
        println!(
            "{} acknowledged in {took:.1} s ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, errors {}; in the database {}: {}; server {rss:.0} MB (peak {peak:.0} MB)",
            stats.total_ok,
            stats.total_ok as f64 / took,
            stats.percentile(0.5),
            stats.percentile(0.99),
            stats.errors,
            after - before,
            if after - before == stats.total_ok as i64 {
                "equal"
            } else {
                "DIFFERENT"
            }
        );
        if let Some(e) = &stats.first_error {
            println!("  first error: {e}");
        }
        server_rt.block_on(db.close());
        drop(fleet);
        Ok(())
    })
}

async fn count(db: &Db) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("select count(*) from applications where status = 'submitted'")
            .fetch_one(db.pool())
            .await?,
    )
}

/// Durable single-row inserts of a 2 KB row per transaction by `clients`
/// concurrent writers for `dur`; rows per second.
pub async fn raw_insert_ceiling(db: &Db, clients: usize, dur: Duration) -> anyhow::Result<f64> {
    sqlx::raw_sql("create table if not exists bench_raw (id bigint, payload text)")
        .execute(db.pool())
        .await?;
    let payload: Arc<String> = Arc::new("x".repeat(2048));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (db, payload, stop, done) = (db.clone(), payload.clone(), stop.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let mut i = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let mut tx = db.begin().await?;
                sqlx::query("insert into bench_raw (id, payload) values ($1, $2)")
                    .bind(c as i64 * 1_000_000_000 + i)
                    .bind(payload.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    sqlx::raw_sql("drop table bench_raw")
        .execute(db.pool())
        .await?;
    Ok(rate)
}

#[derive(Default)]
struct Stats {
    latencies_measured: Vec<u64>,
    measured_ok: u64,
    total_ok: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Stats {
    /// The `p` percentile of the measured latencies, in milliseconds.
    fn percentile(&self, p: f64) -> f64 {
        let mut lat = self.latencies_measured.clone();
        lat.sort_unstable();
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }

    /// Counts one submission's result; its latency counts when `measured`
    /// (sent inside the measured window).
    fn record(&mut self, result: Result<u64, String>, measured: bool) {
        match result {
            Ok(latency) => {
                self.total_ok += 1;
                if measured {
                    self.measured_ok += 1;
                    self.latencies_measured.push(latency);
                }
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    fn merge(&mut self, s: Stats) {
        self.latencies_measured.extend(s.latencies_measured);
        self.measured_ok += s.measured_ok;
        self.total_ok += s.total_ok;
        self.errors += s.errors;
        if self.first_error.is_none() {
            self.first_error = s.first_error;
        }
    }
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// Sends one submission; its latency in µs, or the error.
async fn submit(
    client: &HttpClient,
    uri: &hyper::Uri,
    token: &str,
    key: &str,
    n: u64,
) -> Result<u64, String> {
    let req = hyper::Request::post(uri.clone())
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .header("idempotency-key", key)
        .body(Full::new(body(n)))
        .map_err(|e| e.to_string())?;
    let sent = Instant::now();
    let res = client.request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let elapsed = sent.elapsed().as_micros() as u64;
    if status == hyper::StatusCode::CREATED {
        Ok(elapsed)
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)))
    }
}

fn http_client(clients: usize) -> HttpClient {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(clients)
        .build_http()
}

async fn load(
    base: &str,
    procedure: i64,
    tokens: &[String],
    run: &str,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Stats> {
    let client = http_client(tokens.len());
    let uri: hyper::Uri = format!("{base}/api/v1/procedures/{procedure}/applications").parse()?;
    let t0 = Instant::now();
    let measure_from = t0 + warmup;
    let measure_until = measure_from + measure;
    let mut handles = Vec::new();
    for (c, token) in tokens.iter().enumerate() {
        let (client, uri, token, run) =
            (client.clone(), uri.clone(), token.clone(), run.to_string());
        handles.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut n = 0u64;
            while Instant::now() < measure_until {
                n += 1;
                let sent = Instant::now();
                let result = submit(&client, &uri, &token, &format!("{run}-{c}-{n}"), n).await;
                s.record(result, sent >= measure_from && sent < measure_until);
            }
            s
        }));
    }
    let mut all = Stats::default();
    for h in handles {
        all.merge(h.await?);
    }
    Ok(all)
}

/// Sends `total` submissions with `tokens.len()` clients sharing the work.
async fn send_all(
    base: &str,
    procedure: i64,
    tokens: &[String],
    total: usize,
) -> anyhow::Result<Stats> {
    let client = http_client(tokens.len());
    let uri: hyper::Uri = format!("{base}/api/v1/procedures/{procedure}/applications").parse()?;
    let next = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for (c, token) in tokens.iter().enumerate() {
        let (client, uri, token, next) = (client.clone(), uri.clone(), token.clone(), next.clone());
        handles.push(tokio::spawn(async move {
            let mut s = Stats::default();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= total as u64 {
                    break;
                }
                let result = submit(&client, &uri, &token, &format!("window-{c}-{n}"), n).await;
                s.record(result, true);
            }
            s
        }));
    }
    let mut all = Stats::default();
    for h in handles {
        all.merge(h.await?);
    }
    Ok(all)
}
