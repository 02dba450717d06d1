//! Deleting a dataset (after a confirmation) and restoring a deleted one.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use platform::web::{AppError, CsrfForm, CurrentStaff, PageCtx, encode_component, render};
use serde_json::{Map, json};

use super::access::{actor, opendata_staff, own_dataset};
use crate::service::{self, OpenData};

#[derive(Template)]
#[template(path = "opendata/staff_delete.html")]
struct DeletePage {
    ctx: PageCtx,
    id: String,
    title: String,
    name: String,
    resources: usize,
}

/// `GET /staff/opendata/{id}/delete`: asks to confirm.
pub(crate) async fn delete_confirm(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let d = own_dataset(&state, &staff.staff, &id).await?;
    if d.state == "deleted" {
        return Ok(Redirect::to("/staff/opendata").into_response());
    }
    render(&DeletePage {
        ctx,
        id: d.id,
        title: d.title,
        name: d.name,
        resources: d.resources.len(),
    })
}

/// `POST /staff/opendata/{id}/delete`: marks the dataset deleted (it can be restored).
pub(crate) async fn delete(
    State(state): State<OpenData>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    service::datasets::delete(&state, &actor(&staff), &d.id).await?;
    Ok(Redirect::to("/staff/opendata?done=deleted").into_response())
}

/// `POST /staff/opendata/{id}/restore`: a deleted dataset back in the catalogue.
pub(crate) async fn restore(
    State(state): State<OpenData>,
    _ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    let mut map = Map::new();
    map.insert("state".into(), json!("active"));
    service::datasets::update(&state, &actor(&staff), &d.id, &map, true).await?;
    Ok(Redirect::to(&format!(
        "/staff/opendata?done=restored&dataset={}",
        encode_component(&d.id)
    ))
    .into_response())
}
