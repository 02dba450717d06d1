//! What the identity pages share at the HTTP edge: the browser-binding
//! cookie and the mapping of domain errors.

use axum::http::HeaderMap;
use platform::Platform;
use platform::web::cookies::{self, Cookie};

use crate::model::Provider;

/// The browser's sign-in binding, if it sent one.
pub fn browser(platform: &Platform, headers: &HeaderMap) -> Option<String> {
    cookies::get(
        headers,
        Cookie::SignInFlow,
        platform.config.secure_cookies(),
    )
    .filter(|v| !v.is_empty() && v.len() <= 64)
    .map(str::to_string)
}

/// The provider named in a path, if it is one.
pub fn provider(segment: &str) -> Option<Provider> {
    Provider::parse(segment)
}
