//! What a DCAT document is asked for: the RDF syntax ([`Format`]), the
//! portal ([`Site`]), the page of the catalogue ([`Paging`]), and the
//! licence URIs of CKAN licence ids.

/// An RDF syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Turtle,
    RdfXml,
    JsonLd,
    N3,
}

impl Format {
    /// The format for a file extension (`ttl`, `rdf`, `xml`, `jsonld`, `n3`),
    /// ignoring ASCII case and a leading dot.
    pub fn from_extension(ext: &str) -> Option<Format> {
        let ext = ext.strip_prefix('.').unwrap_or(ext);
        match ext.to_ascii_lowercase().as_str() {
            "ttl" => Some(Format::Turtle),
            "rdf" | "xml" => Some(Format::RdfXml),
            "jsonld" => Some(Format::JsonLd),
            "n3" => Some(Format::N3),
            _ => None,
        }
    }

    /// The `Content-Type` to serve this format with. JSON has no charset
    /// parameter (RFC 8259), the others are always written in UTF-8.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Turtle => "text/turtle; charset=utf-8",
            Format::RdfXml => "application/rdf+xml; charset=utf-8",
            Format::JsonLd => "application/ld+json",
            Format::N3 => "text/n3; charset=utf-8",
        }
    }

    /// The canonical file extension (without a dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Turtle => "ttl",
            Format::RdfXml => "rdf",
            Format::JsonLd => "jsonld",
            Format::N3 => "n3",
        }
    }
}

/// The portal the catalogue belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub url: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// Language code written as a plain `dct:language` literal, e.g. `ja`.
    pub language: &'a str,
    /// Last modification of the catalogue (ISO 8601), if known.
    pub modified: Option<&'a str>,
}

/// Which page of the catalogue is written, for the Hydra paging triples.
#[derive(Clone, Debug)]
pub struct Paging {
    /// 1-based page number (0 is taken as 1).
    pub page: u64,
    /// Page size (0 is taken as "everything on one page").
    pub items_per_page: u64,
    /// Number of datasets in the whole (filtered) catalogue.
    pub total_items: u64,
    /// The page URL without its `page` parameter, e.g.
    /// `http://127.0.0.1:8080/catalog.ttl` or
    /// `http://127.0.0.1:8080/catalog.ttl?q=x`; see [`page_url`].
    pub base: String,
}

/// The URL of page `page` of a paged catalogue: `base` followed by `?page=N`
/// when `base` has no query, by `page=N` when it ends with `?` or `&`, and by
/// `&page=N` otherwise. `base` must not carry a `page` parameter itself.
pub fn page_url(base: &str, page: u64) -> String {
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{sep}page={page}")
}

/// The licence document URI for a CKAN licence id (case-insensitive), for
/// packages whose `license_url` is missing.
pub fn license_uri(license_id: &str) -> Option<&'static str> {
    let uri = match license_id.trim().to_ascii_lowercase().as_str() {
        "cc-by-4.0" => "https://creativecommons.org/licenses/by/4.0/",
        "cc-by-sa-4.0" => "https://creativecommons.org/licenses/by-sa/4.0/",
        "cc-zero" | "cc0-1.0" => "https://creativecommons.org/publicdomain/zero/1.0/",
        // 公共データ利用規約（第1.0版） (Public Data License 1.0), Digital Agency.
        "pdl-1.0" => "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0",
        // 政府標準利用規約（第2.0版）: published on the Digital Agency's open
        // data page, which took over the former IT Strategic Headquarters'
        // (the same URL as the crate's licence register in `model`).
        "gov-jp-2.0" => "https://www.digital.go.jp/resources/open_data/",
        _ => return None,
    };
    Some(uri)
}
