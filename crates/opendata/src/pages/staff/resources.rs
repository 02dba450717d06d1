//! The resource form (`/staff/opendata/{id}/resources/new`): a file or a
//! link, with every problem of a standard dataset's file listed.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::web::{
    AppError, CsrfMultipart, CurrentStaff, Errors, FormData, PageCtx, encode_component, render,
    render_status,
};
use serde_json::{Map, json};

use super::access::{actor, opendata_staff, own_dataset, query};
use crate::model::{self, Dataset, TEMPLATE_EXTRA, Upload};
use crate::service::{self, OpenData, WriteError};
use crate::standard;

#[derive(Template)]
#[template(path = "opendata/staff_resource.html")]
struct ResourceFormPage {
    ctx: PageCtx,
    id: String,
    dataset_title: String,
    /// The standard dataset's name and key, when the dataset follows one.
    template: Option<(String, String)>,
    name: String,
    description: String,
    format: String,
    url: String,
    created: bool,
    errors: Errors,
    /// Every problem the file has (the summary lists them all).
    file_problems: usize,
}

fn resource_page(
    ctx: PageCtx,
    d: &Dataset,
    form: Option<&FormData>,
    created: bool,
    errors: Errors,
) -> ResourceFormPage {
    let tr = &ctx.tr;
    let template = d
        .extra(TEMPLATE_EXTRA)
        .and_then(|k| standard::template(k.trim()))
        .map(|t| (tr.pick(t.name_ja, t.name_en).to_string(), t.key.to_string()));
    let text = |k: &str| {
        form.map(|f| f.text(k).trim().to_string())
            .unwrap_or_default()
    };
    ResourceFormPage {
        id: d.id.clone(),
        dataset_title: d.title.clone(),
        template,
        name: text("name"),
        description: form
            .map(|f| f.text("description").to_string())
            .unwrap_or_default(),
        format: text("format"),
        url: text("url"),
        created,
        file_problems: errors.list().iter().filter(|e| e.field == "file").count(),
        errors,
        ctx,
    }
}

/// `GET /staff/opendata/{id}/resources/new`.
pub(crate) async fn resource_form(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let d = own_dataset(&state, &staff.staff, &id).await?;
    if d.state == "deleted" {
        return Err(AppError::NotFound);
    }
    let created = query(raw).get("created") == Some("1");
    render(&resource_page(ctx, &d, None, created, Errors::new()))
}

/// `POST /staff/opendata/{id}/resources/new`: a file or a link.
pub(crate) async fn resource_create(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    if d.state == "deleted" {
        return Err(AppError::NotFound);
    }
    let tr = &ctx.tr;
    let fields = &form.fields;
    let file = form.files.iter().find(|f| f.field == "file");
    let url = fields.text("url").trim().to_string();
    let mut errors = Errors::new();
    match (file, url.is_empty()) {
        (None, true) => errors.add("file", "missing", tr.t("opendata.error.resource_missing")),
        (Some(_), false) => errors.add("url", "both", tr.t("opendata.error.resource_both")),
        (None, false) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            errors.add("url", "url", tr.t("opendata.error.url"))
        }
        _ => {}
    }
    if let Some(f) = file
        && f.bytes.is_empty()
    {
        errors.add("file", "empty", tr.t("opendata.error.file_empty"));
    }
    let name = fields.text("name").trim().to_string();
    if name.chars().count() > 200 {
        errors.add("name", "name", tr.t("opendata.error.resource_name_long"));
    }
    if errors.is_empty() {
        let mut map = Map::new();
        let name = if name.is_empty() {
            file.map(|f| f.filename.clone())
                .unwrap_or_else(|| url.clone())
        } else {
            name
        };
        map.insert("name".into(), json!(name));
        map.insert("description".into(), json!(fields.text("description")));
        let format = fields.text("format").trim().to_uppercase();
        if !format.is_empty() {
            map.insert("format".into(), json!(format));
        }
        if !url.is_empty() {
            map.insert("url".into(), json!(url));
        } else if let Some(f) = file {
            map.insert("url".into(), json!(model::download_name(&f.filename)));
        }
        let upload = file.map(|f| Upload {
            filename: f.filename.clone(),
            bytes: f.bytes.to_vec(),
        });
        match service::resources::create(&state, &actor(&staff), &d.id, &map, upload, tr.lang())
            .await
        {
            Ok((dataset_id, _)) => {
                return Ok(Redirect::to(&format!(
                    "/staff/opendata?done=resource&dataset={}",
                    encode_component(&dataset_id)
                ))
                .into_response());
            }
            Err(WriteError::Invalid(problems)) => {
                for (field, messages) in problems.iter() {
                    let target = match field {
                        "upload" => "file",
                        "url" if file.is_some() => "file",
                        "url" => "url",
                        _ => "name",
                    };
                    for m in messages {
                        let m = if m == "File upload too large" {
                            tr.t("opendata.error.file_too_large").to_string()
                        } else {
                            m.clone()
                        };
                        errors.add(target, field, m);
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &resource_page(ctx, &d, Some(fields), false, errors),
    )
}
