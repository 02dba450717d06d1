//! A search as `package_search` asks for it ([`SearchRequest`]), its outcome
//! ([`SearchResult`]) and why it may fail ([`SearchError`]).

/// A `package_search` request after the CKAN adapter (or a page) has
/// parsed its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// Free text, optionally with Solr field syntax.
    pub q: Option<String>,
    /// `fq` plus every `fq_list` entry; all must hold.
    pub fq: Vec<String>,
    /// CKAN sort string, e.g. `score desc, metadata_modified desc`.
    pub sort: Option<String>,
    pub rows: usize,
    pub start: usize,
    pub facet_fields: Vec<String>,
    /// Most values per facet; negative means unlimited.
    pub facet_limit: i64,
    pub facet_mincount: usize,
    /// `owner_org` ids whose private datasets the caller may see.
    pub private_orgs: Vec<String>,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            q: None,
            fq: Vec::new(),
            sort: None,
            rows: 10,
            start: 0,
            facet_fields: Vec::new(),
            facet_limit: 50,
            facet_mincount: 1,
            private_orgs: Vec::new(),
        }
    }
}

/// The outcome of a search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// Number of matching datasets (all pages).
    pub count: usize,
    /// Ids of the requested page, in order.
    pub ids: Vec<String>,
    /// One entry per requested facet field, in request order (duplicates
    /// dropped): the field name and its (value, count) pairs.
    pub facets: Vec<(String, Vec<(String, usize)>)>,
}

/// Why a search could not be run; the message suits CKAN's
/// "Search Query Error".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// `q` or an `fq` could not be parsed.
    #[error("Invalid search query: {0}")]
    InvalidQuery(String),
    /// The sort string names a field that cannot be sorted on.
    #[error("Unknown sort field: {0}")]
    UnknownSortField(String),
    /// The sort string is malformed (e.g. a missing or unknown direction).
    #[error("Invalid sort: {0}")]
    InvalidSort(String),
}
