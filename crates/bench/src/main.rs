//! `madoguchi-bench submissions`: complete high-school applications submitted
//! over HTTP (the JSON API, one request per application with an
//! `Idempotency-Key`) by N concurrent clients, against SQLite and PostgreSQL.
//!
//! For each backend it prints throughput, latency percentiles and errors, the
//! count of applications in the database against the count acknowledged, and
//! the raw ceiling of that database measured in the same run: single 2 KB row
//! INSERTs, one per transaction, durable (SQLite WAL `synchronous=FULL`,
//! PostgreSQL `synchronous_commit=on`).
//!
//! Build it in release: `cargo run --release -p madoguchi-bench -- submissions`.
//! The server runs in this process on its own runtime; the clients run on
//! another, over loopback TCP.

#![allow(
    clippy::indexing_slicing,
    reason = "a benchmark command run by developers on data it generates: indices are taken modulo the length of non-empty lists or are percentiles of non-empty samples"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use platform::db::{Backend, Db};

mod opendata;
mod support;

use support::{Scratch, urlencode, with_scratch};

#[derive(Parser)]
#[command(name = "madoguchi-bench", about = "madoguchi benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Submissions over HTTP with concurrent clients, on SQLite and PostgreSQL.
    Submissions {
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds of measured load per backend (after a warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seconds of warm-up per backend.
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// PostgreSQL server to create a scratch database on; `none` to skip.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        /// Only these backends (sqlite, postgres).
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<String>,
    },
    /// The staff inbox over HTTP with many applications: first, deep and filtered pages, counts.
    Inbox {
        /// Applications in the section.
        #[arg(long, default_value_t = 100_000)]
        applications: usize,
        /// Requests per measured page kind.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<String>,
    },
    /// FAQ answer latency with N entries (the development set's entries
    /// repeated to reach N, so every posting list and the vector scan are N
    /// long), lexical only and with the semantic re-ranker.
    Faq {
        /// Entries in the index.
        #[arg(long, default_value_t = 1_800)]
        entries: usize,
        /// Runs of every development question per mode.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// The model directory; by default var/models/multilingual-e5-small if installed.
        #[arg(long)]
        model: Option<std::path::PathBuf>,
    },
    /// CKAN package_search over HTTP with many datasets: Japanese q, two filters, five facets.
    Opendata {
        /// Datasets in the catalogue.
        #[arg(long, default_value_t = 10_000)]
        datasets: usize,
        /// Requests per run.
        #[arg(long, default_value_t = 500)]
        requests: usize,
        /// Runs per backend.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Faq {
            entries,
            runs,
            model,
        } => faq_latency(entries, runs, model),
        Command::Submissions {
            clients,
            seconds,
            warmup,
            postgres,
            backends,
        } => {
            println!(
                "madoguchi-bench submissions: {clients} clients, {warmup} s warm-up, {seconds} s measured per backend"
            );
            println!(
                "machine: {} cores",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(0)
            );
            for b in backends {
                let backend = match b.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" if postgres != "none" => Backend::Postgres,
                    "postgres" => continue,
                    other => anyhow::bail!("unknown backend {other}"),
                };
                run_backend(
                    backend,
                    &postgres,
                    clients,
                    Duration::from_secs(warmup),
                    Duration::from_secs(seconds),
                )?;
            }
            Ok(())
        }
        Command::Opendata {
            datasets,
            requests,
            runs,
            postgres,
            backends,
        } => {
            println!(
                "madoguchi-bench opendata: {datasets} datasets, {runs} runs of {requests} sequential package_search requests per backend"
            );
            for b in backends {
                let backend = match b.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" if postgres != "none" => Backend::Postgres,
                    "postgres" => continue,
                    other => anyhow::bail!("unknown backend {other}"),
                };
                with_scratch(backend, &postgres, |server_rt, client_rt, scratch| {
                    opendata::run(
                        server_rt, client_rt, backend, scratch, datasets, requests, runs,
                    )
                })?;
            }
            Ok(())
        }
        Command::Inbox {
            applications,
            requests,
            postgres,
            backends,
        } => {
            println!(
                "madoguchi-bench inbox: {applications} applications in one section, {requests} requests per page kind"
            );
            for b in backends {
                let backend = match b.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" if postgres != "none" => Backend::Postgres,
                    "postgres" => continue,
                    other => anyhow::bail!("unknown backend {other}"),
                };
                with_scratch(backend, &postgres, |server_rt, client_rt, scratch| {
                    inbox_bench(
                        server_rt,
                        client_rt,
                        backend,
                        scratch,
                        applications,
                        requests,
                    )
                })?;
            }
            Ok(())
        }
    }
}

