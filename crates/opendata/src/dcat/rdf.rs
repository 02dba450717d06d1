//! The RDF model the serialisers write: the vocabulary (namespaces and
//! terms), nodes and literals, a [`Graph`] of triples grouped by subject,
//! and the literal cleaning every syntax shares.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};

// Vocabulary

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Ns {
    Rdf,
    Dcat,
    Dct,
    Foaf,
    Vcard,
    Owl,
    Hydra,
    Xsd,
}

pub(super) const ALL_NS: [Ns; 8] = [
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
    pub(super) fn prefix(self) -> &'static str {
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

    pub(super) fn iri(self) -> &'static str {
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

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// A vocabulary term: namespace plus a local name that is a valid prefixed
/// name in Turtle and a valid NCName in XML.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Name {
    pub(super) ns: Ns,
    pub(super) local: &'static str,
}

impl Name {
    pub(super) fn iri(self) -> String {
        format!("{}{}", self.ns.iri(), self.local)
    }
}

pub(super) const fn name(ns: Ns, local: &'static str) -> Name {
    Name { ns, local }
}

pub(super) const RDF_TYPE: Name = name(Ns::Rdf, "type");
pub(super) const DCAT_CATALOG: Name = name(Ns::Dcat, "Catalog");
pub(super) const DCAT_DATASET_CLASS: Name = name(Ns::Dcat, "Dataset");
pub(super) const DCAT_DISTRIBUTION_CLASS: Name = name(Ns::Dcat, "Distribution");
pub(super) const DCAT_DATASET: Name = name(Ns::Dcat, "dataset");
pub(super) const DCAT_DISTRIBUTION: Name = name(Ns::Dcat, "distribution");
pub(super) const DCAT_KEYWORD: Name = name(Ns::Dcat, "keyword");
pub(super) const DCAT_LANDING_PAGE: Name = name(Ns::Dcat, "landingPage");
pub(super) const DCAT_CONTACT_POINT: Name = name(Ns::Dcat, "contactPoint");
pub(super) const DCAT_THEME: Name = name(Ns::Dcat, "theme");
pub(super) const DCAT_ACCESS_URL: Name = name(Ns::Dcat, "accessURL");
pub(super) const DCAT_DOWNLOAD_URL: Name = name(Ns::Dcat, "downloadURL");
pub(super) const DCAT_MEDIA_TYPE: Name = name(Ns::Dcat, "mediaType");
pub(super) const DCAT_BYTE_SIZE: Name = name(Ns::Dcat, "byteSize");
pub(super) const DCT_TITLE: Name = name(Ns::Dct, "title");
pub(super) const DCT_DESCRIPTION: Name = name(Ns::Dct, "description");
pub(super) const DCT_IDENTIFIER: Name = name(Ns::Dct, "identifier");
pub(super) const DCT_ISSUED: Name = name(Ns::Dct, "issued");
pub(super) const DCT_MODIFIED: Name = name(Ns::Dct, "modified");
pub(super) const DCT_LANGUAGE: Name = name(Ns::Dct, "language");
pub(super) const DCT_PUBLISHER: Name = name(Ns::Dct, "publisher");
pub(super) const DCT_LICENSE: Name = name(Ns::Dct, "license");
pub(super) const DCT_LICENSE_DOCUMENT: Name = name(Ns::Dct, "LicenseDocument");
pub(super) const DCT_FORMAT: Name = name(Ns::Dct, "format");
pub(super) const FOAF_ORGANIZATION: Name = name(Ns::Foaf, "Organization");
pub(super) const FOAF_DOCUMENT: Name = name(Ns::Foaf, "Document");
pub(super) const FOAF_NAME: Name = name(Ns::Foaf, "name");
pub(super) const FOAF_HOMEPAGE: Name = name(Ns::Foaf, "homepage");
pub(super) const VCARD_ORGANIZATION: Name = name(Ns::Vcard, "Organization");
pub(super) const VCARD_FN: Name = name(Ns::Vcard, "fn");
pub(super) const VCARD_HAS_EMAIL: Name = name(Ns::Vcard, "hasEmail");
pub(super) const OWL_VERSION_INFO: Name = name(Ns::Owl, "versionInfo");
pub(super) const HYDRA_PAGED_COLLECTION: Name = name(Ns::Hydra, "PagedCollection");
pub(super) const HYDRA_TOTAL_ITEMS: Name = name(Ns::Hydra, "totalItems");
pub(super) const HYDRA_ITEMS_PER_PAGE: Name = name(Ns::Hydra, "itemsPerPage");
pub(super) const HYDRA_FIRST_PAGE: Name = name(Ns::Hydra, "firstPage");
pub(super) const HYDRA_LAST_PAGE: Name = name(Ns::Hydra, "lastPage");
pub(super) const HYDRA_NEXT_PAGE: Name = name(Ns::Hydra, "nextPage");
pub(super) const HYDRA_PREVIOUS_PAGE: Name = name(Ns::Hydra, "previousPage");
pub(super) const XSD_DATE_TIME: Name = name(Ns::Xsd, "dateTime");
pub(super) const XSD_DATE: Name = name(Ns::Xsd, "date");
pub(super) const XSD_DECIMAL: Name = name(Ns::Xsd, "decimal");
pub(super) const XSD_INTEGER: Name = name(Ns::Xsd, "integer");

