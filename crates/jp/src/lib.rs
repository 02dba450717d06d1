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
//!   check digit.
//! - [`lg_code`]: the local-government code (全国地方公共団体コード) with its
//!   check digit.
//! - [`postal`]: postal codes (郵便番号), stored as `514-8570`.
//! - [`phone`]: Japanese phone numbers.
//! - [`yen`]: yen amounts, including `万` / `億` and `円` / `¥` notation.
//!
//! # Errors and messages
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
pub mod my_number;
pub mod phone;
pub mod postal;
pub mod wareki;
pub mod width;
pub mod yen;

/// The Japanese message catalogue (`locales/ja.toml`): flat quoted keys,
/// placeholders written as `{name}`.
pub const CATALOGUE_JA: &str = include_str!("../locales/ja.toml");

/// The English message catalogue (`locales/en.toml`), with the same keys as
/// [`CATALOGUE_JA`].
pub const CATALOGUE_EN: &str = include_str!("../locales/en.toml");

/// An error that can be shown to a resident through the message catalogues.
///
/// Every error type in this crate also has inherent `key()` and `args()`
/// methods with the same meaning; this trait lets callers handle them
/// generically.
pub trait Localized {
    /// The stable message key, e.g. `"date.invalid_format"`.
    fn key(&self) -> &'static str;
    /// The named placeholder values used in the message for [`Self::key`].
    fn args(&self) -> Vec<(&'static str, String)>;
}

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

/// Shows a character for a message: printable characters as themselves,
/// invisible ones (controls, whitespace, combining marks, format
/// characters) as `U+XXXX`.
pub(crate) fn display_char(c: char) -> String {
    let invisible = c.is_control()
        || c.is_whitespace()
        || matches!(c as u32,
            0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF
            | 0x3099 | 0x309A | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF
            | 0xE0000..=0xE007F | 0xE0100..=0xE01EF);
    if invisible {
        format!("U+{:04X}", c as u32)
    } else {
        c.to_string()
    }
}
