//! The FAQ chatbot: answers residents at any hour from the organisations' FAQ
//! entries, says when it is not sure (and offers the nearest entries and the
//! section to call instead), and learns from what it could not answer.
//!
//! Domain (types and pure logic, no I/O beyond loading the dictionary and model):
//! - [`entry`]: the entry and its CSV format (import and export);
//! - [`model`]: entries as stored, the question log, coverage, answers;
//! - [`analysis`]: Japanese morphological analysis (IPADIC via vibrato), bigrams, readings;
//! - [`index`]: BM25 over content words, bigrams and readings; English; semantic fusion;
//! - [`semantic`]: the optional multilingual-e5-small encoder;
//! - [`install`]: where the dictionary and the model are installed;
//! - [`learning`]: masking personal data, grouping unanswered questions;
//! - [`eval`]: the evaluation harness (P@1, SR@k, MRR, MAP, nDCG@10, latency).
//!
//! Store, service and web:
//! - [`store`]: entries with their versions, the question log, cached vectors (SQL only);
//! - [`service`]: the state ([`Faq`]), the engine that keeps the index current, and the
//!   use cases (asking, feedback, coverage, the staff's entries, import and export,
//!   unanswered questions);
//! - [`pages`] and [`api`]: the chat page, the widget, the staff pages, and
//!   `/api/v1/faq/…`; [`web`]: what both share at the HTTP edge.

pub mod analysis;
pub mod api;
pub mod entry;
pub mod eval;
pub mod index;
pub mod install;
pub mod learning;
pub mod model;
pub mod pages;
pub mod semantic;
pub mod service;
pub mod store;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

pub use service::Faq;

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
