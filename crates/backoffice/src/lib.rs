//! The back office: what a section's staff do with the applications that
//! arrive, with no paper.
//!
//! - domain: [`model`] (the inbox's filter and rows, staff actions, export
//!   selections);
//! - [`store`]: its SQL (inbox, review, exports, notification recipients);
//! - [`service`]: the use cases (inbox, review and decisions through the
//!   `approvals` crate's routes, procedures and routes, exports, notifications);
//! - web: [`pages`] (under `/staff`), [`api`] (under `/api/v1/staff`) and
//!   [`web`] (what both share).
//!
//! Every query is scoped to the staff member's organisation and section: an
//! application of another section is "not found".

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

pub use service::Backoffice;

/// The module's migrations. The first also created the approval tables,
/// which the `approvals` crate owns since it was split out.
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
