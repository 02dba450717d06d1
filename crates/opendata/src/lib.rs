//! Open data and the data linkage platform: a catalogue that the tools of
//! Japan's open-data world can read and write because it speaks their
//! protocols.
//!
//! - [`model`]: datasets, resources, publishers, groups, licences; CKAN's dictionaries;
//! - [`store`]: their storage, API tokens, the generation counter;
//! - [`catalogue`]: the in-memory copy every node reads (dictionaries and search index);
//! - [`search`]: `package_search`'s engine: Japanese-aware free text, Solr filter queries, facets;
//! - [`service`]: changing the catalogue, with CKAN's validation rules;
//! - [`ckan`]: CKAN's Action API v3 (`/api/3/action/…`);
//! - [`dcat`]: DCAT in Turtle, RDF/XML, JSON-LD and N3 (`/catalog.ttl`, `/dataset/{id}.ttl`);
//! - [`standard`]: templates of 自治体標準オープンデータセット and CSV validation;
//! - [`ngsi`]: the standard datasets' rows as FIWARE NGSI-v2 entities (`/v2/entities`);
//! - [`publish`]: the platform publishing its own procedure catalogue and monthly counts;
//! - [`demo`]: the demo catalogue;
//! - [`web`]: downloads, DCAT routes, and the NGSI source; [`pages`]: the catalogue's pages.

pub mod catalogue;
pub mod ckan;
pub mod dcat;
pub mod demo;
pub mod entities;
pub mod model;
pub mod ngsi;
pub mod pages;
pub mod publish;
pub mod search;
pub mod service;
pub mod standard;
pub mod store;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::response::Response;
use platform::Platform;

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

/// The CKAN version whose Action API this catalogue follows (`status_show`).
pub const CKAN_VERSION: &str = "2.10.4";

/// The module's state.
#[derive(Clone, Debug)]
pub struct OpenData {
    pub platform: Platform,
    pub catalogue: Arc<catalogue::Catalogue>,
    /// The largest resource file accepted, in bytes.
    pub upload_limit: usize,
    pub(crate) ngsi_cache: Arc<NgsiCache>,
    /// Serialises this node's catalogue writes (read, check, write); writes
    /// from other nodes are caught by the optimistic check in `service::save`.
    pub(crate) writing: Arc<tokio::sync::Mutex<()>>,
}

impl OpenData {
    /// Loads the catalogue into memory in the background (a first search would otherwise wait for it).
    pub fn warm_up(&self) {
        let catalogue = self.catalogue.clone();
        tokio::spawn(async move {
            if let Err(e) = catalogue.current().await {
                tracing::warn!(error = %e, "loading the open-data catalogue failed");
            }
        });
    }

    pub fn new(platform: Platform) -> OpenData {
        let catalogue = catalogue::Catalogue::new(platform.db.clone(), site_url(&platform.config));
        OpenData {
            upload_limit: platform.config.data_upload_bytes,
            catalogue: Arc::new(catalogue),
            platform,
            writing: Arc::new(tokio::sync::Mutex::new(())),
            ngsi_cache: Arc::new(NgsiCache(tokio::sync::Mutex::new((
                -1,
                Arc::new(Vec::new()),
            )))),
        }
    }
}

/// The NGSI entities of the last generation they were built for.
pub(crate) struct NgsiCache(pub tokio::sync::Mutex<(i64, Arc<Vec<entities::EntitySet>>)>);

impl std::fmt::Debug for NgsiCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NgsiCache")
    }
}

impl FromRef<OpenData> for Platform {
    fn from_ref(o: &OpenData) -> Platform {
        o.platform.clone()
    }
}

/// The URL links start with: the configured public URL, else the listening address.
pub fn site_url(config: &platform::config::Config) -> String {
    if let Some(base) = config.base_url.as_deref().filter(|b| !b.trim().is_empty()) {
        return base.trim().trim_end_matches('/').to_string();
    }
    let addr = config.addr;
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// Marks a response as complete, so the platform's error pages leave it alone
/// (CKAN's and Orion's error bodies are the protocol).
pub fn rendered(mut res: Response) -> Response {
    res.extensions_mut().insert(platform::web::error::Rendered);
    res
}

/// The language of a request (the platform's context, else Japanese).
pub fn lang_of<B>(req: &axum::http::Request<B>) -> platform::i18n::Lang {
    req.extensions()
        .get::<platform::web::RequestContext>()
        .map(|c| c.lang)
        .unwrap_or_default()
}

/// The NGSI tenant (`Fiware-Service`) of a dataset: its publisher's name.
pub fn ngsi_tenant(state: &OpenData, d: &model::Dataset) -> String {
    let publisher = state.catalogue.organization(&d.owner_org).map(|o| o.name);
    entities::tenant(publisher.as_deref())
}

/// The NGSI service path (`Fiware-ServicePath`) of a dataset: `/` and its name.
pub fn ngsi_service_path(d: &model::Dataset) -> String {
    entities::service_path(&d.name)
}

/// The module's routes.
pub fn router(state: OpenData) -> Router<Platform> {
    web::router(state.clone())
        .merge(pages::router())
        .with_state(state.clone())
        // Orion's error bodies are the protocol: the platform's error pages leave them alone.
        .merge(
            ngsi::router(web::NgsiSource(state)).layer(axum::middleware::map_response(
                |res: Response| async { rendered(res) },
            )),
        )
}
