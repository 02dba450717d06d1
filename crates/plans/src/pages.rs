//! The plans' HTML pages: the public dashboard ([`public`]: plan → projects
//! → KPIs, the procedure inventory) and the DX office's pages ([`staff`]:
//! actuals with their source, target revisions with their reason, grades,
//! roadmap entries, inventory import, plan files); what both show of a KPI is
//! in [`blocks`].

mod blocks;
mod public;
mod staff;

use axum::Router;

use crate::service::Plans;

/// The pages' routes.
pub fn router() -> Router<Plans> {
    Router::new().merge(public::router()).merge(staff::router())
}
