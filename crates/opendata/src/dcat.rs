//! DCAT serialisation of CKAN package dictionaries.
//!
//! CKAN `package_show` dictionaries are mapped to RDF the way ckanext-dcat's
//! `euro_dcat_ap` profile maps them, and the graph is written as Turtle,
//! RDF/XML, JSON-LD or N3 by small serialisers in this module. The output is
//! deterministic: the same input always gives the same bytes.
//!
//! # URI rules
//!
//! `{site}` is [`Site::url`] with trailing slashes removed (and `http://localhost`
//! if it is not an absolute http(s) URL). `{id}` and the other path segments
//! are percent-encoded: every byte other than `A-Z a-z 0-9 - . _ ~` becomes
//! `%XX`, and a segment that is exactly `.` or `..` has its dots encoded.
//!
//! | node | URI |
//! | --- | --- |
//! | catalog (`dcat:Catalog`) | `{site}/` |
//! | dataset (`dcat:Dataset`) | `{site}/dataset/{id}` (`name` if `id` is missing, a blank node if both are) |
//! | distribution (`dcat:Distribution`) | `{site}/dataset/{id}/resource/{resource id}` (a blank node without a resource id or dataset id) |
//! | publisher (`foaf:Organization`) | `{site}/organization/{organization id}` (`name` if `id` is missing, else a blank node) |
//! | theme (`dcat:theme`) | `{site}/group/{group name}` |
//! | contact point (`vcard:Organization`) | extras `contact_uri` when it is an absolute http(s) URL, else a blank node |
//! | page (`hydra:PagedCollection`) | [`page_url`]`(paging.base, paging.page)` |
//!
//! External URLs (landing pages, resource URLs, licence URLs, e-mail
//! addresses) are used only when they are absolute `http://`, `https://` or
//! (for e-mail) `mailto:` IRIs with a non-empty host; anything else is
//! skipped. The same cleaning applies to the site URL and the page URLs:
//!
//! - percent-encoded: controls, space, `<`, `>`, `"`, `{`, `}`, `|`, `\`, `^`,
//!   `` ` ``, `[` and `]` (except around an IPv6 host), a `%` not followed by
//!   two hex digits, a second `#`, non-ASCII characters outside RFC 3987's
//!   `ucschar`, and in the authority every non-ASCII character (full-width
//!   `／` or `：` in a host would otherwise break Python's `urllib`);
//! - a bracketed host that is not an IPv6 address makes the URL unusable;
//! - an empty query (`/a?` → `/a`) and empty parameters on the last path
//!   segment (`/a;` → `/a`) are dropped, as RDF/XML parsers built on `urllib`
//!   (rdflib) drop them, so that every syntax gives the same graph.
//!
//! Hydra page links are the cleaned IRIs of [`page_url`], written as plain
//! literals like ckanext-dcat writes them; when `Paging::base` is not an
//! absolute http(s) URL the page node is a blank node.
//!
//! # Mapping
//!
//! Dataset: `dct:title` (title), `dct:description` (notes), `dcat:keyword`
//! (each tag's name), `dct:identifier` (extras `identifier`, else id),
//! `dct:issued` / `dct:modified` (metadata_created / metadata_modified),
//! `owl:versionInfo` (version), `dcat:landingPage` (url, typed
//! `foaf:Document`), `dct:language` (extras `language`, a code or a JSON
//! list of codes, else the site language), `dct:publisher`
//! (the organisation, `foaf:Organization` with `foaf:name` = title or name),
//! `dcat:contactPoint` (`vcard:Organization` with `vcard:fn` and
//! `vcard:hasEmail <mailto:…>`, from extras `contact_name` / `contact_email`,
//! else maintainer / maintainer_email, else author / author_email),
//! `dcat:theme` (groups), `dct:license`, `dcat:distribution`.
//!
//! Distribution: `dct:title` (name), `dct:description`, `dcat:accessURL`
//! (url) plus `dcat:downloadURL` when url_type is `upload`, `dct:format`
//! (format) and `dcat:mediaType` (mimetype) — a format that looks like a
//! media type (`text/csv`) with no other mimetype becomes `dcat:mediaType`,
//! as in ckanext-dcat, and http(s) values are written as IRIs —,
//! `dcat:byteSize` (size), `dct:issued` / `dct:modified` (created /
//! last_modified), `dct:license`.
//!
//! Catalogue: `dct:title`, `dct:description`, `dct:language`,
//! `foaf:homepage` (`{site}/`), `dct:modified` (if given), `dcat:dataset`.
//! Page: `hydra:totalItems`, `hydra:itemsPerPage`, `hydra:firstPage`,
//! `hydra:lastPage` (`ceil(total / per page)`, at least 1), `hydra:nextPage`
//! and `hydra:previousPage` when they exist.
//!
//! Extras `spatial` and `temporal` are ignored. Missing, null, blank or
//! wrongly typed values are skipped; no input makes these functions panic.
//!
//! # Literals
//!
//! Strings are plain literals without a language tag, like ckanext-dcat
//! writes them. Characters that XML 1.0 forbids (U+0000–U+0008, U+000B,
//! U+000C, U+000E–U+001F, U+FFFE, U+FFFF) are dropped in every syntax, so the
//! four formats always give isomorphic graphs. Timestamps (CKAN's naive ISO
//! times, which mean UTC) become `xsd:dateTime` values in UTC with a `Z`
//! (`2026-11-22T03:46:26.123456Z`); a bare date becomes `xsd:date`; anything
//! unparsable is kept as a plain literal, as ckanext-dcat does. Sizes are
//! `xsd:decimal`, Hydra counts `xsd:integer`, Hydra page links plain literals.
//!
//! # Licences
//!
//! `dct:license` (on the dataset and on every distribution, typed
//! `dct:LicenseDocument`) is `license_url` when that is an absolute http(s)
//! URL, else `license_id` when that is one, else the id looked up in
//! [`license_uri`]'s table; with none of these no licence triple is written.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use serde_json::Value;

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

/// One dataset (`package_show` dictionary) with its distributions.
pub fn dataset(format: Format, site: &Site, package: &Value) -> String {
    let mut g = Graph::default();
    let base = site_base(site.url);
    add_dataset(&mut g, &base, site, package);
    render(format, &g)
}

/// A catalogue page: the catalogue, the datasets of this page and the Hydra
/// paging description.
pub fn catalog(format: Format, site: &Site, packages: &[Value], paging: &Paging) -> String {
    let mut g = Graph::default();
    let base = site_base(site.url);
    let cat = Node::Iri(format!("{base}/"));
    g.a(&cat, DCAT_CATALOG);
    g.text(&cat, DCT_TITLE, Some(site.title));
    g.text(&cat, DCT_DESCRIPTION, Some(site.description));
    g.text(&cat, DCT_LANGUAGE, Some(site.language));
    g.link(&cat, FOAF_HOMEPAGE, &cat);
    if let Some(m) = site.modified.map(clean_text)
        && !m.trim().is_empty()
    {
        g.add(&cat, DCT_MODIFIED, date_object(&m));
    }
    add_paging(&mut g, paging);
    for package in packages {
        let ds = add_dataset(&mut g, &base, site, package);
        g.link(&cat, DCAT_DATASET, &ds);
    }
    render(format, &g)
}

// ---------------------------------------------------------------------------
// Vocabulary

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ns {
    Rdf,
    Dcat,
    Dct,
    Foaf,
    Vcard,
    Owl,
    Hydra,
    Xsd,
}

const ALL_NS: [Ns; 8] = [
    Ns::Rdf,
    Ns::Dcat,
    Ns::Dct,
    Ns::Foaf,
    Ns::Vcard,
    Ns::Owl,
    Ns::Hydra,
    Ns::Xsd,
];

impl Ns {
    fn prefix(self) -> &'static str {
        match self {
            Ns::Rdf => "rdf",
            Ns::Dcat => "dcat",
            Ns::Dct => "dct",
            Ns::Foaf => "foaf",
            Ns::Vcard => "vcard",
            Ns::Owl => "owl",
            Ns::Hydra => "hydra",
            Ns::Xsd => "xsd",
        }
    }

    fn iri(self) -> &'static str {
        match self {
            Ns::Rdf => "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            Ns::Dcat => "http://www.w3.org/ns/dcat#",
            Ns::Dct => "http://purl.org/dc/terms/",
            Ns::Foaf => "http://xmlns.com/foaf/0.1/",
            Ns::Vcard => "http://www.w3.org/2006/vcard/ns#",
            Ns::Owl => "http://www.w3.org/2002/07/owl#",
            Ns::Hydra => "http://www.w3.org/ns/hydra/core#",
            Ns::Xsd => "http://www.w3.org/2001/XMLSchema#",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A vocabulary term: namespace plus a local name that is a valid prefixed
/// name in Turtle and a valid NCName in XML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Name {
    ns: Ns,
    local: &'static str,
}

