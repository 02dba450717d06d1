//! Publishers and groups: their lists, and each one's page with its
//! datasets.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use platform::web::{
    AppError, PageCtx, RequestContext, encode_component, parse_urlencoded, render,
};

use super::format::{PAGE_SIZE, excerpt, paragraphs, quoted};
use super::listing::{Paging, ResultRow, current, page_param, paging, private_orgs, result_row};
use crate::search::SearchRequest;
use crate::service::OpenData;

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
pub(super) async fn organizations(
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
pub(super) async fn groups(
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

/// The publisher or group a page shows.
struct Owner {
    /// `organization` or `group`.
    kind: &'static str,
    title: String,
    description: String,
    /// The filter of its datasets.
    fq: String,
    /// Its page.
    base: String,
    /// The search page with it chosen.
    search_href: String,
}

async fn owner_page(
    state: &OpenData,
    ctx: PageCtx,
    req: &RequestContext,
    headers: &HeaderMap,
    raw: Option<String>,
    owner: Owner,
) -> Result<Response, AppError> {
    let Owner {
        kind,
        title,
        description,
        fq,
        base,
        search_href,
    } = owner;
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
        description: paragraphs(&description),
        count,
        results,
        paging,
        search_href,
    })
}

/// `GET /organization/{name}`: a publisher and its datasets.
pub(super) async fn organization(
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
    let owner = Owner {
        kind: "organization",
        fq: format!("owner_org:{}", quoted(&o.id)),
        base: format!("/organization/{}", o.name),
        search_href: format!("/dataset?organization={}", encode_component(&o.name)),
        title: o.title,
        description: o.description,
    };
    owner_page(&state, ctx, &req, &headers, raw, owner).await
}

/// `GET /group/{name}`: a group and its datasets.
pub(super) async fn group(
    State(state): State<OpenData>,
    ctx: PageCtx,
    req: RequestContext,
    headers: HeaderMap,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    current(&state).await?;
    let g = state.catalogue.group(&name).ok_or(AppError::NotFound)?;
    let owner = Owner {
        kind: "group",
        fq: format!("groups:{}", quoted(&g.name)),
        base: format!("/group/{}", g.name),
        search_href: format!("/dataset?groups={}", encode_component(&g.name)),
        title: g.title,
        description: g.description,
    };
    owner_page(&state, ctx, &req, &headers, raw, owner).await
}
