//! In-memory search engine behind the CKAN `package_search` action.
//!
//! CKAN hands searching to Solr; this module replaces Solr for a catalogue of
//! some tens of thousands of datasets. It understands the subset of the
//! Lucene/Solr query syntax that CKAN clients send in `q` and `fq`, CKAN's
//! sort strings, and facet counting.
//!
//! Free text is matched Japanese-aware: document text and query terms are
//! normalised (NFKC, lowercase, katakana folded to hiragana, whitespace
//! collapsed) and a term matches when it is a substring of the normalised
//! text, so `公園` finds `市立公園一覧` without any word segmentation. A
//! posting list of character bigrams (and single characters) narrows the
//! candidates before the substring check.
//!
//! The HTTP layer builds one [`Doc`] per dataset, keeps an [`Index`] of them
//! and turns CKAN parameters into a [`SearchRequest`].

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;

use chrono::{
    DateTime, Datelike, Months, NaiveDate, NaiveTime, SecondsFormat, TimeDelta, Timelike, Utc,
};
use unicode_normalization::UnicodeNormalization;

/// Deepest nesting of parentheses and prefix operators a query may use.
const MAX_DEPTH: usize = 32;
/// Most clauses one `q` or `fq` string may hold (Solr's `maxBooleanClauses`).
const MAX_CLAUSES: usize = 1024;
/// Separates values and fields in normalised text; never occurs inside it
/// because normalisation turns control characters into spaces.
const SEP: char = '\u{1f}';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// One dataset as the index sees it.
///
/// Empty strings mean "no value" (e.g. a dataset without an organization has
/// `organization` and `owner_org` empty). The `res_*` lists hold one entry
/// per resource; `num_resources` is the longest of them and `num_tags` the
/// number of tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    /// Dataset id (a UUID string); unique within an index.
    pub id: String,
    pub name: String,
    pub title: String,
    pub notes: String,
    /// Organization *name*.
    pub organization: String,
    /// Organization title: searchable as free text (e.g. `横浜市`).
    pub organization_title: String,
    /// Organization id.
    pub owner_org: String,
    pub license_id: String,
    pub tags: Vec<String>,
    /// Group names.
    pub groups: Vec<String>,
    /// One entry per resource (duplicates allowed).
    pub res_format: Vec<String>,
    pub res_name: Vec<String>,
    pub res_description: Vec<String>,
    pub res_url: Vec<String>,
    /// Custom fields as (key, value).
    pub extras: Vec<(String, String)>,
    pub metadata_created: DateTime<Utc>,
    pub metadata_modified: DateTime<Utc>,
    pub private: bool,
    pub author: String,
    pub maintainer: String,
    pub url: String,
    pub version: String,
}

impl Doc {
    /// A document with the given id and name and every other field empty.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Doc {
        Doc {
            id: id.into(),
            name: name.into(),
            ..Doc::default()
        }
    }
}

/// A `package_search` request after the HTTP layer has parsed CKAN's
/// parameters.
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

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/// Katakana to hiragana, so `コウエン` and `こうえん` are the same.
fn fold_kana(c: char) -> char {
    let u = c as u32;
    if (0x30A1..=0x30F6).contains(&u) || u == 0x30FD || u == 0x30FE {
        char::from_u32(u - 0x60).unwrap_or(c)
    } else {
        c
    }
}

fn fold_into(out: &mut String, chars: impl Iterator<Item = char>, trim: bool) {
    let mut space = false;
    for c in chars {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space && (!trim || !out.is_empty()) {
            out.push(' ');
        }
        space = false;
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            for l in c.to_lowercase() {
                out.push(fold_kana(l));
            }
        }
    }
    if space && !trim {
        out.push(' ');
    }
}

/// Normalises text for free-text matching: NFKC, lowercase, katakana folded
/// to hiragana, runs of whitespace and control characters collapsed to one
/// space (and trimmed when `trim`).
fn norm_text(s: &str, trim: bool) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        fold_into(&mut out, s.chars(), trim);
    } else {
        fold_into(&mut out, s.nfkc(), trim);
    }
    out
}

/// NFKC only: how exact-match (Solr `string`) fields are compared.
fn nfkc(s: &str) -> String {
    if s.is_ascii() {
        s.to_owned()
    } else {
        s.nfkc().collect()
    }
}

/// Shortens user input quoted in an error message.
fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------
// Character n-gram keys
// ---------------------------------------------------------------------------

fn bigram(a: char, b: char) -> u64 {
    ((a as u64) << 21) | b as u64
}

fn unigram(a: char) -> u64 {
    // 0x1F_FFFF is above every scalar value, so it never collides with a bigram.
    ((a as u64) << 21) | 0x1F_FFFF
}

