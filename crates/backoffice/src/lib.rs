//! The back office: what a section's staff do with the applications that
//! arrive, with no paper.
//!
//! - [`inbox`]: the section's applications, filtered, counted, paged by key;
//! - [`review`]: start the review, return for correction, draft a decision and
//!   move it through the approval route, with optimistic locking and every
//!   change audited in the same transaction;
//! - [`approvals`]: approval routes (電子決裁), simple approval, delegation;
//! - [`notify`]: e-mails to residents from the outbox;
//! - [`exports`]: CSV / `.xlsx` exports and the grouped workbook;
//! - [`pages`] and [`api`]: the staff pages under `/staff` and `/api/v1/staff`.
//!
//! Every query is scoped to the staff member's organisation and section: an
//! application of another section is "not found".

pub mod api;
pub mod approvals;
pub mod exports;
pub mod inbox;
pub mod notify;
pub mod pages;
pub mod review;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;
use procedures::Procedures;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026112201,
    description: "backoffice",
    sqlite: include_str!("../migrations/sqlite/2026112201_backoffice.sql"),
    postgres: include_str!("../migrations/postgres/2026112201_backoffice.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

/// The module's state: the platform and the procedures module it works on.
#[derive(Clone, Debug)]
pub struct Backoffice {
    pub platform: Platform,
    pub procedures: Procedures,
}

impl FromRef<Backoffice> for Platform {
    fn from_ref(b: &Backoffice) -> Platform {
        b.platform.clone()
    }
}

/// The module's routes.
pub fn router(state: Backoffice) -> Router<Platform> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
}
