//! The catalogue's pages.
use axum::Router;
use crate::OpenData;
pub fn router() -> Router<OpenData> { Router::new() }
