//! Validating a CSV file against a template: decoding, finding the header
//! row, mapping its names to the template's columns, and checking every row
//! (each cell by [`super::cells`]), with every problem by line and column.

use std::collections::HashMap;

use platform::import::{RowError, decode};

use super::cells::{check_cell, clean_text, header_key};
use super::datasets::{ID, LATITUDE, LONGITUDE};
use super::schema::{Table, Template};

/// Validation stops after this many problems (one more error says so).
pub const MAX_ERRORS: usize = 1000;

/// The longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 4000;

/// Collects errors up to [`MAX_ERRORS`].
struct Errors {
    list: Vec<RowError>,
    full: bool,
}

impl Errors {
    fn push(&mut self, error: RowError) {
        if self.full {
            return;
        }
        if self.list.len() >= MAX_ERRORS {
            let line = error.line;
            self.list.push(RowError::new(
                line,
                "",
                "opendata.row.too_many_errors",
                MAX_ERRORS.to_string(),
            ));
            self.full = true;
            return;
        }
        self.list.push(error);
    }
}

/// Where a template column's values come from.
#[derive(Debug, Clone)]
enum Source {
    /// A header of the file (its index), and whether it matched by alias.
    Header { index: usize, alias: bool },
    /// Several headers joined (`都道府県名` + `市区町村名`).
    Joined(Vec<usize>),
}

/// The 1-based line a record starts on. csv reports a record's position
/// where the previous record ended (before its line break), and its own line
/// count lags, so count the newlines up to there and through the line breaks
/// (and blank lines) that follow.
fn line_at(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    let (head, tail) = bytes.split_at_checked(end).unwrap_or((bytes, &[]));
    let before = head.iter().filter(|b| **b == b'\n').count();
    let breaks = tail
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    before + breaks + 1
}

/// Validates a CSV file (UTF-8 with or without BOM, or Shift_JIS/CP932)
/// against a template. On success the rows come back normalised in
/// template column order; otherwise every problem found, by line and
/// column.
pub fn validate(template: &'static Template, bytes: &[u8]) -> Result<Table, Vec<RowError>> {
    let mut errors = Errors {
        list: Vec::new(),
        full: false,
    };
    if is_spreadsheet(bytes) {
        return Err(vec![RowError::new(1, "", "opendata.row.spreadsheet", "")]);
    }
    // Excel's "Unicode text" is UTF-16 with a BOM, tab-separated.
    let text = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        encoding_rs::UTF_16LE.decode(bytes).0.into_owned()
    } else {
        decode(bytes)
    };
    if looks_binary(&text) {
        return Err(vec![RowError::new(1, "", "opendata.row.not_csv", "")]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };

    // Read every non-blank record with its line.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record
                    .position()
                    .map_or(records.len() + 1, |p| line_at(text, p.byte()));
                let cells: Vec<String> = record.iter().map(str::to_string).collect();
                if cells.iter().all(|c| clean_text(c).is_empty()) {
                    continue;
                }
                records.push((line, cells));
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or(records.len() + 1, |p| line_at(text, p.byte()));
                return Err(vec![RowError::new(
                    line,
                    "",
                    "opendata.row.unreadable",
                    e.to_string(),
                )]);
            }
        }
    }
    if records.is_empty() {
        return Err(vec![RowError::new(1, "", "opendata.row.empty_file", "")]);
    }

    // The header is the first of the first few rows that names at least two
    // of the template's columns (some files have a title row above it).
    let header_at = records
        .iter()
        .take(5)
        .position(|(_, cells)| map_header(template, cells).0.iter().flatten().count() >= 2)
        .unwrap_or(0);
    let Some((header_line, header)) = records.get(header_at).cloned() else {
        return Err(vec![RowError::new(1, "", "opendata.row.empty_file", "")]);
    };
    let (sources, duplicates) = map_header(template, &header);
    for index in duplicates {
        let name = header.get(index).map_or("", String::as_str).trim();
        errors.push(RowError::new(
            header_line,
            name,
            "opendata.row.duplicate_column",
            name,
        ));
    }
    for (column, source) in template.columns.iter().zip(&sources) {
        if column.required && source.is_none() {
            errors.push(RowError::new(
                header_line,
                "",
                "opendata.row.missing_column",
                column.ja,
            ));
        }
    }
    if !errors.list.is_empty() {
        return Err(errors.list);
    }

    let data = records.get(header_at + 1..).unwrap_or_default();
    if data.is_empty() {
        return Err(vec![RowError::new(
            header_line,
            "",
            "opendata.row.no_rows",
            "",
        )]);
    }

    let id_column = template.column_index("identifier");
    let lat_column = template.column_index("latitude");
    let lon_column = template.column_index("longitude");
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(data.len());
    for (line, cells) in data {
        let line = *line;
        if errors.full {
            break;
        }
        if cells.len() != header.len() {
            let extra_blank = cells.len() > header.len()
                && cells
                    .get(header.len()..)
                    .unwrap_or_default()
                    .iter()
                    .all(|c| clean_text(c).is_empty());
            if !extra_blank {
                errors.push(RowError::new(
                    line,
                    "",
                    "opendata.row.ragged",
                    cells.len().to_string(),
                ));
                continue;
            }
        }
        let mut row = Vec::with_capacity(template.columns.len());
        for (column, source) in template.columns.iter().zip(&sources) {
            let (raw, name) = match source {
                None => (String::new(), column.ja),
                Some(Source::Header { index, .. }) => (
                    cells.get(*index).cloned().unwrap_or_default(),
                    header.get(*index).map_or(column.ja, |h| h.trim()),
                ),
                Some(Source::Joined(indexes)) => (
                    indexes
                        .iter()
                        .filter_map(|i| cells.get(*i))
                        .map(|c| clean_text(c))
                        .collect::<String>(),
                    column.ja,
                ),
            };
            let name = if name.is_empty() { column.ja } else { name };
            if raw.chars().count() > MAX_CELL_CHARS {
                errors.push(RowError::new(
                    line,
                    name,
                    "opendata.row.too_long",
                    MAX_CELL_CHARS.to_string(),
                ));
                row.push(String::new());
                continue;
            }
            match check_cell(column.kind, &raw) {
                Ok(value) => {
                    if value.is_empty() && column.required {
                        errors.push(RowError::new(
                            line,
                            name,
                            "opendata.row.required",
                            column.ja,
                        ));
                    }
                    row.push(value);
                }
                Err((code, value)) => {
                    errors.push(RowError::new(line, name, code, value));
                    row.push(String::new());
                }
            }
        }
        let value = |col: usize| row.get(col).map_or("", String::as_str);
        let source = |col: usize| sources.get(col).and_then(Option::as_ref);
        // Latitude and longitude come as a pair.
        if let (Some(lat), Some(lon)) = (lat_column, lon_column) {
            let (has_lat, has_lon) = (!value(lat).is_empty(), !value(lon).is_empty());
            let raw_empty = |col: usize| match source(col) {
                Some(Source::Header { index, .. }) => {
                    cells.get(*index).is_none_or(|c| clean_text(c).is_empty())
                }
                _ => true,
            };
            if has_lat && !has_lon && raw_empty(lon) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, source(lon), LONGITUDE.ja),
                    "opendata.row.coordinates_pair",
                    value(lat),
                ));
            } else if has_lon && !has_lat && raw_empty(lat) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, source(lat), LATITUDE.ja),
                    "opendata.row.coordinates_pair",
                    value(lon),
                ));
            }
        }
        if let Some(id_col) = id_column
            && let Some(id) = row.get(id_col).filter(|v| !v.is_empty())
        {
            if let Some(first) = seen_ids.get(id) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, source(id_col), ID.ja),
                    "opendata.row.duplicate_id",
                    first.to_string(),
                ));
            } else {
                seen_ids.insert(id.clone(), line);
            }
        }
        rows.push(row);
    }
    if errors.list.is_empty() {
        Ok(Table { template, rows })
    } else {
        Err(errors.list)
    }
}