/// Every distinct unigram and bigram of normalised document text; bigrams
/// do not span [`SEP`].
fn doc_grams(all: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(all.len());
    let mut prev: Option<char> = None;
    for c in all.chars() {
        if c == SEP {
            prev = None;
            continue;
        }
        out.push(unigram(c));
        if let Some(p) = prev {
            out.push(bigram(p, c));
        }
        prev = Some(c);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The keys whose postings must all contain a document that contains `term`.
fn term_grams(term: &str) -> Vec<u64> {
    let chars: Vec<char> = term.chars().collect();
    let mut out: Vec<u64> = match chars.as_slice() {
        [] => Vec::new(),
        [c] => vec![unigram(*c)],
        _ => chars.windows(2).map(|w| bigram(w[0], w[1])).collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// A small multiplicative hasher for the integer gram keys.
#[derive(Debug, Clone, Copy, Default)]
struct GramHasher(u64);

impl Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type Postings = HashMap<u64, Vec<u32>, BuildHasherDefault<GramHasher>>;

/// Intersects ascending slot lists, smallest first.
fn intersect(mut lists: Vec<&[u32]>) -> Vec<u32> {
    lists.sort_by_key(|l| l.len());
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let mut acc = first.to_vec();
    for l in rest {
        if acc.is_empty() {
            break;
        }
        if l.len() / 16 > acc.len() {
            // Much longer: binary search it.
            acc.retain(|x| l.binary_search(x).is_ok());
        } else {
            // Similar lengths: merge.
            let mut j = 0;
            acc.retain(|&x| {
                while l.get(j).is_some_and(|&y| y < x) {
                    j += 1;
                }
                l.get(j) == Some(&x)
            });
        }
    }
    acc
}

// ---------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------

/// Segments of the normalised searchable text, in layout order: title,
/// name, notes, tags, organization, groups, res_name, res_description,
/// extras values, author, maintainer.
const SEGMENTS: usize = 11;
const SEG_TITLE: usize = 0;
const SEG_NOTES: usize = 2;
const SEG_RES_NAME: usize = 6;
const SEG_RES_DESCRIPTION: usize = 7;
const SEG_AUTHOR: usize = 9;
const SEG_MAINTAINER: usize = 10;
/// Score weight of an occurrence in each segment.
const WEIGHTS: [u64; SEGMENTS] = [10, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1];

/// Fields matched like free text (substring of normalised text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextField {
    /// All searchable text (`text`, and bare words).
    All,
    Title,
    Notes,
    ResName,
    ResDescription,
    Author,
    Maintainer,
}

impl TextField {
    fn segment(self) -> Option<usize> {
        match self {
            TextField::All => None,
            TextField::Title => Some(SEG_TITLE),
            TextField::Notes => Some(SEG_NOTES),
            TextField::ResName => Some(SEG_RES_NAME),
            TextField::ResDescription => Some(SEG_RES_DESCRIPTION),
            TextField::Author => Some(SEG_AUTHOR),
            TextField::Maintainer => Some(SEG_MAINTAINER),
        }
    }
}

/// Exact-match fields whose values are interned for fast filters and facets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InternField {
    Organization = 0,
    OwnerOrg = 1,
    LicenseId = 2,
    Tags = 3,
    Groups = 4,
    ResFormat = 5,
}
const INTERNED: usize = 6;
const INTERN_FIELDS: [InternField; INTERNED] = [
    InternField::Organization,
    InternField::OwnerOrg,
    InternField::LicenseId,
    InternField::Tags,
    InternField::Groups,
    InternField::ResFormat,
];

impl InternField {
    fn key(self, s: &str) -> String {
        match self {
            InternField::ResFormat => nfkc(s).to_lowercase(),
            _ => nfkc(s),
        }
    }
}

/// Other exact-match (Solr `string`) fields.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StrField {
    Id,
    Name,
    Url,
    Version,
    ResUrl,
    TitleString,
    Capacity,
    /// `extras_<key>`, key NFKC-normalised.
    Extra(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateField {
    Created,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntField {
    NumResources,
    NumTags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FieldRef {
    /// `*`, as in `*:*`.
    Star,
    Text(TextField),
    Interned(InternField),
    Str(StrField),
    Date(DateField),
    Int(IntField),
    /// A field every dataset has with this one value (`state`, `type`, ...).
    Const(&'static str),
    /// A field every value matches (`site_id`).
    AnyValue,
    Unknown,
}

impl FieldRef {
    fn parse(name: &str) -> FieldRef {
        match name {
            "*" => FieldRef::Star,
            "text" => FieldRef::Text(TextField::All),
            "title" => FieldRef::Text(TextField::Title),
            "notes" => FieldRef::Text(TextField::Notes),
            "res_name" => FieldRef::Text(TextField::ResName),
            "res_description" => FieldRef::Text(TextField::ResDescription),
            "author" => FieldRef::Text(TextField::Author),
            "maintainer" => FieldRef::Text(TextField::Maintainer),
            "organization" => FieldRef::Interned(InternField::Organization),
            "owner_org" => FieldRef::Interned(InternField::OwnerOrg),
            "license_id" => FieldRef::Interned(InternField::LicenseId),
            "tags" => FieldRef::Interned(InternField::Tags),
            "groups" => FieldRef::Interned(InternField::Groups),
            "res_format" => FieldRef::Interned(InternField::ResFormat),
            "id" => FieldRef::Str(StrField::Id),
            "name" => FieldRef::Str(StrField::Name),
            "url" => FieldRef::Str(StrField::Url),
            "version" => FieldRef::Str(StrField::Version),
            "res_url" => FieldRef::Str(StrField::ResUrl),
            "title_string" => FieldRef::Str(StrField::TitleString),
            "capacity" => FieldRef::Str(StrField::Capacity),
            "metadata_created" => FieldRef::Date(DateField::Created),
            "metadata_modified" => FieldRef::Date(DateField::Modified),
            "num_resources" => FieldRef::Int(IntField::NumResources),
            "num_tags" => FieldRef::Int(IntField::NumTags),
            "dataset_type" | "type" => FieldRef::Const("dataset"),
            "state" => FieldRef::Const("active"),
            "entity_type" => FieldRef::Const("package"),
            // Visibility is decided by `SearchRequest::private_orgs`, so the
            // filters CKAN itself adds for it hold for every document here.
            "site_id" | "permission_labels" => FieldRef::AnyValue,
            _ => match name.strip_prefix("extras_") {
                Some(key) if !key.is_empty() => FieldRef::Str(StrField::Extra(nfkc(key))),
                _ => FieldRef::Unknown,
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Index entries
// ---------------------------------------------------------------------------

/// Values of one interned field: match key → id, with display text and the
/// slots of the documents holding each value (ascending).
#[derive(Debug, Clone, Default)]
struct Interner {
    map: HashMap<String, u32>,
    keys: Vec<String>,
    display: Vec<String>,
    slots: Vec<Vec<u32>>,
}

impl Interner {
    /// Interns the distinct non-empty values of one document.
    fn intern_doc<'a>(
        &mut self,
        field: InternField,
        slot: u32,
        values: impl Iterator<Item = &'a str>,
    ) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::new();
        for v in values {
            let key = field.key(v);
            if key.is_empty() {
                continue;
            }
            let id = match self.map.get(&key) {
                Some(&id) => {
                    // A value no document holds any more takes the new spelling.
                    if self.slots.get(id as usize).is_some_and(Vec::is_empty)
                        && let Some(d) = self.display.get_mut(id as usize)
                    {
                        v.clone_into(d);
                    }
                    id
                }
                None => {
                    let Ok(id) = u32::try_from(self.keys.len()) else {
                        continue;
                    };
                    self.map.insert(key.clone(), id);
                    self.keys.push(key);
                    self.display.push(v.to_owned());
                    self.slots.push(Vec::new());
                    id
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
                if let Some(list) = self.slots.get_mut(id as usize)
                    && let Err(i) = list.binary_search(&slot)
                {
                    list.insert(i, slot);
                }
            }
        }
        ids.sort_unstable();
        ids
    }

    fn release(&mut self, slot: u32, ids: &[u32]) {
        for &id in ids {
            if let Some(list) = self.slots.get_mut(id as usize)
                && let Ok(i) = list.binary_search(&slot)
            {
                list.remove(i);
            }
        }
    }
}

/// A document with everything precomputed that searching needs.
#[derive(Debug, Clone)]
struct Entry {
    doc: Doc,
    /// Normalised searchable text: segments in layout order, values within a
    /// segment and segments themselves separated by [`SEP`].
    all: String,
    /// Byte range of each segment in `all`.
    spans: [(usize, usize); SEGMENTS],
    id_key: String,
    name_key: String,
    url_key: String,
    version_key: String,
    title_key: String,
    res_url_keys: Vec<String>,
    extra_keys: Vec<(String, String)>,
    /// Interned value ids of every [`InternField`], one field after another;
    /// `interned_ends[f]` is where field `f` ends.
    interned: Vec<u32>,
    interned_ends: [u32; INTERNED],
    title_sort: String,
    num_resources: usize,
    num_tags: usize,
}

impl Entry {
    fn build(doc: Doc, slot: u32, interners: &mut [Interner; INTERNED]) -> Entry {
        let one = |s: &str| vec![s.to_owned()];
        let lists: [Vec<String>; SEGMENTS] = [
            one(&doc.title),
            one(&doc.name),
            one(&doc.notes),
            doc.tags.clone(),
            vec![doc.organization.clone(), doc.organization_title.clone()],
            doc.groups.clone(),
            doc.res_name.clone(),
            doc.res_description.clone(),
            doc.extras.iter().map(|(_, v)| v.clone()).collect(),
            one(&doc.author),
            one(&doc.maintainer),
        ];
        let mut all = String::new();
        let mut spans = [(0, 0); SEGMENTS];
        for (i, list) in lists.iter().enumerate() {
            if i > 0 {
                all.push(SEP);
            }
            let start = all.len();
            let mut first = true;
            for v in list {
                let n = norm_text(v, true);
                if n.is_empty() {
                    continue;
                }
                if !first {
                    all.push(SEP);
                }
                first = false;
                all.push_str(&n);
            }
            if let Some(span) = spans.get_mut(i) {
                *span = (start, all.len());
            }
        }
        let per_field = [
            interners[0].intern_doc(
                InternField::Organization,
                slot,
                std::iter::once(doc.organization.as_str()),
            ),
            interners[1].intern_doc(
                InternField::OwnerOrg,
                slot,
                std::iter::once(doc.owner_org.as_str()),
            ),
            interners[2].intern_doc(
                InternField::LicenseId,
                slot,
                std::iter::once(doc.license_id.as_str()),
            ),
            interners[3].intern_doc(InternField::Tags, slot, doc.tags.iter().map(String::as_str)),
            interners[4].intern_doc(
                InternField::Groups,
                slot,
                doc.groups.iter().map(String::as_str),
            ),
            interners[5].intern_doc(
                InternField::ResFormat,
                slot,
                doc.res_format.iter().map(String::as_str),
            ),
        ];
        let mut interned = Vec::with_capacity(per_field.iter().map(Vec::len).sum());
        let mut interned_ends = [0u32; INTERNED];
        for (ids, end) in per_field.iter().zip(&mut interned_ends) {
            interned.extend_from_slice(ids);
            *end = u32::try_from(interned.len()).unwrap_or(u32::MAX);
        }
        Entry {
            id_key: nfkc(&doc.id),
            name_key: nfkc(&doc.name),
            url_key: nfkc(&doc.url),
            version_key: nfkc(&doc.version),
            title_key: nfkc(&doc.title),
            res_url_keys: doc.res_url.iter().map(|u| nfkc(u)).collect(),
            extra_keys: doc.extras.iter().map(|(k, v)| (nfkc(k), nfkc(v))).collect(),
            title_sort: norm_text(&doc.title, true),
            num_resources: [
                &doc.res_format,
                &doc.res_name,
                &doc.res_description,
                &doc.res_url,
            ]
            .iter()
            .map(|l| l.len())
            .max()
            .unwrap_or(0),
            num_tags: doc.tags.len(),
            interned,
            interned_ends,
            all,
            spans,
            doc,
        }
    }

    /// Interned value ids of a field.
    fn ids(&self, f: InternField) -> &[u32] {
        let i = f as usize;
        let start = if i == 0 {
            0
        } else {
            self.interned_ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.interned_ends.get(i).copied().unwrap_or(0);
        self.interned
            .get(start as usize..end as usize)
            .unwrap_or(&[])
    }

    /// Normalised text of a field (all searchable text for `All`).
    fn text(&self, f: TextField) -> &str {
        match f.segment() {
            None => &self.all,
            Some(i) => self.segment(i),
        }
    }

    fn segment(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|&(a, b)| self.all.get(a..b))
            .unwrap_or("")
    }

    /// The segment a byte offset of `all` falls in.
    fn segment_at(&self, pos: usize) -> usize {
        self.spans
            .iter()
            .position(|&(_, end)| pos < end)
            .unwrap_or(SEGMENTS - 1)
    }

    /// Whether a non-empty value of an exact-match field satisfies `p`.
    fn str_any(&self, f: &StrField, mut p: impl FnMut(&str) -> bool) -> bool {
        let mut one = |v: &str| !v.is_empty() && p(v);
        match f {
            StrField::Id => one(&self.id_key),
            StrField::Name => one(&self.name_key),
            StrField::Url => one(&self.url_key),
            StrField::Version => one(&self.version_key),
            StrField::TitleString => one(&self.title_key),
            StrField::Capacity => one(if self.doc.private {
                "private"
            } else {
                "public"
            }),
            StrField::ResUrl => self.res_url_keys.iter().any(|v| one(v)),
            StrField::Extra(key) => self.extra_keys.iter().any(|(k, v)| k == key && one(v)),
        }
    }

    fn date(&self, f: DateField) -> DateTime<Utc> {
        match f {
            DateField::Created => self.doc.metadata_created,
            DateField::Modified => self.doc.metadata_modified,
        }
    }

    fn int(&self, f: IntField) -> i64 {
        let n = match f {
            IntField::NumResources => self.num_resources,
            IntField::NumTags => self.num_tags,
        };
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// Score of this document for the given terms: weighted occurrences.
    fn score(&self, terms: &[(TextField, String)]) -> u64 {
        let mut score = 0u64;
        for (field, term) in terms {
            match field.segment() {
                None => {
                    for_each_match(&self.all, term, |pos| {
                        let w = WEIGHTS.get(self.segment_at(pos)).copied().unwrap_or(1);
                        score = score.saturating_add(w);
                    });
                }
                Some(seg) => {
                    let w = WEIGHTS.get(seg).copied().unwrap_or(1);
                    for_each_match(self.segment(seg), term, |_| score = score.saturating_add(w));
                }
            }
        }
        score
    }

    /// Values of a field for facet counting (distinct, as stored).
    fn facet_values(&self, f: &FieldRef) -> Vec<String> {
        let d = &self.doc;
        let nonempty = |v: &[&String]| {
            v.iter()
                .filter(|s| !s.is_empty())
                .map(|s| (*s).clone())
                .collect::<Vec<_>>()
        };
        let mut out = match f {
            FieldRef::Text(TextField::Title) | FieldRef::Str(StrField::TitleString) => {
                nonempty(&[&d.title])
            }
            FieldRef::Text(TextField::Notes) => nonempty(&[&d.notes]),
            FieldRef::Text(TextField::Author) => nonempty(&[&d.author]),
            FieldRef::Text(TextField::Maintainer) => nonempty(&[&d.maintainer]),
            FieldRef::Text(TextField::ResName) => nonempty(&d.res_name.iter().collect::<Vec<_>>()),
            FieldRef::Text(TextField::ResDescription) => {
                nonempty(&d.res_description.iter().collect::<Vec<_>>())
            }
            FieldRef::Str(StrField::Id) => nonempty(&[&d.id]),
            FieldRef::Str(StrField::Name) => nonempty(&[&d.name]),
            FieldRef::Str(StrField::Url) => nonempty(&[&d.url]),
            FieldRef::Str(StrField::Version) => nonempty(&[&d.version]),
            FieldRef::Str(StrField::ResUrl) => nonempty(&d.res_url.iter().collect::<Vec<_>>()),
            FieldRef::Str(StrField::Capacity) => {
                vec![(if d.private { "private" } else { "public" }).to_owned()]
            }
            FieldRef::Str(StrField::Extra(key)) => self
                .extra_keys
                .iter()
                .zip(&d.extras)
                .filter(|((k, _), (_, v))| k == key && !v.is_empty())
                .map(|(_, (_, v))| v.clone())
                .collect(),
            FieldRef::Date(f) => vec![self.date(*f).to_rfc3339_opts(SecondsFormat::AutoSi, true)],
            FieldRef::Int(f) => vec![self.int(*f).to_string()],
            FieldRef::Const(c) => vec![(*c).to_owned()],
            FieldRef::Interned(_)
            | FieldRef::Text(TextField::All)
            | FieldRef::Star
            | FieldRef::AnyValue
            | FieldRef::Unknown => Vec::new(),
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

// ---------------------------------------------------------------------------
// Compiled queries
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum IdSet {
    One(u32),
    Mask(Vec<bool>),
}

impl IdSet {
    fn contains(&self, id: u32) -> bool {
        match self {
            IdSet::One(x) => *x == id,
            IdSet::Mask(m) => m.get(id as usize).copied().unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone)]
enum StrPred {
    Eq(String),
    /// Anchored glob: literal segments separated by `*`.
    Glob(Vec<String>),
    Range(Bound<String>, Bound<String>),
    Exists,
}

impl StrPred {
    fn test(&self, v: &str) -> bool {
        match self {
            StrPred::Eq(s) => v == s,
            StrPred::Glob(segs) => glob_anchored(v, segs),
            StrPred::Range(lo, hi) => in_bounds::<str, String>(v, lo, hi),
            StrPred::Exists => true,
        }
    }
}

/// A query compiled against an index.
#[derive(Debug, Clone)]
enum Node {
    All,
    Nothing,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// Normalised `term` is a substring of the field's normalised text.
    Text {
        field: TextField,
        term: String,
    },
    /// Unanchored glob over each value of the field.
    TextGlob {
        field: TextField,
        segs: Vec<String>,
    },
    TextExists(TextField),
    TextRange {
        field: TextField,
        lo: Bound<String>,
        hi: Bound<String>,
    },
    Interned {
        field: InternField,
        ids: IdSet,
    },
    InternedExists(InternField),
    Str {
        field: StrField,
        pred: StrPred,
    },
    Date {
        field: DateField,
        lo: Bound<DateTime<Utc>>,
        hi: Bound<DateTime<Utc>>,
    },
    Int {
        field: IntField,
        lo: Bound<i64>,
        hi: Bound<i64>,
    },
}

impl Node {
    fn eval(&self, e: &Entry) -> bool {
        match self {
            Node::All => true,
            Node::Nothing => false,
            Node::And(children) => children.iter().all(|c| c.eval(e)),
            Node::Or(children) => children.iter().any(|c| c.eval(e)),
            Node::Not(c) => !c.eval(e),
            Node::Text { field, term } => e.text(*field).contains(term.as_str()),
            Node::TextGlob { field, segs } => {
                e.text(*field).split(SEP).any(|v| glob_unanchored(v, segs))
            }
            Node::TextExists(field) => !e.text(*field).is_empty(),
            Node::TextRange { field, lo, hi } => e
                .text(*field)
                .split(SEP)
                .any(|v| !v.is_empty() && in_bounds::<str, String>(v, lo, hi)),
            Node::Interned { field, ids } => e.ids(*field).iter().any(|&id| ids.contains(id)),
            Node::InternedExists(field) => !e.ids(*field).is_empty(),
            Node::Str { field, pred } => e.str_any(field, |v| pred.test(v)),
            Node::Date { field, lo, hi } => in_bounds(&e.date(*field), lo, hi),
            Node::Int { field, lo, hi } => in_bounds(&e.int(*field), lo, hi),
        }
    }

    /// Rough cost of evaluating this node on one document.
    fn cost(&self) -> u32 {
        match self {
            Node::All | Node::Nothing => 0,
            Node::Interned { .. }
            | Node::InternedExists(_)
            | Node::Str { .. }
            | Node::Date { .. }
            | Node::Int { .. }
            | Node::TextExists(_) => 1,
            Node::Text { .. } | Node::TextGlob { .. } | Node::TextRange { .. } => 20,
            Node::Not(c) => c.cost(),
            Node::And(children) | Node::Or(children) => children
                .iter()
                .fold(0u32, |a, c| a.saturating_add(c.cost())),
        }
    }

    /// Flattens nested ANDs and ORs and orders children cheapest first, so
    /// that short-circuiting skips the substring checks where it can.
    fn optimize(self) -> Node {
        match self {
            Node::And(children) => {
                let mut flat = Vec::with_capacity(children.len());
                for c in children {
                    match c.optimize() {
                        Node::And(inner) => flat.extend(inner),
                        Node::All => {}
                        c => flat.push(c),
                    }
                }
                flat.sort_by_key(Node::cost);
                Node::And(flat)
            }
            Node::Or(children) => {
                let mut flat = Vec::with_capacity(children.len());
                for c in children {
                    match c.optimize() {
                        Node::Or(inner) => flat.extend(inner),
                        Node::Nothing => {}
                        c => flat.push(c),
                    }
                }
                flat.sort_by_key(Node::cost);
                Node::Or(flat)
            }
            Node::Not(c) => Node::Not(Box::new(c.optimize())),
            other => other,
        }
    }

    /// A bare term of one or two characters: its postings list is exactly
    /// the set of matching documents.
    fn exact_by_postings(&self) -> bool {
        matches!(self, Node::Text { field: TextField::All, term } if term.chars().nth(2).is_none())
    }

    /// An ascending superset of the matching slots, or `None` when every
    /// slot must be checked.
    fn candidates(&self, index: &Index) -> Option<Vec<u32>> {
        match self {
            Node::Nothing => Some(Vec::new()),
            Node::Text { term, .. } => index.postings_for(term),
            Node::Str {
                field: StrField::Id,
                pred: StrPred::Eq(id),
            } => {
                let mut slots = index.by_id_key.get(id).cloned().unwrap_or_default();
                slots.sort_unstable();
                Some(slots)
            }
            Node::Interned { field, ids } => {
                let lists = &index.interners[*field as usize].slots;
                match ids {
                    IdSet::One(id) => Some(lists.get(*id as usize).cloned().unwrap_or_default()),
                    IdSet::Mask(mask) => {
                        let mut acc: Vec<u32> = lists
                            .iter()
                            .zip(mask)
                            .filter(|(_, m)| **m)
                            .flat_map(|(l, _)| l.iter().copied())
                            .collect();
                        acc.sort_unstable();
                        acc.dedup();
                        Some(acc)
                    }
                }
            }
            Node::TextGlob { segs, .. } => segs
                .iter()
                .filter(|s| !s.is_empty())
                .max_by_key(|s| s.chars().count())
                .and_then(|s| index.postings_for(s)),
            Node::And(children) => {
                let lists: Vec<Vec<u32>> = children
                    .iter()
                    .filter_map(|c| c.candidates(index))
                    .collect();
                if lists.is_empty() {
                    None
                } else {
                    Some(intersect(lists.iter().map(Vec::as_slice).collect()))
                }
            }
            Node::Or(children) => {
                let mut acc = Vec::new();
                for c in children {
                    acc.extend(c.candidates(index)?);
                }
                acc.sort_unstable();
                acc.dedup();
                Some(acc)
            }
            _ => None,
        }
    }
}

/// Calls `f` with the byte offset of every non-overlapping occurrence of
/// `needle` in `hay`. Jumps between occurrences of the needle's first
/// character, which `str::find(char)` locates with a fast byte scan.
fn for_each_match(hay: &str, needle: &str, mut f: impl FnMut(usize)) {
    let Some(first) = needle.chars().next() else {
        return;
    };
    let mut from = 0;
    while let Some(rest) = hay.get(from..)
        && let Some(i) = rest.find(first)
    {
        let at = from + i;
        if hay.get(at..).is_some_and(|h| h.starts_with(needle)) {
            f(at);
            from = at + needle.len();
        } else {
            from = at + first.len_utf8();
        }
    }
}

fn in_bounds<T: ?Sized + Ord, B: Borrow<T>>(v: &T, lo: &Bound<B>, hi: &Bound<B>) -> bool {
    let lo_ok = match lo {
        Bound::Unbounded => true,
        Bound::Included(b) => v >= b.borrow(),
        Bound::Excluded(b) => v > b.borrow(),
    };
    let hi_ok = match hi {
        Bound::Unbounded => true,
        Bound::Included(b) => v <= b.borrow(),
        Bound::Excluded(b) => v < b.borrow(),
    };
    lo_ok && hi_ok
}

/// Whole-value glob: `segs` are the literal parts between `*`s.
fn glob_anchored(hay: &str, segs: &[String]) -> bool {
    match segs {
        [] => hay.is_empty(),
        [only] => hay == only,
        [first, mid @ .., last] => {
            let Some(mut rest) = hay.strip_prefix(first.as_str()) else {
                return false;
            };
            for m in mid {
                match rest.find(m.as_str()) {
                    Some(i) => rest = rest.get(i + m.len()..).unwrap_or(""),
                    None => return false,
                }
            }
            rest.ends_with(last.as_str())
        }
    }
}

/// Substring glob: the segments occur in order somewhere in `hay`.
fn glob_unanchored(hay: &str, segs: &[String]) -> bool {
    let mut rest = hay;
    for s in segs {
        if s.is_empty() {
            continue;
        }
        match rest.find(s.as_str()) {
            Some(i) => rest = rest.get(i + s.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Date math
// ---------------------------------------------------------------------------

/// Parses `NOW`, `2024-01-01T00:00:00Z`, `2024-01-01T00:00:00.5`,
/// `2024-01-01` and so on, followed by Solr date math such as `-1DAY` or
/// `/DAY`.
fn parse_date_math(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
    let (mut t, rest) = match s.strip_prefix("NOW") {
        Some(r) => (now, r),
        None => parse_date_prefix(s)?,
    };
    let mut chars = rest.chars().peekable();
    while let Some(op) = chars.next() {
        match op {
            '/' => {
                let unit = take_unit(&mut chars);
                t = round_date(t, &unit).ok_or("invalid rounding in date math")?;
            }
            '+' | '-' => {
                let mut n: i64 = 0;
                let mut any = false;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    chars.next();
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(d)))
                        .ok_or("number too large")?;
                    any = true;
                }
                if !any {
                    return Err("expected a number in date math");
                }
                let unit = take_unit(&mut chars);
                t = add_date(t, if op == '-' { -n } else { n }, &unit)
                    .ok_or("date out of range")?;
            }
            _ => return Err("unexpected character in date math"),
        }
    }
    Ok(t)
}

fn take_unit(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut unit = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_alphabetic) {
        chars.next();
        unit.push(c.to_ascii_uppercase());
    }
    unit
}

fn round_date(t: DateTime<Utc>, unit: &str) -> Option<DateTime<Utc>> {
    let d = t.date_naive();
    let n = match unit {
        "YEAR" | "YEARS" => NaiveDate::from_ymd_opt(d.year(), 1, 1)?.and_hms_opt(0, 0, 0)?,
        "MONTH" | "MONTHS" => {
            NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.and_hms_opt(0, 0, 0)?
        }
        "DAY" | "DAYS" | "DATE" => d.and_hms_opt(0, 0, 0)?,
        "HOUR" | "HOURS" => d.and_hms_opt(t.hour(), 0, 0)?,
        "MINUTE" | "MINUTES" => d.and_hms_opt(t.hour(), t.minute(), 0)?,
        "SECOND" | "SECONDS" => d.and_hms_opt(t.hour(), t.minute(), t.second())?,
        "MILLI" | "MILLIS" | "MILLISECOND" | "MILLISECONDS" => d.and_hms_milli_opt(
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis(),
        )?,
        _ => return None,
    };
    Some(n.and_utc())
}

fn add_date(t: DateTime<Utc>, n: i64, unit: &str) -> Option<DateTime<Utc>> {
    let months = |m: i64| {
        let m = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if n >= 0 {
            t.checked_add_months(m)
        } else {
            t.checked_sub_months(m)
        }
    };
    let delta = match unit {
        "YEAR" | "YEARS" => return months(n.checked_mul(12)?),
        "MONTH" | "MONTHS" => return months(n),
        "WEEK" | "WEEKS" => TimeDelta::try_weeks(n)?,
        "DAY" | "DAYS" | "DATE" => TimeDelta::try_days(n)?,
        "HOUR" | "HOURS" => TimeDelta::try_hours(n)?,
        "MINUTE" | "MINUTES" => TimeDelta::try_minutes(n)?,
        "SECOND" | "SECONDS" => TimeDelta::try_seconds(n)?,
        "MILLI" | "MILLIS" | "MILLISECOND" | "MILLISECONDS" => TimeDelta::try_milliseconds(n)?,
        _ => return None,
    };
    t.checked_add_signed(delta)
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]` at the start of `s`; returns
/// the instant (UTC) and what follows.
fn parse_date_prefix(s: &str) -> Result<(DateTime<Utc>, &str), &'static str> {
    const BAD: &str = "expected a date like 2024-01-01T00:00:00Z or NOW";
    let b = s.as_bytes();
    let mut i = 0usize;
    let num = |i: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*i..*i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *i += n;
        Some(part.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
    };
    let expect = |i: &mut usize, c: u8| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    let year = num(&mut i, 4).ok_or(BAD)?;
    expect(&mut i, b'-').ok_or(BAD)?;
    let month = num(&mut i, 2).ok_or(BAD)?;
    expect(&mut i, b'-').ok_or(BAD)?;
    let day = num(&mut i, 2).ok_or(BAD)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).map_err(|_| BAD)?, month, day)
        .ok_or("invalid date")?;
    let mut time = NaiveTime::MIN;
    if expect(&mut i, b'T').is_some() {
        let hour = num(&mut i, 2).ok_or(BAD)?;
        expect(&mut i, b':').ok_or(BAD)?;
        let minute = num(&mut i, 2).ok_or(BAD)?;
        let mut second = 0;
        let mut nano = 0;
        if expect(&mut i, b':').is_some() {
            second = num(&mut i, 2).ok_or(BAD)?;
            if expect(&mut i, b'.').is_some() {
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let digits = b.get(start..i).unwrap_or(&[]);
                if digits.is_empty() {
                    return Err(BAD);
                }
                for k in 0..9 {
                    nano = nano * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
                }
            }
        }
        time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano).ok_or("invalid time")?;
    }
    expect(&mut i, b'Z');
    let rest = s.get(i..).ok_or(BAD)?;
    Ok((date.and_time(time).and_utc(), rest))
}

// ---------------------------------------------------------------------------
// Query parser
// ---------------------------------------------------------------------------

/// A bare word: literal segments separated by unescaped `*`.
#[derive(Debug, Clone)]
struct Word {
    /// The unescaped text, `*` included.
    raw: String,
    segs: Vec<String>,
}

impl Word {
    fn literal(s: String) -> Word {
        Word {
            raw: s.clone(),
            segs: vec![s],
        }
    }
    fn is_glob(&self) -> bool {
        self.segs.len() > 1
    }
    /// Only `*`s: "has any value".
    fn is_star(&self) -> bool {
        self.is_glob() && self.segs.iter().all(String::is_empty)
    }
}

enum Endpoint {
    Open,
    Value(String),
}

/// Recursive-descent parser for the Lucene subset; compiles while parsing.
///
/// Grammar (AND binds tighter than OR, juxtaposition is AND):
/// ```text
/// or      := and (("OR" | "||") and)*
/// and     := unary (("AND" | "&&")? unary)*
/// unary   := ("NOT" | "-" | "!") unary | "+" unary | primary
/// primary := "(" or ")" | phrase | word | word ":" value
/// value   := "(" or ")" | phrase | range | word
/// range   := ("[" | "{") endpoint "TO" endpoint ("]" | "}")
/// ```
struct Parser<'a> {
    src: &'a str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    clauses: usize,
    negated: usize,
    index: &'a Index,
    now: DateTime<Utc>,
    /// In `q`, `unknown:value` is free text (like edismax), not a filter
    /// that matches nothing.
    free_unknown: bool,
    /// Positive free-text terms, for scoring.
    score_terms: Vec<(TextField, String)>,
}

type PResult<T> = Result<T, SearchError>;

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '^')
}

impl<'a> Parser<'a> {
    fn new(index: &'a Index, src: &'a str, now: DateTime<Utc>, free_unknown: bool) -> Parser<'a> {
        Parser {
            src,
            chars: src.chars().collect(),
            pos: 0,
            depth: 0,
            clauses: 0,
            negated: 0,
            index,
            now,
            free_unknown,
            score_terms: Vec::new(),
        }
    }

    fn err(&self, msg: &str) -> SearchError {
        SearchError::InvalidQuery(format!(
            "{msg} at character {} of {:?}",
            self.pos + 1,
            snippet(self.src)
        ))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// A keyword such as `AND` standing alone at the cursor.
    fn peek_kw(&self, kw: &str) -> bool {
        let mut n = 0;
        for (i, k) in kw.chars().enumerate() {
            if self.peek_at(i) != Some(k) {
                return false;
            }
            n = i + 1;
        }
        match self.peek_at(n) {
            None => true,
            Some(c) => c.is_whitespace() || c == '(' || c == '"',
        }
    }

    fn eat_kw(&mut self, kws: &[&str]) -> bool {
        for kw in kws {
            if self.peek_kw(kw) {
                self.pos += kw.chars().count();
                return true;
            }
        }
        false
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(self.err("query is nested too deeply"))
        } else {
            Ok(())
        }
    }

    fn count_clause(&mut self) -> PResult<()> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            Err(self.err("too many clauses"))
        } else {
            Ok(())
        }
    }

    /// Ignores a `^boost` suffix.
    fn skip_boost(&mut self) {
        if self.peek() == Some('^') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                self.pos += 1;
            }
        }
    }

    fn parse_top(&mut self) -> PResult<Node> {
        self.skip_ws();
        if self.peek().is_none() {
            return Ok(Node::All);
        }
        let node = self.parse_or(None)?;
        self.skip_ws();
        match self.peek() {
            None => Ok(node),
            Some(')') => Err(self.err("unbalanced parentheses: unexpected ')'")),
            Some(_) => Err(self.err("unexpected input")),
        }
    }

    fn parse_or(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        self.enter()?;
        let mut alts = vec![self.parse_and(df)?];
        loop {
            self.skip_ws();
            if !self.eat_kw(&["OR", "||"]) {
                break;
            }
            alts.push(self.parse_and(df)?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Nothing)
        } else {
            Node::Or(alts)
        })
    }

    fn at_and_end(&self) -> bool {
        self.peek().is_none()
            || self.peek() == Some(')')
            || self.peek_kw("OR")
            || self.peek_kw("||")
    }

    fn parse_and(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        let mut parts = Vec::new();
        loop {
            self.skip_ws();
            if self.at_and_end() {
                break;
            }
            if self.eat_kw(&["AND", "&&"]) {
                if parts.is_empty() {
                    return Err(self.err("AND without a left operand"));
                }
                self.skip_ws();
                if self.at_and_end() || self.peek_kw("AND") || self.peek_kw("&&") {
                    return Err(self.err("AND without a right operand"));
                }
                continue;
            }
            parts.push(self.parse_unary(df)?);
        }
        match parts.len() {
            0 => Err(self.err("expected a search clause")),
            1 => Ok(parts.pop().unwrap_or(Node::Nothing)),
            _ => Ok(Node::And(parts)),
        }
    }

    fn parse_unary(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        self.skip_ws();
        let negate = if self.eat_kw(&["NOT"]) {
            self.skip_ws();
            if self.at_and_end() {
                return Err(self.err("NOT without an operand"));
            }
            true
        } else if let Some(op @ ('-' | '!' | '+')) = self.peek() {
            self.pos += 1;
            if self.peek().is_none_or(char::is_whitespace) {
                return Err(self.err(&format!("'{op}' without an operand")));
            }
            op != '+'
        } else {
            return self.parse_primary(df);
        };
        self.enter()?;
        if negate {
            self.negated += 1;
        }
        let inner = self.parse_unary(df);
        if negate {
            self.negated -= 1;
        }
        self.depth -= 1;
        let inner = inner?;
        Ok(if negate {
            Node::Not(Box::new(inner))
        } else {
            inner
        })
    }

    fn expect_close(&mut self) -> PResult<()> {
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.err("unbalanced parentheses: missing ')'"));
        }
        self.pos += 1;
        self.skip_boost();
        Ok(())
    }

    fn parse_primary(&mut self, df: Option<&FieldRef>) -> PResult<Node> {
        let free = FieldRef::Text(TextField::All);
        match self.peek() {
            None => Err(self.err("expected a search clause")),
            Some('(') => {
                self.pos += 1;
                let node = self.parse_or(df)?;
                self.expect_close()?;
                Ok(node)
            }
            Some(')') => Err(self.err("unbalanced parentheses: unexpected ')'")),
            Some('"') => {
                let phrase = self.read_phrase()?;
                self.count_clause()?;
                self.leaf(df.unwrap_or(&free), Word::literal(phrase))
            }
            Some(_) => {
                let word = self.read_word(true)?;
                if self.peek() == Some(':') {
                    if word.raw.is_empty() {
                        return Err(self.err("missing field name before ':'"));
                    }
                    self.pos += 1;
                    return self.parse_value(FieldRef::parse(&word.raw), &word.raw);
                }
                if word.raw.is_empty() {
                    return Err(self.err("unexpected character"));
                }
                self.count_clause()?;
                match df {
                    None if word.is_star() => Ok(Node::All),
                    _ => self.leaf(df.unwrap_or(&free), word),
                }
            }
        }
    }

    fn parse_value(&mut self, field: FieldRef, name: &str) -> PResult<Node> {
        self.skip_ws();
        let missing = || format!("missing value for field {:?}", snippet(name));
        let field = match self.peek() {
            None | Some(')') => return Err(self.err(&missing())),
            Some('(' | '"' | '[' | '{') => {
                if self.free_unknown && field == FieldRef::Unknown {
                    FieldRef::Text(TextField::All)
                } else {
                    field
                }
            }
            Some(_) => {
                let word = self.read_word(false)?;
                if word.raw.is_empty() {
                    return Err(self.err(&missing()));
                }
                self.count_clause()?;
                if self.free_unknown && field == FieldRef::Unknown {
                    return self.leaf(
                        &FieldRef::Text(TextField::All),
                        Word::literal(format!("{name}:{}", word.raw)),
                    );
                }
                return self.leaf(&field, word);
            }
        };
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let node = self.parse_or(Some(&field))?;
                self.expect_close()?;
                Ok(node)
            }
            Some('"') => {
                let phrase = self.read_phrase()?;
                self.count_clause()?;
                self.leaf(&field, Word::literal(phrase))
            }
            _ => {
                self.count_clause()?;
                self.parse_range(&field)
            }
        }
    }

    fn read_phrase(&mut self) -> PResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = start;
                    return Err(self.err("unbalanced quotes"));
                }
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(self.err("dangling escape character")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        // Proximity (`"a b"~2`) and boosts are accepted and ignored.
        if self.peek() == Some('~') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        self.skip_boost();
        Ok(out)
    }

    fn read_word(&mut self, stop_at_colon: bool) -> PResult<Word> {
        let mut raw = String::new();
        let mut segs = vec![String::new()];
        while let Some(c) = self.peek() {
            if is_word_end(c) || (stop_at_colon && c == ':') {
                break;
            }
            self.pos += 1;
            let lit = match c {
                '\\' => {
                    let Some(n) = self.peek() else {
                        return Err(self.err("dangling escape character"));
                    };
                    self.pos += 1;
                    n
                }
                '*' => {
                    raw.push('*');
                    segs.push(String::new());
                    continue;
                }
                c => c,
            };
            raw.push(lit);
            if let Some(s) = segs.last_mut() {
                s.push(lit);
            }
        }
        self.skip_boost();
        Ok(Word { raw, segs })
    }

    fn read_endpoint(&mut self) -> PResult<Endpoint> {
        if self.peek() == Some('"') {
            return Ok(Endpoint::Value(self.read_phrase()?));
        }
        let mut s = String::new();
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ']' || c == '}' {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                let Some(n) = self.peek() else {
                    return Err(self.err("dangling escape character"));
                };
                self.pos += 1;
                escaped = true;
                s.push(n);
            } else {
                s.push(c);
            }
        }
        if s.is_empty() {
            return Err(self.err("missing range endpoint"));
        }
        Ok(if s == "*" && !escaped {
            Endpoint::Open
        } else {
            Endpoint::Value(s)
        })
    }

    fn parse_range(&mut self, field: &FieldRef) -> PResult<Node> {
        let lo_inc = self.peek() == Some('[');
        self.pos += 1;
        self.skip_ws();
        let lo = self.read_endpoint()?;
        self.skip_ws();
        if !self.eat_kw(&["TO"]) {
            return Err(self.err("a range must look like [a TO b]"));
        }
        self.skip_ws();
        let hi = self.read_endpoint()?;
        self.skip_ws();
        let hi_inc = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.err("unterminated range: expected ']' or '}'")),
        };
        self.pos += 1;
        self.skip_boost();
        self.range_leaf(field, lo, lo_inc, hi, hi_inc)
    }

    fn bound<T>(
        &self,
        e: Endpoint,
        inclusive: bool,
        conv: impl Fn(&Self, &str) -> PResult<T>,
    ) -> PResult<Bound<T>> {
        Ok(match e {
            Endpoint::Open => Bound::Unbounded,
            Endpoint::Value(v) if inclusive => Bound::Included(conv(self, &v)?),
            Endpoint::Value(v) => Bound::Excluded(conv(self, &v)?),
        })
    }

    fn date(&self, s: &str) -> PResult<DateTime<Utc>> {
        parse_date_math(s, self.now)
            .map_err(|m| self.err(&format!("invalid date {:?}: {m}", snippet(s))))
    }

    fn int(&self, s: &str) -> PResult<i64> {
        s.parse::<i64>()
            .map_err(|_| self.err(&format!("invalid number {:?}", snippet(s))))
    }

    fn range_leaf(
        &self,
        field: &FieldRef,
        lo: Endpoint,
        lo_inc: bool,
        hi: Endpoint,
        hi_inc: bool,
    ) -> PResult<Node> {
        let text = |_: &Self, s: &str| Ok(norm_text(s, true));
        let exact = |_: &Self, s: &str| Ok(nfkc(s));
        Ok(match field {
            FieldRef::Star | FieldRef::Unknown => Node::Nothing,
            FieldRef::AnyValue => Node::All,
            FieldRef::Const(c) => {
                let (lo, hi) = (
                    self.bound(lo, lo_inc, exact)?,
                    self.bound(hi, hi_inc, exact)?,
                );
                if in_bounds::<str, String>(c, &lo, &hi) {
                    Node::All
                } else {
                    Node::Nothing
                }
            }
            FieldRef::Text(f) => Node::TextRange {
                field: *f,
                lo: self.bound(lo, lo_inc, text)?,
                hi: self.bound(hi, hi_inc, text)?,
            },
            FieldRef::Str(f) => {
                let pred = StrPred::Range(
                    self.bound(lo, lo_inc, exact)?,
                    self.bound(hi, hi_inc, exact)?,
                );
                Node::Str {
                    field: f.clone(),
                    pred,
                }
            }
            FieldRef::Interned(f) => {
                let key = |_: &Self, s: &str| Ok(f.key(s));
                let (lo, hi) = (self.bound(lo, lo_inc, key)?, self.bound(hi, hi_inc, key)?);
                let keys = &self.index.interners[*f as usize].keys;
                let mask = keys
                    .iter()
                    .map(|k| in_bounds::<str, String>(k, &lo, &hi))
                    .collect();
                Node::Interned {
                    field: *f,
                    ids: IdSet::Mask(mask),
                }
            }
            FieldRef::Date(f) => Node::Date {
                field: *f,
                lo: self.bound(lo, lo_inc, Self::date)?,
                hi: self.bound(hi, hi_inc, Self::date)?,
            },
            FieldRef::Int(f) => Node::Int {
                field: *f,
                lo: self.bound(lo, lo_inc, Self::int)?,
                hi: self.bound(hi, hi_inc, Self::int)?,
            },
        })
    }

    /// Compiles `field:word` (a phrase arrives as a literal word).
    fn leaf(&mut self, field: &FieldRef, word: Word) -> PResult<Node> {
        Ok(match field {
            FieldRef::Star if word.is_star() => Node::All,
            FieldRef::Star => return self.text_leaf(TextField::All, word),
            FieldRef::Unknown => Node::Nothing,
            FieldRef::AnyValue => Node::All,
            FieldRef::Const(c) => {
                if glob_anchored(c, &word.segs) {
                    Node::All
                } else {
                    Node::Nothing
                }
            }
            FieldRef::Text(f) => return self.text_leaf(*f, word),
            FieldRef::Str(f) => {
                let pred = if word.is_star() {
                    StrPred::Exists
                } else if word.is_glob() {
                    StrPred::Glob(word.segs.iter().map(|s| nfkc(s)).collect())
                } else {
                    StrPred::Eq(nfkc(&word.raw))
                };
                Node::Str {
                    field: f.clone(),
                    pred,
                }
            }
            FieldRef::Interned(f) => {
                let interner = &self.index.interners[*f as usize];
                if word.is_star() {
                    Node::InternedExists(*f)
                } else if word.is_glob() {
                    let segs: Vec<String> = word.segs.iter().map(|s| f.key(s)).collect();
                    let mask = interner
                        .keys
                        .iter()
                        .map(|k| glob_anchored(k, &segs))
                        .collect();
                    Node::Interned {
                        field: *f,
                        ids: IdSet::Mask(mask),
                    }
                } else {
                    match interner.map.get(&f.key(&word.raw)) {
                        Some(&id) => Node::Interned {
                            field: *f,
                            ids: IdSet::One(id),
                        },
                        None => Node::Nothing,
                    }
                }
            }
            FieldRef::Date(_) | FieldRef::Int(_) if word.is_star() => Node::All,
            FieldRef::Date(f) => {
                let d = self.date(&word.raw)?;
                Node::Date {
                    field: *f,
                    lo: Bound::Included(d),
                    hi: Bound::Included(d),
                }
            }
            FieldRef::Int(f) => {
                let n = self.int(&word.raw)?;
                Node::Int {
                    field: *f,
                    lo: Bound::Included(n),
                    hi: Bound::Included(n),
                }
            }
        })
    }

    fn text_leaf(&mut self, field: TextField, word: Word) -> PResult<Node> {
        if word.is_glob() {
            let segs: Vec<String> = word.segs.iter().map(|s| norm_text(s, false)).collect();
            if segs.iter().all(String::is_empty) {
                return Ok(Node::TextExists(field));
            }
            return Ok(Node::TextGlob { field, segs });
        }
        let term = norm_text(&word.raw, true);
        if term.is_empty() {
            // Nothing searchable (e.g. only control characters): no constraint.
            return Ok(Node::All);
        }
        if self.negated == 0 {
            self.score_terms.push((field, term.clone()));
        }
        Ok(Node::Text { field, term })
    }
}

