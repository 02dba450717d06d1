//! An indexed document: the [`Doc`] with everything precomputed that
//! matching, scoring, sorting and facets need.

use chrono::{DateTime, SecondsFormat, Utc};

use super::doc::Doc;
use super::fields::{
    DateField, FieldRef, INTERNED, IntField, InternField, SEGMENTS, StrField, TextField, WEIGHTS,
};
use super::interner::Interners;
use super::text::{SEP, for_each_match, nfkc, norm_text};

/// A document with everything precomputed that searching needs.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) doc: Doc,
    /// Normalised searchable text: segments in layout order, values within a
    /// segment and segments themselves separated by [`SEP`].
    pub(super) all: String,
    /// Byte range of each segment in `all`.
    spans: [(usize, usize); SEGMENTS],
    pub(super) id_key: String,
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
    pub(super) title_sort: String,
    pub(super) num_resources: usize,
    pub(super) num_tags: usize,
}

impl Entry {
    pub(super) fn build(doc: Doc, slot: u32, interners: &mut Interners) -> Entry {
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
            interners.intern(
                InternField::Organization,
                slot,
                std::iter::once(doc.organization.as_str()),
            ),
            interners.intern(
                InternField::OwnerOrg,
                slot,
                std::iter::once(doc.owner_org.as_str()),
            ),
            interners.intern(
                InternField::LicenseId,
                slot,
                std::iter::once(doc.license_id.as_str()),
            ),
            interners.intern(InternField::Tags, slot, doc.tags.iter().map(String::as_str)),
            interners.intern(
                InternField::Groups,
                slot,
                doc.groups.iter().map(String::as_str),
            ),
            interners.intern(
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
    pub(super) fn ids(&self, f: InternField) -> &[u32] {
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
    pub(super) fn text(&self, f: TextField) -> &str {
        match f.segment() {
            None => &self.all,
            Some(i) => self.segment(i),
        }
    }

    pub(super) fn segment(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|&(a, b)| self.all.get(a..b))
            .unwrap_or("")
    }

    /// The segment a byte offset of `all` falls in.
    pub(super) fn segment_at(&self, pos: usize) -> usize {
        self.spans
            .iter()
            .position(|&(_, end)| pos < end)
            .unwrap_or(SEGMENTS - 1)
    }

    /// Whether a non-empty value of an exact-match field satisfies `p`.
    pub(super) fn str_any(&self, f: &StrField, mut p: impl FnMut(&str) -> bool) -> bool {
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

    pub(super) fn date(&self, f: DateField) -> DateTime<Utc> {
        match f {
            DateField::Created => self.doc.metadata_created,
            DateField::Modified => self.doc.metadata_modified,
        }
    }

    pub(super) fn int(&self, f: IntField) -> i64 {
        let n = match f {
            IntField::NumResources => self.num_resources,
            IntField::NumTags => self.num_tags,
        };
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// Score of this document for the given terms: weighted occurrences.
    pub(super) fn score(&self, terms: &[(TextField, String)]) -> u64 {
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
    pub(super) fn facet_values(&self, f: &FieldRef) -> Vec<String> {
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
