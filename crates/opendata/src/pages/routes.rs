//! The routes of the catalogue's pages and the staff's pages.

use axum::Router;
use axum::routing::{get, post};

use super::staff;
use super::{dataset, owners, search, templates};
use crate::service::OpenData;

/// The pages' routes.
pub fn router() -> Router<OpenData> {
    Router::new()
        .route("/dataset", get(search::search))
        .route("/dataset/templates", get(templates::templates))
        .route("/dataset/templates/{file}", get(templates::template_csv))
        .route("/dataset/{id}", get(dataset::dataset))
        .route(
            "/dataset/{id}/resource/{resource_id}",
            get(dataset::resource),
        )
        .route("/organization", get(owners::organizations))
        .route("/organization/{name}", get(owners::organization))
        .route("/group", get(owners::groups))
        .route("/group/{name}", get(owners::group))
        .route("/staff/opendata", get(staff::list))
        .route(
            "/staff/opendata/new",
            get(staff::new_form).post(staff::create),
        )
        .route(
            "/staff/opendata/tokens",
            get(staff::tokens).post(staff::tokens_post),
        )
        .route(
            "/staff/opendata/paper-counts",
            get(staff::paper_counts).post(staff::paper_counts_post),
        )
        .route(
            "/staff/opendata/{id}/edit",
            get(staff::edit_form).post(staff::update),
        )
        .route(
            "/staff/opendata/{id}/resources/new",
            get(staff::resource_form).post(staff::resource_create),
        )
        .route(
            "/staff/opendata/{id}/delete",
            get(staff::delete_confirm).post(staff::delete),
        )
        .route("/staff/opendata/{id}/restore", post(staff::restore))
}
