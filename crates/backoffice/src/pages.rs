//! The staff pages under `/staff`:
//!
//! - [`inbox`]: the section's applications;
//! - [`application`]: an application, its history and the actions on it;
//! - [`approvals`]: the approvals waiting for the staff member;
//! - [`delegations`]: delegations (代決) to a stand-in;
//! - [`procedures`]: approval routes and exports;
//! - [`common`]: what several pages show the same way.

pub mod application;
pub mod approvals;
pub mod common;
pub mod delegations;
pub mod inbox;
pub mod procedures;

use axum::Router;

use crate::service::Backoffice;

pub fn router() -> Router<Backoffice> {
    Router::new()
        .merge(inbox::router())
        .merge(application::router())
        .merge(approvals::router())
        .merge(delegations::router())
        .merge(procedures::router())
}