fn header_name<'a>(header: &'a [String], source: Option<&Source>, fallback: &'a str) -> &'a str {
    match source {
        Some(Source::Header { index, .. }) => header
            .get(*index)
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .unwrap_or(fallback),
        _ => fallback,
    }
}

/// Maps the header cells to the template's columns. Returns the source of
/// each template column and the indexes of headers that repeat a column.
fn map_header(template: &Template, header: &[String]) -> (Vec<Option<Source>>, Vec<usize>) {
    let mut sources: Vec<Option<Source>> = vec![None; template.columns.len()];
    let mut duplicates = Vec::new();
    for (index, name) in header.iter().enumerate() {
        let key = header_key(name);
        if key.is_empty() {
            continue;
        }
        let Some((column, alias)) = match_column(template, name, &key) else {
            continue;
        };
        let Some(slot) = sources.get_mut(column) else {
            continue;
        };
        match slot {
            None => *slot = Some(Source::Header { index, alias }),
            Some(Source::Header {
                alias: previous_alias,
                ..
            }) => {
                let previous_alias = *previous_alias;
                if previous_alias && !alias {
                    *slot = Some(Source::Header { index, alias });
                } else if previous_alias == alias {
                    duplicates.push(index);
                }
            }
            Some(Source::Joined(_)) => {}
        }
    }
    // The older layout's 都道府県名 + 市区町村名 make 地方公共団体名.
    if let Some(column) = template.column_index("localGovernmentName")
        && let Some(slot) = sources.get_mut(column)
        && slot.is_none()
    {
        let parts: Vec<usize> = ["都道府県名", "市区町村名"]
            .iter()
            .filter_map(|part| header.iter().position(|h| header_key(h) == *part))
            .collect();
        if !parts.is_empty() {
            *slot = Some(Source::Joined(parts));
        }
    }
    (sources, duplicates)
}

/// The column a header names, and whether by alias.
fn match_column(template: &Template, raw: &str, key: &str) -> Option<(usize, bool)> {
    let raw = raw.trim().trim_start_matches('\u{feff}');
    template
        .columns
        .iter()
        .position(|c| c.ja == raw)
        .map(|i| (i, false))
        .or_else(|| {
            template
                .columns
                .iter()
                .position(|c| header_key(c.ja) == key || c.en.to_ascii_lowercase() == key)
                .map(|i| (i, false))
        })
        .or_else(|| {
            template
                .columns
                .iter()
                .position(|c| c.aliases.iter().any(|a| header_key(a) == key))
                .map(|i| (i, true))
        })
}

/// A zip (xlsx, ods) or OLE (xls) file.
fn is_spreadsheet(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0")
}

/// Text with NUL characters or many control characters is not a CSV file.
fn looks_binary(text: &str) -> bool {
    let mut controls = 0usize;
    let mut total = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        if (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || c == '\u{fffd}' {
            controls += 1;
        }
    }
    text.starts_with("%PDF") || controls > 8 + total / 100
}
