//! Real processes for the benchmarks: `madoguchi serve` nodes (the release
//! binary next to this one) and Debian's `haproxy` in front of several.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `madoguchi` binary built beside this benchmark.
pub fn madoguchi_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe.with_file_name("madoguchi");
    anyhow::ensure!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --release -p madoguchi` (scripts/bench does)",
        bin.display()
    );
    Ok(bin)
}

/// One `madoguchi serve`.
pub struct Node {
    child: Child,
    pub base: String,
}

impl Node {
    /// Starts `serve` on `data_dir` with `env`; returns once `/healthz` answers.
    pub fn start(data_dir: &Path, env: &[(String, String)]) -> anyhow::Result<Node> {
        std::fs::create_dir_all(data_dir)?;
        let log = std::fs::File::create(data_dir.join("serve.log"))?;
        let mut child = Command::new(madoguchi_binary()?)
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(["--addr", "127.0.0.1:0"])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                line.clear();
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                anyhow::bail!(
                    "serve did not start: {}",
                    std::fs::read_to_string(data_dir.join("serve.log")).unwrap_or_default()
                );
            }
        };
        let node = Node {
            child,
            base: format!("http://{addr}"),
        };
        wait_for(&addr, "/healthz", Duration::from_secs(60))?;
        Ok(node)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (resident now, peak) in MB, from `/proc`.
    pub fn memory_mb(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `GET path` on `addr` answers 200.
fn wait_for(addr: &str, path: &str, within: Duration) -> anyhow::Result<()> {
    use std::io::Read;
    let until = Instant::now() + within;
    while Instant::now() < until {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            );
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!("{addr}{path} did not answer 200 within {within:?}")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Debian's `haproxy`, round robin over `nodes`, health-checking `/healthz`.
pub struct Haproxy {
    child: Child,
    pub base: String,
}

impl Haproxy {
    pub fn start(dir: &Path, nodes: &[&Node]) -> anyhow::Result<Haproxy> {
        let haproxy = which("haproxy").ok_or_else(|| {
            anyhow::anyhow!(
                "haproxy is not installed: apt-get install haproxy (scripts/bench does)"
            )
        })?;
        let port = free_port()?;
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    "  server node{i} {} check inter 1s\n",
                    n.base.trim_start_matches("http://")
                )
            })
            .collect();
        // The same shape as crates/bench/haproxy.cfg, the operators' sample.
        let config = format!(
            "global\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  option http-keep-alive\n\nfrontend madoguchi\n  bind 127.0.0.1:{port}\n  default_backend nodes\n\nbackend nodes\n  balance roundrobin\n  option httpchk GET /healthz\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config)?;
        let log = std::fs::File::create(dir.join("haproxy.log"))?;
        let child = Command::new(haproxy)
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let proxy = Haproxy {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        wait_for(
            &format!("127.0.0.1:{port}"),
            "/healthz",
            Duration::from_secs(20),
        )?;
        // Both nodes marked up by the health checks.
        std::thread::sleep(Duration::from_secs(2));
        Ok(proxy)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}