// ---------------------------------------------------------------------------
// Graph

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Node {
    /// An absolute IRI containing only characters allowed in IRIs.
    Iri(String),
    Blank(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Object {
    Node(Node),
    /// Lexical form (without XML-forbidden characters) and datatype.
    Literal(String, Option<Name>),
}

/// Triples grouped by subject (in order of first appearance) and predicate
/// (in order of first appearance for that subject), without duplicates.
#[derive(Default)]
pub(super) struct Graph {
    pub(super) order: Vec<Node>,
    pub(super) props: HashMap<Node, Vec<(Name, Vec<Object>)>>,
    pub(super) seen: HashSet<(Node, Name, Object)>,
    blanks: usize,
}

impl Graph {
    pub(super) fn blank(&mut self) -> Node {
        let node = Node::Blank(self.blanks);
        self.blanks += 1;
        node
    }

    pub(super) fn add(&mut self, s: &Node, p: Name, o: Object) {
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

    pub(super) fn a(&mut self, s: &Node, class: Name) {
        self.add(s, RDF_TYPE, Object::Node(Node::Iri(class.iri())));
    }

    pub(super) fn link(&mut self, s: &Node, p: Name, o: &Node) {
        self.add(s, p, Object::Node(o.clone()));
    }

    /// A plain literal, skipped when it is missing or blank.
    pub(super) fn text(&mut self, s: &Node, p: Name, value: Option<&str>) {
        if let Some(v) = value.map(clean_text)
            && !v.trim().is_empty()
        {
            self.add(s, p, Object::Literal(v, None));
        }
    }

    pub(super) fn typed(&mut self, s: &Node, p: Name, value: String, datatype: Name) {
        self.add(s, p, Object::Literal(value, Some(datatype)));
    }

    pub(super) fn date(&mut self, s: &Node, p: Name, value: Option<String>) {
        if let Some(v) = value {
            self.add(s, p, date_object(&v));
        }
    }
}

/// Whether XML 1.0 allows the character (tab, LF and CR are allowed).
pub(super) fn xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Drops characters that XML 1.0 cannot carry.
pub(super) fn clean_text(s: &str) -> String {
    s.chars().filter(|&c| xml_char(c)).collect()
}

/// A timestamp as `xsd:dateTime` (UTC, with `Z`), a bare date as `xsd:date`,
/// anything else as a plain literal.
pub(super) fn date_object(raw: &str) -> Object {
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

// Prefixes, for the serialisers.

/// The namespace and local name of an IRI when it can be abbreviated safely
/// (local name of ASCII letters and digits, starting with a letter).
pub(super) fn split_iri(iri: &str) -> Option<(Ns, &str)> {
    ALL_NS.iter().find_map(|&ns| {
        let local = iri.strip_prefix(ns.iri())?;
        let mut chars = local.chars();
        let simple = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric());
        simple.then_some((ns, local))
    })
}

pub(super) struct Used([bool; ALL_NS.len()]);

impl Used {
    pub(super) fn new() -> Used {
        Used([false; ALL_NS.len()])
    }

    pub(super) fn mark(&mut self, ns: Ns) {
        if let Some(u) = self.0.get_mut(ns.index()) {
            *u = true;
        }
    }

    pub(super) fn namespaces(&self) -> impl Iterator<Item = Ns> + '_ {
        ALL_NS
            .iter()
            .copied()
            .filter(|ns| self.0.get(ns.index()).copied().unwrap_or(false))
    }
}
