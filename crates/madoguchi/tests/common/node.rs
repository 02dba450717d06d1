//! Real `madoguchi serve` processes for the tests that treat the server as an
//! operator does: start it on a data directory, send it traffic over TCP,
//! SIGKILL or SIGTERM it, start it again on the same data.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `madoguchi serve` process.
pub struct Node {
    child: Child,
    pub base: String,
    pub log: PathBuf,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
}

/// The binary cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_madoguchi"))
}

impl Node {
    /// Starts `serve` on `data_dir` with `env` (the configuration, as
    /// `MADOGUCHI_*` variables) on a free port; returns once `/healthz` answers 200.
    pub fn start(data_dir: &Path, env: &[(String, String)]) -> Node {
        Node::start_on(data_dir, env, "127.0.0.1:0")
    }

    fn start_on(data_dir: &Path, env: &[(String, String)], addr: &str) -> Node {
        let log = data_dir.join(format!(
            "serve-{}.log",
            platform::crypto::hex(&platform::crypto::random_bytes::<4>())
        ));
        let mut child = Command::new(binary())
            .args(["serve", "--data-dir"])
            .arg(data_dir)
            .args(["--addr", addr])
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("madoguchi serve starts");
        // Its first line says where it listens; the rest of stdout goes to the log.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let out_log = log.with_extension("out");
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut sink = std::fs::File::create(out_log).unwrap();
            let mut line = String::new();
            let mut sent = false;
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !sent && let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                    sent = true;
                }
                let _ = sink.write_all(line.as_bytes());
                line.clear();
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "madoguchi serve did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        let node = Node {
            child,
            base: format!("http://{addr}"),
            log,
            data_dir: data_dir.to_path_buf(),
            env: env.to_vec(),
        };
        node.wait_healthy(Duration::from_secs(60));
        node
    }

    fn wait_healthy(&self, within: Duration) {
        let until = Instant::now() + within;
        let url = format!("{}/healthz", self.base);
        while Instant::now() < until {
            if let Ok(r) = http1::get_status(&url)
                && r == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{url} did not become healthy; the log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process ends at once, mid-request and mid-commit.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; waits for the process to end and says how long that took
    /// and how it ended.
    pub fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let start = Instant::now();
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM could be sent");
        let status = self.child.wait().unwrap();
        (start.elapsed(), status)
    }

    /// Starts the same configuration again (same data, new port unless the old one is free).
    pub fn restart(&mut self) {
        let port = self.base.rsplit(':').next().unwrap_or("0").to_string();
        let fresh = Node::start_on(&self.data_dir, &self.env, &format!("127.0.0.1:{port}"));
        let old = std::mem::replace(self, fresh);
        drop(old);
    }

    /// The server's log so far (stderr).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking GET for readiness checks, on a plain socket.
mod http1 {
    pub fn get_status(url: &str) -> std::io::Result<u16> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let mut stream = std::net::TcpStream::connect(host)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        stream.read_to_string(&mut buf)?;
        let status = buf
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(status)
    }
}
