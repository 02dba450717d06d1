//! The checker finds what it is meant to find: a small workspace written
//! to a temporary directory with one broken rule of each kind.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use architecture::{CrateKind, check, read_workspace};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-architecture-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn kinds() -> HashMap<String, CrateKind> {
    HashMap::from([
        (
            "shop".to_string(),
            CrateKind {
                feature: true,
                adapters: vec!["ckan".into()],
            },
        ),
        (
            "other".to_string(),
            CrateKind {
                feature: true,
                adapters: vec![],
            },
        ),
    ])
}

#[test]
fn a_well_shaped_crate_passes() {
    let root = scratch("good");
    write(
        &root,
        "crates/shop/Cargo.toml",
        "[package]\nname = \"shop\"\n",
    );
    write(
        &root,
        "crates/shop/src/lib.rs",
        "mod api;\nmod model;\nmod pages;\nmod service;\nmod store;\npub use service::Shop;\npub fn router() { pages::router(); api::router(); }\n",
    );
    write(&root, "crates/shop/src/model.rs", "pub struct Item;\n");
    write(
        &root,
        "crates/shop/src/store.rs",
        "use crate::model::Item;\npub async fn items(db: &Db) -> Vec<Item> { sqlx::query(\"select 1\").fetch_all(db.pool()).await; vec![] }\n",
    );
    write(
        &root,
        "crates/shop/src/service.rs",
        "use crate::store;\npub struct Shop;\npub async fn items() { store::items().await; }\n",
    );
    write(
        &root,
        "crates/shop/src/pages.rs",
        "use axum::Router;\nuse crate::service::{self, Shop};\npub fn router() { service::items(); }\n",
    );
    write(
        &root,
        "crates/shop/src/api.rs",
        "use crate::service;\npub fn router() { service::items(); }\n",
    );
    let ws = read_workspace(&root, &kinds()).expect("reads");
    assert_eq!(check(&ws), vec![]);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn each_broken_rule_is_reported() {
    let root = scratch("bad");
    write(
        &root,
        "crates/shop/Cargo.toml",
        "[package]\nname = \"shop\"\n[dependencies]\nother = { path = \"../other\" }\n",
    );
    write(
        &root,
        "crates/shop/src/lib.rs",
        "mod ckan;\nmod pages;\nmod service;\nmod store;\npub struct Shop;\n",
    );
    // A service that speaks HTTP and depends on a protocol adapter.
    write(
        &root,
        "crates/shop/src/service.rs",
        "use axum::http::StatusCode;\nuse crate::ckan::CkanError;\npub fn save() -> Result<(), CkanError> { Ok(()) }\n",
    );
    // The adapter and the service import each other.
    write(
        &root,
        "crates/shop/src/ckan.rs",
        "pub struct CkanError;\npub fn act() { crate::service::save(); }\n",
    );
    // A page running SQL, using the crate root's state and another crate's pages.
    write(
        &root,
        "crates/shop/src/pages.rs",
        "use crate::Shop;\npub async fn list(db: &Db) { sqlx::query(\"select 1\").fetch_all(db.pool()).await; other::pages::helper(); }\n",
    );
    write(
        &root,
        "crates/shop/src/store.rs",
        "use crate::service;\npub fn x() { service::save(); }\n",
    );
    write(
        &root,
        "crates/other/Cargo.toml",
        "[package]\nname = \"other\"\n",
    );
    write(
        &root,
        "crates/other/src/lib.rs",
        "pub mod pages;\npub mod a;\npub mod b;\npub mod service;\npub mod store;\n",
    );
    write(&root, "crates/other/src/pages.rs", "pub fn helper() {}\n");
    write(&root, "crates/other/src/service.rs", "");
    write(&root, "crates/other/src/store.rs", "");
    // A ring of two domain modules, one through a `use` of the module.
    write(
        &root,
        "crates/other/src/a.rs",
        "use crate::b;\npub fn f() { b::g(); }\n",
    );
    write(
        &root,
        "crates/other/src/b.rs",
        "pub fn g() { super::a::f(); }\n",
    );
    let ws = read_workspace(&root, &kinds()).expect("reads");
    let found: Vec<String> = check(&ws).iter().map(ToString::to_string).collect();
    let has = |needle: &str| found.iter().any(|v| v.contains(needle));
    assert!(has("[no-http-below-web] shop::service"), "{found:#?}");
    assert!(
        has("[layers] shop::service (Service) uses shop::ckan (Web)"),
        "{found:#?}"
    );
    assert!(
        has("[layers] shop::store (Store) uses shop::service (Service)"),
        "{found:#?}"
    );
    assert!(has("[no-cycles] shop::ckan, shop::service"), "{found:#?}");
    assert!(has("[no-cycles] other::a, other::b"), "{found:#?}");
    assert!(has("[no-sql-in-web] shop::pages"), "{found:#?}");
    assert!(has("[sql-in-store] shop::pages"), "{found:#?}");
    assert!(
        has("[layers] shop::pages (Web) uses shop::(root) (Root)"),
        "{found:#?}"
    );
    assert!(
        has("[no-foreign-web] shop::pages uses other's web layer other::pages"),
        "{found:#?}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