// ---------------------------------------------------------------------------
// Sorting
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Id,
    Name,
    Title,
    Modified,
    Created,
    Score,
    NumResources,
    NumTags,
}

/// Parses a CKAN sort string into (key, descending) pairs.
fn parse_sort(sort: Option<&str>) -> Result<Vec<(SortKey, bool)>, SearchError> {
    let default = vec![(SortKey::Score, true), (SortKey::Modified, true)];
    let sort = sort.map(str::trim).unwrap_or("");
    let mut keys = Vec::new();
    for clause in sort.split(',') {
        let clause = clause.trim();
        if clause.is_empty() {
            continue;
        }
        let mut parts = clause.split_whitespace();
        let (Some(field), dir, None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SearchError::InvalidSort(format!(
                "expected \"field asc|desc\", got {:?}",
                snippet(clause)
            )));
        };
        let key = match field {
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "title_string" => SortKey::Title,
            "metadata_modified" => SortKey::Modified,
            "metadata_created" => SortKey::Created,
            "score" => SortKey::Score,
            "num_resources" => SortKey::NumResources,
            "num_tags" => SortKey::NumTags,
            _ => return Err(SearchError::UnknownSortField(snippet(field))),
        };
        let desc = match dir.map(str::to_ascii_lowercase).as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(SearchError::InvalidSort(format!(
                    "unknown sort direction in {:?}",
                    snippet(clause)
                )));
            }
            None => {
                return Err(SearchError::InvalidSort(format!(
                    "missing sort direction (asc or desc) in {:?}",
                    snippet(clause)
                )));
            }
        };
        keys.push((key, desc));
    }
    Ok(if keys.is_empty() { default } else { keys })
}

