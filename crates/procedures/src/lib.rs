//! Online procedures (電子申請・届出): the catalogue residents search and
//! browse, the forms procedures ask (declarative definitions an organisation
//! admin imports), drafts, submission with receipt numbers, the resident's
//! list of applications and withdrawal, as pages and as a JSON API.
//!
//! The crate has the three layers every module has (docs/ARCHITECTURE.md):
//!
//! - domain: [`catalogue`] (procedures, categories, life events, form
//!   versions), [`applications`] (applications, status, history, attachments),
//!   [`submission`] (what is sent and why it can be refused), [`form`]
//!   (definitions, answer validation, display, page order) and [`search`] (the
//!   Japanese-aware catalogue index);
//! - [`store`]: their SQL;
//! - [`service`]: the module's state and use cases (the catalogue in memory,
//!   the resident's applications, the group-commit writer, bundle imports);
//! - web: [`pages`] (the resident's pages), [`api`] (`/api/v1`) and [`web`]
//!   (what both share).

pub mod api;
pub mod applications;
pub mod catalogue;
pub mod form;
pub mod pages;
pub mod profile;
pub mod search;
pub mod service;
pub mod store;
pub mod submission;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

pub use service::Procedures;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[
    platform::db::MigrationSource {
        version: 2026112102,
        description: "procedures",
        sqlite: include_str!("../migrations/sqlite/2026112102_procedures.sql"),
        postgres: include_str!("../migrations/postgres/2026112102_procedures.sql"),
    },
    platform::db::MigrationSource {
        version: 2026120711,
        description: "procedures guidance",
        sqlite: include_str!("../migrations/sqlite/2026120711_procedures_guidance.sql"),
        postgres: include_str!("../migrations/postgres/2026120711_procedures_guidance.sql"),
    },
    platform::db::MigrationSource {
        version: 2026120712,
        description: "resident profiles",
        sqlite: include_str!("../migrations/sqlite/2026120712_resident_profiles.sql"),
        postgres: include_str!("../migrations/postgres/2026120712_resident_profiles.sql"),
    },
    platform::db::MigrationSource {
        version: 2026120806,
        description: "procedure identity",
        sqlite: include_str!("../migrations/sqlite/2026120806_procedure_identity.sql"),
        postgres: include_str!("../migrations/postgres/2026120806_procedure_identity.sql"),
    },
    platform::db::MigrationSource {
        version: 2026120809,
        description: "retention",
        sqlite: include_str!("../migrations/sqlite/2026120809_retention.sql"),
        postgres: include_str!("../migrations/postgres/2026120809_retention.sql"),
    },
];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

impl FromRef<Procedures> for Platform {
    fn from_ref(p: &Procedures) -> Platform {
        p.platform.clone()
    }
}

/// The module's routes (pages and API), ready to merge into the platform's router.
pub fn router(state: Procedures) -> Router<Platform> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
}
