//! `GET /dataset`: searching the catalogue, with facets, sort orders and
//! pages.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use platform::i18n::Tr;
use platform::web::{AppError, PageCtx, RequestContext, parse_urlencoded, render_status};

use super::format::{PAGE_SIZE, quoted};
use super::listing::{Paging, ResultRow, current, page_param, paging, private_orgs, result_row};
use crate::model;
use crate::search::{SearchError, SearchRequest};
use crate::service::OpenData;

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

/// A search's message for people, from the engine's error.
fn search_problem(e: &SearchError, tr: &Tr) -> String {
    match e {
        SearchError::InvalidQuery(_) => tr.t("opendata.search.invalid_query").to_string(),
        SearchError::UnknownSortField(_) | SearchError::InvalidSort(_) => {
            tr.t("opendata.search.invalid_sort").to_string()
        }
    }
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
pub(super) async fn search(
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
