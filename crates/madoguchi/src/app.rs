//! Building the whole product from a configuration: the database (connected
//! and migrated), the platform, every module's state and the complete router.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use platform::config::Config;
use platform::db::{Db, DbOptions, MigrationSource};
use platform::i18n::{Catalogue, LocaleSource};
use platform::{Platform, PlatformInner};
use procedures::Procedures;

/// Every module's migrations, in dependency order (versions order them anyway).
pub fn migrations() -> Vec<&'static [MigrationSource]> {
    vec![
        platform::MIGRATIONS,
        identity::MIGRATIONS,
        procedures::MIGRATIONS,
        backoffice::MIGRATIONS,
        plans::MIGRATIONS,
        faq::MIGRATIONS,
        opendata::MIGRATIONS,
    ]
}

/// Every module's message catalogue.
pub fn locales() -> Vec<LocaleSource> {
    vec![
        platform::LOCALES,
        platform::JP_LOCALES,
        identity::LOCALES,
        procedures::LOCALES,
        approvals::LOCALES,
        backoffice::LOCALES,
        plans::LOCALES,
        faq::LOCALES,
        opendata::LOCALES,
        opendata::STANDARD_LOCALES,
    ]
}

/// Static files of every module.
pub const ASSETS: &[&[platform::web::assets::Asset]] = &[
    platform::web::assets::PLATFORM_ASSETS,
    procedures::web::ASSETS,
];

/// The OpenAPI document of `/api/v1`.
pub const OPENAPI: &str = include_str!("../openapi/openapi.json");

/// The running product's parts.
#[derive(Clone)]
pub struct App {
    pub platform: Platform,
    pub procedures: Procedures,
    pub backoffice: backoffice::Backoffice,
    pub plans: plans::Plans,
    pub faq: faq::Faq,
    pub identity: identity::Identity,
    pub opendata: opendata::OpenData,
    /// The background jobs' handlers (notifications); `serve` runs them.
    pub jobs: platform::jobs::Runner,
    pub router: Router,
}

/// Connects to the configured database and applies the migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let url = config.effective_database_url();
    let options = DbOptions {
        max_connections: config.db_max_connections,
        ..DbOptions::default()
    };
    let db = Db::connect(&url, &options).await?;
    db.migrate(&migrations()).await?;
    Ok(db)
}

/// Builds the platform on an open database.
pub fn platform(config: Config, db: Db) -> anyhow::Result<Platform> {
    let keys = platform::crypto::Keys::load_or_create(
        config.secret_key.as_ref().map(|s| s.expose()),
        &config.key_file(),
    )?;
    if config.secret_key.is_none() && config.key_file().starts_with(&config.data_dir) {
        tracing::warn!(
            "the master key is inside the data directory ({}): move it out and set secret_key_file",
            config.key_file().display()
        );
    }
    let catalogue = Catalogue::load(&locales(), Some(&config.data_dir.join("locales")))?;
    let files = match &config.object_store {
        Some(store) => platform::files::FileStore::s3(platform::files::Bucket::new(store)?),
        None => platform::files::FileStore::local(config.data_dir.join("files")),
    }
    .encrypted(keys.files_key());
    Ok(Platform::new(PlatformInner {
        config,
        db,
        catalogue: Arc::new(catalogue),
        keys,
        files,
        limiter: platform::ratelimit::RateLimiter::new(),
        orgs: platform::orgs::OrgCache::default(),
        metrics: Arc::new(platform::metrics::Metrics::new()),
        health: Arc::new(platform::health::Health::new()),
    }))
}

/// Builds everything; starts the background tasks on the current runtime.
pub async fn build(config: Config) -> anyhow::Result<App> {
    let db = open_database(&config).await?;
    let platform = platform(config, db)?;
    // A node with another master key stops here.
    platform::crypto::verify_key(&platform.db, &platform.keys).await?;
    // A wrong object-store endpoint or key stops the start with a clear message.
    platform.files.check().await?;
    // A configured provider whose key cannot be read stops the start.
    let identity = identity::Identity::new(platform.clone())?;
    let procedures = Procedures::start(platform.clone());
    let backoffice = backoffice::Backoffice {
        platform: platform.clone(),
        procedures: procedures.clone(),
    };
    let plans = plans::Plans {
        platform: platform.clone(),
    };
    let faq = faq::Faq::new(platform.clone(), faq_engine_config(&platform.config));
    share_readings(&faq, &procedures);
    let opendata = opendata::OpenData::new(platform.clone());
    let mut jobs = platform::jobs::Runner::new()
        .with_metrics(platform.metrics.clone())
        .with_lock(std::time::Duration::from_secs(
            platform.config.job_lock_secs.max(1),
        ));
    backoffice::service::notify::register(&mut jobs, platform.clone());
    let routes = platform::web::router()
        .merge(identity::router(identity.clone()))
        .merge(procedures::router(procedures.clone()))
        .merge(backoffice::router(backoffice.clone()))
        .merge(plans::router(plans.clone()))
        .merge(faq::router(faq.clone()))
        .merge(opendata::router(opendata.clone()))
        .merge(platform::web::assets::router(ASSETS))
        .route("/api/v1/openapi.json", get(openapi));
    let router = platform::web::finish(routes, platform.clone());
    Ok(App {
        platform,
        procedures,
        backoffice,
        plans,
        faq,
        identity,
        opendata,
        jobs,
        router,
    })
}

/// Loads the demo data: organisations, procedures, accounts (see [`crate::demo`]),
/// then the demo open-data catalogue and the platform's own published datasets.
pub async fn load_demo(app: &App) -> anyhow::Result<crate::demo::Loaded> {
    let loaded = crate::demo::load(&app.platform.db, &app.platform.keys).await?;
    opendata::service::demo::load(&app.opendata).await?;
    opendata::service::publishing::run(&app.opendata).await?;
    Ok(loaded)
}

/// The FAQ chatbot's Japanese dictionary, lent to the procedure search for
/// readings (くるまいす meets 車いす).
#[derive(Debug)]
struct DictionaryReadings(faq::analysis::Analyzer);

impl procedures::search::Readings for DictionaryReadings {
    fn reading(&self, text: &str) -> Option<String> {
        self.0.reading(text)
    }
}

/// Once the FAQ engine has its dictionary (loaded in the background), the
/// catalogue search uses its readings too; without one it goes on without.
fn share_readings(faq: &faq::Faq, procedures: &Procedures) {
    let engine = faq.engine.clone();
    let catalogue = procedures.catalogue.clone();
    tokio::spawn(async move {
        let analyzer = engine.analyzer().await;
        if analyzer.mode() == "morphological" {
            catalogue.set_readings(Arc::new(DictionaryReadings(analyzer)));
        }
    });
}

/// Where the FAQ engine finds its dictionary and model.
pub fn faq_engine_config(config: &Config) -> faq::service::EngineConfig {
    faq::service::EngineConfig {
        dictionary: config.faq_dictionary.clone(),
        model: config.faq_model.clone(),
        cache_dir: config.data_dir.join("cache"),
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app.router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
