//! A real S3-compatible server for the tests: `s3s-fs` (crates.io, installed
//! into `var/tools` by scripts/setup-test-deps), which checks every request's
//! Signature Version 4 against the one access key it is started with. Its
//! buckets are directories under a temporary root.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::procs::ObjectStore;
use super::repo_root;

pub struct S3Server {
    child: Child,
    pub root: PathBuf,
    pub store: ObjectStore,
}

/// The installed `s3s-fs`, or a panic saying how to install it (the S3 leg is
/// required, never skipped).
fn binary() -> PathBuf {
    let path = repo_root().join("var/tools/bin/s3s-fs");
    assert!(
        path.exists(),
        "s3s-fs is not installed at {}: run scripts/setup-test-deps",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl S3Server {
    /// Starts the server with a fresh root holding one empty bucket.
    pub fn start() -> S3Server {
        let root = std::env::temp_dir().join(format!(
            "madoguchi-s3-{}",
            platform::crypto::hex(&platform::crypto::random_bytes::<6>())
        ));
        let bucket = "madoguchi-files";
        std::fs::create_dir_all(root.join(bucket)).unwrap();
        let access_key = "MADOGUCHITESTKEY".to_string();
        let secret_key = platform::crypto::hex(&platform::crypto::random_bytes::<20>());
        let port = free_port();
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", &access_key, "--secret-key", &secret_key])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "s3s-fs did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            child,
            root,
            store: ObjectStore {
                endpoint: format!("http://127.0.0.1:{port}"),
                bucket: bucket.to_string(),
                access_key,
                secret_key,
            },
        }
    }

    /// The configuration a node gets for this store.
    pub fn config(&self) -> platform::config::ObjectStoreConfig {
        platform::config::ObjectStoreConfig {
            endpoint: self.store.endpoint.clone(),
            bucket: self.store.bucket.clone(),
            prefix: "files/".into(),
            region: "us-east-1".into(),
            access_key: self.store.access_key.clone(),
            secret_key: platform::config::Secret::new(self.store.secret_key.clone()),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