impl Name {
    fn iri(self) -> String {
        format!("{}{}", self.ns.iri(), self.local)
    }
}

const fn name(ns: Ns, local: &'static str) -> Name {
    Name { ns, local }
}

const RDF_TYPE: Name = name(Ns::Rdf, "type");
const DCAT_CATALOG: Name = name(Ns::Dcat, "Catalog");
const DCAT_DATASET_CLASS: Name = name(Ns::Dcat, "Dataset");
const DCAT_DISTRIBUTION_CLASS: Name = name(Ns::Dcat, "Distribution");
const DCAT_DATASET: Name = name(Ns::Dcat, "dataset");
const DCAT_DISTRIBUTION: Name = name(Ns::Dcat, "distribution");
const DCAT_KEYWORD: Name = name(Ns::Dcat, "keyword");
const DCAT_LANDING_PAGE: Name = name(Ns::Dcat, "landingPage");
const DCAT_CONTACT_POINT: Name = name(Ns::Dcat, "contactPoint");
const DCAT_THEME: Name = name(Ns::Dcat, "theme");
const DCAT_ACCESS_URL: Name = name(Ns::Dcat, "accessURL");
const DCAT_DOWNLOAD_URL: Name = name(Ns::Dcat, "downloadURL");
const DCAT_MEDIA_TYPE: Name = name(Ns::Dcat, "mediaType");
const DCAT_BYTE_SIZE: Name = name(Ns::Dcat, "byteSize");
const DCT_TITLE: Name = name(Ns::Dct, "title");
const DCT_DESCRIPTION: Name = name(Ns::Dct, "description");
const DCT_IDENTIFIER: Name = name(Ns::Dct, "identifier");
const DCT_ISSUED: Name = name(Ns::Dct, "issued");
const DCT_MODIFIED: Name = name(Ns::Dct, "modified");
const DCT_LANGUAGE: Name = name(Ns::Dct, "language");
const DCT_PUBLISHER: Name = name(Ns::Dct, "publisher");
const DCT_LICENSE: Name = name(Ns::Dct, "license");
const DCT_LICENSE_DOCUMENT: Name = name(Ns::Dct, "LicenseDocument");
const DCT_FORMAT: Name = name(Ns::Dct, "format");
const FOAF_ORGANIZATION: Name = name(Ns::Foaf, "Organization");
const FOAF_DOCUMENT: Name = name(Ns::Foaf, "Document");
const FOAF_NAME: Name = name(Ns::Foaf, "name");
const FOAF_HOMEPAGE: Name = name(Ns::Foaf, "homepage");
const VCARD_ORGANIZATION: Name = name(Ns::Vcard, "Organization");
const VCARD_FN: Name = name(Ns::Vcard, "fn");
const VCARD_HAS_EMAIL: Name = name(Ns::Vcard, "hasEmail");
const OWL_VERSION_INFO: Name = name(Ns::Owl, "versionInfo");
const HYDRA_PAGED_COLLECTION: Name = name(Ns::Hydra, "PagedCollection");
const HYDRA_TOTAL_ITEMS: Name = name(Ns::Hydra, "totalItems");
const HYDRA_ITEMS_PER_PAGE: Name = name(Ns::Hydra, "itemsPerPage");
const HYDRA_FIRST_PAGE: Name = name(Ns::Hydra, "firstPage");
const HYDRA_LAST_PAGE: Name = name(Ns::Hydra, "lastPage");
const HYDRA_NEXT_PAGE: Name = name(Ns::Hydra, "nextPage");
const HYDRA_PREVIOUS_PAGE: Name = name(Ns::Hydra, "previousPage");
const XSD_DATE_TIME: Name = name(Ns::Xsd, "dateTime");
const XSD_DATE: Name = name(Ns::Xsd, "date");
const XSD_DECIMAL: Name = name(Ns::Xsd, "decimal");
const XSD_INTEGER: Name = name(Ns::Xsd, "integer");

// ---------------------------------------------------------------------------
// Graph

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    /// An absolute IRI containing only characters allowed in IRIs.
    Iri(String),
    Blank(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Object {
    Node(Node),
    /// Lexical form (without XML-forbidden characters) and datatype.
    Literal(String, Option<Name>),
}

/// Triples grouped by subject (in order of first appearance) and predicate
/// (in order of first appearance for that subject), without duplicates.
#[derive(Default)]
struct Graph {
    order: Vec<Node>,
    props: HashMap<Node, Vec<(Name, Vec<Object>)>>,
    seen: HashSet<(Node, Name, Object)>,
    blanks: usize,
}

impl Graph {
    fn blank(&mut self) -> Node {
        let node = Node::Blank(self.blanks);
        self.blanks += 1;
        node
    }

    fn add(&mut self, s: &Node, p: Name, o: Object) {
        if !self.seen.insert((s.clone(), p, o.clone())) {
            return;
        }
        let order = &mut self.order;
        let props = self.props.entry(s.clone()).or_insert_with(|| {
            order.push(s.clone());
            Vec::new()
        });
        if let Some((_, objects)) = props.iter_mut().find(|(q, _)| *q == p) {
            objects.push(o);
        } else {
            props.push((p, vec![o]));
        }
    }

    fn a(&mut self, s: &Node, class: Name) {
        self.add(s, RDF_TYPE, Object::Node(Node::Iri(class.iri())));
    }

    fn link(&mut self, s: &Node, p: Name, o: &Node) {
        self.add(s, p, Object::Node(o.clone()));
    }

    /// A plain literal, skipped when it is missing or blank.
    fn text(&mut self, s: &Node, p: Name, value: Option<&str>) {
        if let Some(v) = value.map(clean_text)
            && !v.trim().is_empty()
        {
            self.add(s, p, Object::Literal(v, None));
        }
    }

    fn typed(&mut self, s: &Node, p: Name, value: String, datatype: Name) {
        self.add(s, p, Object::Literal(value, Some(datatype)));
    }

    fn date(&mut self, s: &Node, p: Name, value: Option<String>) {
        if let Some(v) = value {
            self.add(s, p, date_object(&v));
        }
    }
}

// ---------------------------------------------------------------------------
// Mapping

fn site_base(url: &str) -> String {
    match http_iri(url) {
        Some(iri) => iri.trim_end_matches('/').to_owned(),
        None => "http://localhost".to_owned(),
    }
}

/// A JSON string or number as text, without XML-forbidden characters;
/// `None` when missing, null, another type, or blank.
fn scalar(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => clean_text(s),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if s.trim().is_empty() { None } else { Some(s) }
}

fn field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(scalar)
}

