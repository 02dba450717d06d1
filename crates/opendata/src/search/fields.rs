//! The fields a query or a facet may name, and how each is matched: free
//! text, interned exact values, other exact strings, dates and numbers.

use super::text::nfkc;

/// Segments of the normalised searchable text, in layout order: title,
/// name, notes, tags, organization, groups, res_name, res_description,
/// extras values, author, maintainer.
pub(super) const SEGMENTS: usize = 11;
pub(super) const SEG_TITLE: usize = 0;
pub(super) const SEG_NOTES: usize = 2;
pub(super) const SEG_RES_NAME: usize = 6;
pub(super) const SEG_RES_DESCRIPTION: usize = 7;
pub(super) const SEG_AUTHOR: usize = 9;
pub(super) const SEG_MAINTAINER: usize = 10;
/// Score weight of an occurrence in each segment.
pub(super) const WEIGHTS: [u64; SEGMENTS] = [10, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1];

/// Fields matched like free text (substring of normalised text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextField {
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
    pub(super) fn segment(self) -> Option<usize> {
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
pub(super) enum InternField {
    Organization = 0,
    OwnerOrg = 1,
    LicenseId = 2,
    Tags = 3,
    Groups = 4,
    ResFormat = 5,
}
pub(super) const INTERNED: usize = 6;
pub(super) const INTERN_FIELDS: [InternField; INTERNED] = [
    InternField::Organization,
    InternField::OwnerOrg,
    InternField::LicenseId,
    InternField::Tags,
    InternField::Groups,
    InternField::ResFormat,
];

impl InternField {
    pub(super) fn key(self, s: &str) -> String {
        match self {
            InternField::ResFormat => nfkc(s).to_lowercase(),
            _ => nfkc(s),
        }
    }
}

/// Other exact-match (Solr `string`) fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StrField {
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
pub(super) enum DateField {
    Created,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IntField {
    NumResources,
    NumTags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FieldRef {
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
    pub(super) fn parse(name: &str) -> FieldRef {
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
