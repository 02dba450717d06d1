//! A dataset's page (or its DCAT, `{id}.ttl` …) and a resource's page,
//! with a preview of CSV files.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::web::{AppError, PageCtx, RequestContext, encode_component, render};

use super::format::{download_path, human_size, jst, paragraphs};
use super::listing::current;
use crate::model::{self, Resource, TEMPLATE_EXTRA};
use crate::service::{self, Entry, OpenData};
use crate::web::{dataset_dcat, viewer_organisation};
use crate::{entities, standard};

/// Rows of a CSV file shown in its preview.
pub const PREVIEW_ROWS: usize = 100;
/// Files larger than this are not previewed.
const PREVIEW_MAX_BYTES: usize = 30 * 1024 * 1024;

struct Link {
    label: String,
    href: String,
}

struct ResourceRow {
    name: String,
    href: String,
    format: String,
    size: String,
    description: Vec<Vec<String>>,
    download: Option<String>,
    external: Option<String>,
}

struct DcatLink {
    label: &'static str,
    href: String,
    media_type: &'static str,
}

struct Ngsi {
    template: String,
    url: String,
    entity_type: String,
    tenant: String,
    service_path: String,
}

#[derive(Template)]
#[template(path = "opendata/dataset.html")]
struct DatasetPage {
    ctx: PageCtx,
    name: String,
    title: String,
    notes: Vec<Vec<String>>,
    publisher: Option<Link>,
    licence: Option<Link>,
    licence_id: String,
    tags: Vec<Link>,
    groups: Vec<Link>,
    extras: Vec<(String, String)>,
    created: String,
    modified: String,
    private: bool,
    resources: Vec<ResourceRow>,
    dcat: Vec<DcatLink>,
    api_url: String,
    ngsi: Option<Ngsi>,
}

const DCAT_FORMATS: &[(&str, &str, &str)] = &[
    ("ttl", "Turtle", "text/turtle"),
    ("rdf", "RDF/XML", "application/rdf+xml"),
    ("jsonld", "JSON-LD", "application/ld+json"),
    ("n3", "N3", "text/n3"),
];

/// An active dataset the visitor may see.
async fn visible(
    state: &OpenData,
    headers: &HeaderMap,
    req: &RequestContext,
    id: &str,
) -> Result<std::sync::Arc<Entry>, AppError> {
    current(state).await?;
    let entry = state.catalogue.get(id).ok_or(AppError::NotFound)?;
    if entry.dataset.private {
        let viewer = viewer_organisation(state, headers, Some(req)).await;
        if viewer != Some(entry.organisation_id) {
            return Err(AppError::NotFound);
        }
    }
    Ok(entry)
}

fn resource_row(d_name: &str, r: &Resource) -> ResourceRow {
    ResourceRow {
        name: if r.name.trim().is_empty() {
            model::download_name(&r.url)
        } else {
            r.name.clone()
        },
        href: format!("/dataset/{d_name}/resource/{}", r.id),
        format: r.format.trim().to_uppercase(),
        size: r.size.map(human_size).unwrap_or_default(),
        description: paragraphs(&r.description),
        download: r.is_stored_upload().then(|| download_path(r)),
        external: (r.url_type != "upload" && !r.url.trim().is_empty()).then(|| r.url.clone()),
    }
}

/// `GET /dataset/{id}`: a dataset's page, or its DCAT (`{id}.ttl` …).
pub(super) async fn dataset(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    for ext in ["ttl", "rdf", "xml", "jsonld", "n3"] {
        if let Some(stem) = id.strip_suffix(&format!(".{ext}")) {
            let viewer = viewer_organisation(&state, &headers, Some(&req)).await;
            return dataset_dcat(&state, stem, ext, viewer)
                .await
                .ok_or(AppError::NotFound);
        }
    }
    let entry = visible(&state, &headers, &req, &id).await?;
    let d = &entry.dataset;
    let tr = &ctx.tr;
    let publisher = state.catalogue.organization(&d.owner_org).map(|o| Link {
        label: o.title.clone(),
        href: format!("/organization/{}", o.name),
    });
    let licence = model::licence(&d.license_id).map(|l| Link {
        label: tr.pick(l.title, l.title_en).to_string(),
        href: l.url.to_string(),
    });
    let tags = d
        .tags
        .iter()
        .map(|t| Link {
            label: t.clone(),
            href: format!("/dataset?tags={}", encode_component(t)),
        })
        .collect();
    let groups = d
        .group_ids
        .iter()
        .filter_map(|g| state.catalogue.group(g))
        .map(|g| Link {
            label: g.title.clone(),
            href: format!("/group/{}", g.name),
        })
        .collect();
    let ngsi = d
        .extra(TEMPLATE_EXTRA)
        .and_then(|k| standard::template(k.trim()))
        .map(|t| Ngsi {
            template: tr.pick(t.name_ja, t.name_en).to_string(),
            url: format!("/v2/entities?type={}", t.entity_type),
            entity_type: t.entity_type.to_string(),
            tenant: service::entities::tenant_of(&state, d),
            service_path: entities::service_path(&d.name),
        });
    let page = DatasetPage {
        name: d.name.clone(),
        title: d.title.clone(),
        notes: paragraphs(&d.notes),
        publisher,
        licence,
        licence_id: d.license_id.clone(),
        tags,
        groups,
        extras: d.extras.clone(),
        created: jst(&d.created_at, tr, true),
        modified: jst(&d.modified_at, tr, true),
        private: d.private,
        resources: d
            .resources
            .iter()
            .map(|r| resource_row(&d.name, r))
            .collect(),
        dcat: DCAT_FORMATS
            .iter()
            .map(|(ext, label, media_type)| DcatLink {
                label,
                href: format!("/dataset/{}.{ext}", d.name),
                media_type,
            })
            .collect(),
        api_url: format!(
            "/api/3/action/package_show?id={}",
            encode_component(&d.name)
        ),
        ngsi,
        ctx,
    };
    render(&page)
}

