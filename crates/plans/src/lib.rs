//! Plans, KPIs and the procedure inventory: the PDCA of the prefectures' DX
//! plans, with figures that come from the platform's own records wherever
//! the platform holds them.
//!
//! - [`data`]: the plan file format (a plan transcribed from its PDF) and its checks;
//! - [`kpi`]: targets as the plans write them, achievement ratios, roll-ups, grades;
//! - [`metrics`]: KPIs bound to live figures (procedures online, applications received);
//! - [`store`]: plans, projects, measures, KPIs, targets with their revisions,
//!   actuals with their source, decided grades;
//! - [`inventory`]: the 手続棚卸 import (CSV in UTF-8 or Shift_JIS, `.xlsx`) and the online share;
//! - [`views`] and [`charts`]: the seeds' table layout, roll-ups and SVG charts;
//! - [`pages`] and [`api`]: the public dashboard, the DX office's pages and `/api/v1`.

pub mod api;
pub mod charts;
pub mod data;
pub mod inventory;
pub mod kpi;
pub mod metrics;
pub mod pages;
pub mod store;
pub mod views;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

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

/// The module's state.
#[derive(Clone, Debug)]
pub struct Plans {
    pub platform: Platform,
}

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
