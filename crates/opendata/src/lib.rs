//! Open data and the data linkage platform: a catalogue that the tools of
//! Japan's open-data world can read and write because it speaks their
//! protocols.
//!
//! Domain (types and pure rules):
//! - [`model`]: datasets, resources, publishers, groups, licences, tokens; CKAN's dictionaries;
//! - [`dictionary`]: CKAN's dictionaries read into records, with CKAN's validation rules;
//! - [`search`]: `package_search`'s engine: Japanese-aware free text, Solr filter queries, facets;
//! - [`standard`]: templates of 自治体標準オープンデータセット and CSV validation;
//! - [`entities`]: the standard datasets' rows as NGSI entities;
//! - [`own_datasets`]: the datasets the platform publishes about itself;
//! - [`demo`]: the demo catalogue's content.
//!
//! Store: [`store`], SQL only. Service: [`service`], the state ([`OpenData`])
//! and the use cases, with the in-memory catalogue every node reads.
//!
//! Web:
//! - [`ckan`]: CKAN's Action API v3 (`/api/3/action/…`);
//! - [`dcat`]: DCAT in Turtle, RDF/XML, JSON-LD and N3;
//! - [`ngsi`]: the standard datasets' rows as FIWARE NGSI-v2 entities (`/v2/entities`);
//! - [`web`]: what they and the pages share, downloads and the DCAT routes;
//! - [`pages`]: the catalogue's pages and the staff's pages.

pub mod ckan;
pub mod dcat;
pub mod demo;
pub mod dictionary;
pub mod entities;
pub mod model;
pub mod ngsi;
pub mod own_datasets;
pub mod pages;
pub mod search;
pub mod service;
pub mod standard;
pub mod store;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use axum::response::Response;
use platform::Platform;

pub use ckan::CKAN_VERSION;
pub use service::{OpenData, site_url};

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026112401,
    description: "opendata",
    sqlite: include_str!("../migrations/sqlite/2026112401_opendata.sql"),
    postgres: include_str!("../migrations/postgres/2026112401_opendata.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

/// The standard datasets' validation messages.
pub const STANDARD_LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/standard.ja.toml"),
    en: include_str!("../locales/standard.en.toml"),
};

impl FromRef<OpenData> for Platform {
    fn from_ref(o: &OpenData) -> Platform {
        o.platform.clone()
    }
}

/// The module's routes.
pub fn router(state: OpenData) -> Router<Platform> {
    ckan::router(state.upload_limit)
        .merge(web::router())
        .merge(pages::router())
        .with_state(state.clone())
        // Orion's error bodies are the protocol: the platform's error pages leave them alone.
        .merge(
            ngsi::router(ngsi::NgsiSource(state)).layer(axum::middleware::map_response(
                |res: Response| async { web::rendered(res) },
            )),
        )
}
