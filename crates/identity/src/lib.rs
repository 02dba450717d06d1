//! Sign-in with the My Number card and gBizID: an OpenID Connect relying
//! party with the profiles of the Digital Agency's デジタル認証アプリ
//! (`private_key_jwt`, ES256, the 基本4情報) and of gBizID
//! (`client_secret_basic`, RS256, account type and 法人番号 from userinfo).
//!
//! The crate has the three layers every module has (docs/ARCHITECTURE.md):
//!
//! - domain: [`model`] (providers, flows, linked identities, the ID token's
//!   claim checks) and [`jose`] (JWS signatures on `ring`);
//! - [`store`]: its SQL;
//! - [`service`]: starting and completing a sign-in (state, nonce and PKCE
//!   verifier in the database, so the callback may land on any node), the
//!   calls to the provider, linking and unlinking;
//! - web: [`pages`] and [`web`].

pub mod jose;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod web;

use axum::Router;
use axum::extract::FromRef;
use platform::Platform;

pub use service::Identity;

/// The module's migrations.
pub const MIGRATIONS: &[platform::db::MigrationSource] = &[platform::db::MigrationSource {
    version: 2026120805,
    description: "identity",
    sqlite: include_str!("../migrations/sqlite/2026120805_identity.sql"),
    postgres: include_str!("../migrations/postgres/2026120805_identity.sql"),
}];

/// The module's message catalogue.
pub const LOCALES: platform::i18n::LocaleSource = platform::i18n::LocaleSource {
    ja: include_str!("../locales/ja.toml"),
    en: include_str!("../locales/en.toml"),
};

impl FromRef<Identity> for Platform {
    fn from_ref(i: &Identity) -> Platform {
        i.platform.clone()
    }
}

/// The module's routes, ready to merge into the platform's router.
pub fn router(state: Identity) -> Router<Platform> {
    Router::new().merge(pages::router()).with_state(state)
}
