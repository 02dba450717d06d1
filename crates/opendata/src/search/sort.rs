//! CKAN's sort strings (`score desc, metadata_modified desc`) and the order
//! of hits.

use std::cmp::Ordering;

use super::entry::Entry;
use super::request::SearchError;
use super::text::snippet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortKey {
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
pub(super) fn parse_sort(sort: Option<&str>) -> Result<Vec<(SortKey, bool)>, SearchError> {
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

pub(super) struct Hit<'a> {
    pub(super) e: &'a Entry,
    pub(super) score: u64,
}

pub(super) fn compare(keys: &[(SortKey, bool)], a: &Hit<'_>, b: &Hit<'_>) -> Ordering {
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
