//! Plans, KPIs and the procedure inventory: the PDCA of the prefectures' DX
//! plans, with figures that come from the platform's own records wherever
//! the platform holds them.
//!
//! Domain (types and pure logic, no I/O):
//! - [`model`]: plans, projects, measures, KPIs with their targets, revisions and actuals;
//! - [`data`]: the plan file format (a plan transcribed from its PDF) and its checks;
//! - [`kpi`]: targets as the plans write them, achievement ratios, roll-ups, grades;
//! - [`metrics`]: the platform's figures a KPI can be bound to;
//! - [`inventory`]: the 手続棚卸 file format (CSV in UTF-8 or Shift_JIS, `.xlsx`) and the shares;
//! - [`views`] and [`charts`]: the seeds' table layout, roll-ups and SVG charts.
//!
//! Store, service and web:
//! - [`store`]: plans, KPIs, the inventory and the platform's figures (SQL only);
//! - [`service`]: the state ([`Plans`]) and the use cases: the dashboard's
//!   figures, entering actuals, revising targets, deciding grades, roadmap
//!   entries, plan files, the inventory;
//! - [`pages`] and [`api`]: the public dashboard, the DX office's pages and
//!   `/api/v1`; [`web`]: what both share at the HTTP edge.

pub mod api;
pub mod charts;
pub mod data;
pub mod inventory;
pub mod kpi;
pub mod metrics;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod views;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

pub use service::Plans;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026112202,
    description: "plans",
    sqlite: include_str!("../migrations/sqlite/2026112202_plans.sql"),
    postgres: include_str!("../migrations/postgres/2026112202_plans.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

impl FromRef<Plans> for Platform {
    fn from_ref(p: &Plans) -> Platform {
        p.platform.clone()
    }
}

/// The module's routes.
pub fn router(state: Plans) -> Router<Platform> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
}
