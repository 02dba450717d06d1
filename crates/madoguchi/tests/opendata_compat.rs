//! The CKAN compatibility leg: two real `madoguchi serve` processes on
//! 127.0.0.1 — instance A, which the suite seeds, and the empty instance B,
//! which receives `ckanapi load` — driven by unmodified real clients:
//! - `tests/compat/ckan_suite.py`: the `ckanapi` library and command line
//!   (PyPI), plus raw HTTP for the envelope, body encodings and token headers;
//! - `tests/compat/dcat_suite.py`: rdflib parsing every DCAT format;
//! - `tests/compat/ngsi.mjs`: ngsijs (npm) listing and reading NGSI entities.
//!
//! Runs on SQLite and, when `MADOGUCHI_TEST_POSTGRES_URL` is set, on
//! PostgreSQL (required with `MADOGUCHI_REQUIRE_POSTGRES=1`). The clients are
//! installed by `scripts/setup-test-deps`, which `scripts/test` always runs:
//! a missing client fails the test, it is never skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, repo_root};
use platform::db::Backend;

const EXE: &str = env!("CARGO_BIN_EXE_madoguchi");

/// The installation's own local government (三重県) in both instances.
const CODE: &str = "240001";

/// Where the real clients are.
struct Clients {
    venv_bin: PathBuf,
    compat: PathBuf,
}

impl Clients {
    /// Panics with what to run when a client is missing.
    fn find() -> Clients {
        let root = repo_root();
        let venv_bin = root.join(".venv/bin");
        let compat = root.join("tests/compat");
        let mut missing: Vec<&str> = Vec::new();
        if !venv_bin.join("ckanapi").exists() {
            missing.push(".venv/bin/ckanapi");
        }
        let imports = Command::new(venv_bin.join("python"))
            .args(["-c", "import ckanapi, rdflib, requests"])
            .output();
        if !imports.is_ok_and(|o| o.status.success()) {
            missing.push("ckanapi/rdflib in .venv");
        }
        if Command::new("node").arg("--version").output().is_err() {
            missing.push("node");
        }
        if !compat.join("node_modules/ngsijs").exists() {
            missing.push("tests/compat/node_modules/ngsijs");
        }
        assert!(
            missing.is_empty(),
            "the CKAN compatibility suite needs {}: run scripts/setup-test-deps",
            missing.join(", ")
        );
        Clients { venv_bin, compat }
    }

    /// PATH with the virtual environment first: the ckanapi CLI starts its
    /// workers as `ckanapi` from PATH.
    fn path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.venv_bin.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).expect("PATH")
    }
}

/// A running `madoguchi serve`; killed when dropped, also when a check panics.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), 60)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self.child.try_wait().expect("server status") {
                panic!(
                    "madoguchi serve exited ({status}) before answering /healthz:\n{}",
                    self.log_tail()
                );
            }
            if healthy(self.port) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "madoguchi serve did not answer /healthz within 90 s:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether GET /healthz answers 200.
