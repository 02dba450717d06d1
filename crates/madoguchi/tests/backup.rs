//! `madoguchi backup` and `madoguchi restore`, as an operator runs them: the
//! backup taken from a data directory while `serve` runs on it under
//! submission load, restored into a fresh directory, served again. The
//! restored installation has every application acknowledged before the
//! backup began, with its receipt number; the same files, byte for byte; the
//! same master key; a verifying audit chain. A damaged backup, a non-empty
//! target and a key kept apart but not given are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a failed expectation is the test's failure"
)]

mod common;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::http::StatusCode;
use common::node::{Node, binary};
use common::procs::{Fleet, Load};
use common::{Client, DEMO_PASSWORD};
use platform::db::{Backend, Db, DbOptions};
use serde_json::json;

fn cli(args: &[&str], paths: &[&Path]) -> (bool, String) {
    let mut cmd = std::process::Command::new(binary());
    cmd.args(args);
    for p in paths {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn open(dir: &Path) -> Db {
    Db::connect(
        &platform::db::sqlite_url(&dir.join("madoguchi.db")),
        &DbOptions {
            max_connections: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[test]
fn backup_while_serving_then_restore_into_a_fresh_directory() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fleet = rt.block_on(Fleet::prepare_as(Backend::Sqlite, 4, None, None, true));
    let data = fleet.db.dir.clone();
    let scratch = data.join("..").join(format!(
        "madoguchi-backup-{}",
        platform::crypto::hex(&platform::crypto::random_bytes::<6>())
    ));
    let (backup, restored, keys, apart, damaged) = (
        scratch.join("backup"),
        scratch.join("restored"),
        scratch.join("keys"),
        scratch.join("backup-apart"),
        scratch.join("restored-damaged"),
    );
    let mut node = Node::start(&data, &fleet.env);

    // A resident uploads a file; submissions keep coming in.
    let mut pdf = b"%PDF-1.4\n%backup\n".to_vec();
    pdf.extend((0..80_000u32).map(|i| (i * 7 % 253) as u8));
    let (draft, attachment) = rt.block_on(async {
        let mut api = Client::remote(&node.base);
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let db = fleet.connect().await;
        let parking: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-parking-permit'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        db.close().await;
        let draft = api
            .post_json(
                &format!("/api/v1/procedures/{parking}/applications"),
                &json!({"answers": {}}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        let res = api
            .post_multipart(
                &format!("/api/v1/applications/{draft}/attachments"),
                &[("question", "certificate")],
                &[("file", "手帳.pdf", &pdf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        (draft, res.json()["id"].as_i64().unwrap())
    });
    let bases = Arc::new(RwLock::new(vec![node.base.clone()]));
    let load = Load::start(&rt, &fleet, bases, Duration::from_millis(10));
    std::thread::sleep(Duration::from_secs(1));
    let before = load.acknowledged();

    // The backup, online.
    let (ok, out) = cli(&["backup"], &[&backup, Path::new("--data-dir"), &data]);
    assert!(ok, "{out}");
    assert!(out.contains("master key"), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let all = load.finish(&rt);
    assert!(
        before.len() >= 10 && all.len() > before.len(),
        "submissions went on during the backup: {} before, {} in all",
        before.len(),
        all.len()
    );
    let (took, status) = node.terminate();
    assert!(status.success(), "{status} after {took:?}");

    // Restored into a fresh directory: verified, then served.
    let (ok, out) = cli(&["restore"], &[&backup, Path::new("--data-dir"), &restored]);
    assert!(ok, "{out}");
    assert!(out.contains("audit log intact"), "{out}");
    rt.block_on(async {
        let (old, new) = (open(&data).await, open(&restored).await);
        for ack in &before {
            let receipt: Option<String> = sqlx::query_scalar(
                "select receipt_number from applications where resident_id = $1 and idempotency_key = $2",
            )
            .bind(ack.resident_id)
            .bind(&ack.key)
            .fetch_optional(new.pool())
            .await
            .unwrap()
            .flatten();
            assert_eq!(
                receipt.as_deref(),
                Some(ack.receipt.as_str()),
                "acknowledged before the backup: {ack:?}"
            );
        }
        let rows = |db: Db| async move {
            let r: Vec<(i64, Option<String>, String)> = sqlx::query_as(
                "select id, receipt_number, status from applications order by id",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
            db.close().await;
            r
        };
        let (old_rows, new_rows) = (rows(old).await, rows(new).await);
        assert!(new_rows.len() <= old_rows.len());
        assert!(
            new_rows.iter().all(|r| old_rows.contains(r)),
            "every restored application is as it was"
        );
    });
    // The key is beside each data directory, not in it.
    assert!(!data.join("secret.key").exists() && !restored.join("secret.key").exists());
    let key_of = |dir: &Path| platform::config::key_folder(dir).join("secret.key");
    assert_eq!(
        std::fs::read(key_of(&data)).unwrap(),
        std::fs::read(key_of(&restored)).unwrap(),
        "the same master key"
    );
    let key = platform::crypto::sha256_hex(&pdf);
    let stored = |root: &Path| {
        std::fs::read(
            root.join("files")
                .join(&key[0..2])
                .join(&key[2..4])
                .join(&key),
        )
        .unwrap()
    };
    assert_eq!(stored(&restored), stored(&data), "byte-identical file");
    let env: Vec<(String, String)> = fleet.env.clone();
    let mut again = Node::start(&restored, &env);
    rt.block_on(async {
        let mut api = Client::remote(&again.base);
        api.api_sign_in("taro@example.jp", DEMO_PASSWORD, "resident")
            .await;
        let res = api
            .get(&format!(
                "/api/v1/applications/{draft}/attachments/{attachment}"
            ))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(
            res.body, pdf,
            "the attachment comes back from the restored installation"
        );
    });
    again.terminate();

    // Refused: a target that is not empty; a damaged backup.
    let (ok, out) = cli(&["restore"], &[&backup, Path::new("--data-dir"), &restored]);
    assert!(!ok && out.contains("empty data directory"), "{out}");
    let object = backup
        .join("files")
        .join(&key[0..2])
        .join(&key[2..4])
        .join(&key);
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&object, bytes).unwrap();
    let (ok, out) = cli(&["restore"], &[&backup, Path::new("--data-dir"), &damaged]);
    assert!(!ok && out.contains("damaged"), "{out}");
    assert!(
        !damaged.join("madoguchi.db").exists(),
        "nothing written from a damaged backup"
    );

    // The key kept apart: the backup has none; restoring needs --keys-dir.
    let (ok, out) = cli(
        &["backup"],
        &[
            &apart,
            Path::new("--keys-dir"),
            &keys,
            Path::new("--data-dir"),
            &data,
        ],
    );
    assert!(ok, "{out}");
    assert!(!apart.join("keys").exists() && keys.join("secret.key").is_file());
    let target = scratch.join("restored-apart");
    let (ok, out) = cli(&["restore"], &[&apart, Path::new("--data-dir"), &target]);
    assert!(!ok && out.contains("--keys-dir"), "{out}");
    let (ok, out) = cli(
        &["restore"],
        &[
            &apart,
            Path::new("--keys-dir"),
            &keys,
            Path::new("--data-dir"),
            &target,
        ],
    );
    assert!(ok, "{out}");

    let _ = std::fs::remove_dir_all(&scratch);
    rt.block_on(fleet.cleanup());
}