fn inbox_bench(
    server_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
    backend: Backend,
    scratch: &Scratch,
    applications: usize,
    requests: usize,
) -> anyhow::Result<()> {
    println!("\n== {backend:?} ==");
    let config = platform::config::Config {
        data_dir: scratch.dir.clone(),
        database_url: Some(platform::config::Secret::new(scratch.url.clone())),
        db_max_connections: 16,
        ..Default::default()
    };
    let started = Instant::now();
    let (app, base, token) = server_rt.block_on(async {
        let app = madoguchi::app::build(config).await?;
        madoguchi::demo::load(&app.platform.db).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(madoguchi::app::serve(app.clone(), listener, std::future::pending()));
        let db = &app.platform.db;
        let (hs, org, section, form): (i64, i64, i64, i64) =
            sqlx::query_as("select id, organisation_id, section_id, current_form_id from procedures where code = 'mie-hs-entrance'").fetch_one(db.pool()).await?;
        let resident = platform::accounts::insert_resident(db, "inbox-bench@example.jp", None, "").await?;
        let answers = String::from_utf8(body(0).to_vec())?;
        let answers: serde_json::Value = serde_json::from_str(&answers)?;
        let answers = answers["answers"].to_string();
        let mut handles = Vec::new();
        for i in 0..applications {
            let writer = app.procedures.writer.clone();
            let s = procedures::service::writer::Submission::New(procedures::service::writer::NewSubmission {
                resident_id: resident.id,
                organisation_id: org,
                organisation_code: "240001".into(),
                section_id: section,
                procedure_id: hs,
                form_version_id: form,
                answers: answers.clone(),
                idempotency_key: format!("seed-{i}"),
                request_hash: "seed".into(),
            });
            handles.push(tokio::spawn(async move { writer.submit(s).await }));
            if handles.len() >= 2000 {
                for h in handles.drain(..) {
                    h.await?.map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
        }
        for h in handles {
            h.await?.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        // A few in other states, for the filters.
        sqlx::query("update applications set status = 'in_review' where id % 10 = 0").execute(db.pool()).await?;
        let staff: i64 = sqlx::query_scalar("select id from staff where email = 'hs.staff@pref.mie.example.jp'").fetch_one(db.pool()).await?;
        let token = platform::session::create(db, platform::session::Principal::Staff(staff), platform::session::SessionKind::Api).await?;
        Ok::<_, anyhow::Error>((app, base, token))
    })?;
    println!(
        "seeded {applications} applications in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |path: String| {
        let (client, token, base) = (client.clone(), token.clone(), base.clone());
        async move {
            let req = hyper::Request::get(format!("{base}{path}"))
                .header("authorization", format!("Bearer {token}"))
                .body(Full::new(Bytes::new()))?;
            let t = Instant::now();
            let res = client.request(req).await?;
            let status = res.status();
            let body = res.into_body().collect().await?.to_bytes();
            anyhow::ensure!(
                status == hyper::StatusCode::OK,
                "{status}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok::<_, anyhow::Error>((t.elapsed().as_micros() as u64, body))
        }
    };
    client_rt.block_on(async {
        // A cursor deep in the list: the 50,000th application or so.
        let mut cursor = String::new();
        let mut pages = 0;
        let mut path = "/api/v1/staff/applications".to_string();
        while pages < (applications / 50 / 2).max(1) {
            let (_, body) = get(path.clone()).await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            match v["next_before"].as_str() {
                Some(next) => {
                    cursor = next.to_string();
                    path = format!("/api/v1/staff/applications?before={}", urlencode(next));
                }
                None => break,
            }
            pages += 1;
        }
        let kinds = [
            ("first page", "/api/v1/staff/applications".to_string()),
            (
                "first page, status filter",
                "/api/v1/staff/applications?status=in_review".to_string(),
            ),
            (
                "first page, unread only",
                "/api/v1/staff/applications?unread=1".to_string(),
            ),
            (
                if pages > 1 {
                    "deep page (keyset)"
                } else {
                    "second page"
                },
                format!("/api/v1/staff/applications?before={}", urlencode(&cursor)),
            ),
            (
                "date range",
                "/api/v1/staff/applications?from=2000-01-01&to=2100-12-31".to_string(),
            ),
        ];
        for (name, path) in kinds {
            let mut lat = Vec::with_capacity(requests);
            for _ in 0..requests {
                lat.push(get(path.clone()).await?.0);
            }
            lat.sort_unstable();
            let p = |q: f64| {
                lat[((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1] as f64
                    / 1000.0
            };
            println!(
                "{name:<28} p50 {:>6.1} ms  p99 {:>6.1} ms  (50 rows and the counts per status)",
                p(0.5),
                p(0.99)
            );
        }
        Ok::<_, anyhow::Error>(())
    })?;
    server_rt.block_on(app.platform.db.close());
    Ok(())
}

fn run_backend(
    backend: Backend,
    pg_admin: &str,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<()> {
    with_scratch(backend, pg_admin, |server_rt, client_rt, scratch| {
        bench_on(
            server_rt, client_rt, backend, scratch, clients, warmup, measure,
        )
    })
}

#[allow(
    clippy::too_many_arguments,
    reason = "the run's parameters, each a setting of the benchmark"
)]
fn bench_on(
    server_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
    backend: Backend,
    scratch: &Scratch,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<()> {
    println!("\n== {backend:?} ==");
    let config = platform::config::Config {
        data_dir: scratch.dir.clone(),
        database_url: Some(platform::config::Secret::new(scratch.url.clone())),
        db_max_connections: 16,
        ..Default::default()
    };
    // The server: the whole app with the demo data, on a real socket.
    let (app, base, procedure, tokens) = server_rt.block_on(async {
        let app = madoguchi::app::build(config).await?;
        madoguchi::demo::load(&app.platform.db).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(madoguchi::app::serve(
            app.clone(),
            listener,
            std::future::pending(),
        ));
        let db = &app.platform.db;
        let procedure: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(db.pool())
                .await?;
        // One resident and API token per client (accounts made directly: sign-in is not what is measured).
        let mut tokens = Vec::new();
        for i in 0..clients {
            let r =
                platform::accounts::insert_resident(db, &format!("bench{i}@example.jp"), None, "")
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
        Ok::<_, anyhow::Error>((app, base, procedure, tokens))
    })?;

    // The database's raw ceiling, measured now, on the same database.
    let raw = server_rt.block_on(raw_insert_ceiling(
        &app.platform.db,
        1,
        Duration::from_secs(3),
    ))?;
    let raw_n = server_rt.block_on(raw_insert_ceiling(
        &app.platform.db,
        clients,
        Duration::from_secs(3),
    ))?;
    println!(
        "raw ceiling: single 2 KB row INSERT per durable commit: {raw:.0}/s with 1 client, {raw_n:.0}/s with {clients} clients"
    );

    let before: i64 = server_rt.block_on(count(&app.platform.db))?;
    let stats = client_rt.block_on(load(&base, procedure, &tokens, warmup, measure))?;
    let after: i64 = server_rt.block_on(count(&app.platform.db))?;
    let in_db = after - before;
    let secs = measure.as_secs_f64();
    let mut lat = stats.latencies_measured.clone();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    println!(
        "submissions: {} acknowledged in {:.1} s = {:.0}/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; errors {}",
        stats.measured_ok,
        secs,
        stats.measured_ok as f64 / secs,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        stats.errors
    );
    println!(
        "durability check: {} applications in the database, {} acknowledged (warm-up included): {}",
        in_db,
        stats.total_ok,
        if in_db == stats.total_ok as i64 {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    println!(
        "ratio: {:.2} of the raw {clients}-client single-row insert ceiling (each submission writes 4 rows: application, \
         history event, audit record, outbox job; batches share the receipt-counter and audit-head updates and one commit)",
        (stats.measured_ok as f64 / secs) / raw_n.max(1.0)
    );
    if let Some(e) = &stats.first_error {
        println!("first error: {e}");
    }
    server_rt.block_on(app.platform.db.close());
    Ok(())
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
async fn raw_insert_ceiling(db: &Db, clients: usize, dur: Duration) -> anyhow::Result<f64> {
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

fn body(n: u64) -> Bytes {
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

async fn load(
    base: &str,
    procedure: i64,
    tokens: &[String],
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Stats> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(tokens.len())
        .build_http();
    let uri: hyper::Uri = format!("{base}/api/v1/procedures/{procedure}/applications").parse()?;
    let t0 = Instant::now();
    let measure_from = t0 + warmup;
    let measure_until = measure_from + measure;
    let mut handles = Vec::new();
    for (c, token) in tokens.iter().enumerate() {
        let (client, uri, token) = (client.clone(), uri.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut n = 0u64;
            loop {
                let now = Instant::now();
                if now >= measure_until {
                    break;
                }
                n += 1;
                let Ok(req) = hyper::Request::post(uri.clone())
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", format!("bench-{c}-{n}"))
                    .body(Full::new(body(n)))
                else {
                    s.first_error
                        .get_or_insert_with(|| "the request could not be built".into());
                    break;
                };
                let sent = Instant::now();
                let res = client.request(req).await;
                let elapsed = sent.elapsed().as_micros() as u64;
                let ok = match res {
                    Ok(r) => {
                        let status = r.status();
                        let bytes = r
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        if status == hyper::StatusCode::CREATED {
                            true
                        } else {
                            if s.first_error.is_none() {
                                s.first_error =
                                    Some(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
                            }
                            false
                        }
                    }
                    Err(e) => {
                        if s.first_error.is_none() {
                            s.first_error = Some(e.to_string());
                        }
                        false
                    }
                };
                if ok {
                    s.total_ok += 1;
                    if sent >= measure_from && sent < measure_until {
                        s.measured_ok += 1;
                        s.latencies_measured.push(elapsed);
                    }
                } else {
                    s.errors += 1;
                }
            }
            s
        }));
    }
    let mut all = Stats::default();
    for h in handles {
        let s = h.await?;
        all.latencies_measured.extend(s.latencies_measured);
        all.measured_ok += s.measured_ok;
        all.total_ok += s.total_ok;
        all.errors += s.errors;
        if all.first_error.is_none() {
            all.first_error = s.first_error;
        }
    }
    Ok(all)
}

/// `madoguchi-bench faq`: see [`Command::Faq`].
fn faq_latency(n: usize, runs: usize, model: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let devset = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../faq/devset");
    let (rows, _) = faq::entry::parse_csv(&std::fs::read(devset.join("faq.csv"))?);
    let base: Vec<faq::entry::Entry> = rows.into_iter().map(|(_, e)| e).collect();
    let queries = faq::eval::parse_queries(&std::fs::read_to_string(devset.join("queries.tsv"))?)?;
    let mut entries = Vec::with_capacity(n);
    for k in 0.. {
        for e in &base {
            if entries.len() == n {
                break;
            }
            let mut e = e.clone();
            e.id = format!("{}~{k}", e.id);
            entries.push(e);
        }
        if entries.len() == n {
            break;
        }
    }
    let dictionary = faq::install::default_dictionary()
        .ok_or_else(|| anyhow::anyhow!("no dictionary: run scripts/setup-dictionary"))?;
    let analyzer = faq::analysis::Analyzer::load(&dictionary, None)?;
    println!(
        "madoguchi-bench faq: {} entries ({} distinct), {} questions x {runs} runs per mode",
        entries.len(),
        base.len(),
        queries.len()
    );
    let mut modes: Vec<(&str, Option<faq::index::Semantic>)> = vec![("lexical", None)];
    if let Some(dir) = model.or_else(faq::install::default_model) {
        let encoder = faq::semantic::load_encoder(&dir)?;
        let started = Instant::now();
        // Vectors of the distinct texts, repeated like the entries.
        let texts: Vec<String> = base.iter().map(faq::index::passage_text).collect();
        let mut distinct = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            distinct.extend(encoder.passages(&refs)?);
        }
        println!(
            "embedded {} distinct entries in {:.1} s",
            distinct.len(),
            started.elapsed().as_secs_f64()
        );
        let vectors = (0..entries.len())
            .map(|i| distinct[i % distinct.len()].clone())
            .collect();
        modes.push(("lexical+semantic", Some((encoder, vectors))));
    } else {
        println!("no semantic model installed (scripts/setup-model): lexical only");
    }
    for (name, semantic) in modes {
        let index = faq::index::Index::build(
            entries.clone(),
            analyzer.clone(),
            semantic,
            faq::index::Tuning::default(),
        );
        let mut p50s = Vec::new();
        let mut p99s = Vec::new();
        for run in 1..=runs {
            let mut ms: Vec<f64> = queries
                .iter()
                .map(|(_, q)| {
                    let t = Instant::now();
                    let found = index.search(q, 10, None);
                    std::hint::black_box(faq::index::confident(&found));
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            ms.sort_by(f64::total_cmp);
            let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
            println!(
                "{name:>17} run {run}: p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                pct(0.5),
                pct(0.99),
                ms[ms.len() - 1]
            );
            p50s.push(pct(0.5));
            p99s.push(pct(0.99));
        }
        p50s.sort_by(f64::total_cmp);
        p99s.sort_by(f64::total_cmp);
        println!(
            "{name:>17} median of runs: p50 {:.2} ms  p99 {:.2} ms",
            p50s[p50s.len() / 2],
            p99s[p99s.len() / 2]
        );
    }
    Ok(())
}
