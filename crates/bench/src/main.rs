//! `madoguchi-bench`: the benchmarks (`--help` lists them). `submissions`
//! and `window` drive real `madoguchi serve` processes (see
//! `submissions.rs`); `inbox`, `faq` and `opendata` run the server in this
//! process on its own runtime, with the clients on another, over loopback
//! TCP. Build in release: `scripts/bench` (or `cargo run --release -p
//! madoguchi-bench -- …` after `cargo build --release -p madoguchi`).

#![allow(
    clippy::indexing_slicing,
    reason = "a benchmark command run by developers on data it generates: indices are taken modulo the length of non-empty lists or are percentiles of non-empty samples"
)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use platform::db::Backend;

mod opendata;
mod processes;
mod submissions;
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
    /// Submissions over HTTP to real `serve` processes with concurrent
    /// clients, on SQLite and PostgreSQL (and two nodes behind haproxy).
    Submissions {
        /// Concurrent clients, one measurement per value.
        #[arg(long, value_delimiter = ',', default_value = "32,64")]
        clients: Vec<usize>,
        /// Seconds of measured load per run (after a warm-up).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seconds of warm-up per run.
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// Measured runs per backend and client count (medians are reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Nodes: 1, or more behind haproxy (PostgreSQL only).
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// PostgreSQL server to create a scratch database on; `none` to skip.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        /// Only these backends (sqlite, postgres).
        #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
        backends: Vec<String>,
    },
    /// The high-school window: N applications through the API as fast as the clients go.
    Window {
        #[arg(long, default_value_t = 17_000)]
        applications: usize,
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        #[arg(long, value_delimiter = ',', default_value = "sqlite")]
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
            runs,
            nodes,
            postgres,
            backends,
        } => {
            println!(
                "madoguchi-bench submissions: {clients:?} clients, {runs} runs of {warmup} s warm-up + {seconds} s measured, {nodes} node(s)"
            );
            println!(
                "machine: {} cores",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(0)
            );
            let opts = submissions::Options {
                clients,
                warmup: Duration::from_secs(warmup),
                measure: Duration::from_secs(seconds),
                runs: runs.max(1),
                nodes: nodes.max(1),
            };
            for b in backends {
                let backend = match b.as_str() {
                    "sqlite" if opts.nodes == 1 => Backend::Sqlite,
                    "sqlite" => {
                        println!("(SQLite runs on one node: several nodes share PostgreSQL)");
                        continue;
                    }
                    "postgres" if postgres != "none" => Backend::Postgres,
                    "postgres" => continue,
                    other => anyhow::bail!("unknown backend {other}"),
                };
                submissions::submissions(backend, &postgres, &opts)?;
            }
            Ok(())
        }
        Command::Window {
            applications,
            clients,
            postgres,
            backends,
        } => {
            for b in backends {
                let backend = match b.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => anyhow::bail!("unknown backend {other}"),
                };
                submissions::window(backend, &postgres, applications, clients)?;
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
        madoguchi::demo::load(&app.platform.db, &app.platform.keys).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(madoguchi::app::serve(app.clone(), listener, std::future::pending()));
        let db = &app.platform.db;
        let (hs, org, section, form): (i64, i64, i64, i64) =
            sqlx::query_as("select id, organisation_id, section_id, current_form_id from procedures where code = 'mie-hs-entrance'").fetch_one(db.pool()).await?;
        let resident = platform::accounts::insert_resident(db, "inbox-bench@example.jp", None, "").await?;
        let answers = String::from_utf8(submissions::body(0).to_vec())?;
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
                identified_by: r#"{"method":"password"}"#.into(),
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