/// An entry of `extras` (`[{key, value}]`), or a top-level field of the same
/// name (as ckanext-scheming stores custom fields).
fn extra(package: &Value, key: &str) -> Option<String> {
    package
        .get("extras")
        .and_then(Value::as_array)
        .and_then(|extras| {
            extras
                .iter()
                .find(|e| e.get("key").and_then(Value::as_str) == Some(key))
                .and_then(|e| e.get("value"))
                .and_then(scalar)
        })
        .or_else(|| field(package, key))
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn add_dataset(g: &mut Graph, base: &str, site: &Site, package: &Value) -> Node {
    let id = field(package, "id").or_else(|| field(package, "name"));
    let ds = match &id {
        Some(id) => Node::Iri(format!("{base}/dataset/{}", segment(id))),
        None => g.blank(),
    };
    g.a(&ds, DCAT_DATASET_CLASS);
    g.text(&ds, DCT_TITLE, field(package, "title").as_deref());
    g.text(&ds, DCT_DESCRIPTION, field(package, "notes").as_deref());
    for tag in array(package, "tags") {
        let keyword = match tag {
            Value::Object(_) => field(tag, "name").or_else(|| field(tag, "display_name")),
            other => scalar(other),
        };
        g.text(&ds, DCAT_KEYWORD, keyword.as_deref());
    }
    let identifier = extra(package, "identifier").or_else(|| field(package, "id"));
    g.text(&ds, DCT_IDENTIFIER, identifier.as_deref());
    g.date(&ds, DCT_ISSUED, field(package, "metadata_created"));
    g.date(&ds, DCT_MODIFIED, field(package, "metadata_modified"));
    g.text(&ds, OWL_VERSION_INFO, field(package, "version").as_deref());
    if let Some(url) = field(package, "url").as_deref().and_then(http_iri) {
        let page = Node::Iri(url);
        g.link(&ds, DCAT_LANDING_PAGE, &page);
        g.a(&page, FOAF_DOCUMENT);
    }
    // Language: extras `language` (a code or a JSON list of codes, as
    // ckanext-dcat stores it), else the site language.
    match extra(package, "language") {
        Some(lang) => match serde_json::from_str::<Vec<Value>>(&lang) {
            Ok(list) => {
                for code in &list {
                    g.text(&ds, DCT_LANGUAGE, scalar(code).as_deref());
                }
            }
            Err(_) => g.text(&ds, DCT_LANGUAGE, Some(&lang)),
        },
        None => g.text(&ds, DCT_LANGUAGE, Some(site.language)),
    }

    // Publisher: the owning organisation.
    if let Some(org) = package.get("organization").filter(|o| o.is_object()) {
        let org_node = match field(org, "id").or_else(|| field(org, "name")) {
            Some(oid) => Node::Iri(format!("{base}/organization/{}", segment(&oid))),
            None => g.blank(),
        };
        g.link(&ds, DCT_PUBLISHER, &org_node);
        g.a(&org_node, FOAF_ORGANIZATION);
        let org_name = field(org, "title").or_else(|| field(org, "name"));
        g.text(&org_node, FOAF_NAME, org_name.as_deref());
    }

    // Contact point: extras contact_*, else maintainer, else author.
    let contact_name = extra(package, "contact_name")
        .or_else(|| field(package, "maintainer"))
        .or_else(|| field(package, "author"));
    let contact_email = extra(package, "contact_email")
        .or_else(|| field(package, "maintainer_email"))
        .or_else(|| field(package, "author_email"))
        .as_deref()
        .and_then(mailto);
    let contact_uri = extra(package, "contact_uri").as_deref().and_then(http_iri);
    if contact_name.is_some() || contact_email.is_some() || contact_uri.is_some() {
        let contact = match contact_uri {
            Some(uri) => Node::Iri(uri),
            None => g.blank(),
        };
        g.link(&ds, DCAT_CONTACT_POINT, &contact);
        g.a(&contact, VCARD_ORGANIZATION);
        g.text(&contact, VCARD_FN, contact_name.as_deref());
        if let Some(email) = contact_email {
            g.link(&contact, VCARD_HAS_EMAIL, &Node::Iri(email));
        }
    }

    // Themes: the groups the dataset belongs to.
    for group in array(package, "groups") {
        if let Some(gname) = field(group, "name") {
            g.link(
                &ds,
                DCAT_THEME,
                &Node::Iri(format!("{base}/group/{}", segment(&gname))),
            );
        }
    }

    let license = package_license(package).map(Node::Iri);
    if let Some(lic) = &license {
        g.link(&ds, DCT_LICENSE, lic);
        g.a(lic, DCT_LICENSE_DOCUMENT);
    }

    for resource in array(package, "resources") {
        let dist = match (&id, field(resource, "id")) {
            (Some(id), Some(rid)) => Node::Iri(format!(
                "{base}/dataset/{}/resource/{}",
                segment(id),
                segment(&rid)
            )),
            _ => g.blank(),
        };
        g.link(&ds, DCAT_DISTRIBUTION, &dist);
        add_distribution(g, &dist, resource, license.as_ref());
    }
    ds
}

fn add_distribution(g: &mut Graph, dist: &Node, resource: &Value, license: Option<&Node>) {
    g.a(dist, DCAT_DISTRIBUTION_CLASS);
    g.text(dist, DCT_TITLE, field(resource, "name").as_deref());
    g.text(
        dist,
        DCT_DESCRIPTION,
        field(resource, "description").as_deref(),
    );
    if let Some(url) = field(resource, "url").as_deref().and_then(http_iri) {
        let url = Node::Iri(url);
        g.link(dist, DCAT_ACCESS_URL, &url);
        if field(resource, "url_type").as_deref() == Some("upload") {
            g.link(dist, DCAT_DOWNLOAD_URL, &url);
        }
    }

    // Like ckanext-dcat: a format that looks like a media type (and is not
    // contradicted by `mimetype`) is written as dcat:mediaType instead.
    let mut format = field(resource, "format");
    let mut mimetype = field(resource, "mimetype");
    if let Some(f) = format.clone()
        && mimetype.as_ref().is_none_or(|m| *m == f)
    {
        let is_http = f.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("http"));
        if f.contains("iana.org/assignments/media-types") || (!is_http && f.contains('/')) {
            mimetype = Some(f);
            format = None;
        } else {
            mimetype = None;
        }
    }
    if let Some(m) = mimetype {
        g.add(dist, DCAT_MEDIA_TYPE, iri_or_literal(&m));
    }
    if let Some(f) = format {
        g.add(dist, DCT_FORMAT, iri_or_literal(&f));
    }

    if let Some(size) = byte_size(resource.get("size")) {
        g.typed(dist, DCAT_BYTE_SIZE, size, XSD_DECIMAL);
    }
    g.date(dist, DCT_ISSUED, field(resource, "created"));
    g.date(dist, DCT_MODIFIED, field(resource, "last_modified"));
    if let Some(lic) = license {
        g.link(dist, DCT_LICENSE, lic);
    }
}

fn package_license(package: &Value) -> Option<String> {
    if let Some(url) = field(package, "license_url").as_deref().and_then(http_iri) {
        return Some(url);
    }
    let id = field(package, "license_id")?;
    http_iri(&id).or_else(|| license_uri(&id).map(str::to_owned))
}

fn iri_or_literal(value: &str) -> Object {
    match http_iri(value) {
        Some(iri) => Object::Node(Node::Iri(iri)),
        None => Object::Literal(value.to_owned(), None),
    }
}

/// `dcat:byteSize` lexical form (an `xsd:decimal`) of a JSON number or a
/// numeric string.
fn byte_size(v: Option<&Value>) -> Option<String> {
    fn from_f64(f: f64) -> Option<String> {
        // `Display` for f64 never uses exponent notation, so the result is a
        // valid xsd:decimal.
        f.is_finite().then(|| f.to_string())
    }
    match v? {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                n.as_f64().and_then(from_f64)
            }
        }
        Value::String(s) => {
            let s = s.trim();
            if let Ok(u) = s.parse::<u64>() {
                Some(u.to_string())
            } else if let Ok(i) = s.parse::<i64>() {
                Some(i.to_string())
            } else {
                s.parse::<f64>().ok().and_then(from_f64)
            }
        }
        _ => None,
    }
}

/// A timestamp as `xsd:dateTime` (UTC, with `Z`), a bare date as `xsd:date`,
/// anything else as a plain literal.
fn date_object(raw: &str) -> Object {
    let s = raw.trim();
    let utc: Option<DateTime<Utc>> = DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|d| d.and_utc())
        });
    if let Some(d) = utc
        && (1..=9999).contains(&d.year())
        && d.nanosecond() < 1_000_000_000
    {
        return Object::Literal(
            d.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Some(XSD_DATE_TIME),
        );
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && (1..=9999).contains(&d.year())
    {
        return Object::Literal(d.format("%Y-%m-%d").to_string(), Some(XSD_DATE));
    }
    Object::Literal(clean_text(raw), None)
}

fn add_paging(g: &mut Graph, paging: &Paging) {
    let page = paging.page.max(1);
    let last = if paging.items_per_page == 0 {
        1
    } else {
        paging.total_items.div_ceil(paging.items_per_page).max(1)
    };
    let url = |n: u64| {
        let raw = page_url(&paging.base, n);
        http_iri(&raw).unwrap_or_else(|| clean_text(&raw))
    };
    let node = match http_iri(&page_url(&paging.base, page)) {
        Some(iri) => Node::Iri(iri),
        None => g.blank(),
    };
    g.a(&node, HYDRA_PAGED_COLLECTION);
    g.typed(
        &node,
        HYDRA_TOTAL_ITEMS,
        paging.total_items.to_string(),
        XSD_INTEGER,
    );
    g.typed(
        &node,
        HYDRA_ITEMS_PER_PAGE,
        paging.items_per_page.to_string(),
        XSD_INTEGER,
    );
    g.text(&node, HYDRA_FIRST_PAGE, Some(&url(1)));
    g.text(&node, HYDRA_LAST_PAGE, Some(&url(last)));
    if page < last {
        g.text(&node, HYDRA_NEXT_PAGE, Some(&url(page + 1)));
    }
    if page > 1 {
        g.text(&node, HYDRA_PREVIOUS_PAGE, Some(&url(page - 1)));
    }
}

