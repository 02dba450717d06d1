//! Static assets, compiled into the binary (closed networks: no CDN).

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::crypto;

/// An embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// The platform's own assets; module crates register theirs with [`router`].
pub const PLATFORM_ASSETS: &[Asset] = &[Asset {
    name: "madoguchi.css",
    content_type: "text/css; charset=utf-8",
    bytes: include_bytes!("../../assets/madoguchi.css"),
}];

fn css_version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let css = PLATFORM_ASSETS.first().map(|a| a.bytes).unwrap_or_default();
        crypto::sha256_hex(css).chars().take(12).collect()
    })
}

/// An asset's URL, with a version that changes when its content does.
pub fn versioned_href(asset: &Asset) -> String {
    let v: String = crypto::sha256_hex(asset.bytes).chars().take(12).collect();
    format!("/assets/{}?v={v}", asset.name)
}

/// The stylesheet's URL, with a version that changes when its content does.
pub fn css_href() -> String {
    format!("/assets/madoguchi.css?v={}", css_version())
}

/// Serves `assets` under `/assets/{name}`, cached by browsers for a day (a
/// versioned URL changes when the content does).
pub fn router<S: Clone + Send + Sync + 'static>(assets: &'static [&'static [Asset]]) -> Router<S> {
    Router::new().route(
        "/assets/{name}",
        get(move |Path(name): Path<String>| async move { serve(assets, &name) }),
    )
}

fn serve(assets: &[&[Asset]], name: &str) -> Response {
    match assets
        .iter()
        .flat_map(|a| a.iter())
        .find(|a| a.name == name)
    {
        Some(a) => {
            let mut res = a.bytes.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            res
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
