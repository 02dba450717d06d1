//! The resident's pages: the home page, the catalogue, a procedure, the
//! question pages of an application, checking and sending it, the receipt,
//! the list of applications, an application's page, withdrawing. Every page
//! works without JavaScript.
//!
//! - [`catalogue`]: finding procedures (home, search results, a procedure);
//! - [`application`]: applying and the resident's applications;
//! - [`fields`]: the HTML fields of a question page and the way back from
//!   submitted fields to answers;
//! - [`profile`]: the resident's own details for prefilling forms.

pub mod application;
pub mod catalogue;
pub mod fields;
pub mod profile;

use axum::Router;

use crate::service::Procedures;

pub fn router() -> Router<Procedures> {
    Router::new()
        .merge(catalogue::router())
        .merge(application::router())
        .merge(profile::router())
}
