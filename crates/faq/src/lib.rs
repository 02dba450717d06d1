//! The FAQ chatbot: answers residents at any hour from the organisations' FAQ
//! entries, says when it is not sure (and offers the nearest entries and the
//! section to call instead), and learns from what it could not answer.
//!
//! - [`entry`]: the entry and its CSV format (import and export);
//! - [`analysis`]: Japanese morphological analysis (IPADIC via vibrato), bigrams, readings;
//! - [`index`]: BM25 over content words, bigrams and readings; English; semantic fusion;
//! - [`semantic`]: the optional multilingual-e5-small encoder;
//! - [`engine`]: keeps the index current on every node and answers;
//! - [`store`]: entries with their versions, the question log, cached vectors;
//! - [`learning`]: masking personal data, grouping unanswered questions;
//! - [`eval`]: the evaluation harness (P@1, SR@k, MRR, MAP, nDCG@10, latency);
//! - [`api`] and [`pages`]: `/api/v1/faq/…`, the chat page, the widget, the staff pages.

pub mod analysis;
pub mod api;
pub mod engine;
pub mod entry;
pub mod eval;
pub mod index;
pub mod learning;
pub mod pages;
pub mod semantic;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026112301,
    description: "faq",
    sqlite: include_str!("../migrations/sqlite/2026112301_faq.sql"),
    postgres: include_str!("../migrations/postgres/2026112301_faq.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

/// The module's state.
#[derive(Clone, Debug)]
pub struct Faq {
    pub platform: Platform,
    pub engine: Arc<engine::Engine>,
}

impl Faq {
    /// The module for a platform; the dictionary and model are found by
    /// `config` or in the usual places.
    pub fn new(platform: Platform, config: engine::EngineConfig) -> Faq {
        let engine = engine::Engine::new(platform.db.clone(), config);
        Faq { platform, engine }
    }
}

impl FromRef<Faq> for Platform {
    fn from_ref(f: &Faq) -> Platform {
        f.platform.clone()
    }
}

/// The module's routes.
pub fn router(state: Faq) -> Router<Platform> {
    Router::new()
        .merge(pages::router())
        .merge(api::router())
        .with_state(state)
}
