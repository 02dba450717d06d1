//! What the search engine indexes: one [`Doc`] per dataset.

use chrono::{DateTime, Utc};

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
