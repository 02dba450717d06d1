//! Reading the `Cookie` header and writing `Set-Cookie` values.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The cookies the site sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookie {
    Session,
    CsrfNonce,
    Lang,
    /// Binds a sign-in at an identity provider to the browser that started it.
    SignInFlow,
}

impl Cookie {
    /// The cookie's name: with the `__Host-` prefix over HTTPS (the browser
    /// then takes it only if Secure, for this host alone and path `/`), plain
    /// when the operator serves plain HTTP (`--insecure-http`).
    pub fn name(self, secure: bool) -> &'static str {
        match (self, secure) {
            (Cookie::Session, true) => "__Host-madoguchi_session",
            (Cookie::Session, false) => "madoguchi_session",
            (Cookie::CsrfNonce, true) => "__Host-madoguchi_nonce",
            (Cookie::CsrfNonce, false) => "madoguchi_nonce",
            (Cookie::Lang, true) => "__Host-madoguchi_lang",
            (Cookie::Lang, false) => "madoguchi_lang",
            (Cookie::SignInFlow, true) => "__Host-madoguchi_signin",
            (Cookie::SignInFlow, false) => "madoguchi_signin",
        }
    }
}

/// The value of `cookie`, if the request sent it.
pub fn get(headers: &HeaderMap, cookie: Cookie, secure: bool) -> Option<&str> {
    get_named(headers, cookie.name(secure))
}

fn get_named<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path /, Secure (and the
/// `__Host-` name) unless the site is served over plain HTTP.
/// `max_age` None makes a session cookie; `Some(0)` deletes it.
pub fn set(cookie: Cookie, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let name = cookie.name(secure);
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        s.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    s
}

pub fn delete(cookie: Cookie, secure: bool) -> String {
    set(cookie, "", Some(0), secure)
}