// ---------------------------------------------------------------------------
// Strings and IRIs

/// Whether XML 1.0 allows the character (tab, LF and CR are allowed).
fn xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Drops characters that XML 1.0 cannot carry.
fn clean_text(s: &str) -> String {
    s.chars().filter(|&c| xml_char(c)).collect()
}

/// A path segment: everything but RFC 3986 unreserved characters is
/// percent-encoded, and the dot segments `.` and `..` are encoded too.
fn segment(s: &str) -> String {
    if s == "." || s == ".." {
        return s.replace('.', "%2E");
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            push_pct(&mut out, b);
        }
    }
    out
}

fn push_pct(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

/// RFC 3987 `ucschar`.
fn ucschar(c: char) -> bool {
    let cp = u32::from(c);
    let plane = cp >> 16;
    let low = cp & 0xffff;
    matches!(cp, 0xa0..=0xd7ff | 0xf900..=0xfdcf | 0xfdf0..=0xffef)
        || ((1..=13).contains(&plane) && low <= 0xfffd)
        || (plane == 14 && (0x1000..=0xfffd).contains(&low))
}

/// Percent-encodes what may not appear in an IRI: controls, space, `<>"{}|\^``,
/// `[` and `]` (IPv6 host literals are handled by [`encode_authority`]), a `%`
/// that does not start a `%XX` escape, a second `#`, and non-ASCII characters
/// outside `ucschar`. In an authority every non-ASCII character and `@` are
/// encoded as well: Python's `urllib` (used by rdflib's RDF/XML parser)
/// rejects hosts whose NFKC form contains `/?#@:`, such as full-width `／`.
fn encode_iri_part(s: &str, authority: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut fragment = false;
    for (i, c) in s.char_indices() {
        match c {
            '%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                out.push_str(if hex { "%" } else { "%25" });
            }
            '#' if fragment => out.push_str("%23"),
            '#' => {
                fragment = true;
                out.push('#');
            }
            '@' if authority => out.push_str("%40"),
            c if c.is_ascii_graphic()
                && !matches!(
                    c,
                    '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`' | '[' | ']'
                ) =>
            {
                out.push(c)
            }
            c if !authority && !c.is_ascii() && ucschar(c) => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    push_pct(&mut out, b);
                }
            }
        }
    }
    out
}

/// The authority of an http(s) IRI, encoded; `None` when the host is empty or
/// a bracketed host is not an IPv6 address with an optional numeric port.
fn encode_authority(auth: &str) -> Option<String> {
    let (userinfo, hostport) = match auth.rfind('@') {
        Some(i) => (auth.get(..i), auth.get(i + 1..)?),
        None => (None, auth),
    };
    if hostport.is_empty() || hostport.starts_with(':') {
        return None;
    }
    let mut out = String::with_capacity(auth.len());
    if let Some(u) = userinfo {
        out.push_str(&encode_iri_part(u, true));
        out.push('@');
    }
    if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if host.parse::<std::net::Ipv6Addr>().is_err() || !port_ok {
            return None;
        }
        out.push('[');
        out.push_str(host);
        out.push(']');
        out.push_str(after);
    } else {
        out.push_str(&encode_iri_part(hostport, true));
    }
    Some(out)
}

/// Drops an empty query (`/a?` → `/a`) and empty path parameters on the last
/// segment (`/a;` → `/a`), which `urllib` loses when rdflib's RDF/XML parser
/// resolves IRIs, so that every syntax gives the same graph.
fn normalise_tail(tail: &str) -> String {
    let (before_fragment, fragment) = tail.split_at(tail.find('#').unwrap_or(tail.len()));
    let (path, query) =
        before_fragment.split_at(before_fragment.find('?').unwrap_or(before_fragment.len()));
    let query = if query == "?" { "" } else { query };
    let last = path.rfind('/').map_or(0, |i| i + 1);
    let path = match path.get(last..).and_then(|segment| segment.find(';')) {
        Some(j) if last + j + 1 == path.len() => path.get(..last + j).unwrap_or(path),
        _ => path,
    };
    format!("{path}{query}{fragment}")
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// An absolute `http://` or `https://` IRI (scheme lower-cased, forbidden
/// characters percent-encoded), or `None` for anything else.
fn http_iri(raw: &str) -> Option<String> {
    let s = raw.trim();
    let (scheme, rest) = if let Some(rest) = strip_prefix_ci(s, "https://") {
        ("https://", rest)
    } else {
        ("http://", strip_prefix_ci(s, "http://")?)
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let authority = encode_authority(authority)?;
    let tail = normalise_tail(&encode_iri_part(tail, false));
    Some(format!("{scheme}{authority}{tail}"))
}

/// A `mailto:` IRI for an e-mail address (with or without the scheme).
fn mailto(raw: &str) -> Option<String> {
    let s = raw.trim();
    let address = strip_prefix_ci(s, "mailto:").unwrap_or(s).trim();
    if address.is_empty() {
        return None;
    }
    Some(format!("mailto:{}", encode_iri_part(address, false)))
}

// ---------------------------------------------------------------------------
// Serialisers

fn render(format: Format, g: &Graph) -> String {
    match format {
        Format::Turtle | Format::N3 => turtle(g),
        Format::RdfXml => rdf_xml(g),
        Format::JsonLd => json_ld(g),
    }
}

/// The namespace and local name of an IRI when it can be abbreviated safely
/// (local name of ASCII letters and digits, starting with a letter).
fn split_iri(iri: &str) -> Option<(Ns, &str)> {
    ALL_NS.iter().find_map(|&ns| {
        let local = iri.strip_prefix(ns.iri())?;
        let mut chars = local.chars();
        let simple = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric());
        simple.then_some((ns, local))
    })
}

struct Used([bool; ALL_NS.len()]);

impl Used {
    fn new() -> Used {
        Used([false; ALL_NS.len()])
    }

    fn mark(&mut self, ns: Ns) {
        if let Some(u) = self.0.get_mut(ns.index()) {
            *u = true;
        }
    }

    fn namespaces(&self) -> impl Iterator<Item = Ns> + '_ {
        ALL_NS
            .iter()
            .copied()
            .filter(|ns| self.0.get(ns.index()).copied().unwrap_or(false))
    }
}

fn turtle_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out.push('"');
}

fn turtle_iri(iri: &str, used: &mut Used, out: &mut String) {
    if let Some((ns, local)) = split_iri(iri) {
        used.mark(ns);
        out.push_str(ns.prefix());
        out.push(':');
        out.push_str(local);
    } else {
        out.push('<');
        out.push_str(iri);
        out.push('>');
    }
}

fn turtle_node(node: &Node, used: &mut Used, out: &mut String) {
    match node {
        Node::Iri(iri) => turtle_iri(iri, used, out),
        Node::Blank(n) => {
            out.push_str("_:b");
            out.push_str(&n.to_string());
        }
    }
}

fn turtle(g: &Graph) -> String {
    let mut used = Used::new();
    let mut body = String::new();
    for s in &g.order {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        turtle_node(s, &mut used, &mut body);
        for (i, (p, objects)) in props.iter().enumerate() {
            body.push_str(if i == 0 { " " } else { " ;\n    " });
            if *p == RDF_TYPE {
                body.push('a');
            } else {
                used.mark(p.ns);
                body.push_str(p.ns.prefix());
                body.push(':');
                body.push_str(p.local);
            }
            for (j, o) in objects.iter().enumerate() {
                body.push_str(if j == 0 { " " } else { ",\n        " });
                match o {
                    Object::Node(n) => turtle_node(n, &mut used, &mut body),
                    Object::Literal(v, dt) => {
                        turtle_string(v, &mut body);
                        if let Some(dt) = dt {
                            used.mark(dt.ns);
                            body.push_str("^^");
                            body.push_str(dt.ns.prefix());
                            body.push(':');
                            body.push_str(dt.local);
                        }
                    }
                }
            }
        }
        body.push_str(" .\n\n");
    }
    let mut out = String::new();
    for ns in used.namespaces() {
        out.push_str("@prefix ");
        out.push_str(ns.prefix());
        out.push_str(": <");
        out.push_str(ns.iri());
        out.push_str("> .\n");
    }
    out.push('\n');
    out.push_str(&body);
    out
}

