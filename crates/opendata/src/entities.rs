//! The standard datasets' rows as NGSI context entities: each row of a
//! validated [`Table`] becomes an [`Entity`], grouped in [`EntitySet`]s
//! under the tenant and service path a dataset is served with.
//!
//! Domain logic: the catalogue's service builds the sets from the stored
//! tables, and the NGSI-v2 adapter (`ngsi`) serves and filters them.

use std::collections::HashSet;

use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::standard::{ColumnKind, Table};

/// The prefix of entity ids made by [`entities_from_table`] when callers
/// have no other: NGSI-LD's URN form, which NGSI-v2 clients accept too.
pub const DEFAULT_ID_PREFIX: &str = "urn:ngsi-ld:";

/// The longest entity id (as Orion).
const MAX_ID_CHARS: usize = 256;

/// An NGSI entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: String,
    pub entity_type: String,
    /// Attributes in order: name, NGSI attribute type (`Text`, `Number`,
    /// `geo:json`, `DateTime` …), value.
    pub attrs: Vec<(String, String, Value)>,
}

impl Entity {
    /// The attribute with this name: its type and value.
    pub fn attr(&self, name: &str) -> Option<(&str, &Value)> {
        self.attrs
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, t, v)| (t.as_str(), v))
    }
}

/// Entities served under one tenant and service path.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    /// The `Fiware-Service` (compared in lowercase, as Orion).
    pub tenant: String,
    /// The `Fiware-ServicePath`, e.g. `/opendata/aed`; empty means `/`.
    pub service_path: String,
    pub entities: Vec<Entity>,
}

/// Turns a validated table into entities.
///
/// The id is `{id_prefix}{entity_type}:{全国地方公共団体コード}:{ID}`
/// (e.g. `urn:ngsi-ld:AED:242012:A-001` with [`DEFAULT_ID_PREFIX`]; a
/// prefix not ending in `:` gets one, so `aed_tsu` gives
/// `aed_tsu:AED:242012:A-001`, and an empty prefix gives
/// `AED:242012:A-001`); the row's number (1 for the first row) stands in
/// for an empty `ID`. The
/// id is NFKC-normalised and every character Orion does not allow in ids
/// (whitespace, controls, non-ASCII, `& ? / # < > " ' = ; ( ) %`) becomes
/// `_`; it is cut to 256 characters, and a repeated id gets `-2`, `-3` …
///
/// Attributes are named by the columns' `en` names; empty cells are
/// left out. Coordinates, counts are `Number`s, dates `DateTime`s, URLs
/// `URL`s, the rest `Text`. A row with both latitude and longitude also
/// gets `location`, a `geo:json` point (`[longitude, latitude]`).
pub fn entities_from_table(table: &Table, id_prefix: &str) -> Vec<Entity> {
    let template = table.template;
    let lg_code = template.column_index("localGovernmentCode");
    let id_column = template.column_index("identifier");
    let prefix = if id_prefix.is_empty() || id_prefix.ends_with(':') {
        id_prefix.to_string()
    } else {
        format!("{id_prefix}:")
    };
    let mut used: HashSet<String> = HashSet::new();
    let mut entities = Vec::with_capacity(table.rows.len());
    for (number, row) in table.rows.iter().enumerate() {
        let cell = |column: Option<usize>| {
            column
                .and_then(|c| row.get(c))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let local = cell(id_column).map_or_else(|| (number + 1).to_string(), str::to_string);
        let base = sanitize_id(&format!(
            "{prefix}{}:{}:{local}",
            template.entity_type,
            cell(lg_code).unwrap_or("unknown"),
        ));
        let mut id = base.clone();
        let mut n = 1;
        while used.contains(&id) {
            n += 1;
            let suffix = format!("-{n}");
            let keep = MAX_ID_CHARS.saturating_sub(suffix.len());
            id = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        }
        used.insert(id.clone());

        let mut attrs = Vec::new();
        let (mut lat, mut lon) = (None, None);
        for (column, value) in template.columns.iter().zip(row) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let (kind, json) = attr_value(column.kind, value);
            if kind == "Number" {
                match column.kind {
                    ColumnKind::Latitude => lat = json.as_f64(),
                    ColumnKind::Longitude => lon = json.as_f64(),
                    _ => {}
                }
            }
            attrs.push((column.en.to_string(), kind.to_string(), json));
        }
        if let (Some(lat), Some(lon)) = (lat, lon) {
            attrs.push((
                "location".to_string(),
                "geo:json".to_string(),
                json!({"type": "Point", "coordinates": [lon, lat]}),
            ));
        }
        entities.push(Entity {
            id,
            entity_type: template.entity_type.to_string(),
            attrs,
        });
    }
    entities
}

/// The NGSI type and JSON value of a cell.
fn attr_value(kind: ColumnKind, value: &str) -> (&'static str, Value) {
    let text = || ("Text", Value::String(value.to_string()));
    match kind {
        ColumnKind::Latitude | ColumnKind::Longitude => value
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(text, |n| ("Number", Value::Number(n))),
        ColumnKind::Count => value
            .parse::<i64>()
            .map_or_else(|_| text(), |n| ("Number", Value::from(n))),
        ColumnKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_or_else(
            |_| text(),
            |d| {
                (
                    "DateTime",
                    Value::String(d.format("%Y-%m-%dT00:00:00.000Z").to_string()),
                )
            },
        ),
        ColumnKind::Url => ("URL", Value::String(value.to_string())),
        _ => text(),
    }
}

/// Replaces the characters Orion does not allow in an id with `_` and
/// cuts it to 256 characters.
fn sanitize_id(raw: &str) -> String {
    let id: String = raw
        .nfkc()
        .map(|c| {
            if c.is_ascii_graphic() && !"&?/#<>\"'=;()%".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_ID_CHARS)
        .collect();
    if id.is_empty() { "_".to_string() } else { id }
}

/// The NGSI tenant (`Fiware-Service`) of a dataset whose publisher has the
/// CKAN name `publisher` (`madoguchi` without one): ASCII letters and
/// digits in lower case, anything else `_`, at most 50 characters.
pub fn tenant(publisher: Option<&str>) -> String {
    let mut t: String = publisher
        .unwrap_or("madoguchi")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    t.truncate(50);
    t
}

/// The NGSI service path (`Fiware-ServicePath`) of a dataset: `/` and its
/// name, ASCII letters and digits kept, anything else `_`, at most 50
/// characters after the `/`.
pub fn service_path(dataset_name: &str) -> String {
    let mut p: String = dataset_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    p.truncate(50);
    format!("/{p}")
}
