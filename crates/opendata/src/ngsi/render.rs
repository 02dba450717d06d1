//! Entities and attributes in Orion's representations: normalized,
//! `keyValues`, `values` and `unique`, with the `attrs` selection.

use serde_json::{Value, json};

use super::request::Format;
use super::response::Out;
use crate::entities::Entity;

pub(super) type Attr<'a> = (&'a str, &'a str, &'a Value);

/// The attributes to render: all (in entity order) without `attrs` or with
/// `*` in it, else those named, in that order (`None` for one the entity
/// lacks).
pub(super) fn select_attrs<'a>(
    entity: &'a Entity,
    attrs: Option<&'a [String]>,
) -> Vec<Option<Attr<'a>>> {
    let all = || {
        entity
            .attrs
            .iter()
            .map(|(n, t, v)| Some((n.as_str(), t.as_str(), v)))
            .collect()
    };
    match attrs {
        None => all(),
        Some(list) if list.iter().any(|a| a == "*") => all(),
        Some(list) => list
            .iter()
            .map(|name| {
                entity
                    .attrs
                    .iter()
                    .find(|(n, _, _)| n == name)
                    .map(|(n, t, v)| (n.as_str(), t.as_str(), v))
            })
            .collect(),
    }
}

pub(super) fn render_attr(attr_type: &str, value: &Value) -> Out {
    Out::Map(vec![
        ("type".to_string(), Out::Value(json!(attr_type))),
        ("value".to_string(), Out::Value(value.clone())),
        ("metadata".to_string(), Out::Value(json!({}))),
    ])
}

pub(super) fn render_entity(entity: &Entity, attrs: Option<&[String]>, format: Format) -> Out {
    let selected = select_attrs(entity, attrs);
    match format {
        Format::Values | Format::Unique => Out::List(
            selected
                .iter()
                .map(|a| Out::Value(a.map_or(Value::Null, |(_, _, v)| v.clone())))
                .collect(),
        ),
        Format::Normalized | Format::KeyValues => {
            let mut map = vec![
                ("id".to_string(), Out::Value(json!(entity.id))),
                ("type".to_string(), Out::Value(json!(entity.entity_type))),
            ];
            for (name, attr_type, value) in selected.into_iter().flatten() {
                let rendered = if format == Format::KeyValues {
                    Out::Value(value.clone())
                } else {
                    render_attr(attr_type, value)
                };
                map.push((name.to_string(), rendered));
            }
            Out::Map(map)
        }
    }
}