/// XML character data / attribute value escaping. CR, LF and tab are written
/// as character references where XML would normalise them.
fn xml_escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

fn xml_node_attr(node: &Node, about: bool, out: &mut String) {
    match node {
        Node::Iri(iri) => {
            out.push_str(if about {
                "rdf:about=\""
            } else {
                "rdf:resource=\""
            });
            xml_escape(iri, true, out);
        }
        Node::Blank(n) => {
            out.push_str("rdf:nodeID=\"b");
            out.push_str(&n.to_string());
        }
    }
    out.push('"');
}

fn rdf_xml(g: &Graph) -> String {
    let mut used = Used::new();
    used.mark(Ns::Rdf);
    let mut body = String::new();
    for s in &g.order {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        body.push_str("  <rdf:Description ");
        xml_node_attr(s, true, &mut body);
        body.push_str(">\n");
        for (p, objects) in props {
            used.mark(p.ns);
            for o in objects {
                body.push_str("    <");
                body.push_str(p.ns.prefix());
                body.push(':');
                body.push_str(p.local);
                match o {
                    Object::Node(n) => {
                        body.push(' ');
                        xml_node_attr(n, false, &mut body);
                        body.push_str("/>\n");
                    }
                    Object::Literal(v, dt) => {
                        if let Some(dt) = dt {
                            body.push_str(" rdf:datatype=\"");
                            xml_escape(&dt.iri(), true, &mut body);
                            body.push('"');
                        }
                        body.push('>');
                        xml_escape(v, false, &mut body);
                        body.push_str("</");
                        body.push_str(p.ns.prefix());
                        body.push(':');
                        body.push_str(p.local);
                        body.push_str(">\n");
                    }
                }
            }
        }
        body.push_str("  </rdf:Description>\n");
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
    for ns in used.namespaces() {
        out.push_str("\n  xmlns:");
        out.push_str(ns.prefix());
        out.push_str("=\"");
        out.push_str(ns.iri());
        out.push('"');
    }
    out.push_str(">\n");
    out.push_str(&body);
    out.push_str("</rdf:RDF>\n");
    out
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if !xml_char(c) => {}
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_node_id(node: &Node, out: &mut String) {
    match node {
        Node::Iri(iri) => json_string(iri, out),
        Node::Blank(n) => json_string(&format!("_:b{n}"), out),
    }
}

fn json_ld(g: &Graph) -> String {
    let mut used = Used::new();
    let mut body = String::new();
    for (k, s) in g.order.iter().enumerate() {
        let Some(props) = g.props.get(s) else {
            continue;
        };
        body.push_str(if k == 0 {
            "\n    {\n      \"@id\": "
        } else {
            ",\n    {\n      \"@id\": "
        });
        json_node_id(s, &mut body);
        for (p, objects) in props {
            body.push_str(",\n      ");
            // rdf:type with IRI objects goes to @type; anything else stays a
            // property so nothing is lost.
            let types: Vec<&str> = if *p == RDF_TYPE {
                objects
                    .iter()
                    .filter_map(|o| match o {
                        Object::Node(Node::Iri(iri)) => Some(iri.as_str()),
                        _ => None,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if *p == RDF_TYPE && types.len() == objects.len() {
                body.push_str("\"@type\": [");
                for (j, t) in types.iter().enumerate() {
                    if j > 0 {
                        body.push_str(", ");
                    }
                    match split_iri(t) {
                        Some((ns, local)) => {
                            used.mark(ns);
                            json_string(&format!("{}:{local}", ns.prefix()), &mut body);
                        }
                        None => json_string(t, &mut body),
                    }
                }
                body.push(']');
                continue;
            }
            used.mark(p.ns);
            json_string(&format!("{}:{}", p.ns.prefix(), p.local), &mut body);
            body.push_str(": [");
            for (j, o) in objects.iter().enumerate() {
                if j > 0 {
                    body.push_str(", ");
                }
                match o {
                    Object::Node(n) => {
                        body.push_str("{\"@id\": ");
                        json_node_id(n, &mut body);
                        body.push('}');
                    }
                    Object::Literal(v, dt) => {
                        body.push_str("{\"@value\": ");
                        json_string(v, &mut body);
                        if let Some(dt) = dt {
                            used.mark(dt.ns);
                            body.push_str(", \"@type\": ");
                            json_string(&format!("{}:{}", dt.ns.prefix(), dt.local), &mut body);
                        }
                        body.push('}');
                    }
                }
            }
            body.push(']');
        }
        body.push_str("\n    }");
    }
    let mut out = String::from("{\n  \"@context\": {");
    for (i, ns) in used.namespaces().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        json_string(ns.prefix(), &mut out);
        out.push_str(": ");
        json_string(ns.iri(), &mut out);
    }
    out.push_str("\n  },\n  \"@graph\": [");
    out.push_str(&body);
    out.push_str("\n  ]\n}\n");
    out
}

// ---------------------------------------------------------------------------
// Tests

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SITE: Site<'static> = Site {
        url: "http://127.0.0.1:8080",
        title: "テスト市オープンデータ",
        description: "Test catalogue",
        language: "ja",
        modified: Some("2026-11-22T03:46:26.123456"),
    };

    const ALL: [Format; 4] = [Format::Turtle, Format::RdfXml, Format::JsonLd, Format::N3];

    fn full() -> Value {
        json!({
            "id": "3f1e2d4c-0000-4000-8000-000000000001",
            "name": "population",
            "title": "人口統計",
            "notes": "町丁別の人口",
            "url": "https://www.city.example.jp/population.html",
            "version": "1.0",
            "maintainer": "総務課",
            "maintainer_email": "soumu@city.example.jp",
            "license_id": "cc-by-4.0",
            "license_title": "CC BY 4.0",
            "metadata_created": "2026-11-22T03:46:26.123456",
            "metadata_modified": "2026-11-23T00:00:00",
            "organization": {"id": "org-1", "name": "soumu", "title": "総務課"},
            "tags": [{"name": "人口", "display_name": "人口"}, {"name": "統計"}],
            "groups": [{"name": "population", "title": "人口"}],
            "extras": [{"key": "identifier", "value": "JP-123"}],
            "resources": [{
                "id": "r1",
                "name": "人口CSV",
                "description": "CSV版",
                "format": "CSV",
                "mimetype": "text/csv",
                "url": "http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv",
                "url_type": "upload",
                "size": 1024,
                "created": "2026-11-22T03:46:26.123456",
                "last_modified": null
            }]
        })
    }

    /// The graph as canonical N-Triples-like lines, for comparisons.
    fn triples(g: &Graph) -> Vec<String> {
        let node = |n: &Node| match n {
            Node::Iri(i) => format!("<{i}>"),
            Node::Blank(b) => format!("_:b{b}"),
        };
        let mut out = Vec::new();
        for s in &g.order {
            for (p, objs) in g.props.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                for o in objs {
                    let o = match o {
                        Object::Node(n) => node(n),
                        Object::Literal(v, Some(dt)) => format!("{v:?}^^<{}>", dt.iri()),
                        Object::Literal(v, None) => format!("{v:?}"),
                    };
                    out.push(format!("{} <{}> {o}", node(s), p.iri()));
                }
            }
        }
        out.sort();
        out
    }

    /// Reads our own JSON-LD shape back into the same line form.
    fn triples_from_json_ld(text: &str) -> Vec<String> {
        let doc: Value = serde_json::from_str(text).expect("valid JSON");
        let ctx = doc["@context"].as_object().expect("context").clone();
        let expand = |s: &str| -> String {
            if let Some((p, l)) = s.split_once(':')
                && let Some(ns) = ctx.get(p).and_then(Value::as_str)
            {
                return format!("{ns}{l}");
            }
            s.to_owned()
        };
        let term = |s: &str| {
            if s.starts_with("_:") {
                s.to_owned()
            } else {
                format!("<{s}>")
            }
        };
        let mut out = Vec::new();
        for node in doc["@graph"].as_array().expect("graph") {
            let id = term(node["@id"].as_str().expect("id"));
            for (k, v) in node.as_object().expect("node") {
                if k == "@id" {
                    continue;
                }
                for o in v.as_array().expect("array") {
                    if k == "@type" {
                        out.push(format!(
                            "{id} <{}> <{}>",
                            RDF_TYPE.iri(),
                            expand(o.as_str().expect("type"))
                        ));
                        continue;
                    }
                    let o = if let Some(i) = o.get("@id").and_then(Value::as_str) {
                        term(i)
                    } else {
                        let v = o["@value"].as_str().expect("value");
                        match o.get("@type").and_then(Value::as_str) {
                            Some(t) => format!("{v:?}^^<{}>", expand(t)),
                            None => format!("{v:?}"),
                        }
                    };
                    out.push(format!("{id} <{}> {o}", expand(k)));
                }
            }
        }
        out.sort();
        out
    }

    fn graph_of(package: &Value) -> Graph {
        let mut g = Graph::default();
        add_dataset(&mut g, "http://127.0.0.1:8080", &SITE, package);
        g
    }

    #[test]
    fn extensions_and_media_types() {
        assert_eq!(Format::from_extension("ttl"), Some(Format::Turtle));
        assert_eq!(Format::from_extension("rdf"), Some(Format::RdfXml));
        assert_eq!(Format::from_extension("xml"), Some(Format::RdfXml));
        assert_eq!(Format::from_extension("jsonld"), Some(Format::JsonLd));
        assert_eq!(Format::from_extension("n3"), Some(Format::N3));
        assert_eq!(Format::from_extension(".TTL"), Some(Format::Turtle));
        assert_eq!(Format::from_extension("json"), None);
        assert_eq!(Format::from_extension(""), None);
        assert_eq!(Format::Turtle.media_type(), "text/turtle; charset=utf-8");
        assert_eq!(
            Format::RdfXml.media_type(),
            "application/rdf+xml; charset=utf-8"
        );
        assert_eq!(Format::JsonLd.media_type(), "application/ld+json");
        assert_eq!(Format::N3.media_type(), "text/n3; charset=utf-8");
        for f in ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(f));
        }
    }

    #[test]
    fn full_package_turtle() {
        let ttl = dataset(Format::Turtle, &SITE, &full());
        let ds = "<http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001>";
        assert!(
            ttl.starts_with("@prefix rdf:") || ttl.starts_with("@prefix dcat:"),
            "{ttl}"
        );
        assert!(ttl.contains(&format!("{ds} a dcat:Dataset")), "{ttl}");
        assert!(ttl.contains("dct:title \"人口統計\""));
        assert!(ttl.contains("dcat:keyword \"人口\",\n        \"統計\""));
        assert!(ttl.contains("dct:identifier \"JP-123\""));
        assert!(ttl.contains("dct:issued \"2026-11-22T03:46:26.123456Z\"^^xsd:dateTime"));
        assert!(ttl.contains("dct:modified \"2026-11-23T00:00:00Z\"^^xsd:dateTime"));
        assert!(ttl.contains("owl:versionInfo \"1.0\""));
        assert!(ttl.contains("dcat:landingPage <https://www.city.example.jp/population.html>"));
        assert!(ttl.contains("<https://www.city.example.jp/population.html> a foaf:Document"));
        assert!(ttl.contains("dct:publisher <http://127.0.0.1:8080/organization/org-1>"));
        assert!(ttl.contains("<http://127.0.0.1:8080/organization/org-1> a foaf:Organization ;\n    foaf:name \"総務課\""));
        assert!(ttl.contains("dcat:contactPoint _:b0"));
        assert!(ttl.contains("_:b0 a vcard:Organization ;\n    vcard:fn \"総務課\" ;\n    vcard:hasEmail <mailto:soumu@city.example.jp>"));
        assert!(ttl.contains("dcat:theme <http://127.0.0.1:8080/group/population>"));
        assert!(ttl.contains("dct:license <https://creativecommons.org/licenses/by/4.0/>"));
        assert!(
            ttl.contains("<https://creativecommons.org/licenses/by/4.0/> a dct:LicenseDocument")
        );
        assert!(ttl.contains("dct:language \"ja\""));
        let dist =
            "<http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001/resource/r1>";
        assert!(ttl.contains(&format!("dcat:distribution {dist}")));
        assert!(ttl.contains(&format!("{dist} a dcat:Distribution")));
        assert!(ttl.contains("dct:format \"CSV\""));
        assert!(ttl.contains("dcat:mediaType \"text/csv\""));
        assert!(ttl.contains("dcat:byteSize \"1024\"^^xsd:decimal"));
        assert!(ttl.contains(
            "dcat:accessURL <http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv>"
        ));
        assert!(ttl.contains(
            "dcat:downloadURL <http://127.0.0.1:8080/dataset/x/resource/r1/download/pop.csv>"
        ));
        assert!(!ttl.contains("hydra"));
        // N3 is written in the common Turtle/N3 syntax.
        assert_eq!(dataset(Format::N3, &SITE, &full()), ttl);
    }

    #[test]
    fn full_package_rdf_xml() {
        let xml = dataset(Format::RdfXml, &SITE, &full());
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF"));
        assert!(xml.contains("xmlns:dcat=\"http://www.w3.org/ns/dcat#\""));
        assert!(xml.contains(
            "<rdf:Description rdf:about=\"http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001\">"
        ));
        assert!(xml.contains("<rdf:type rdf:resource=\"http://www.w3.org/ns/dcat#Dataset\"/>"));
        assert!(xml.contains("<dct:title>人口統計</dct:title>"));
        assert!(xml.contains(
            "<dct:issued rdf:datatype=\"http://www.w3.org/2001/XMLSchema#dateTime\">2026-11-22T03:46:26.123456Z</dct:issued>"
        ));
        assert!(xml.contains("<dcat:contactPoint rdf:nodeID=\"b0\"/>"));
        assert!(xml.contains("<rdf:Description rdf:nodeID=\"b0\">"));
        assert!(xml.contains(
            "<dcat:byteSize rdf:datatype=\"http://www.w3.org/2001/XMLSchema#decimal\">1024</dcat:byteSize>"
        ));
        assert!(xml.trim_end().ends_with("</rdf:RDF>"));
        assert_eq!(
            xml.matches("<rdf:Description ").count(),
            xml.matches("</rdf:Description>").count()
        );
    }

    #[test]
    fn full_package_json_ld_round_trips() {
        let text = dataset(Format::JsonLd, &SITE, &full());
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(doc["@context"]["dcat"], "http://www.w3.org/ns/dcat#");
        let g = graph_of(&full());
        assert_eq!(triples_from_json_ld(&text), triples(&g));
        assert!(g.seen.len() > 30);
    }

    #[test]
    fn minimal_package() {
        let pkg = json!({"id": "only-id"});
        let g = graph_of(&pkg);
        assert_eq!(
            triples(&g),
            vec![
                "<http://127.0.0.1:8080/dataset/only-id> <http://purl.org/dc/terms/identifier> \"only-id\"",
                "<http://127.0.0.1:8080/dataset/only-id> <http://purl.org/dc/terms/language> \"ja\"",
                "<http://127.0.0.1:8080/dataset/only-id> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Dataset>",
            ]
        );
        for f in ALL {
            let out = dataset(f, &SITE, &pkg);
            assert!(out.contains("only-id"), "{f:?}: {out}");
        }
        assert_eq!(
            triples_from_json_ld(&dataset(Format::JsonLd, &SITE, &pkg)),
            triples(&g)
        );
    }

    #[test]
    fn tolerates_nulls_and_wrong_types() {
        let pkgs = [
            json!(null),
            json!([]),
            json!("x"),
            json!({}),
            json!({"id": null, "name": null, "title": 5, "tags": "x", "groups": {}, "extras": [1, null, {"key": 2}],
                   "organization": null, "resources": [null, 3, {"id": null, "size": "abc", "url": 7}]}),
            json!({"id": "a", "organization": {"title": "no id"}, "resources": [{"size": -3.5, "format": "text/csv"}],
                   "metadata_created": "yesterday", "metadata_modified": "99999-01-01T00:00:00"}),
        ];
        for pkg in &pkgs {
            for f in ALL {
                let out = dataset(f, &SITE, pkg);
                assert!(out.contains("Dataset"), "{f:?}");
            }
            let json = dataset(Format::JsonLd, &SITE, pkg);
            assert_eq!(triples_from_json_ld(&json), triples(&graph_of(pkg)));
        }
        let g = graph_of(&pkgs[5]);
        let t = triples(&g).join("\n");
        assert!(
            t.contains("<http://www.w3.org/ns/dcat#byteSize> \"-3.5\"^^"),
            "{t}"
        );
        assert!(
            t.contains("<http://www.w3.org/ns/dcat#mediaType> \"text/csv\""),
            "{t}"
        );
        assert!(!t.contains("/format>"), "{t}");
        assert!(
            t.contains("<http://purl.org/dc/terms/issued> \"yesterday\"\n"),
            "{t}"
        );
        assert!(
            t.contains("<http://purl.org/dc/terms/modified> \"99999-01-01T00:00:00\"\n"),
            "{t}"
        );
        assert!(
            t.contains("<http://xmlns.com/foaf/0.1/name> \"no id\""),
            "{t}"
        );
    }

    fn nasty() -> Value {
        let s = "q\"uote \\ back\nnew\r\nline\ttab <>&'\" ]]> 🍣 日本語 \u{0}\u{8}\u{b}\u{c}\u{1f}\u{fffe}\u{ffff}end";
        json!({
            "id": "weird id/with?chars#and%",
            "title": s,
            "notes": "\"\"\"triple\"\"\" ''' ends with quote\"",
            "url": "http://example.com/a b<c>\"d{e}|f\\g^h`i/日本?x=1&y=2#frag#more",
            "version": s,
            "maintainer": s,
            "maintainer_email": "mailto:a b@example.com",
            "license_url": "not a url",
            "license_id": "pdl-1.0",
            "tags": [{"name": s}, {"name": "  "}, {"name": "🍣"}],
            "organization": {"id": "org/../1", "title": s},
            "extras": [{"key": "identifier", "value": s}],
            "resources": [{
                "id": "..",
                "name": s,
                "url": "javascript:alert(1)",
                "format": s,
                "size": 1.5
            }, {
                "id": "r2",
                "url": "HTTPS://例え.jp/パス name.csv?q=%zz&r=%41",
                "url_type": "",
                "size": "2048"
            }]
        })
    }

    #[test]
    fn nasty_strings_are_escaped() {
        let pkg = nasty();
        let ttl = dataset(Format::Turtle, &SITE, &pkg);
        assert!(
            ttl.contains(
                "\"q\\\"uote \\\\ back\\nnew\\r\\nline\\ttab <>&'\\\" ]]> 🍣 日本語 end\""
            )
        );
        assert!(!ttl.contains('\u{0}') && !ttl.contains('\u{fffe}') && !ttl.contains('\u{b}'));
        assert!(ttl.contains("<http://127.0.0.1:8080/dataset/weird%20id%2Fwith%3Fchars%23and%25>"));
        assert!(ttl.contains(
            "<http://example.com/a%20b%3Cc%3E%22d%7Be%7D%7Cf%5Cg%5Eh%60i/日本?x=1&y=2#frag%23more>"
        ));
        assert!(ttl.contains("<mailto:a%20b@example.com>"));
        assert!(
            ttl.contains(
                "<https://www.digital.go.jp/resources/open_data/public_data_license_v1.0>"
            )
        );
        assert!(ttl.contains("/resource/%2E%2E>"));
        assert!(ttl.contains("<http://127.0.0.1:8080/organization/org%2F..%2F1>"));
        assert!(ttl.contains("<https://%E4%BE%8B%E3%81%88.jp/パス%20name.csv?q=%25zz&r=%41>"));
        assert!(!ttl.contains("javascript"));
        assert!(ttl.contains("\"1.5\"^^xsd:decimal") && ttl.contains("\"2048\"^^xsd:decimal"));

        let xml = dataset(Format::RdfXml, &SITE, &pkg);
        assert!(xml.contains(
            "<dct:title>q&quot;uote \\ back\nnew&#13;\nline\ttab &lt;&gt;&amp;'&quot; ]]&gt; 🍣 日本語 end</dct:title>"
        ));
        assert!(!xml.contains("]]>"));
        assert!(!xml.contains('\u{0}') && !xml.contains('\u{ffff}') && !xml.contains('\u{c}'));

        let json = dataset(Format::JsonLd, &SITE, &pkg);
        assert!(!json.contains('\u{0}') && !json.contains('\u{1f}'));
        assert_eq!(triples_from_json_ld(&json), triples(&graph_of(&pkg)));
        // Blank keyword is skipped, the others kept.
        assert_eq!(json.matches("dcat:keyword").count(), 1);
        assert_eq!(
            triples(&graph_of(&pkg))
                .iter()
                .filter(|t| t.contains("#keyword>"))
                .count(),
            2
        );
    }

    #[test]
    fn iri_cleaning() {
        let iri = |s: &str| http_iri(s).unwrap_or_default();
        assert_eq!(iri("http://[::1]:8080/x"), "http://[::1]:8080/x");
        assert_eq!(iri("http://[::1]/a[b]"), "http://[::1]/a%5Bb%5D");
        assert_eq!(iri("http://[zz]/"), "");
        assert_eq!(iri("http://[::1]x/"), "");
        assert_eq!(iri("http://a[b/"), "http://a%5Bb/");
        assert_eq!(iri("http://u@v@h.jp:80/"), "http://u%40v@h.jp:80/");
        assert_eq!(iri("http://@/"), "");
        assert_eq!(iri("http://:80/"), "");
        assert_eq!(
            iri("https://example.jp／data"),
            "https://example.jp%EF%BC%8Fdata"
        );
        assert_eq!(iri("http://h/a?"), "http://h/a");
        assert_eq!(iri("http://h/a?#f"), "http://h/a#f");
        assert_eq!(iri("http://h/a?q"), "http://h/a?q");
        assert_eq!(iri("http://h/a;"), "http://h/a");
        assert_eq!(iri("http://h/a;?q"), "http://h/a?q");
        assert_eq!(iri("http://h/a;;"), "http://h/a;;");
        assert_eq!(iri("http://h/x;y/a"), "http://h/x;y/a");
        assert_eq!(iri("http://h/a#"), "http://h/a#");
        assert_eq!(iri("http://h?"), "http://h");
        assert_eq!(
            http_iri(" https://x.jp/a "),
            Some("https://x.jp/a".to_owned())
        );
        assert_eq!(http_iri("HTTP://x.jp"), Some("http://x.jp".to_owned()));
        assert_eq!(http_iri("http://"), None);
        assert_eq!(http_iri("http:///path"), None);
        assert_eq!(http_iri("/relative/path"), None);
        assert_eq!(http_iri("ftp://x.jp/"), None);
        assert_eq!(http_iri("mailto:a@b"), None);
        assert_eq!(
            http_iri("http://x/\u{e000}\u{80}\u{fffe}"),
            Some("http://x/%EE%80%80%C2%80%EF%BF%BE".to_owned())
        );
        assert_eq!(mailto("MAILTO: a@b.jp"), Some("mailto:a@b.jp".to_owned()));
        assert_eq!(mailto("  "), None);
        assert_eq!(mailto("mailto:"), None);
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("a.b"), "a.b");
        assert_eq!(segment("日"), "%E6%97%A5");
        assert_eq!(site_base("http://h:1/"), "http://h:1");
        assert_eq!(site_base("not a url"), "http://localhost");
    }

    #[test]
    fn dates() {
        let dt = |v: &str| match date_object(v) {
            Object::Literal(v, Some(d)) => format!("{v}^^{}", d.local),
            Object::Literal(v, None) => v,
            Object::Node(_) => String::new(),
        };
        assert_eq!(
            dt("2026-11-22T03:46:26.123456"),
            "2026-11-22T03:46:26.123456Z^^dateTime"
        );
        assert_eq!(dt("2026-11-22T03:46:26"), "2026-11-22T03:46:26Z^^dateTime");
        assert_eq!(
            dt("2026-11-22 03:46:26.5"),
            "2026-11-22T03:46:26.500Z^^dateTime"
        );
        assert_eq!(
            dt("2026-11-22T12:00:00+09:00"),
            "2026-11-22T03:00:00Z^^dateTime"
        );
        assert_eq!(dt("2026-11-22"), "2026-11-22^^date");
        assert_eq!(dt("2026-13-01"), "2026-13-01");
        assert_eq!(dt("令和8年"), "令和8年");
    }

    fn paging(page: u64, total: u64) -> Paging {
        Paging {
            page,
            items_per_page: 10,
            total_items: total,
            base: "http://127.0.0.1:8080/catalog.ttl?q=x".to_owned(),
        }
    }

    fn catalog_triples(p: &Paging, packages: &[Value]) -> Vec<String> {
        let json = catalog(Format::JsonLd, &SITE, packages, p);
        triples_from_json_ld(&json)
    }

    fn hydra(triples: &[String], page_node: &str, local: &str) -> Vec<String> {
        let prefix = format!("<{page_node}> <http://www.w3.org/ns/hydra/core#{local}> ");
        triples
            .iter()
            .filter_map(|t| t.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    #[test]
    fn page_urls() {
        assert_eq!(
            page_url("http://h/catalog.ttl", 2),
            "http://h/catalog.ttl?page=2"
        );
        assert_eq!(
            page_url("http://h/catalog.ttl?", 2),
            "http://h/catalog.ttl?page=2"
        );
        assert_eq!(
            page_url("http://h/catalog.ttl?q=x&", 2),
            "http://h/catalog.ttl?q=x&page=2"
        );
        assert_eq!(
            page_url("http://h/catalog.ttl?q=x", 2),
            "http://h/catalog.ttl?q=x&page=2"
        );
    }

    #[test]
    fn paging_first_middle_last() {
        let node = |n: u64| format!("http://127.0.0.1:8080/catalog.ttl?q=x&page={n}");
        let lit = |n: u64| {
            vec![format!(
                "\"http://127.0.0.1:8080/catalog.ttl?q=x&page={n}\""
            )]
        };
        let int = |n: u64| {
            vec![format!(
                "\"{n}\"^^<http://www.w3.org/2001/XMLSchema#integer>"
            )]
        };

        let first = catalog_triples(&paging(1, 25), &[full()]);
        let n = node(1);
        assert_eq!(hydra(&first, &n, "totalItems"), int(25));
        assert_eq!(hydra(&first, &n, "itemsPerPage"), int(10));
        assert_eq!(hydra(&first, &n, "firstPage"), lit(1));
        assert_eq!(hydra(&first, &n, "lastPage"), lit(3));
        assert_eq!(hydra(&first, &n, "nextPage"), lit(2));
        assert!(hydra(&first, &n, "previousPage").is_empty());
        assert!(first.contains(&format!(
            "<{n}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/hydra/core#PagedCollection>"
        )));

        let middle = catalog_triples(&paging(2, 25), &[]);
        let n = node(2);
        assert_eq!(hydra(&middle, &n, "nextPage"), lit(3));
        assert_eq!(hydra(&middle, &n, "previousPage"), lit(1));
        assert_eq!(hydra(&middle, &n, "lastPage"), lit(3));

        let last = catalog_triples(&paging(3, 25), &[]);
        let n = node(3);
        assert!(hydra(&last, &n, "nextPage").is_empty());
        assert_eq!(hydra(&last, &n, "previousPage"), lit(2));

        let empty = catalog_triples(&paging(0, 0), &[]);
        let n = node(1);
        assert_eq!(hydra(&empty, &n, "lastPage"), lit(1));
        assert_eq!(hydra(&empty, &n, "totalItems"), int(0));
        assert!(
            hydra(&empty, &n, "nextPage").is_empty()
                && hydra(&empty, &n, "previousPage").is_empty()
        );

        let ttl = catalog(Format::Turtle, &SITE, &[], &paging(2, 25));
        assert!(
            ttl.contains(
                "<http://127.0.0.1:8080/catalog.ttl?q=x&page=2> a hydra:PagedCollection ;"
            )
        );
        assert!(ttl.contains("hydra:totalItems \"25\"^^xsd:integer"));
        assert!(ttl.contains("hydra:nextPage \"http://127.0.0.1:8080/catalog.ttl?q=x&page=3\""));
        let xml = catalog(Format::RdfXml, &SITE, &[], &paging(2, 25));
        assert!(xml.contains("rdf:about=\"http://127.0.0.1:8080/catalog.ttl?q=x&amp;page=2\""));
        assert!(xml.contains("<hydra:previousPage>http://127.0.0.1:8080/catalog.ttl?q=x&amp;page=1</hydra:previousPage>"));

        let zero = Paging {
            items_per_page: 0,
            ..paging(1, 5)
        };
        let t = catalog_triples(&zero, &[]);
        assert_eq!(hydra(&t, &node(1), "lastPage"), lit(1));
    }

    #[test]
    fn catalog_page() {
        let other = json!({"id": "second", "title": "Second", "organization": {"id": "org-1", "title": "総務課"}});
        let pkgs = [full(), other, full()];
        let t = catalog_triples(&paging(1, 2), &pkgs);
        let cat = "<http://127.0.0.1:8080/>";
        for expected in [
            format!(
                "{cat} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/ns/dcat#Catalog>"
            ),
            format!("{cat} <http://purl.org/dc/terms/title> \"テスト市オープンデータ\""),
            format!("{cat} <http://purl.org/dc/terms/description> \"Test catalogue\""),
            format!("{cat} <http://purl.org/dc/terms/language> \"ja\""),
            format!("{cat} <http://xmlns.com/foaf/0.1/homepage> {cat}"),
            format!(
                "{cat} <http://purl.org/dc/terms/modified> \"2026-11-22T03:46:26.123456Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>"
            ),
            format!(
                "{cat} <http://www.w3.org/ns/dcat#dataset> <http://127.0.0.1:8080/dataset/second>"
            ),
            format!(
                "{cat} <http://www.w3.org/ns/dcat#dataset> <http://127.0.0.1:8080/dataset/3f1e2d4c-0000-4000-8000-000000000001>"
            ),
        ] {
            assert!(t.contains(&expected), "missing {expected}");
        }
        // Repeated packages and the shared organisation are written once.
        let org_names = t
            .iter()
            .filter(|l| {
                l.starts_with(
                    "<http://127.0.0.1:8080/organization/org-1> <http://xmlns.com/foaf/0.1/name>",
                )
            })
            .count();
        assert_eq!(org_names, 1);
        assert_eq!(t.iter().filter(|l| l.contains("#dataset> ")).count(), 2);
        let ttl = catalog(Format::Turtle, &SITE, &pkgs, &paging(1, 2));
        assert_eq!(ttl.matches("a dcat:Dataset").count(), 2);
        assert!(ttl.contains("<http://127.0.0.1:8080/> a dcat:Catalog"));
    }

    #[test]
    fn deterministic() {
        for f in ALL {
            let a = catalog(f, &SITE, &[full(), nasty()], &paging(1, 2));
            let b = catalog(f, &SITE, &[full(), nasty()], &paging(1, 2));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn languages() {
        let langs = |pkg: Value| -> Vec<String> {
            triples(&graph_of(&pkg))
                .into_iter()
                .filter(|t| t.contains("/language> "))
                .collect()
        };
        assert_eq!(langs(json!({"id": "a"})).len(), 1);
        let list =
            langs(json!({"id": "a", "extras": [{"key": "language", "value": "[\"en\", \"ja\"]"}]}));
        assert_eq!(list.len(), 2);
        assert!(list.iter().any(|t| t.ends_with("\"en\"")));
        let single = langs(json!({"id": "a", "extras": [{"key": "language", "value": "en"}]}));
        assert_eq!(single.len(), 1);
        assert!(single.iter().all(|t| t.ends_with("\"en\"")));
    }

    #[test]
    fn licences() {
        assert_eq!(
            license_uri("CC-BY-4.0"),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
        assert_eq!(license_uri("cc-zero"), license_uri("cc0-1.0"));
        assert_eq!(
            license_uri("gov-jp-2.0"),
            Some("https://www.digital.go.jp/resources/open_data/")
        );
        assert_eq!(license_uri("other-closed"), None);
        let with_url =
            json!({"id": "a", "license_id": "cc-by-4.0", "license_url": "https://example.org/l"});
        assert_eq!(
            package_license(&with_url).as_deref(),
            Some("https://example.org/l")
        );
        let unknown = json!({"id": "a", "license_id": "other-open", "resources": [{"id": "r"}]});
        assert!(
            !triples(&graph_of(&unknown))
                .iter()
                .any(|t| t.contains("license"))
        );
    }
}
