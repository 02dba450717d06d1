//! `orderBy`: by id, type, creation, distance (with `georel=near`) or any
//! attribute, in MongoDB's order of values.

use std::cmp::Ordering;

use serde_json::Value;

use super::geo::{GeoQuery, GeoRelation};
use super::query::{attr_path, lookup};
use super::response::ApiError;
use crate::entities::Entity;

#[derive(Debug)]
pub(super) enum SortKey {
    Id,
    Type,
    /// Creation (and modification) order: the order of the sets and rows.
    Created,
    Distance,
    Attr(Vec<String>),
}

pub(super) struct OrderBy(Vec<(SortKey, bool)>);

impl OrderBy {
    pub(super) fn parse(raw: Option<&str>, geo: Option<&GeoQuery>) -> Result<OrderBy, ApiError> {
        let near = geo.is_some_and(|g| matches!(g.relation, GeoRelation::Near { .. }));
        let Some(raw) = raw else {
            // Like Orion (MongoDB's $near), near queries come nearest first.
            return Ok(OrderBy(if near {
                vec![(SortKey::Distance, false)]
            } else {
                Vec::new()
            }));
        };
        let mut keys = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, descending) = match item.strip_prefix('!') {
                Some(name) => (name, true),
                None => (item, false),
            };
            let key = match name {
                "id" => SortKey::Id,
                "type" => SortKey::Type,
                "dateCreated" | "dateModified" => SortKey::Created,
                "geo:distance" if near => SortKey::Distance,
                "geo:distance" => {
                    return Err(ApiError::bad_request(
                        "Invalid query: orderBy=geo:distance needs georel=near",
                    ));
                }
                _ => SortKey::Attr(
                    attr_path(name)
                        .map_err(|e| ApiError::bad_request(format!("Invalid orderBy: {e}")))?,
                ),
            };
            keys.push((key, descending));
        }
        Ok(OrderBy(keys))
    }

    pub(super) fn sort(&self, entities: &mut [(usize, &Entity)], geo: Option<&GeoQuery>) {
        if self.0.is_empty() {
            return;
        }
        entities.sort_by(|(ia, a), (ib, b)| {
            for (key, descending) in &self.0 {
                let ordering = match key {
                    SortKey::Id => a.id.cmp(&b.id),
                    SortKey::Type => a.entity_type.cmp(&b.entity_type),
                    SortKey::Created => ia.cmp(ib),
                    SortKey::Distance => {
                        let d = |e: &Entity| geo.and_then(|g| g.distance(e)).unwrap_or(f64::MAX);
                        d(a).total_cmp(&d(b))
                    }
                    SortKey::Attr(path) => compare_values(
                        lookup(a, path).map(|(_, v)| v),
                        lookup(b, path).map(|(_, v)| v),
                    ),
                };
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            ia.cmp(ib)
        });
    }
}

/// MongoDB's order of values: missing and null, numbers, strings, objects,
/// arrays, booleans.
pub(super) fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    pub(super) fn rank(v: Option<&Value>) -> u8 {
        match v {
            None | Some(Value::Null) => 0,
            Some(Value::Number(_)) => 1,
            Some(Value::String(_)) => 2,
            Some(Value::Object(_)) => 3,
            Some(Value::Array(_)) => 4,
            Some(Value::Bool(_)) => 5,
        }
    }
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}
