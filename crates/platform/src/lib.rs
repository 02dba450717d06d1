//! madoguchi's platform: what every module stands on.
//!
//! - [`config`]: layered configuration, secrets that never print;
//! - [`db`]: one SQL for SQLite and PostgreSQL, migrations, write transactions;
//! - [`orgs`], [`accounts`], [`session`]: organisations, people, sign-in;
//! - [`audit`]: the hash-chained audit log;
//! - [`jobs`]: the job queue and outbox;
//! - [`lease`]: periodic work done by one node at a time;
//! - [`health`]: what `/healthz` checks;
//! - [`metrics`]: counters for `/metrics` (Prometheus text format);
//! - [`files`]: content-addressed file storage and file-type verification;
//! - [`i18n`]: message catalogues (Japanese and English);
//! - [`crypto`]: keys, tokens, sealing of My Number values;
//! - [`web`]: the HTTP edge (context, forms, errors, page shell, assets).
//!
//! [`Platform`] bundles them for handlers; modules reach it with
//! `State<Platform>` or through their own state (`FromRef`).

pub mod account_links;
pub mod accounts;
pub mod audit;
pub mod config;
pub mod crypto;
pub mod db;
pub mod files;
pub mod health;
pub mod i18n;
pub mod identity;
pub mod import;
pub mod jobs;
pub mod lease;
pub mod metrics;
pub mod orgs;
pub mod ratelimit;
pub mod second_factor;
pub mod session;
pub mod staff_directory;
pub mod totp;
pub mod web;

use std::ops::Deref;
use std::sync::Arc;

pub use db::{Db, StoreError, StoreResult, Timestamp};

/// The platform's migrations (organisations, people, sessions, audit, jobs;
/// then rate-limit counters and leases shared by nodes).
pub const MIGRATIONS: &[db::MigrationSource] = &[
    db::MigrationSource {
        version: 2026112101,
        description: "platform",
        sqlite: include_str!("../migrations/sqlite/2026112101_platform.sql"),
        postgres: include_str!("../migrations/postgres/2026112101_platform.sql"),
    },
    db::MigrationSource {
        version: 2026120701,
        description: "platform scale-out",
        sqlite: include_str!("../migrations/sqlite/2026120701_platform_scale_out.sql"),
        postgres: include_str!("../migrations/postgres/2026120701_platform_scale_out.sql"),
    },
    db::MigrationSource {
        version: 2026120801,
        description: "staff lifecycle",
        sqlite: include_str!("../migrations/sqlite/2026120801_staff_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/2026120801_staff_lifecycle.sql"),
    },
    db::MigrationSource {
        version: 2026120802,
        description: "key check",
        sqlite: include_str!("../migrations/sqlite/2026120802_key_check.sql"),
        postgres: include_str!("../migrations/postgres/2026120802_key_check.sql"),
    },
    db::MigrationSource {
        version: 2026120803,
        description: "file deletions",
        sqlite: include_str!("../migrations/sqlite/2026120803_file_deletions.sql"),
        postgres: include_str!("../migrations/postgres/2026120803_file_deletions.sql"),
    },
    db::MigrationSource {
        version: 2026120804,
        description: "session identity",
        sqlite: include_str!("../migrations/sqlite/2026120804_session_identity.sql"),
        postgres: include_str!("../migrations/postgres/2026120804_session_identity.sql"),
    },
    db::MigrationSource {
        version: 2026120807,
        description: "second factor",
        sqlite: include_str!("../migrations/sqlite/2026120807_second_factor.sql"),
        postgres: include_str!("../migrations/postgres/2026120807_second_factor.sql"),
    },
    db::MigrationSource {
        version: 2026120808,
        description: "resident links",
        sqlite: include_str!("../migrations/sqlite/2026120808_resident_links.sql"),
        postgres: include_str!("../migrations/postgres/2026120808_resident_links.sql"),
    },
];

/// The platform's message catalogue.
pub const LOCALES: i18n::LocaleSource = i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

/// The Japanese-domain helpers' message catalogue (validation messages).
pub const JP_LOCALES: i18n::LocaleSource = i18n::LocaleSource {
    ja: jp::CATALOGUE_JA,
    en: jp::CATALOGUE_EN,
};

/// Everything shared by the handlers of every module. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Platform(Arc<PlatformInner>);

#[derive(Debug)]
pub struct PlatformInner {
    pub config: config::Config,
    pub db: Db,
    pub catalogue: Arc<i18n::Catalogue>,
    pub keys: crypto::Keys,
    pub files: files::FileStore,
    pub limiter: ratelimit::RateLimiter,
    pub orgs: orgs::OrgCache,
    /// This node's counters, read at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// This node's long-running parts, checked at `/healthz`.
    pub health: Arc<health::Health>,
}

impl Platform {
    pub fn new(inner: PlatformInner) -> Platform {
        Platform(Arc::new(inner))
    }

    /// A translator for `lang`.
    pub fn tr(&self, lang: i18n::Lang) -> i18n::Tr {
        i18n::Tr::new(self.catalogue.clone(), lang)
    }
}

impl Deref for Platform {
    type Target = PlatformInner;
    fn deref(&self) -> &PlatformInner {
        &self.0
    }
}
