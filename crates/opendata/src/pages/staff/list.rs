//! `GET /staff/opendata`: the local government's datasets. Active ones
//! (public and private) come from the catalogue; deleted and draft ones
//! from the service, listed apart so they can be restored.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use platform::web::{AppError, CurrentStaff, PageCtx, render};

use super::access::{opendata_staff, query};
use crate::pages::format::{jst, jst_iso};
use crate::service::{self, OpenData};

struct Row {
    id: String,
    name: String,
    title: String,
    publisher: String,
    status: String,
    status_class: &'static str,
    modified: String,
    modified_iso: String,
    resources: usize,
    /// Published by the platform itself (kept current automatically).
    automatic: bool,
    deleted: bool,
}

#[derive(Template)]
#[template(path = "opendata/staff_list.html")]
struct ListPage {
    ctx: PageCtx,
    nav: &'static str,
    rows: Vec<Row>,
    others: Vec<Row>,
    notice: Option<String>,
    notice_link: Option<(String, String)>,
}

/// `GET /staff/opendata`: the local government's datasets. Active ones (public
/// and private) come from the catalogue; deleted and draft ones from the
/// database, listed apart so they can be restored.
pub(crate) async fn list(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    state.catalogue.current().await?;
    let tr = &ctx.tr;
    let publisher_title = |id: &str| {
        state
            .catalogue
            .organization(id)
            .map(|o| o.title)
            .unwrap_or_default()
    };
    let mut entries: Vec<_> = state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| e.organisation_id == staff.organisation_id)
        .collect();
    entries.sort_by(|a, b| b.dataset.modified_at.cmp(&a.dataset.modified_at));
    let rows = entries
        .iter()
        .map(|e| {
            let d = &e.dataset;
            Row {
                id: d.id.clone(),
                name: d.name.clone(),
                title: d.title.clone(),
                publisher: publisher_title(&d.owner_org),
                status: tr
                    .t(if d.private {
                        "opendata.status.private"
                    } else {
                        "opendata.status.public"
                    })
                    .to_string(),
                status_class: if d.private {
                    "tag--draft"
                } else {
                    "tag--completed"
                },
                modified: jst(&d.modified_at, tr, true),
                modified_iso: jst_iso(&d.modified_at),
                resources: d.resources.len(),
                automatic: d.publisher_key.is_some(),
                deleted: false,
            }
        })
        .collect();
    let hidden = service::datasets::hidden_of(&state, staff.organisation_id).await?;
    let others = hidden
        .into_iter()
        .map(|h| Row {
            publisher: publisher_title(&h.owner_org),
            status: tr
                .t(if h.state == "draft" {
                    "opendata.status.draft"
                } else {
                    "opendata.status.deleted"
                })
                .to_string(),
            status_class: if h.state == "draft" {
                "tag--draft"
            } else {
                "tag--withdrawn"
            },
            modified: jst(&h.modified_at, tr, true),
            modified_iso: jst_iso(&h.modified_at),
            resources: 0,
            automatic: false,
            deleted: h.state == "deleted",
            id: h.id,
            name: h.name,
            title: h.title,
        })
        .collect();
    let q = query(raw);
    let notice = match q.get("done") {
        Some("saved") => Some("opendata.staff.saved"),
        Some("deleted") => Some("opendata.staff.deleted"),
        Some("restored") => Some("opendata.staff.restored"),
        Some("resource") => Some("opendata.staff.resource_added"),
        _ => None,
    }
    .map(|k| tr.t(k).to_string());
    let notice_link = q
        .get("dataset")
        .and_then(|id| state.catalogue.get(id))
        .filter(|e| e.organisation_id == staff.organisation_id)
        .map(|e| {
            (
                format!("/dataset/{}", e.dataset.name),
                e.dataset.title.clone(),
            )
        });
    render(&ListPage {
        ctx,
        nav: "list",
        rows,
        others,
        notice,
        notice_link,
    })
}
