//! The public pages: search, a dataset, a resource (with a CSV preview), the
//! standard datasets' templates, publishers and groups.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use platform::i18n::Tr;
use platform::web::{AppError, PageCtx, RequestContext, render, render_status};
use platform::web::{FormData, encode_component, parse_urlencoded};

use super::{PAGE_SIZE, excerpt, jst, jst_iso, paragraphs, quoted};
use crate::OpenData;
use crate::catalogue::Entry;
use crate::model::{self, Resource};
use crate::search::{SearchError, SearchRequest};
use crate::service::TEMPLATE_EXTRA;
use crate::standard::{self, ColumnKind};

/// The facets of the search page: the field and its label's key.
const FACETS: &[(&str, &str)] = &[
    ("organization", "opendata.facet.organization"),
    ("groups", "opendata.facet.groups"),
    ("tags", "opendata.facet.tags"),
    ("res_format", "opendata.facet.res_format"),
    ("license_id", "opendata.facet.license_id"),
];

/// The sort orders offered: the parameter, its label's key and CKAN's sort string.
const SORTS: &[(&str, &str, &str)] = &[
    (
        "relevance",
        "opendata.sort.relevance",
        "score desc, metadata_modified desc",
    ),
    (
        "modified",
        "opendata.sort.modified",
        "metadata_modified desc",
    ),
    ("name", "opendata.sort.name", "title_string asc"),
];

/// The longest query kept, in characters.
const MAX_Q: usize = 200;
/// The deepest page offered.
const MAX_PAGE: usize = 500;
/// Rows of a CSV file shown in its preview.
pub const PREVIEW_ROWS: usize = 100;
/// Files larger than this are not previewed.
const PREVIEW_MAX_BYTES: usize = 30 * 1024 * 1024;

/// One dataset in a list of results.
pub(crate) struct ResultRow {
    pub href: String,
    pub title: String,
    pub publisher: String,
    pub formats: Vec<String>,
    pub modified: String,
    pub modified_iso: String,
    pub excerpt: String,
    pub private: bool,
}

pub(crate) fn result_row(state: &OpenData, e: &Entry, tr: &Tr) -> ResultRow {
    let d = &e.dataset;
    let mut formats: Vec<String> = Vec::new();
    for r in &d.resources {
        let f = r.format.trim().to_uppercase();
        if !f.is_empty() && !formats.contains(&f) {
            formats.push(f);
        }
    }
    ResultRow {
        href: format!("/dataset/{}", d.name),
        title: d.title.clone(),
        publisher: state
            .catalogue
            .organization(&d.owner_org)
            .map(|o| o.title)
            .unwrap_or_default(),
        formats,
        modified: jst(&d.modified_at, tr, false),
        modified_iso: jst_iso(&d.modified_at),
        excerpt: excerpt(&d.notes, 100),
        private: d.private,
    }
}

/// A link of the page navigation.
pub(crate) struct PageLink {
    pub number: usize,
    pub href: String,
    pub current: bool,
    /// A gap (…) before this page.
    pub gap_before: bool,
}