// ---------------------------------------------------------------- a resource

pub(super) struct Preview {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    total: usize,
}

#[derive(Template)]
#[template(path = "opendata/resource.html")]
struct ResourcePage {
    ctx: PageCtx,
    dataset_name: String,
    dataset_title: String,
    row: ResourceRow,
    mimetype: String,
    modified: String,
    preview: Option<Preview>,
    preview_note: Option<String>,
}

/// The first rows of a CSV file (UTF-8 with or without BOM, or CP932).
pub(super) fn csv_preview(bytes: &[u8], limit: usize) -> Option<Preview> {
    let text = platform::import::decode(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut total = 0;
    for record in reader.records() {
        let record = record.ok()?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if header.is_none() {
            header = Some(cells);
            continue;
        }
        total += 1;
        if rows.len() < limit {
            rows.push(cells);
        }
    }
    let mut header = header?;
    let width = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(header.len());
    for (i, h) in header.iter_mut().enumerate() {
        if h.is_empty() {
            *h = format!("#{}", i + 1);
        }
    }
    while header.len() < width {
        header.push(format!("#{}", header.len() + 1));
    }
    for r in &mut rows {
        r.resize(width, String::new());
    }
    Some(Preview {
        header: header.iter().map(|c| cell(c)).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| cell(c)).collect())
            .collect(),
        total,
    })
}

/// The characters of a cell shown in a preview (the rest is in the file).
const PREVIEW_CELL_CHARS: usize = 120;

/// A cell as the preview shows it: on one line, long ones cut.
fn cell(text: &str) -> String {
    let one_line = text.replace(['\r', '\n'], " ");
    if one_line.chars().count() <= PREVIEW_CELL_CHARS {
        one_line
    } else {
        let mut s: String = one_line.chars().take(PREVIEW_CELL_CHARS).collect();
        s.push('…');
        s
    }
}

/// `GET /dataset/{id}/resource/{rid}`: a resource, with a preview of CSV files.
pub(super) async fn resource(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path((id, resource_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let entry = visible(&state, &headers, &req, &id).await?;
    let d = &entry.dataset;
    let r = d
        .resources
        .iter()
        .find(|r| r.id == resource_id)
        .ok_or(AppError::NotFound)?;
    let tr = &ctx.tr;
    let is_csv =
        r.format.eq_ignore_ascii_case("csv") || r.mimetype.eq_ignore_ascii_case("text/csv");
    let mut preview = None;
    let mut preview_note = None;
    if is_csv && r.is_stored_upload() {
        match service::resources::stored_file(&state, r).await {
            Ok(Some(bytes)) if bytes.len() > PREVIEW_MAX_BYTES => {
                preview_note = Some(tr.t("opendata.resource.too_large").to_string());
            }
            Ok(Some(bytes)) => match csv_preview(&bytes, PREVIEW_ROWS) {
                Some(p) => preview = Some(p),
                None => preview_note = Some(tr.t("opendata.resource.unreadable").to_string()),
            },
            Ok(None) => preview_note = Some(tr.t("opendata.resource.missing").to_string()),
            Err(e) => return Err(e.into()),
        }
    }
    let page = ResourcePage {
        dataset_name: d.name.clone(),
        dataset_title: d.title.clone(),
        row: resource_row(&d.name, r),
        mimetype: r.mimetype.clone(),
        modified: jst(&r.modified_at, tr, true),
        preview,
        preview_note,
        ctx,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_read_cp932_and_pad_rows() {
        let (bytes, _, _) =
            encoding_rs::SHIFT_JIS.encode("名称,所在地\r\n中央公園,津市\r\n北公園\r\n");
        let p = csv_preview(&bytes, 1).unwrap();
        assert_eq!(p.header, vec!["名称", "所在地"]);
        assert_eq!(
            p.rows,
            vec![vec!["中央公園".to_string(), "津市".to_string()]]
        );
        assert_eq!(p.total, 2);
        let p = csv_preview("\u{feff}a,,c\n1,2,3,4\n".as_bytes(), 10).unwrap();
        assert_eq!(p.header, vec!["a", "#2", "c", "#4"]);
        assert!(csv_preview(b"", 10).is_none());
        let long = format!("a\n\"{}\"\n", "x\n".repeat(200));
        let p = csv_preview(long.as_bytes(), 10).unwrap();
        assert!(p.rows[0][0].ends_with('…') && !p.rows[0][0].contains('\n'));
    }
}
