//! The catalogue's pages: searching and reading datasets (with a preview of
//! CSV files), the standard datasets' templates, publishers and groups; and
//! the staff's pages: their datasets, the dataset and resource forms, API
//! tokens and the paper application counts. Every page works without
//! JavaScript; Japanese first, English through `?lang=en`.
//!
//! Web layer: a page reads its request, calls the catalogue's service (or
//! reads its in-memory catalogue) and renders a template.
//! - `routes`: the routes;
//! - `format` and `listing`: what the pages share (dates, sizes, excerpts,
//!   result rows, page navigation, who may see private datasets);
//! - `search`, `dataset`, `templates` and `owners`: the public pages;
//! - `staff`: the staff's pages.

mod dataset;
mod format;
mod listing;
mod owners;
mod routes;
mod search;
mod staff;
mod templates;

pub use routes::router;