/// The page navigation of a list.
pub(crate) struct Paging {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

pub(crate) fn paging(count: usize, page: usize, href: impl Fn(usize) -> String) -> Option<Paging> {
    let pages = count.div_ceil(PAGE_SIZE).clamp(1, MAX_PAGE);
    if pages <= 1 {
        return None;
    }
    let page = page.min(pages);
    let mut numbers: Vec<usize> = vec![1, pages];
    for n in page.saturating_sub(2)..=page + 2 {
        if (1..=pages).contains(&n) {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    let mut links = Vec::new();
    let mut last = 0;
    for n in numbers {
        links.push(PageLink {
            number: n,
            href: href(n),
            current: n == page,
            gap_before: last != 0 && n > last + 1,
        });
        last = n;
    }
    Some(Paging {
        prev: (page > 1).then(|| href(page - 1)),
        next: (page < pages).then(|| href(page + 1)),
        links,
    })
}

fn page_param(form: &FormData) -> usize {
    form.get("page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .unwrap_or(1)
}

/// The publisher ids whose private datasets the visitor may see.
async fn private_orgs(
    state: &OpenData,
    headers: &HeaderMap,
    req: &RequestContext,
) -> (Option<i64>, Vec<String>) {
    let viewer = crate::web::viewer_organisation(state, headers, Some(req)).await;
    let ids = match viewer {
        Some(org) => state
            .catalogue
            .organizations()
            .into_iter()
            .filter(|o| o.organisation_id == org)
            .map(|o| o.id)
            .collect(),
        None => Vec::new(),
    };
    (viewer, ids)
}

/// A search's message for people, from the engine's error.
fn search_problem(e: &SearchError, tr: &Tr) -> String {
    match e {
        SearchError::InvalidQuery(_) => tr.t("opendata.search.invalid_query").to_string(),
        SearchError::UnknownSortField(_) | SearchError::InvalidSort(_) => {
            tr.t("opendata.search.invalid_sort").to_string()
        }
    }
}

async fn current(state: &OpenData) -> Result<(), AppError> {
    state.catalogue.current().await?;
    Ok(())
}

// ---------------------------------------------------------------- search

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct FacetItem {
    id: String,
    value: String,
    label: String,
    count: usize,
    checked: bool,
}

struct FacetBlock {
    field: String,
    label: String,
    items: Vec<FacetItem>,
}

struct Selected {
    label: String,
    remove_href: String,
}

#[derive(Template)]
#[template(path = "opendata/search.html")]
struct SearchPage {
    ctx: PageCtx,
    q: String,
    sorts: Vec<Choice>,
    sort: String,
    count: usize,
    results: Vec<ResultRow>,
    facets: Vec<FacetBlock>,
    selected: Vec<Selected>,
    /// The selected facet values, kept by the search form.
    hidden: Vec<(String, String)>,
    paging: Option<Paging>,
    error: Option<String>,
    page: usize,
}

fn search_href(q: &str, sort: &str, selected: &[(&str, String)], page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        s.append_pair("q", q);
    }
    for (f, v) in selected {
        s.append_pair(f, v);
    }
    if sort != "relevance" {
        s.append_pair("sort", sort);
    }
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    let qs = s.finish();
    if qs.is_empty() {
        "/dataset".into()
    } else {
        format!("/dataset?{qs}")
    }
}

fn facet_label(state: &OpenData, field: &str, value: &str, tr: &Tr) -> String {
    match field {
        "organization" => state
            .catalogue
            .organization(value)
            .map(|o| o.title)
            .unwrap_or_else(|| value.to_string()),
        "groups" => state
            .catalogue
            .group(value)
            .map(|g| g.title)
            .unwrap_or_else(|| value.to_string()),
        "license_id" => model::licence(value)
            .map(|l| tr.pick(l.title, l.title_en).to_string())
            .unwrap_or_else(|| value.to_string()),
        _ => value.to_string(),
    }
}

/// `GET /dataset`: search with facets, sort and pages.
pub(crate) async fn search(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    current(&state).await?;
    let form = parse_urlencoded(raw.unwrap_or_default().as_bytes());
    let q: String = form.text("q").trim().chars().take(MAX_Q).collect();
    let sort = form
        .get("sort")
        .and_then(|s| SORTS.iter().find(|(k, _, _)| *k == s))
        .map(|(k, _, _)| *k)
        .unwrap_or("relevance");
    let page = page_param(&form);
    let mut selected: Vec<(&str, String)> = Vec::new();
    for (field, _) in FACETS {
        for v in form.get_all(field).into_iter().take(20) {
            let v: String = v.trim().chars().take(200).collect();
            if !v.is_empty() && !selected.iter().any(|(f, x)| f == field && *x == v) {
                selected.push((field, v));
            }
        }
    }
    let (_, private) = private_orgs(&state, &headers, &req).await;
    let request = SearchRequest {
        q: (!q.is_empty()).then(|| q.clone()),
        fq: selected
            .iter()
            .map(|(f, v)| format!("{f}:{}", quoted(v)))
            .collect(),
        sort: SORTS
            .iter()
            .find(|(k, _, _)| *k == sort)
            .map(|(_, _, s)| s.to_string()),
        rows: PAGE_SIZE,
        start: (page - 1) * PAGE_SIZE,
        facet_fields: FACETS.iter().map(|(f, _)| f.to_string()).collect(),
        facet_limit: 30,
        facet_mincount: 1,
        private_orgs: private,
    };
    let tr = &ctx.tr;
    let (count, results, facets, error) = match state.catalogue.search(&request) {
        Ok((count, entries, facets)) => (
            count,
            entries.iter().map(|e| result_row(&state, e, tr)).collect(),
            facets,
            None,
        ),
        Err(e) => (0, Vec::new(), Vec::new(), Some(search_problem(&e, tr))),
    };
    let mut blocks = Vec::new();
    for (field, label) in FACETS {
        let mut items: Vec<FacetItem> = facets
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, values)| {
                values
                    .iter()
                    .map(|(v, n)| FacetItem {
                        id: String::new(),
                        value: v.clone(),
                        label: facet_label(&state, field, v, tr),
                        count: *n,
                        checked: selected.iter().any(|(f, x)| f == field && x == v),
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A chosen value stays in the list (to be unticked) even when nothing matches.
        for (f, v) in &selected {
            if f == field && !items.iter().any(|i| &i.value == v) {
                items.insert(
                    0,
                    FacetItem {
                        id: String::new(),
                        value: v.clone(),
                        label: facet_label(&state, field, v, tr),
                        count: 0,
                        checked: true,
                    },
                );
            }
        }
        for (i, item) in items.iter_mut().enumerate() {
            item.id = format!("f-{field}-{i}");
        }
        if !items.is_empty() {
            blocks.push(FacetBlock {
                field: field.to_string(),
                label: tr.t(label).to_string(),
                items,
            });
        }
    }
    let chosen: Vec<Selected> = selected
        .iter()
        .enumerate()
        .map(|(i, (f, v))| {
            let label_key = FACETS
                .iter()
                .find(|(x, _)| x == f)
                .map(|(_, l)| *l)
                .unwrap_or("");
            let rest: Vec<(&str, String)> = selected
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, x)| x.clone())
                .collect();
            Selected {
                label: format!("{}: {}", tr.t(label_key), facet_label(&state, f, v, tr)),
                remove_href: search_href(&q, sort, &rest, 1),
            }
        })
        .collect();
    let paging = paging(count, page, |n| search_href(&q, sort, &selected, n));
    let sorts = SORTS
        .iter()
        .map(|(k, label, _)| Choice {
            value: k.to_string(),
            label: tr.t(label).to_string(),
            selected: *k == sort,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page_out = SearchPage {
        hidden: selected
            .iter()
            .map(|(f, v)| (f.to_string(), v.clone()))
            .collect(),
        q,
        sorts,
        sort: sort.to_string(),
        count,
        results,
        facets: blocks,
        selected: chosen,
        paging,
        error,
        page,
        ctx,
    };
    render_status(status, &page_out)
}

// ---------------------------------------------------------------- a dataset

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
        let viewer = crate::web::viewer_organisation(state, headers, Some(req)).await;
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
        size: r.size.map(super::human_size).unwrap_or_default(),
        description: paragraphs(&r.description),
        download: r.is_stored_upload().then(|| super::download_path(r)),
        external: (r.url_type != "upload" && !r.url.trim().is_empty()).then(|| r.url.clone()),
    }
}

/// `GET /dataset/{id}`: a dataset's page, or its DCAT (`{id}.ttl` …).
pub(crate) async fn dataset(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    for ext in ["ttl", "rdf", "xml", "jsonld", "n3"] {
        if let Some(stem) = id.strip_suffix(&format!(".{ext}")) {
            let viewer = crate::web::viewer_organisation(&state, &headers, Some(&req)).await;
            return crate::web::dataset_dcat(&state, stem, ext, viewer)
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
            tenant: crate::ngsi_tenant(&state, d),
            service_path: crate::ngsi_service_path(d),
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

pub(crate) struct Preview {
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
pub(crate) fn csv_preview(bytes: &[u8], limit: usize) -> Option<Preview> {
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
pub(crate) async fn resource(
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
    if is_csv && let Some(key) = r.file_key.as_deref().filter(|_| r.is_stored_upload()) {
        match state.platform.files.get(key).await {
            Ok(Some(bytes)) if bytes.len() > PREVIEW_MAX_BYTES => {
                preview_note = Some(tr.t("opendata.resource.too_large").to_string());
            }
            Ok(Some(bytes)) => match csv_preview(&bytes, PREVIEW_ROWS) {
                Some(p) => preview = Some(p),
                None => preview_note = Some(tr.t("opendata.resource.unreadable").to_string()),
            },
            Ok(None) => preview_note = Some(tr.t("opendata.resource.missing").to_string()),
            Err(e) => return Err(AppError::internal(e)),
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

// ---------------------------------------------------------------- templates

struct ColumnView {
    ja: &'static str,
    en: &'static str,
    need: String,
    kind: String,
}

struct TemplateView {
    key: &'static str,
    name: String,
    description: String,
    entity_type: &'static str,
    columns: Vec<ColumnView>,
}

#[derive(Template)]
#[template(path = "opendata/templates.html")]
struct TemplatesPage {
    ctx: PageCtx,
    templates: Vec<TemplateView>,
}

fn kind_label(kind: ColumnKind, tr: &Tr) -> String {
    let key = match kind {
        ColumnKind::Text => "opendata.kind.text",
        ColumnKind::Kana => "opendata.kind.kana",
        ColumnKind::Code => "opendata.kind.code",
        ColumnKind::LgCode => "opendata.kind.lg_code",
        ColumnKind::Latitude => "opendata.kind.latitude",
        ColumnKind::Longitude => "opendata.kind.longitude",
        ColumnKind::Count => "opendata.kind.count",
        ColumnKind::Phone => "opendata.kind.phone",
        ColumnKind::CorporateNumber => "opendata.kind.corporate_number",
        ColumnKind::Url => "opendata.kind.url",
        ColumnKind::Date => "opendata.kind.date",
        ColumnKind::Time => "opendata.kind.time",
        ColumnKind::Weekdays => "opendata.kind.weekdays",
        ColumnKind::Presence => "opendata.kind.presence",
        ColumnKind::OneOf(values) => {
            return tr.f1("opendata.kind.one_of", "values", values.join("、"));
        }
    };
    tr.t(key).to_string()
}

/// `GET /dataset/templates`: the standard datasets and their columns.
pub(crate) async fn templates(ctx: PageCtx) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let templates = standard::templates()
        .iter()
        .map(|t| TemplateView {
            key: t.key,
            name: tr.pick(t.name_ja, t.name_en).to_string(),
            description: tr.pick(t.description_ja, t.description_en).to_string(),
            entity_type: t.entity_type,
            columns: t
                .columns
                .iter()
                .map(|c| ColumnView {
                    ja: c.ja,
                    en: c.en,
                    need: tr
                        .t(if c.required {
                            "opendata.templates.required"
                        } else if c.recommended {
                            "opendata.templates.recommended"
                        } else {
                            "opendata.templates.optional"
                        })
                        .to_string(),
                    kind: kind_label(c.kind, tr),
                })
                .collect(),
        })
        .collect();
    render(&TemplatesPage { ctx, templates })
}

/// `GET /dataset/templates/{key}.csv`: the header line, UTF-8 with a BOM.
pub(crate) async fn template_csv(Path(file): Path<String>) -> Result<Response, AppError> {
    let t = file
        .strip_suffix(".csv")
        .and_then(standard::template)
        .ok_or(AppError::NotFound)?;
    let body = format!("\u{feff}{}", standard::sample_csv(t));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", t.key)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(res)
}

// ---------------------------------------------------------------- publishers and groups

struct OwnerRow {
    href: String,
    title: String,
    description: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "opendata/owners.html")]
struct OwnersPage {
    ctx: PageCtx,
    /// `organization` or `group`.
    kind: &'static str,
    rows: Vec<OwnerRow>,
}

/// The number of public datasets per value of `field`.
fn counts(state: &OpenData, field: &str) -> Vec<(String, usize)> {
    let req = SearchRequest {
        rows: 0,
        facet_fields: vec![field.to_string()],
        facet_limit: -1,
        facet_mincount: 1,
        ..SearchRequest::default()
    };
    state
        .catalogue
        .search(&req)
        .ok()
        .and_then(|(_, _, mut f)| f.pop().map(|(_, v)| v))
        .unwrap_or_default()
}

fn count_of(counts: &[(String, usize)], name: &str) -> usize {
    counts
        .iter()
        .find(|(v, _)| v == name)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

/// `GET /organization`: the publishers.
pub(crate) async fn organizations(
    State(state): State<OpenData>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    current(&state).await?;
    let counts = counts(&state, "organization");
    let rows = state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.state == "active")
        .map(|o| OwnerRow {
            href: format!("/organization/{}", o.name),
            count: count_of(&counts, &o.name),
            description: excerpt(&o.description, 100),
            title: o.title,
        })
        .collect();
    render(&OwnersPage {
        ctx,
        kind: "organization",
        rows,
    })
}

/// `GET /group`: the groups.
pub(crate) async fn groups(
    State(state): State<OpenData>,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    current(&state).await?;
    let counts = counts(&state, "groups");
    let rows = state
        .catalogue
        .groups()
        .into_iter()
        .filter(|g| g.state == "active")
        .map(|g| OwnerRow {
            href: format!("/group/{}", g.name),
            count: count_of(&counts, &g.name),
            description: excerpt(&g.description, 100),
            title: g.title,
        })
        .collect();
    render(&OwnersPage {
        ctx,
        kind: "group",
        rows,
    })
}

#[derive(Template)]
#[template(path = "opendata/owner.html")]
struct OwnerPage {
    ctx: PageCtx,
    kind: &'static str,
    title: String,
    description: Vec<Vec<String>>,
    count: usize,
    results: Vec<ResultRow>,
    paging: Option<Paging>,
    /// The search page with this publisher or group chosen.
    search_href: String,
}

#[allow(clippy::too_many_arguments)]
async fn owner_page(
    state: &OpenData,
    ctx: PageCtx,
    req: &RequestContext,
    headers: &HeaderMap,
    raw: Option<String>,
    kind: &'static str,
    title: String,
    description: &str,
    fq: String,
    base: String,
    search_href: String,
) -> Result<Response, AppError> {
    let form = parse_urlencoded(raw.unwrap_or_default().as_bytes());
    let page = page_param(&form);
    let (_, private) = private_orgs(state, headers, req).await;
    let request = SearchRequest {
        fq: vec![fq],
        sort: Some("metadata_modified desc".into()),
        rows: PAGE_SIZE,
        start: (page - 1) * PAGE_SIZE,
        private_orgs: private,
        ..SearchRequest::default()
    };
    let (count, entries, _) = state
        .catalogue
        .search(&request)
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    let results = entries
        .iter()
        .map(|e| result_row(state, e, &ctx.tr))
        .collect();
    let paging = paging(count, page, |n| {
        if n == 1 {
            base.clone()
        } else {
            format!("{base}?page={n}")
        }
    });
    render(&OwnerPage {
        ctx,
        kind,
        title,
        description: paragraphs(description),
        count,
        results,
        paging,
        search_href,
    })
}

/// `GET /organization/{name}`: a publisher and its datasets.
pub(crate) async fn organization(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    current(&state).await?;
    let o = state
        .catalogue
        .organization(&name)
        .ok_or(AppError::NotFound)?;
    owner_page(
        &state,
        ctx,
        &req,
        &headers,
        raw,
        "organization",
        o.title.clone(),
        &o.description,
        format!("owner_org:{}", quoted(&o.id)),
        format!("/organization/{}", o.name),
        format!("/dataset?organization={}", encode_component(&o.name)),
    )
    .await
}

/// `GET /group/{name}`: a group and its datasets.
pub(crate) async fn group(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    current(&state).await?;
    let g = state.catalogue.group(&name).ok_or(AppError::NotFound)?;
    owner_page(
        &state,
        ctx,
        &req,
        &headers,
        raw,
        "group",
        g.title.clone(),
        &g.description,
        format!("groups:{}", quoted(&g.name)),
        format!("/group/{}", g.name),
        format!("/dataset?groups={}", encode_component(&g.name)),
    )
    .await
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

    #[test]
    fn pages_are_numbered_around_the_current_one() {
        let p = paging(500, 10, |n| format!("/d?page={n}")).unwrap();
        let numbers: Vec<usize> = p.links.iter().map(|l| l.number).collect();
        assert_eq!(numbers, vec![1, 8, 9, 10, 11, 12, 25]);
        assert!(p.links[1].gap_before && !p.links[2].gap_before);
        assert!(
            p.links
                .iter()
                .find(|l| l.current)
                .is_some_and(|l| l.number == 10)
        );
        assert!(paging(20, 1, |n| n.to_string()).is_none());
    }
}