struct Hit<'a> {
    e: &'a Entry,
    score: u64,
}

fn compare(keys: &[(SortKey, bool)], a: &Hit<'_>, b: &Hit<'_>) -> Ordering {
    for &(key, desc) in keys {
        let (x, y) = (&a.e.doc, &b.e.doc);
        let o = match key {
            SortKey::Id => x.id.cmp(&y.id),
            SortKey::Name => x.name.cmp(&y.name),
            SortKey::Title => a.e.title_sort.cmp(&b.e.title_sort),
            SortKey::Modified => x.metadata_modified.cmp(&y.metadata_modified),
            SortKey::Created => x.metadata_created.cmp(&y.metadata_created),
            SortKey::Score => a.score.cmp(&b.score),
            SortKey::NumResources => a.e.num_resources.cmp(&b.e.num_resources),
            SortKey::NumTags => a.e.num_tags.cmp(&b.e.num_tags),
        };
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.e.doc.id.cmp(&b.e.doc.id)
}

// ---------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------

/// An in-memory, searchable set of datasets.
#[derive(Debug, Clone, Default)]
pub struct Index {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    by_id: HashMap<String, u32>,
    /// Slots by NFKC-normalised id, for `id:` filters.
    by_id_key: HashMap<String, Vec<u32>>,
    postings: Postings,
    interners: [Interner; INTERNED],
}

impl Index {
    /// Indexes `docs`; of several documents with one id the last wins.
    pub fn new(docs: Vec<Doc>) -> Index {
        let mut index = Index::default();
        for doc in docs {
            index.upsert(doc);
        }
        for list in index.postings.values_mut() {
            list.shrink_to_fit();
        }
        index
    }

    /// Adds a document, replacing any with the same id.
    pub fn upsert(&mut self, doc: Doc) {
        self.remove(&doc.id);
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let Ok(s) = u32::try_from(self.slots.len()) else {
                    return;
                };
                self.slots.push(None);
                s
            }
        };
        let entry = Entry::build(doc, slot, &mut self.interners);
        for g in doc_grams(&entry.all) {
            let list = self.postings.entry(g).or_default();
            if let Err(i) = list.binary_search(&slot) {
                list.insert(i, slot);
            }
        }
        self.by_id.insert(entry.doc.id.clone(), slot);
        self.by_id_key
            .entry(entry.id_key.clone())
            .or_default()
            .push(slot);
        if let Some(s) = self.slots.get_mut(slot as usize) {
            *s = Some(entry);
        }
    }

    /// Removes the document with this id, if any.
    pub fn remove(&mut self, id: &str) {
        let Some(slot) = self.by_id.remove(id) else {
            return;
        };
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        for g in doc_grams(&entry.all) {
            if let Some(list) = self.postings.get_mut(&g)
                && let Ok(i) = list.binary_search(&slot)
            {
                list.remove(i);
                if list.is_empty() {
                    self.postings.remove(&g);
                }
            }
        }
        for f in INTERN_FIELDS {
            self.interners[f as usize].release(slot, entry.ids(f));
        }
        if let Some(slots) = self.by_id_key.get_mut(&entry.id_key) {
            slots.retain(|&s| s != slot);
            if slots.is_empty() {
                self.by_id_key.remove(&entry.id_key);
            }
        }
        self.free.push(slot);
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The document with this id.
    pub fn get(&self, id: &str) -> Option<&Doc> {
        let slot = *self.by_id.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|e| &e.doc)
    }

    /// Slots of documents whose text contains `term`, or `None` if the
    /// term gives no clue.
    fn postings_for(&self, term: &str) -> Option<Vec<u32>> {
        let grams = term_grams(term);
        if grams.is_empty() {
            return None;
        }
        let mut lists: Vec<&[u32]> = Vec::with_capacity(grams.len());
        for g in &grams {
            match self.postings.get(g) {
                Some(l) => lists.push(l),
                None => return Some(Vec::new()),
            }
        }
        Some(intersect(lists))
    }

    fn parse_q(
        &self,
        q: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Node, Vec<(TextField, String)>), SearchError> {
        let q = q.unwrap_or("").trim();
        if q.is_empty() {
            return Ok((Node::All, Vec::new()));
        }
        let mut parser = Parser::new(self, q, now, true);
        match parser.parse_top() {
            Ok(node) => Ok((node, parser.score_terms)),
            // Field syntax must be right; plain words never fail (as with
            // CKAN's dismax): fall back to whitespace-separated terms.
            Err(e) if q.contains(':') => Err(e),
            Err(_) => {
                let mut nodes = Vec::new();
                let mut terms = Vec::new();
                for w in q.split_whitespace().take(MAX_CLAUSES) {
                    let term = norm_text(&w.replace('"', ""), true);
                    if !term.is_empty() {
                        nodes.push(Node::Text {
                            field: TextField::All,
                            term: term.clone(),
                        });
                        terms.push((TextField::All, term));
                    }
                }
                Ok((Node::And(nodes), terms))
            }
        }
    }

    /// Runs a search. `now` anchors `NOW` in date math.
    pub fn search(
        &self,
        req: &SearchRequest,
        now: DateTime<Utc>,
    ) -> Result<SearchResult, SearchError> {
        let sort = parse_sort(req.sort.as_deref())?;
        let (qnode, score_terms) = self.parse_q(req.q.as_deref(), now)?;
        let mut clauses = vec![qnode];
        for fq in &req.fq {
            clauses.push(Parser::new(self, fq, now, false).parse_top()?);
        }
        let mut root = Node::And(clauses).optimize();
        let candidates = root.candidates(self);
        if candidates.is_some()
            && let Node::And(children) = &mut root
        {
            // Their postings already decided these.
            children.retain(|c| !c.exact_by_postings());
        }

        let owners = &self.interners[InternField::OwnerOrg as usize];
        let allowed: Vec<u32> = req
            .private_orgs
            .iter()
            .filter_map(|o| owners.map.get(&InternField::OwnerOrg.key(o)).copied())
            .collect();
        let visible = |e: &Entry| {
            !e.doc.private
                || e.ids(InternField::OwnerOrg)
                    .iter()
                    .any(|o| allowed.contains(o))
        };

        let mut hits: Vec<Hit<'_>> = Vec::new();
        let mut consider = |slot: usize| {
            if let Some(Some(e)) = self.slots.get(slot)
                && visible(e)
                && root.eval(e)
            {
                hits.push(Hit { e, score: 0 });
            }
        };
        match candidates {
            Some(list) => list.into_iter().for_each(|s| consider(s as usize)),
            None => (0..self.slots.len()).for_each(consider),
        }

        if !score_terms.is_empty() && sort.iter().any(|(k, _)| *k == SortKey::Score) {
            for h in &mut hits {
                h.score = h.e.score(&score_terms);
            }
        }

        let facets = self.facets(&hits, req);

        let count = hits.len();
        let k = req.start.saturating_add(req.rows).min(count);
        let cmp = |a: &Hit<'_>, b: &Hit<'_>| compare(&sort, a, b);
        if k == 0 {
            hits.clear();
        } else if k < count {
            hits.select_nth_unstable_by(k - 1, cmp);
            hits.truncate(k);
        }
        hits.sort_unstable_by(cmp);
        let ids = hits
            .iter()
            .skip(req.start)
            .map(|h| h.e.doc.id.clone())
            .collect();
        Ok(SearchResult { count, ids, facets })
    }

    /// Facet counts over all hits.
    fn facets(&self, hits: &[Hit<'_>], req: &SearchRequest) -> Vec<(String, Vec<(String, usize)>)> {
        let mut names: Vec<&String> = Vec::new();
        for name in &req.facet_fields {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let fields: Vec<FieldRef> = names.iter().map(|n| FieldRef::parse(n)).collect();
        // Interned fields are counted by id, all in one pass over the hits.
        let interned: Vec<(usize, InternField)> = fields
            .iter()
            .enumerate()
            .filter_map(|(k, f)| match f {
                FieldRef::Interned(f) => Some((k, *f)),
                _ => None,
            })
            .collect();
        let mut counts: Vec<Vec<usize>> = interned
            .iter()
            .map(|&(_, f)| vec![0usize; self.interners[f as usize].keys.len()])
            .collect();
        if !interned.is_empty() {
            for h in hits {
                for (&(_, f), counts) in interned.iter().zip(&mut counts) {
                    for &id in h.e.ids(f) {
                        if let Some(c) = counts.get_mut(id as usize) {
                            *c += 1;
                        }
                    }
                }
            }
        }
        let min = req.facet_mincount;
        let limit = usize::try_from(req.facet_limit).ok();
        let mut out = Vec::with_capacity(names.len());
        for (k, (name, field)) in names.iter().zip(&fields).enumerate() {
            let values = if let Some(pos) = interned.iter().position(|&(i, _)| i == k)
                && let (Some(&(_, f)), Some(counts)) = (interned.get(pos), counts.get(pos))
            {
                let interner = &self.interners[f as usize];
                let values = counts
                    .iter()
                    .zip(&interner.display)
                    .zip(&interner.slots)
                    .filter(|&((&c, _), slots)| c >= min && (c > 0 || !slots.is_empty()))
                    .map(|((&c, d), _)| (d.as_str(), c))
                    .collect();
                top_values(values, limit)
            } else {
                let mut map: HashMap<String, usize> = HashMap::new();
                for h in hits {
                    for v in h.e.facet_values(field) {
                        *map.entry(v).or_default() += 1;
                    }
                }
                if min == 0 {
                    for e in self.slots.iter().flatten() {
                        for v in e.facet_values(field) {
                            map.entry(v).or_default();
                        }
                    }
                }
                top_values(
                    map.iter()
                        .filter(|&(_, &c)| c >= min)
                        .map(|(v, &c)| (v.as_str(), c))
                        .collect(),
                    limit,
                )
            };
            out.push(((*name).clone(), values));
        }
        out
    }
}

/// Orders facet values by count descending then value, keeping `limit`.
fn top_values(mut values: Vec<(&str, usize)>, limit: Option<usize>) -> Vec<(String, usize)> {
    let order = |a: &(&str, usize), b: &(&str, usize)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    if let Some(limit) = limit
        && limit < values.len()
    {
        if limit == 0 {
            return Vec::new();
        }
        values.select_nth_unstable_by(limit - 1, order);
        values.truncate(limit);
    }
    values.sort_unstable_by(order);
    values.into_iter().map(|(v, c)| (v.to_owned(), c)).collect()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_date_math(s, DateTime::<Utc>::default()).expect("test date")
    }

    fn now() -> DateTime<Utc> {
        at("2025-06-02T00:00:00Z")
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn fixture() -> Index {
        let mut a1 = Doc::new("a1", "shiritsu-koen");
        a1.title = "市立公園一覧".into();
        a1.notes = "市内の公園の所在地と面積".into();
        a1.organization = "city-a".into();
        a1.organization_title = "みどり市".into();
        a1.owner_org = "org-a-id".into();
        a1.tags = strs(&["公園", "観光"]);
        a1.groups = strs(&["parks"]);
        a1.res_format = strs(&["CSV", "PDF"]);
        a1.license_id = "cc-by".into();
        a1.extras = vec![
            ("spatial".into(), "東京都".into()),
            ("update_frequency".into(), "monthly".into()),
            ("note".into(), "two words".into()),
        ];
        a1.metadata_created = at("2023-01-01T00:00:00Z");
        a1.metadata_modified = at("2024-03-01T00:00:00Z");

        let mut a2 = Doc::new("a2", "kosodate-shisetsu");
        a2.title = "子育て支援施設".into();
        a2.notes = "保育所、児童館などの一覧。Tokyo 受付 9:00-17:00".into();
        a2.organization = "city-a".into();
        a2.organization_title = "みどり市".into();
        a2.owner_org = "org-a-id".into();
        a2.tags = strs(&["子育て", "福祉"]);
        a2.groups = strs(&["welfare"]);
        a2.res_format = strs(&["csv"]);
        a2.metadata_created = at("2024-01-01T00:00:00Z");
        a2.metadata_modified = at("2024-06-15T00:00:00Z");

        let mut a3 = Doc::new("a3", "park-toilets");
        a3.title = "公園トイレ".into();
        a3.notes = "公衆トイレの位置".into();
        a3.tags = strs(&["公園"]);
        a3.res_format = strs(&["Csv"]);
        a3.metadata_created = at("2023-06-01T00:00:00Z");
        a3.metadata_modified = at("2024-03-01T00:00:00Z");
        a3.res_description = strs(&["位置情報", "設備", "開設時間"]);

        let mut b1 = Doc::new("b1", "bus-stops");
        b1.title = "バス停一覧".into();
        b1.notes = "コミュニティバスの停留所 (GTFS)".into();
        b1.organization = "city-b".into();
        b1.owner_org = "org-b-id".into();
        b1.tags = strs(&["交通", "バス"]);
        b1.res_format = strs(&["GTFS", "ZIP"]);
        b1.license_id = "odc-by".into();
        b1.author = "交通政策課".into();
        b1.metadata_created = at("2024-12-01T00:00:00Z");
        b1.metadata_modified = at("2025-01-10T00:00:00Z");

        let mut b2 = Doc::new("b2", "population");
        b2.title = "人口統計 2024".into();
        b2.notes = "年齢別人口。ＣＳＶ形式".into();
        b2.organization = "city-b".into();
        b2.owner_org = "org-b-id".into();
        b2.tags = strs(&["人口", "統計"]);
        b2.res_format = strs(&["XLSX"]);
        b2.res_name = strs(&["年齢別人口表"]);
        b2.res_description = strs(&["5歳階級"]);
        b2.res_url = strs(&["https://example.jp/pop.xlsx"]);
        b2.url = "https://example.jp/pop".into();
        b2.version = "1.0".into();
        b2.maintainer = "統計係".into();
        b2.metadata_created = at("2025-06-01T00:00:00Z");
        b2.metadata_modified = at("2025-06-01T12:00:00Z");

        let mut c1 = Doc::new("c1", "private-budget");
        c1.title = "予算案（内部）".into();
        c1.organization = "city-c".into();
        c1.owner_org = "org-c-id".into();
        c1.private = true;
        c1.tags = strs(&["予算"]);
        c1.res_format = strs(&["csv"]);
        c1.metadata_created = at("2025-02-01T00:00:00Z");
        c1.metadata_modified = at("2025-02-01T00:00:00Z");

        Index::new(vec![a1, a2, a3, b1, b2, c1])
    }

    fn run(index: &Index, req: &SearchRequest) -> SearchResult {
        index.search(req, now()).expect("search")
    }

    fn req(q: &str, fq: &[&str]) -> SearchRequest {
        SearchRequest {
            q: Some(q.to_owned()),
            fq: strs(fq),
            sort: Some("id asc".into()),
            rows: 100,
            ..SearchRequest::default()
        }
    }

    fn q(index: &Index, q: &str) -> Vec<String> {
        run(index, &req(q, &[])).ids
    }

    fn fq(index: &Index, fq: &str) -> Vec<String> {
        run(index, &req("", &[fq])).ids
    }

    #[track_caller]
    fn fq_is(index: &Index, filter: &str, want: &[&str]) {
        assert_eq!(fq(index, filter), strs(want), "fq {filter:?}");
    }

    #[track_caller]
    fn q_is(index: &Index, query: &str, want: &[&str]) {
        assert_eq!(q(index, query), strs(want), "q {query:?}");
    }

    #[track_caller]
    fn fq_err(index: &Index, filter: &str) {
        let r = index.search(&req("", &[filter]), now());
        assert!(
            matches!(r, Err(SearchError::InvalidQuery(_))),
            "fq {filter:?} gave {r:?}"
        );
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            norm_text("ＣＳＶ　データ", true),
            "csv データ".replace("データ", "でーた")
        );
        assert_eq!(norm_text("ｺｳｴﾝ", true), "こうえん");
        assert_eq!(norm_text("  a\t\u{3000}b \n", true), "a b");
        assert_eq!(norm_text("ヴァ", true), "ゔぁ");
        assert_eq!(nfkc("ＡＢＣ"), "ABC");
    }

    #[test]
    fn japanese_free_text() {
        let idx = fixture();
        q_is(&idx, "公園", &["a1", "a3"]);
        q_is(&idx, "子育て", &["a2"]);
        q_is(&idx, "施設", &["a2"]);
        // Katakana, hiragana and half-width katakana are the same.
        q_is(&idx, "ばす", &["b1"]);
        q_is(&idx, "バス", &["b1"]);
        q_is(&idx, "ﾊﾞｽ", &["b1"]);
        q_is(&idx, "といれ", &["a3"]);
        // Full-width ASCII and case.
        q_is(&idx, "ｃｓｖ形式", &["b2"]);
        q_is(&idx, "CSV", &["b2"]);
        q_is(&idx, "TOKYO", &["a2"]);
        q_is(&idx, "Ｔｏｋｙｏ", &["a2"]);
        // Terms are ANDed; ideographic space separates.
        q_is(&idx, "公園　一覧", &["a1"]);
        q_is(&idx, "公園 トイレ", &["a3"]);
        q_is(&idx, "公園 子育て", &[]);
        // Single characters.
        q_is(&idx, "停", &["b1"]);
        // Phrases keep their spaces.
        q_is(&idx, "\"停留所 (GTFS)\"", &["b1"]);
        q_is(&idx, "\"停留所 GTFS\"", &[]);
        // Tags, organization, groups, resources, extras and people are searchable.
        q_is(&idx, "観光", &["a1"]);
        q_is(&idx, "city-b", &["b1", "b2"]);
        q_is(&idx, "ミドリ市", &["a1", "a2"]);
        q_is(&idx, "welfare", &["a2"]);
        q_is(&idx, "年齢別人口表", &["b2"]);
        q_is(&idx, "階級", &["b2"]);
        q_is(&idx, "東京都", &["a1"]);
        q_is(&idx, "政策", &["b1"]);
        q_is(&idx, "統計係", &["b2"]);
        q_is(&idx, "toilets", &["a3"]);
        // Everything.
        for all in ["", "   ", "*", "*:*", "\u{3000}"] {
            q_is(&idx, all, &["a1", "a2", "a3", "b1", "b2"]);
        }
        // Prefix-only wildcard in free text.
        q_is(&idx, "子育*", &["a2"]);
        // Nothing found.
        q_is(&idx, "存在しない語", &[]);
    }

    #[test]
    fn q_with_field_syntax() {
        let idx = fixture();
        q_is(&idx, "tags:公園", &["a1", "a3"]);
        q_is(&idx, "tags:公園 AND res_format:CSV", &["a1", "a3"]);
        q_is(&idx, "-tags:公園", &["a2", "b1", "b2"]);
        q_is(&idx, "一覧 organization:city-b", &["b1"]);
        q_is(&idx, "一覧 -organization:city-b", &["a1", "a2"]);
        q_is(&idx, "公園 OR バス", &["a1", "a3", "b1"]);
        q_is(&idx, "(公園 OR バス) NOT トイレ", &["a1", "b1"]);
        // An unknown field in q is plain text, as with edismax.
        q_is(&idx, "9:00-17:00", &["a2"]);
        // Broken plain q falls back to terms instead of failing.
        q_is(&idx, "公園 (", &[]);
        q_is(&idx, "\"公園", &["a1", "a3"]);
        q_is(&idx, "AND", &[]);
        // Broken field syntax is an error.
        assert!(idx.search(&req("tags:(公園", &[]), now()).is_err());
        assert!(idx.search(&req("tags:", &[]), now()).is_err());
    }

    #[test]
    fn fq_exact_and_text_fields() {
        let idx = fixture();
        fq_is(&idx, "organization:city-a", &["a1", "a2"]);
        fq_is(&idx, "organization:\"city-a\"", &["a1", "a2"]);
        fq_is(&idx, "organization:city", &[]);
        fq_is(&idx, "owner_org:org-a-id", &["a1", "a2"]);
        fq_is(&idx, "groups:parks", &["a1"]);
        fq_is(&idx, "license_id:cc-by", &["a1"]);
        fq_is(&idx, "tags:公園", &["a1", "a3"]);
        fq_is(&idx, "tags:公", &[]);
        fq_is(&idx, "tags:ｺｳｴﾝ", &[]);
        fq_is(&idx, "res_format:CSV", &["a1", "a2", "a3"]);
        fq_is(&idx, "res_format:csv", &["a1", "a2", "a3"]);
        fq_is(&idx, "res_format:ｃｓｖ", &["a1", "a2", "a3"]);
        fq_is(&idx, "res_format:gtfs", &["b1"]);
        fq_is(&idx, "id:a1", &["a1"]);
        fq_is(&idx, "id:(a1 OR b2 OR zz)", &["a1", "b2"]);
        fq_is(&idx, "id:ａ１", &["a1"]);
        fq_is(&idx, "id:a", &[]);
        fq_is(&idx, "id:\"b2\"", &["b2"]);
        fq_is(&idx, "name:bus-stops", &["b1"]);
        fq_is(&idx, "name:bus", &[]);
        fq_is(&idx, "url:\"https://example.jp/pop\"", &["b2"]);
        fq_is(&idx, "res_url:https://example.jp/pop.xlsx", &["b2"]);
        fq_is(&idx, "version:1.0", &["b2"]);
        fq_is(&idx, "title_string:公園トイレ", &["a3"]);
        // Text fields match substrings after normalisation.
        fq_is(&idx, "title:公園", &["a1", "a3"]);
        fq_is(&idx, "title:といれ", &["a3"]);
        fq_is(&idx, "notes:トイレ", &["a3"]);
        fq_is(&idx, "notes:tokyo", &["a2"]);
        fq_is(&idx, "text:子育て", &["a2"]);
        fq_is(&idx, "res_name:人口", &["b2"]);
        fq_is(&idx, "res_description:階級", &["b2"]);
        fq_is(&idx, "author:交通", &["b1"]);
        fq_is(&idx, "maintainer:統計", &["b2"]);
        fq_is(&idx, "title:\"人口統計 2024\"", &["b2"]);
        // Unknown fields match nothing.
        fq_is(&idx, "nonexistent:x", &[]);
        fq_is(&idx, "nonexistent:*", &[]);
        fq_is(&idx, "extras_:x", &[]);
    }

    #[test]
    fn fq_constant_fields() {
        let idx = fixture();
        let all = ["a1", "a2", "a3", "b1", "b2"];
        fq_is(&idx, "dataset_type:dataset", &all);
        fq_is(&idx, "type:dataset", &all);
        fq_is(&idx, "type:harvest", &[]);
        fq_is(&idx, "state:active", &all);
        fq_is(&idx, "state:deleted", &[]);
        fq_is(&idx, "entity_type:package", &all);
        fq_is(&idx, "site_id:anything", &all);
        fq_is(&idx, "+permission_labels:(public OR creator-x)", &all);
        fq_is(&idx, "capacity:public", &all);
        fq_is(&idx, "capacity:private", &[]);
        fq_is(&idx, "*:*", &all);
        fq_is(&idx, "", &all);
        fq_is(&idx, "  ", &all);
    }

    #[test]
    fn fq_boolean_operators() {
        let idx = fixture();
        fq_is(&idx, "-organization:city-a", &["a3", "b1", "b2"]);
        fq_is(&idx, "!organization:city-a", &["a3", "b1", "b2"]);
        fq_is(&idx, "NOT organization:city-a", &["a3", "b1", "b2"]);
        fq_is(&idx, "+organization:city-b", &["b1", "b2"]);
        fq_is(&idx, "organization:city-a AND tags:公園", &["a1"]);
        fq_is(&idx, "organization:city-a && tags:公園", &["a1"]);
        fq_is(&idx, "organization:city-a tags:公園", &["a1"]);
        fq_is(&idx, "+organization:city-a +tags:公園", &["a1"]);
        fq_is(&idx, "organization:city-a -tags:公園", &["a2"]);
        fq_is(&idx, "organization:city-a AND NOT tags:公園", &["a2"]);
        fq_is(&idx, "tags:公園 OR tags:バス", &["a1", "a3", "b1"]);
        fq_is(&idx, "tags:公園 || tags:バス", &["a1", "a3", "b1"]);
        fq_is(
            &idx,
            "(tags:公園 OR tags:バス) AND organization:city-b",
            &["b1"],
        );
        fq_is(
            &idx,
            "organization:city-b AND (tags:公園 OR tags:バス)",
            &["b1"],
        );
        fq_is(&idx, "tags:(公園 OR 子育て)", &["a1", "a2", "a3"]);
        fq_is(&idx, "tags:(公園 観光)", &["a1"]);
        fq_is(&idx, "tags:(公園 AND NOT 観光)", &["a3"]);
        fq_is(&idx, "tags:(\"公園\" OR \"バス\")", &["a1", "a3", "b1"]);
        fq_is(&idx, "((tags:公園))", &["a1", "a3"]);
        fq_is(&idx, "NOT NOT tags:公園", &["a1", "a3"]);
        fq_is(&idx, "-(tags:公園 OR tags:バス)", &["a2", "b2"]);
        // AND binds tighter than OR.
        fq_is(
            &idx,
            "tags:バス OR tags:公園 AND organization:city-a",
            &["a1", "b1"],
        );
        // A boost is accepted and ignored.
        fq_is(&idx, "tags:公園^2", &["a1", "a3"]);
    }

    #[test]
    fn fq_wildcards_and_escapes() {
        let idx = fixture();
        fq_is(&idx, "version:*", &["b2"]);
        fq_is(&idx, "organization:*", &["a1", "a2", "b1", "b2"]);
        fq_is(&idx, "-organization:*", &["a3"]);
        fq_is(&idx, "title:*", &["a1", "a2", "a3", "b1", "b2"]);
        fq_is(&idx, "author:*", &["b1"]);
        fq_is(&idx, "res_url:*", &["b2"]);
        fq_is(&idx, "metadata_modified:*", &["a1", "a2", "a3", "b1", "b2"]);
        fq_is(&idx, "tags:公*", &["a1", "a3"]);
        fq_is(&idx, "name:park*", &["a3"]);
        fq_is(&idx, "name:*stops", &["b1"]);
        fq_is(&idx, "name:p*n", &["b2"]);
        fq_is(&idx, "res_format:cs*", &["a1", "a2", "a3"]);
        fq_is(&idx, "title:公*覧", &["a1"]);
        fq_is(&idx, "url:https\\://example.jp/pop", &["b2"]);
        fq_is(&idx, "name:bus\\-stops", &["b1"]);
        fq_is(&idx, "extras_note:two\\ words", &["a1"]);
        fq_is(&idx, "extras_note:\"two words\"", &["a1"]);
        fq_is(&idx, "id:\"a\\1\"", &["a1"]);
        fq_is(&idx, "name:park\\*", &[]);
    }

    #[test]
    fn fq_extras() {
        let idx = fixture();
        fq_is(&idx, "extras_spatial:東京都", &["a1"]);
        fq_is(&idx, "extras_spatial:東京", &[]);
        fq_is(&idx, "extras_spatial:*", &["a1"]);
        fq_is(&idx, "extras_update_frequency:monthly", &["a1"]);
        fq_is(&idx, "extras_update_frequency:daily", &[]);
        fq_is(&idx, "-extras_spatial:*", &["a2", "a3", "b1", "b2"]);
    }

    #[test]
    fn fq_numbers() {
        let idx = fixture();
        fq_is(&idx, "num_resources:1", &["a2", "b2"]);
        fq_is(&idx, "num_resources:[2 TO *]", &["a1", "a3", "b1"]);
        fq_is(&idx, "num_resources:{2 TO *]", &["a3"]);
        fq_is(&idx, "num_resources:[* TO 1]", &["a2", "b2"]);
        fq_is(&idx, "num_tags:[1 TO 1]", &["a3"]);
        fq_is(&idx, "num_tags:[-5 TO 0]", &[]);
        fq_err(&idx, "num_tags:two");
        fq_err(&idx, "num_tags:[a TO 3]");
    }

    #[test]
    fn fq_date_ranges() {
        let idx = fixture();
        let all = ["a1", "a2", "a3", "b1", "b2"];
        fq_is(
            &idx,
            "metadata_modified:[2025-01-01T00:00:00Z TO *]",
            &["b1", "b2"],
        );
        fq_is(&idx, "metadata_modified:[* TO NOW]", &all);
        fq_is(&idx, "metadata_modified:[* TO *]", &all);
        fq_is(&idx, "metadata_modified:[NOW-1DAY TO NOW]", &["b2"]);
        fq_is(&idx, "metadata_modified:[NOW/DAY-1DAY TO NOW/DAY]", &["b2"]);
        fq_is(&idx, "metadata_modified:[NOW-1DAYS TO *]", &["b2"]);
        fq_is(&idx, "metadata_modified:[NOW-12HOURS TO *]", &["b2"]);
        fq_is(&idx, "metadata_modified:[NOW-11HOURS TO *]", &[]);
        fq_is(
            &idx,
            "metadata_modified:[NOW-1YEAR TO *]",
            &["a2", "b1", "b2"],
        );
        fq_is(
            &idx,
            "metadata_modified:[NOW-12MONTHS TO *]",
            &["a2", "b1", "b2"],
        );
        fq_is(&idx, "metadata_modified:[NOW-1MONTH/MONTH TO *]", &["b2"]);
        fq_is(
            &idx,
            "metadata_modified:[2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z]",
            &["a1", "a2", "a3", "b1"],
        );
        fq_is(
            &idx,
            "metadata_modified:{2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z}",
            &["a2"],
        );
        fq_is(
            &idx,
            "metadata_modified:[2024-03-01T00:00:00Z TO 2025-01-10T00:00:00Z}",
            &["a1", "a2", "a3"],
        );
        fq_is(
            &idx,
            "metadata_modified:2024-03-01T00:00:00Z",
            &["a1", "a3"],
        );
        fq_is(
            &idx,
            "metadata_modified:\"2024-03-01T00:00:00Z\"",
            &["a1", "a3"],
        );
        fq_is(
            &idx,
            "metadata_modified:2024-03-01T00\\:00\\:00Z",
            &["a1", "a3"],
        );
        fq_is(
            &idx,
            "metadata_created:[2024-01-01 TO 2024-12-31]",
            &["a2", "b1"],
        );
        fq_is(
            &idx,
            "metadata_created:[2024-01-01T00:00:00 TO 2024-12-31T23:59:59.999]",
            &["a2", "b1"],
        );
        fq_is(
            &idx,
            "metadata_created:[2025-01-01T00:00:00.000Z TO NOW]",
            &["b2"],
        );
        fq_is(
            &idx,
            "metadata_created:[\"2025-01-01T00:00:00Z\" TO *]",
            &["b2"],
        );
        fq_err(&idx, "metadata_modified:[2024 TO *]");
        fq_err(&idx, "metadata_modified:[yesterday TO *]");
        fq_err(&idx, "metadata_modified:[2024-13-01T00:00:00Z TO *]");
        fq_err(&idx, "metadata_modified:[NOW-1FORTNIGHT TO *]");
        fq_err(&idx, "metadata_modified:[NOW-DAY TO *]");
        fq_err(&idx, "metadata_modified:2024-01-*");
        fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z TO]");
        fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z TO *");
        fq_err(&idx, "metadata_modified:[2024-01-01T00:00:00Z *]");
    }

    #[test]
    fn occurrences() {
        let count = |hay: &str, needle: &str| {
            let mut v = Vec::new();
            for_each_match(hay, needle, |p| v.push(p));
            v
        };
        assert_eq!(count("公園と公園公園", "公園"), vec![0, 9, 15]);
        assert_eq!(count("aaaa", "aa"), vec![0, 2]);
        assert_eq!(count("abcab", "ab"), vec![0, 3]);
        assert_eq!(count("abc", ""), Vec::<usize>::new());
        assert_eq!(count("", "a"), Vec::<usize>::new());
        assert_eq!(count("aab", "ab"), vec![1]);
    }

    #[test]
    fn date_math() {
        let n = at("2025-06-02T13:45:30.250Z");
        let d = |s: &str| parse_date_math(s, n);
        assert_eq!(d("NOW"), Ok(n));
        assert_eq!(d("NOW/DAY"), Ok(at("2025-06-02T00:00:00Z")));
        assert_eq!(d("NOW/HOUR"), Ok(at("2025-06-02T13:00:00Z")));
        assert_eq!(d("NOW/MONTH"), Ok(at("2025-06-01")));
        assert_eq!(d("NOW/YEAR"), Ok(at("2025-01-01")));
        assert_eq!(d("NOW/SECOND"), Ok(at("2025-06-02T13:45:30Z")));
        assert_eq!(d("NOW-1DAY"), Ok(at("2025-06-01T13:45:30.25Z")));
        assert_eq!(d("NOW+2HOURS"), Ok(at("2025-06-02T15:45:30.25")));
        assert_eq!(d("NOW-1YEAR/DAY"), Ok(at("2024-06-02")));
        assert_eq!(d("NOW/DAY+1DAY-1SECOND"), Ok(at("2025-06-02T23:59:59Z")));
        assert_eq!(d("2024-01-31T00:00:00Z+1MONTH"), Ok(at("2024-02-29")));
        assert_eq!(d("2024-01-01T10:20Z"), Ok(at("2024-01-01T10:20:00Z")));
        assert_eq!(d("now/day"), Err(BAD_DATE));
        for bad in [
            "2024-1-1",
            "2024-02-30",
            "2024-01-01T25:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01X",
            "NOW-",
            "NOW-1",
            "NOW-1DAYX1",
            "NOW+99999999999999999999DAYS",
            "NOW+9999999999999DAYS",
            "NOW+999999999YEARS",
            "NOW/FORTNIGHT",
            "NOW１DAY",
            "",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }
    const BAD_DATE: &str = "expected a date like 2024-01-01T00:00:00Z or NOW";

    #[test]
    fn private_datasets() {
        let idx = fixture();
        q_is(&idx, "予算", &[]);
        fq_is(&idx, "id:c1", &[]);
        let mut r = req("予算", &[]);
        r.private_orgs = strs(&["org-c-id"]);
        assert_eq!(run(&idx, &r).ids, strs(&["c1"]));
        r.private_orgs = strs(&["org-a-id"]);
        assert_eq!(run(&idx, &r).ids, Vec::<String>::new());
        let mut r = req("", &["capacity:private"]);
        r.private_orgs = strs(&["org-c-id", "org-a-id"]);
        assert_eq!(run(&idx, &r).ids, strs(&["c1"]));
        r.fq = strs(&["res_format:csv"]);
        assert_eq!(run(&idx, &r).ids, strs(&["a1", "a2", "a3", "c1"]));
        // Private documents never show in facets either.
        let r = SearchRequest {
            facet_fields: strs(&["tags"]),
            facet_limit: -1,
            ..SearchRequest::default()
        };
        let res = run(&idx, &r);
        assert!(!res.facets[0].1.iter().any(|(v, _)| v == "予算"));
        assert_eq!(res.count, 5);
    }

    fn sorted(idx: &Index, query: &str, sort: &str) -> Vec<String> {
        let mut r = req(query, &[]);
        r.sort = Some(sort.to_owned());
        run(idx, &r).ids
    }

    #[test]
    fn sorting() {
        let idx = fixture();
        let s = |sort: &str| sorted(&idx, "", sort);
        assert_eq!(s("id asc"), strs(&["a1", "a2", "a3", "b1", "b2"]));
        assert_eq!(s("id desc"), strs(&["b2", "b1", "a3", "a2", "a1"]));
        assert_eq!(s("name asc"), strs(&["b1", "a2", "a3", "b2", "a1"]));
        assert_eq!(s("name desc"), strs(&["a1", "b2", "a3", "a2", "b1"]));
        assert_eq!(s("title_string asc"), strs(&["b1", "b2", "a3", "a2", "a1"]));
        assert_eq!(
            s("title_string desc"),
            strs(&["a1", "a2", "a3", "b2", "b1"])
        );
        assert_eq!(
            s("metadata_modified desc"),
            strs(&["b2", "b1", "a2", "a1", "a3"])
        );
        assert_eq!(
            s("metadata_modified asc"),
            strs(&["a1", "a3", "a2", "b1", "b2"])
        );
        assert_eq!(
            s("metadata_created asc"),
            strs(&["a1", "a3", "a2", "b1", "b2"])
        );
        assert_eq!(
            s("metadata_created desc"),
            strs(&["b2", "b1", "a2", "a3", "a1"])
        );
        assert_eq!(
            s("num_resources desc"),
            strs(&["a3", "a1", "b1", "a2", "b2"])
        );
        assert_eq!(
            s("num_resources asc"),
            strs(&["a2", "b2", "a1", "b1", "a3"])
        );
        assert_eq!(
            s("num_tags asc, name asc"),
            strs(&["a3", "b1", "a2", "b2", "a1"])
        );
        assert_eq!(
            s("num_tags asc,id desc"),
            strs(&["a3", "b2", "b1", "a2", "a1"])
        );
        assert_eq!(
            s("  NAME  ASC ".to_lowercase().as_str()),
            strs(&["b1", "a2", "a3", "b2", "a1"])
        );
        assert_eq!(s("name DESC"), strs(&["a1", "b2", "a3", "a2", "b1"]));
        // Score: title ×10, tags ×5, notes ×1; ties by metadata_modified desc.
        assert_eq!(
            sorted(&idx, "一覧", "score desc, metadata_modified desc"),
            strs(&["b1", "a1", "a2"])
        );
        assert_eq!(sorted(&idx, "公園", "score desc"), strs(&["a1", "a3"]));
        // Without a q every score is 0, so the default sorts by modification.
        assert_eq!(
            s("score desc, metadata_modified desc"),
            strs(&["b2", "b1", "a2", "a1", "a3"])
        );
        let default = |query: &str| {
            run(
                &idx,
                &SearchRequest {
                    q: Some(query.into()),
                    ..SearchRequest::default()
                },
            )
            .ids
        };
        assert_eq!(default(""), strs(&["b2", "b1", "a2", "a1", "a3"]));
        assert_eq!(default("一覧"), strs(&["b1", "a1", "a2"]));
        // Negated terms do not score.
        assert_eq!(
            sorted(&idx, "一覧 -バス", "score desc"),
            strs(&["a1", "a2"])
        );
        // Bad sorts.
        let err = |sort: &str| {
            idx.search(
                &SearchRequest {
                    sort: Some(sort.into()),
                    ..SearchRequest::default()
                },
                now(),
            )
        };
        assert!(matches!(
            err("foo asc"),
            Err(SearchError::UnknownSortField(_))
        ));
        assert!(matches!(
            err("views_recent desc"),
            Err(SearchError::UnknownSortField(_))
        ));
        assert!(matches!(err("name up"), Err(SearchError::InvalidSort(_))));
        assert!(matches!(err("name"), Err(SearchError::InvalidSort(_))));
        assert!(matches!(
            err("name asc desc"),
            Err(SearchError::InvalidSort(_))
        ));
        assert!(matches!(
            err("name asc, bogus desc"),
            Err(SearchError::UnknownSortField(_))
        ));
        assert_eq!(
            err("name asc, bogus desc").unwrap_err().to_string(),
            "Unknown sort field: bogus"
        );
        // Empty sort means the default.
        assert_eq!(s(""), strs(&["b2", "b1", "a2", "a1", "a3"]));
        assert_eq!(s(" , "), strs(&["b2", "b1", "a2", "a1", "a3"]));
    }

    fn many(n: usize) -> Index {
        let docs = (0..n)
            .map(|i| {
                let mut d = Doc::new(
                    format!("id-{:04}", (i * 7919) % n),
                    format!("name-{}", i % 10),
                );
                d.title = format!("データ{}", i % 3);
                // Many ties on purpose.
                d.metadata_modified = at("2024-01-01T00:00:00Z") + TimeDelta::days((i % 4) as i64);
                d.res_url = vec!["https://example.jp/x.csv".to_owned(); i % 2];
                d
            })
            .collect();
        Index::new(docs)
    }

    #[test]
    fn paging_is_stable() {
        let n = 57;
        let idx = many(n);
        assert_eq!(idx.len(), n);
        for sort in [
            "id asc",
            "metadata_modified desc",
            "name asc, num_resources desc",
            "score desc",
        ] {
            for rows in [1, 10, 13] {
                let mut seen = Vec::new();
                let mut start = 0;
                loop {
                    let r = SearchRequest {
                        q: Some("データ".into()),
                        sort: Some(sort.into()),
                        rows,
                        start,
                        ..SearchRequest::default()
                    };
                    let res = run(&idx, &r);
                    assert_eq!(res.count, n);
                    if res.ids.is_empty() {
                        break;
                    }
                    assert!(res.ids.len() <= rows);
                    seen.extend(res.ids);
                    start += rows;
                }
                let mut unique = seen.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), n, "{sort} rows={rows}");
                assert_eq!(seen.len(), n);
                if sort == "id asc" {
                    assert_eq!(seen, unique);
                }
            }
        }
        // Past the end and zero rows.
        let r = SearchRequest {
            start: 1000,
            ..SearchRequest::default()
        };
        assert_eq!(
            run(&idx, &r),
            SearchResult {
                count: n,
                ids: vec![],
                facets: vec![]
            }
        );
        let r = SearchRequest {
            rows: 0,
            start: usize::MAX,
            ..SearchRequest::default()
        };
        assert_eq!(run(&idx, &r).count, n);
    }

    fn facet<'a>(res: &'a SearchResult, name: &str) -> &'a [(String, usize)] {
        &res.facets.iter().find(|(n, _)| n == name).expect("facet").1
    }

    fn pairs(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|(s, c)| ((*s).to_owned(), *c)).collect()
    }

    #[test]
    fn facets() {
        let idx = fixture();
        let fields = [
            "organization",
            "tags",
            "res_format",
            "license_id",
            "groups",
            "extras_spatial",
            "capacity",
            "bogus",
            "tags",
        ];
        let mut r = SearchRequest {
            facet_fields: strs(&fields),
            rows: 1,
            ..SearchRequest::default()
        };
        let res = run(&idx, &r);
        assert_eq!(res.ids.len(), 1);
        assert_eq!(res.facets.len(), 8);
        assert_eq!(
            res.facets
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            fields[..8].to_vec()
        );
        assert_eq!(
            facet(&res, "organization"),
            pairs(&[("city-a", 2), ("city-b", 2)])
        );
        assert_eq!(
            facet(&res, "res_format"),
            pairs(&[("CSV", 3), ("GTFS", 1), ("PDF", 1), ("XLSX", 1), ("ZIP", 1)])
        );
        assert_eq!(
            facet(&res, "license_id"),
            pairs(&[("cc-by", 1), ("odc-by", 1)])
        );
        assert_eq!(
            facet(&res, "groups"),
            pairs(&[("parks", 1), ("welfare", 1)])
        );
        assert_eq!(facet(&res, "extras_spatial"), pairs(&[("東京都", 1)]));
        assert_eq!(facet(&res, "capacity"), pairs(&[("public", 5)]));
        assert_eq!(facet(&res, "bogus"), pairs(&[]));
        assert_eq!(facet(&res, "tags").len(), 8);
        assert_eq!(facet(&res, "tags")[0], ("公園".to_owned(), 2));

        r.facet_limit = 2;
        let res = run(&idx, &r);
        assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2), ("バス", 1)]));
        r.facet_limit = 0;
        assert_eq!(facet(&run(&idx, &r), "tags"), pairs(&[]));
        r.facet_limit = -1;
        r.facet_mincount = 2;
        let res = run(&idx, &r);
        assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2)]));
        assert_eq!(facet(&res, "res_format"), pairs(&[("CSV", 3)]));

        // Facets count every match, not just the page; and follow q and fq.
        let r = SearchRequest {
            q: Some("公園".into()),
            fq: strs(&["res_format:csv"]),
            facet_fields: strs(&["tags", "organization", "metadata_modified", "num_resources"]),
            rows: 0,
            ..SearchRequest::default()
        };
        let res = run(&idx, &r);
        assert_eq!(res.count, 2);
        assert!(res.ids.is_empty());
        assert_eq!(facet(&res, "tags"), pairs(&[("公園", 2), ("観光", 1)]));
        assert_eq!(facet(&res, "organization"), pairs(&[("city-a", 1)]));
        assert_eq!(
            facet(&res, "metadata_modified"),
            pairs(&[("2024-03-01T00:00:00Z", 2)])
        );
        assert_eq!(facet(&res, "num_resources"), pairs(&[("2", 1), ("3", 1)]));

        // mincount 0 lists values of other documents with a zero count.
        let r = SearchRequest {
            fq: strs(&["organization:city-b"]),
            facet_fields: strs(&["organization", "extras_spatial"]),
            facet_mincount: 0,
            ..SearchRequest::default()
        };
        let res = run(&idx, &r);
        assert_eq!(
            facet(&res, "organization"),
            pairs(&[("city-b", 2), ("city-a", 0), ("city-c", 0)])
        );
        assert_eq!(facet(&res, "extras_spatial"), pairs(&[("東京都", 0)]));
    }

    #[test]
    fn upsert_and_remove() {
        let mut idx = fixture();
        assert_eq!(idx.len(), 6);
        assert!(!idx.is_empty());
        let mut a1 = idx.get("a1").expect("a1").clone();
        a1.title = "市営プール一覧".into();
        a1.notes = String::new();
        a1.tags = strs(&["プール"]);
        a1.res_format = strs(&["JSON"]);
        idx.upsert(a1);
        assert_eq!(idx.len(), 6);
        q_is(&idx, "公園", &["a3"]);
        q_is(&idx, "ぷーる", &["a1"]);
        fq_is(&idx, "tags:公園", &["a3"]);
        fq_is(&idx, "res_format:json", &["a1"]);
        idx.remove("b1");
        idx.remove("b1");
        idx.remove("nope");
        assert_eq!(idx.len(), 5);
        assert!(idx.get("b1").is_none());
        q_is(&idx, "バス", &[]);
        fq_is(&idx, "tags:バス", &[]);
        let r = SearchRequest {
            facet_fields: strs(&["tags", "res_format"]),
            facet_mincount: 0,
            facet_limit: -1,
            ..SearchRequest::default()
        };
        let res = run(&idx, &r);
        assert!(
            !facet(&res, "tags")
                .iter()
                .any(|(v, _)| v == "バス" || v == "観光")
        );
        assert!(
            facet(&res, "tags")
                .iter()
                .any(|(v, c)| v == "予算" && *c == 0)
        );
        assert!(!facet(&res, "res_format").iter().any(|(v, _)| v == "GTFS"));
        // The freed slot is reused and the postings stay consistent.
        let mut d = Doc::new("d1", "new-bus");
        d.title = "バス路線".into();
        idx.upsert(d);
        q_is(&idx, "バス", &["d1"]);
        q_is(&idx, "一覧", &["a1", "a2"]);
        assert_eq!(idx.len(), 6);
        // Duplicate ids at construction: the last wins.
        let idx = Index::new(vec![Doc::new("x", "first"), Doc::new("x", "second")]);
        assert_eq!(idx.len(), 1);
        fq_is(&idx, "name:second", &["x"]);
        assert!(Index::new(vec![]).is_empty());
    }

    /// Postings and interned slot lists after many updates equal those of
    /// an index built from scratch.
    #[test]
    fn incremental_updates_match_rebuild() {
        let mut rng = Lcg(3);
        let words = ["公園", "バス", "子育て", "csv", "データ", "一覧", "ａｂｃ"];
        let mut idx = Index::default();
        let mut live: HashMap<String, Doc> = HashMap::new();
        for step in 0..400 {
            let id = format!("d{}", rng.next() % 40);
            if rng.next().is_multiple_of(4) {
                idx.remove(&id);
                live.remove(&id);
            } else {
                let mut d = Doc::new(id.clone(), format!("n{step}"));
                d.title = (0..3).map(|_| *rng.pick(&words)).collect();
                d.tags = (0..2).map(|_| (*rng.pick(&words)).to_owned()).collect();
                d.res_format = vec![(*rng.pick(&["CSV", "csv", "PDF"])).to_owned()];
                d.organization = format!("o{}", rng.next() % 3);
                idx.upsert(d.clone());
                live.insert(id, d);
            }
        }
        assert_eq!(idx.len(), live.len());
        let fresh = Index::new(live.values().cloned().collect());
        // Slots differ between the two; compare by ids.
        let ids_of = |index: &Index, slots: &[u32]| {
            let mut v: Vec<String> = slots
                .iter()
                .filter_map(|&s| {
                    index
                        .slots
                        .get(s as usize)?
                        .as_ref()
                        .map(|e| e.doc.id.clone())
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(idx.postings.len(), fresh.postings.len());
        for (g, slots) in &fresh.postings {
            let mine = idx.postings.get(g).expect("gram");
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(ids_of(&idx, mine), ids_of(&fresh, slots));
        }
        for f in INTERN_FIELDS {
            let (a, b) = (&idx.interners[f as usize], &fresh.interners[f as usize]);
            for (key, &id) in &b.map {
                let mine = a
                    .map
                    .get(key)
                    .and_then(|&i| a.slots.get(i as usize))
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(
                    ids_of(&idx, &mine),
                    ids_of(&fresh, &b.slots[id as usize]),
                    "{key}"
                );
            }
        }
        let r = SearchRequest {
            q: Some("公園".into()),
            facet_fields: strs(&["tags", "res_format", "organization"]),
            rows: 1000,
            ..SearchRequest::default()
        };
        let (mut x, mut y) = (run(&idx, &r), run(&fresh, &r));
        x.ids.sort();
        y.ids.sort();
        assert_eq!(x.ids, y.ids);
        assert_eq!(x.facets[0], y.facets[0]);
        assert_eq!(x.facets[2], y.facets[2]);
    }

    #[test]
    fn facet_display_follows_live_documents() {
        let mut d = Doc::new("x", "x");
        d.res_format = strs(&["csv"]);
        let mut idx = Index::new(vec![d]);
        let mut d = Doc::new("y", "y");
        d.res_format = strs(&["CSV"]);
        idx.upsert(d);
        let r = SearchRequest {
            facet_fields: strs(&["res_format"]),
            ..SearchRequest::default()
        };
        assert_eq!(facet(&run(&idx, &r), "res_format"), pairs(&[("csv", 2)]));
        idx.remove("x");
        idx.remove("y");
        let mut d = Doc::new("z", "z");
        d.res_format = strs(&["Csv"]);
        idx.upsert(d);
        assert_eq!(facet(&run(&idx, &r), "res_format"), pairs(&[("Csv", 1)]));
    }

    #[test]
    fn syntax_errors() {
        let idx = fixture();
        let deep = format!("{}tags:公園{}", "(".repeat(40), ")".repeat(40));
        let not_chain = format!("{}tags:公園", "NOT ".repeat(40));
        let many_clauses = "tags:x ".repeat(2000);
        for bad in [
            "(((",
            "\"",
            "a:[",
            "\\",
            ":",
            "-",
            "+",
            "!",
            "AND",
            "OR",
            "NOT",
            "&&",
            "||",
            "tags:",
            "tags: ",
            "tags:(a",
            "tags:a)",
            "(tags:a",
            "()",
            "(",
            ")",
            "a AND",
            "AND a",
            "a OR",
            "OR a",
            "a AND AND b",
            "a OR OR b",
            "tags:\"abc",
            "tags:[a TO b",
            "tags:[a b]",
            "tags:[a TO b c]",
            "tags:[TO b]",
            "tags:a\\",
            "\"abc\\",
            ":x",
            "tags:()",
            "tags:(OR a)",
            "- tags:a",
            "NOT",
            "a NOT",
            "tags:^",
            "^",
            deep.as_str(),
            not_chain.as_str(),
            many_clauses.as_str(),
        ] {
            fq_err(&idx, bad);
        }
        let e = idx.search(&req("", &["tags:(a"]), now()).unwrap_err();
        assert!(e.to_string().starts_with("Invalid search query: "), "{e}");
        // Nesting below the limit is fine.
        let ok = format!("{}tags:公園{}", "(".repeat(20), ")".repeat(20));
        fq_is(&idx, &ok, &["a1", "a3"]);
    }

    /// A tiny deterministic generator for fuzzing.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }
        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[(self.next() as usize) % v.len()]
        }
    }

    #[test]
    fn never_panics() {
        let idx = fixture();
        let long_word = "公".repeat(10_000);
        let long_ascii = "a".repeat(10_000);
        let long_parens = "(".repeat(10_000);
        let long_close = ")".repeat(10_000);
        let long_minus = "-".repeat(10_000);
        let long_not = "NOT ".repeat(3_000);
        let long_colon = "a:".repeat(5_000);
        let long_quote = "\"".repeat(10_001);
        let long_star = format!("title:{}", "*a".repeat(5_000));
        let long_range = format!("metadata_modified:[NOW{} TO *]", "-1DAY".repeat(2_000));
        let long_escape = "\\".repeat(10_001);
        let mut inputs: Vec<String> = [
            "(((",
            "\"",
            "a:[",
            "\\",
            ":",
            "-",
            "AND",
            "😀",
            "tags:😀",
            "\u{0}",
            "tags:\u{0}",
            "\u{0}:\u{0}",
            "*",
            "**",
            "*:*",
            "*:a",
            "*:[a TO b]",
            "a:*",
            "title:*",
            "title:**",
            "title:\\*",
            "[",
            "]",
            "{",
            "}",
            "[a TO b]",
            "tags:{* TO *}",
            "a^",
            "a^^2",
            "\"a\"~",
            "\"a\"~2^3",
            "~",
            "/",
            "?",
            "title:?",
            "&&&&",
            "||||",
            "!!",
            "+-!x",
            "NOT-x",
            "a\u{3000}b",
            "\u{3000}",
            "\u{200b}",
            "\u{ffff}",
            "\u{10ffff}",
            "ｔａｇｓ：公園",
            "tags\\:x:y",
            "extras_\\ :x",
            "e\u{301}",
            "\u{1f}",
            "num_resources:99999999999999999999",
            "num_resources:[-9223372036854775808 TO 9223372036854775807]",
            "metadata_modified:[0000-01-01 TO 9999-12-31]",
            "metadata_modified:[NOW+999999DAYS TO *]",
            "metadata_modified:NOW/MILLI",
            "title:[a TO b]",
            "text:[* TO *]",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        inputs.extend([
            long_word,
            long_ascii,
            long_parens,
            long_close,
            long_minus,
            long_not,
            long_colon,
            long_quote,
            long_star,
            long_range,
            long_escape,
        ]);
        let alphabet = [
            "(",
            ")",
            "\"",
            ":",
            "\\",
            "-",
            "+",
            "!",
            "*",
            "^",
            "~",
            "[",
            "]",
            "{",
            "}",
            " ",
            "\u{3000}",
            "AND",
            "OR",
            "NOT",
            "&&",
            "||",
            "TO",
            "tags",
            "title",
            "metadata_modified",
            "NOW",
            "/DAY",
            "-1DAY",
            "2024-01-01",
            "公園",
            "ｶ",
            "😀",
            "\u{0}",
            "a",
            "extras_x",
            "num_tags",
            "1",
        ];
        let mut rng = Lcg(42);
        for _ in 0..3_000 {
            let len = 1 + rng.next() % 12;
            let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            inputs.push(s);
        }
        for s in &inputs {
            for r in [
                req(s, &[]),
                req("", &[s]),
                SearchRequest {
                    sort: Some(s.clone()),
                    facet_fields: vec![s.clone()],
                    ..SearchRequest::default()
                },
            ] {
                let _ = idx.search(&r, now());
            }
        }
        // Odd documents index and search too.
        let mut odd = Doc::new("\u{0}", "😀");
        odd.title = inputs.join(" ");
        odd.tags = inputs.iter().take(50).cloned().collect();
        odd.extras = vec![
            (String::new(), String::new()),
            ("\u{0}".into(), "\u{1f}".into()),
        ];
        let mut idx = fixture();
        idx.upsert(odd);
        for s in inputs.iter().take(200) {
            let _ = idx.search(&req(s, &[s]), now());
        }
        idx.remove("\u{0}");
        assert_eq!(idx.len(), 6);
    }

    // -- performance ---------------------------------------------------------

    const WORDS: &[&str] = &[
        "公園",
        "子育て",
        "支援",
        "施設",
        "一覧",
        "人口",
        "統計",
        "予算",
        "決算",
        "観光",
        "バス",
        "停留所",
        "避難所",
        "防災",
        "図書館",
        "保育所",
        "介護",
        "福祉",
        "道路",
        "橋梁",
        "水道",
        "下水道",
        "ごみ",
        "収集",
        "地区",
        "年齢別",
        "世帯",
        "推計",
        "駐車場",
        "トイレ",
        "AED",
        "Wi-Fi",
        "文化財",
        "イベント",
        "学校",
        "給食",
        "献立",
        "病院",
        "診療所",
        "選挙",
        "投票所",
        "農業",
        "漁業",
        "商店街",
        "空き家",
        "住宅",
        "市営",
        "県立",
        "令和",
        "データ",
    ];
    const FORMATS: &[&str] = &[
        "CSV", "XLSX", "PDF", "JSON", "GeoJSON", "ZIP", "HTML", "csv",
    ];

    const KANJI: &str = "市町村県区都道府庁課係局部室所館園場校院署駅港橋川山森林野原田畑海湖池島岬谷坂台丘浜\
        北南東西中上下新古大小高低長短明暗春夏秋冬朝昼夜年月日時分週期間回数量額率費税金銀銅鉄石土木火水\
        人口世帯住民戸籍選挙議会条例規則計画予算決算財政資産債務契約入札工事道路交通運輸車両船舶航空郵便電話\
        情報通信放送教育学習文化芸術体育競技観光宿泊飲食商業工業農業林業漁業鉱業建設製造販売医療保健衛生福祉\
        介護子育保育児童生徒学生高齢障害者支援相談窓口手続申請届出証明発行交付登録変更廃止休止再開設置管理運営";

    /// Pseudo-words of two or three kanji, so that most words are rare as
    /// in real catalogues.
    fn vocabulary(rng: &mut Lcg) -> Vec<String> {
        let kanji: Vec<char> = KANJI.chars().filter(|c| !c.is_whitespace()).collect();
        (0..3000)
            .map(|i| (0..2 + i % 2).map(|_| *rng.pick(&kanji)).collect())
            .collect()
    }

    /// `dense`: notes drawn from only 50 words, so that every common word
    /// occurs in most documents (a stress case); otherwise 1 word in 10 is
    /// a common one and the rest come from a large vocabulary.
    fn big_index(n: usize, dense: bool) -> Index {
        let mut rng = Lcg(7);
        let vocab = vocabulary(&mut rng);
        let docs = (0..n)
            .map(|i| {
                let mut d = Doc::new(
                    format!("{:08x}-0000-4000-8000-{:012x}", rng.next(), i),
                    format!("dataset-{i}"),
                );
                let word = |rng: &mut Lcg| {
                    if dense || rng.next().is_multiple_of(10) {
                        (*rng.pick(WORDS)).to_owned()
                    } else {
                        rng.pick(&vocab).clone()
                    }
                };
                d.title = (0..3).map(|_| word(&mut rng)).collect::<String>()
                    + *rng.pick(&["一覧", "データ", "統計", "情報"]);
                d.notes = (0..110)
                    .map(|_| word(&mut rng))
                    .collect::<Vec<_>>()
                    .join("");
                let ntags = 3 + (rng.next() % 4) as usize;
                d.tags = (0..ntags).map(|_| (*rng.pick(WORDS)).to_owned()).collect();
                let nres = 1 + (rng.next() % 5) as usize;
                d.res_format = (0..nres).map(|_| (*rng.pick(FORMATS)).to_owned()).collect();
                d.res_name = (0..nres)
                    .map(|k| format!("{}{}", rng.pick(WORDS), k))
                    .collect();
                d.res_url = (0..nres)
                    .map(|k| format!("https://example.jp/{i}/{k}.csv"))
                    .collect();
                d.organization = format!("org-{}", rng.next() % 40);
                d.owner_org = format!("{}-id", d.organization);
                d.groups = vec![format!("group-{}", rng.next() % 12)];
                d.license_id = (*rng.pick(&["cc-by-4.0", "cc0-1.0", "odc-by"])).to_owned();
                d.private = rng.next().is_multiple_of(20);
                d.metadata_created =
                    at("2020-01-01T00:00:00Z") + TimeDelta::hours((rng.next() % 40_000) as i64);
                d.metadata_modified =
                    d.metadata_created + TimeDelta::hours((rng.next() % 5_000) as i64);
                d
            })
            .collect();
        Index::new(docs)
    }

    fn timed(label: &str, mut f: impl FnMut() -> usize) {
        let mut wall = Vec::new();
        let mut n = 0;
        for _ in 0..300 {
            let t = std::time::Instant::now();
            n = f();
            wall.push(t.elapsed());
        }
        wall.sort();
        println!(
            "{label}: count={n} min={:?} median={:?} p99={:?}",
            wall[0], wall[150], wall[296]
        );
    }

    /// `cargo test --release -- --ignored --nocapture perf`
    #[test]
    #[ignore]
    fn perf() {
        for dense in [false, true] {
            println!(
                "--- {} ---",
                if dense { "dense (stress)" } else { "realistic" }
            );
            perf_run(dense);
        }
    }

    fn perf_run(dense: bool) {
        let t = std::time::Instant::now();
        let mut idx = big_index(10_000, dense);
        println!("build 10k: {:?}", t.elapsed());
        let grams: usize = idx.postings.values().map(Vec::len).sum();
        let text: usize = idx.slots.iter().flatten().map(|e| e.all.len()).sum();
        println!(
            "postings: {} keys, {grams} entries; normalised text {text} bytes",
            idx.postings.len()
        );
        let facets = strs(&["organization", "groups", "tags", "res_format", "license_id"]);
        let base = SearchRequest {
            facet_fields: facets,
            private_orgs: strs(&["org-1-id"]),
            ..SearchRequest::default()
        };
        let cases: Vec<(&str, SearchRequest)> = vec![
            (
                "q 2 terms + 2 fq + 5 facets",
                SearchRequest {
                    q: Some("公園 子育て".into()),
                    fq: strs(&["organization:org-3", "res_format:CSV"]),
                    ..base.clone()
                },
            ),
            (
                "q 2 terms + 5 facets",
                SearchRequest {
                    q: Some("図書館 防災".into()),
                    ..base.clone()
                },
            ),
            (
                "q 1 kanji + 5 facets",
                SearchRequest {
                    q: Some("市".into()),
                    ..base.clone()
                },
            ),
            (
                "q 1 kanji + 5 facets, id asc",
                SearchRequest {
                    q: Some("市".into()),
                    sort: Some("id asc".into()),
                    ..base.clone()
                },
            ),
            (
                "q 1 kanji, id asc, no facets",
                SearchRequest {
                    q: Some("市".into()),
                    sort: Some("id asc".into()),
                    facet_fields: vec![],
                    ..base.clone()
                },
            ),
            ("no q (all docs) + 5 facets", base.clone()),
            (
                "fq date range + sort title",
                SearchRequest {
                    fq: strs(&["metadata_modified:[NOW-1YEAR TO NOW]"]),
                    sort: Some("title_string asc".into()),
                    ..base.clone()
                },
            ),
            (
                "fielded q + OR",
                SearchRequest {
                    q: Some("tags:(公園 OR バス) AND title:一覧 -res_format:PDF".into()),
                    ..base.clone()
                },
            ),
        ];
        for (label, r) in &cases {
            timed(label, || idx.search(r, now()).expect("search").count);
        }
        for f in ["organization", "groups", "tags", "res_format", "license_id"] {
            let r = SearchRequest {
                facet_fields: strs(&[f]),
                ..base.clone()
            };
            timed(&format!("no q, facet {f}"), || {
                idx.search(&r, now()).expect("search").count
            });
        }
        let mut times = Vec::new();
        for i in 0..200 {
            let mut d = idx
                .get(&format!("{:08x}", 0))
                .cloned()
                .unwrap_or_else(|| Doc::new("upsert-test", "x"));
            d.title = format!("更新{i}公園一覧");
            d.notes = "公園".repeat(150);
            let t = std::time::Instant::now();
            idx.upsert(d);
            times.push(t.elapsed());
        }
        times.sort();
        println!("upsert: median={:?} p99={:?}", times[100], times[198]);
    }
}
