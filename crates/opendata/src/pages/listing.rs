//! What the lists of datasets share: a result row, the page navigation, the
//! page parameter, who may see private datasets, and the catalogue brought
//! up to date before a page reads it.

use axum::http::HeaderMap;
use platform::i18n::Tr;
use platform::web::{AppError, FormData, RequestContext};

use super::format::{PAGE_SIZE, excerpt, jst, jst_iso};
use crate::service::{Entry, OpenData};
use crate::web::viewer_organisation;

/// The deepest page offered.
const MAX_PAGE: usize = 500;

/// One dataset in a list of results.
pub(super) struct ResultRow {
    pub href: String,
    pub title: String,
    pub publisher: String,
    pub formats: Vec<String>,
    pub modified: String,
    pub modified_iso: String,
    pub excerpt: String,
    pub private: bool,
}

pub(super) fn result_row(state: &OpenData, e: &Entry, tr: &Tr) -> ResultRow {
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
pub(super) struct PageLink {
    pub number: usize,
    pub href: String,
    pub current: bool,
    /// A gap (…) before this page.
    pub gap_before: bool,
}

/// The page navigation of a list.
pub(super) struct Paging {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub links: Vec<PageLink>,
}

pub(super) fn paging(count: usize, page: usize, href: impl Fn(usize) -> String) -> Option<Paging> {
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

pub(super) fn page_param(form: &FormData) -> usize {
    form.get("page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|p| (1..=MAX_PAGE).contains(p))
        .unwrap_or(1)
}

/// The publisher ids whose private datasets the visitor may see.
pub(super) async fn private_orgs(
    state: &OpenData,
    headers: &HeaderMap,
    req: &RequestContext,
) -> (Option<i64>, Vec<String>) {
    let viewer = viewer_organisation(state, headers, Some(req)).await;
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
pub(super) async fn current(state: &OpenData) -> Result<(), AppError> {
    state.catalogue.current().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
