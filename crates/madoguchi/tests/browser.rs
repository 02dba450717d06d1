//! The browser leg: serves the demo on a real socket and runs
//! `tests/browser/walk.mjs` in Debian's headless chromium (the resident's
//! journey to the receipt, the staff's inbox and review, the plans dashboard
//! and the DX office's KPI pages; axe on every page, JavaScript on and off).
//!
//! Needs `chromium`, `node` and the packages of `tests/browser` (installed by
//! `scripts/setup-test-deps`). Without them the test is skipped with a note,
//! unless `MADOGUCHI_REQUIRE_BROWSER=1` (CI), which makes it fail instead.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::TestApp;
use platform::db::Backend;

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// Whether the browser leg can run; panics when it is required but cannot.
pub fn browser_ready() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<&str> = [
        (!std::path::Path::new(&chromium).exists()).then_some("chromium"),
        std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
        (!browser_dir().join("node_modules/playwright-core").exists())
            .then_some("tests/browser/node_modules"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("MADOGUCHI_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!(
            "the browser leg is required but {} is missing: run scripts/setup-test-deps",
            missing.join(", ")
        );
    }
    eprintln!(
        "note: browser leg skipped ({} missing; run scripts/setup-test-deps)",
        missing.join(", ")
    );
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resident_journey_passes_axe_in_headless_chromium() {
    if !browser_ready() {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The real OpenID provider (npm oidc-provider) for the My Number card walk.
    let op = common::oidc::Provider::start_for(&base);
    let identity = op.config();
    // A real SMTP server: the walk reads the link a new account is mailed.
    let smtp = common::Smtp::start().expect("the SMTP server (required)");
    let smtp_config = smtp.config();
    let base_url = base.clone();
    let t = TestApp::with_demo_config(Backend::Sqlite, move |c| {
        c.identity = identity;
        c.smtp = Some(smtp_config);
        c.base_url = Some(base_url);
    })
    .await;
    // The e-mails go out as `serve` sends them: the job runner, every 200 ms.
    let jobs_app = t.app.clone();
    let sender = tokio::spawn(async move {
        loop {
            let _ = jobs_app.jobs.drain(&jobs_app.platform.db).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    // A staff member who lost their phone: the walk sets the second factor up again.
    platform::second_factor::reset(&t.app.platform.db, "welfare.staff@pref.mie.example.jp")
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(madoguchi::app::serve(t.app.clone(), listener, async {
        let _ = stopped.await;
    }));
    let output = tokio::time::timeout(
        Duration::from_secs(300),
        tokio::process::Command::new("node")
            .arg("walk.mjs")
            .arg(&base)
            .arg(&op.base)
            .arg(&smtp.dir)
            .current_dir(browser_dir())
            .output(),
    )
    .await
    .expect("the browser journey finishes within 5 minutes")
    .expect("node runs");
    let _ = stop.send(());
    let _ = server.await;
    sender.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the browser journey failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("zero WCAG 2.1 A/AA violations"), "{stdout}");
    t.finish().await;
}