fn healthy(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One installation: its database and data directory, an API token of its
/// local government, and its server once started.
struct Instance {
    label: &'static str,
    db: TestDb,
    token: String,
    server: Option<Server>,
}

impl Instance {
    async fn new(backend: Backend, label: &'static str) -> Instance {
        let db = TestDb::new(backend).await;
        let mut instance = Instance {
            label,
            db,
            token: String::new(),
            server: None,
        };
        instance.cli(&[
            "org",
            "add",
            "--code",
            CODE,
            "--name",
            "三重県",
            "--name-en",
            "Mie Prefecture",
        ]);
        let out = instance.cli(&["token", "create", "--organisation", CODE]);
        instance.token = out
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_else(|| panic!("`madoguchi token create` printed no token:\n{out}"))
            .to_string();
        instance
    }

    /// The madoguchi command on this instance's data (no inherited configuration).
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(EXE);
        c.args(args).arg("--data-dir").arg(&self.db.dir);
        for var in [
            "MADOGUCHI_CONFIG",
            "MADOGUCHI_DATA_DIR",
            "MADOGUCHI_DATABASE_URL",
            "MADOGUCHI_ADDR",
            "MADOGUCHI_BASE_URL",
            "MADOGUCHI_MAX_UPLOAD_MB",
        ] {
            c.env_remove(var);
        }
        c.env("MADOGUCHI_FAQ_MODEL", "off")
            // The too-large-upload check sends 1.5 MB.
            .env("MADOGUCHI_DATA_UPLOAD_MB", "1");
        if self.db.backend == Backend::Postgres {
            c.env("MADOGUCHI_DATABASE_URL", &self.db.url);
        }
        let dictionary = repo_root().join("var/ipadic");
        if dictionary.exists() {
            c.env("MADOGUCHI_FAQ_DICTIONARY", dictionary);
        }
        c
    }

    /// Runs a madoguchi command to completion; its standard output.
    fn cli(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("madoguchi {args:?} runs: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "instance {}: `madoguchi {}` failed ({}):\n{stdout}\n{}",
            self.label,
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    fn start(&mut self) {
        let port = free_port();
        let log = self.db.dir.join(format!("serve-{}.log", self.label));
        let out = File::create(&log).expect("server log");
        let err = out.try_clone().expect("server log");
        let addr = format!("127.0.0.1:{port}");
        let child = self
            .command(&["serve", "--addr", &addr])
            .env("MADOGUCHI_BASE_URL", format!("http://{addr}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("madoguchi serve starts");
        let mut server = Server { child, port, log };
        server.wait_ready();
        self.server = Some(server);
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("started").url()
    }

    fn log_tail(&self) -> String {
        self.server
            .as_ref()
            .map(Server::log_tail)
            .unwrap_or_default()
    }
}

/// What one client run printed, and whether it passed.
struct Outcome {
    name: &'static str,
    passed: bool,
    output: String,
}

/// Runs a client with a time limit, its standard output and error into one log.
fn run_client(name: &'static str, mut cmd: Command, limit: Duration, dir: &Path) -> Outcome {
    let log = dir.join(format!("{name}.log"));
    let out = File::create(&log).expect("client log");
    let err = out.try_clone().expect("client log");
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("client status") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.wait();
    let mut output = std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        None => output.push_str(&format!("\n{name}: killed after {} s\n", limit.as_secs())),
        Some(s) if !s.success() => output.push_str(&format!("\n{name}: exited with {s}\n")),
        Some(_) => {}
    }
    Outcome {
        name,
        passed: status.is_some_and(|s| s.success()),
        output,
    }
}

async fn compat_leg(backend: Backend) {
    let clients = Clients::find();
    let started = Instant::now();
    let mut a = Instance::new(backend, "a").await;
    let mut b = Instance::new(backend, "b").await;
    a.start();
    b.start();
    let work = a.db.dir.join("compat");
    std::fs::create_dir_all(&work).expect("work directory");
    let ngsi_info = work.join("ngsi.json");
    let python = clients.venv_bin.join("python");
    let path = clients.path();
    let python_cmd = |script: &str| {
        let mut c = Command::new(&python);
        c.arg(clients.compat.join(script))
            .env("PATH", &path)
            .env("PYTHONUTF8", "1")
            .env("PYTHONUNBUFFERED", "1")
            .current_dir(&work);
        c
    };

    let mut outcomes = Vec::new();
    let mut ckan = python_cmd("ckan_suite.py");
    ckan.arg("--url")
        .arg(a.url())
        .arg("--token")
        .arg(&a.token)
        .arg("--url-b")
        .arg(b.url())
        .arg("--token-b")
        .arg(&b.token)
        .arg("--ckanapi")
        .arg(clients.venv_bin.join("ckanapi"))
        .arg("--ngsi-out")
        .arg(&ngsi_info)
        .arg("--work")
        .arg(&work);
    outcomes.push(run_client(
        "ckan_suite",
        ckan,
        Duration::from_secs(300),
        &work,
    ));

    let mut dcat = python_cmd("dcat_suite.py");
    dcat.arg("--url").arg(a.url());
    outcomes.push(run_client(
        "dcat_suite",
        dcat,
        Duration::from_secs(120),
        &work,
    ));

    let mut ngsi = Command::new("node");
    ngsi.arg(clients.compat.join("ngsi.mjs"))
        .arg(&ngsi_info)
        .current_dir(&clients.compat);
    outcomes.push(run_client("ngsi", ngsi, Duration::from_secs(60), &work));

    for o in &outcomes {
        println!(
            "===== {backend:?}: {} ({}) =====\n{}",
            o.name,
            if o.passed { "passed" } else { "FAILED" },
            o.output
        );
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed).collect();
    if !failed.is_empty() {
        let summary: Vec<String> = failed
            .iter()
            .map(|o| {
                let lines: Vec<&str> = o
                    .output
                    .lines()
                    .filter(|l| {
                        l.starts_with("FAIL")
                            || l.starts_with("ABORTED")
                            || l.starts_with("SKIPPED")
                            || l.contains("exited with")
                            || l.contains("killed after")
                            || l.starts_with("Traceback")
                    })
                    .collect();
                format!("{}:\n  {}", o.name, lines.join("\n  "))
            })
            .collect();
        panic!(
            "{backend:?}: the CKAN compatibility suite failed (full output above):\n{}\n\n--- server A log (tail) ---\n{}\n\n--- server B log (tail) ---\n{}",
            summary.join("\n"),
            a.log_tail(),
            b.log_tail()
        );
    }
    println!(
        "{backend:?}: the CKAN compatibility suite passed in {} s",
        started.elapsed().as_secs()
    );
    drop(a.server.take());
    drop(b.server.take());
    a.db.cleanup().await;
    b.db.cleanup().await;
}

#[tokio::test]
async fn ckan_clients_work_against_sqlite() {
    compat_leg(Backend::Sqlite).await;
}

#[tokio::test]
async fn ckan_clients_work_against_postgres() {
    // Skips with a note without a PostgreSQL URL; fails instead under MADOGUCHI_REQUIRE_POSTGRES=1.
    if common::backends().contains(&Backend::Postgres) {
        compat_leg(Backend::Postgres).await;
    }
}
