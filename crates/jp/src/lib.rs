//! Japanese-domain input helpers for a local-government online-application
//! server.
//!
//! Residents type these values into web forms, usually on phones and often
//! with full-width characters, so every parser here first normalises the
//! input and then validates it strictly. All functions are pure and
//! panic-free on any input (empty, huge, emoji, combining marks, control
//! characters).
//!
//! # Modules
//!
//! - [`width`]: full-width ASCII → ASCII normalisation and digit extraction.
//! - [`kana`]: hiragana / half-width katakana → full-width katakana, and
//!   validation of katakana name readings (フリガナ).
//! - [`wareki`]: the Japanese era calendar (明治 to 令和): parsing of era and
//!   Western dates, and formatting in Japanese and English.
//! - [`fiscal`]: the Japanese fiscal year (April to March) and its labels
//!   (`令和7年度`, `FY2025`, `R7`).
//! - [`my_number`]: the Individual Number (マイナンバー / 個人番号) with its
//!   check digit; the value is masked in `Debug` output.
//! - [`corporate_number`]: the Corporate Number (法人番号) with its leading
//!   check digit; [`number`] holds what it shares with [`my_number`].
//! - [`lg_code`]: the local-government code (全国地方公共団体コード) with its
//!   check digit.
//! - [`postal`]: postal codes (郵便番号), stored as `514-8570`.
//! - [`phone`]: Japanese phone numbers.
//! - [`yen`]: yen amounts, including `万` / `億` and `円` / `¥` notation.
//!
//! # Errors and messages (module [`message`])
//!
//! Every error type implements [`std::error::Error`] (its `Display` is a
//! short English text meant for logs) and the [`Localized`] trait: `key()`
//! is a stable message key such as `"date.invalid_format"` and `args()` gives
//! the values for the `{name}` placeholders used in the messages. The
//! message catalogues are `locales/ja.toml` and `locales/en.toml` in this
//! crate, also embedded as [`CATALOGUE_JA`] and [`CATALOGUE_EN`]. Error
//! values never contain a My Number or other identifying number.

pub mod corporate_number;
pub mod fiscal;
pub mod kana;
pub mod lg_code;
pub mod message;
pub mod my_number;
pub mod number;
pub mod phone;
pub mod postal;
pub mod postal_directory;
pub mod wareki;
pub mod width;
pub mod yen;

/// The Japanese message catalogue (`locales/ja.toml`): flat quoted keys,
/// placeholders written as `{name}`.
pub const CATALOGUE_JA: &str = include_str!("../locales/ja.toml");

/// The English message catalogue (`locales/en.toml`), with the same keys as
/// [`CATALOGUE_JA`].
pub const CATALOGUE_EN: &str = include_str!("../locales/en.toml");

pub use message::Localized;

macro_rules! impl_localized {
    ($($ty:ty),* $(,)?) => {
        $(
            impl $crate::Localized for $ty {
                fn key(&self) -> &'static str {
                    <$ty>::key(self)
                }
                fn args(&self) -> Vec<(&'static str, String)> {
                    <$ty>::args(self)
                }
            }
        )*
    };
}

impl_localized!(
    kana::KanaError,
    wareki::DateError,
    my_number::NumberError,
    lg_code::LgCodeError,
    postal::PostalError,
    phone::PhoneError,
    yen::YenError,
);
