//! The migration rules of `migrations/README.md`: an applied migration is
//! never edited, every migration has its twin for the other backend, and
//! every migration is listed in its module's `MIGRATIONS`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every migration file: its path relative to the root, by crate.
fn migration_files() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for krate in std::fs::read_dir(root().join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        for backend in ["sqlite", "postgres"] {
            let dir = krate.join("migrations").join(backend);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries {
                let name = e.unwrap().file_name().to_string_lossy().to_string();
                out.push((
                    krate.file_name().unwrap().to_string_lossy().to_string(),
                    backend.to_string(),
                    name,
                ));
            }
        }
    }
    out.sort();
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn applied_migrations_are_never_edited() {
    let recorded: BTreeMap<String, String> =
        std::fs::read_to_string(root().join("migrations/applied.sha256"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (hash, path) = l.split_once("  ").expect("`<sha256>  <path>` lines");
                (path.trim().to_string(), hash.trim().to_string())
            })
            .collect();
    let files = migration_files();
    assert!(files.len() >= 12, "the migrations are found: {files:?}");
    for (krate, backend, name) in &files {
        let rel = format!("crates/{krate}/migrations/{backend}/{name}");
        let text = std::fs::read(root().join(&rel)).unwrap();
        let hash = hex(&Sha256::digest(&text));
        match recorded.get(&rel) {
            None => panic!(
                "{rel} is a new migration: add its line to migrations/applied.sha256 \
                 (`sha256sum {rel} >> migrations/applied.sha256`)"
            ),
            Some(h) => assert_eq!(
                h, &hash,
                "{rel} was edited after it was committed: never edit an applied migration, \
                 write a new one (migrations/README.md)"
            ),
        }
    }
    for path in recorded.keys() {
        assert!(
            root().join(path).is_file(),
            "{path} is recorded as applied but is gone: an applied migration is never removed"
        );
    }
}

#[test]
fn every_migration_has_its_twin_and_is_listed() {
    let files = migration_files();
    let mut by_crate: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for (krate, backend, name) in &files {
        by_crate
            .entry(krate)
            .or_default()
            .entry(backend)
            .or_default()
            .insert(name);
    }
    let mut versions = BTreeSet::new();
    for (krate, backends) in &by_crate {
        let sqlite = backends.get("sqlite").cloned().unwrap_or_default();
        let postgres = backends.get("postgres").cloned().unwrap_or_default();
        assert_eq!(
            sqlite, postgres,
            "{krate}: every migration has a SQLite and a PostgreSQL twin of the same name"
        );
        let lib =
            std::fs::read_to_string(root().join(format!("crates/{krate}/src/lib.rs"))).unwrap();
        for name in &sqlite {
            let version = name.split('_').next().unwrap();
            assert!(
                version.len() == 10 && version.bytes().all(|b| b.is_ascii_digit()),
                "{krate}/{name}: migrations are named YYYYMMDDNN_<module>.sql"
            );
            assert!(
                versions.insert(version.to_string()),
                "version {version} is used twice"
            );
            for backend in ["sqlite", "postgres"] {
                let include = format!("../migrations/{backend}/{name}");
                assert!(
                    lib.contains(&include) && lib.contains(&format!("version: {version}")),
                    "{krate}/{backend}/{name} is listed in crates/{krate}/src/lib.rs's MIGRATIONS"
                );
            }
        }
    }
}
