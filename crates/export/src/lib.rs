//! Exports of a procedure's applications for the staff who process them:
//! CSV (UTF-8 with BOM for current Excel, or Shift_JIS for older Excel) and
//! `.xlsx`, one column per question.
//!
//! The columns come from the form definition alone, so every export of a
//! procedure has the same columns whatever the answers: a composite question
//! is one column per part (氏名 → 姓, 名, セイ, メイ; 住所 → 都道府県, 市区町村・番地,
//! 建物名), a repeating group is flattened to its `max_items` items, each with
//! its questions' columns (`保護者 1 氏名（姓）` …), a choice shows the option's
//! label. My Numbers appear masked.
//!
//! Writers take one row at a time: CSV rows become bytes at once (the HTTP
//! response streams them), `.xlsx` rows go to the worksheet's temporary file
//! (rust_xlsxwriter's constant-memory mode), so 100,000 applications never
//! need 100,000 rows of memory.

use std::path::Path;

use chrono::NaiveDate;
use procedures::form::FormDefinition;
use procedures::form::definition::{Kind, Question};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Map, Value};

/// One application as exported.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub receipt_number: String,
    /// The status's Japanese name (送信済 …).
    pub status: String,
    /// When it was sent, in Japan time (`2026-04-01 09:30`).
    pub submitted_at: String,
    pub answers: Map<String, Value>,
}

/// A cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    /// The cell as CSV text.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

#[derive(Debug, Clone)]
enum Source {
    Receipt,
    Status,
    SubmittedAt,
    /// A question's answer (or one part of it), possibly inside a group item.
    Answer {
        group: Option<(String, usize)>,
        question: Box<Question>,
        part: Option<&'static str>,
    },
}

/// One column of the export.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    source: Source,
}

/// The columns for `def`: receipt number, status, sent at, then the questions.
pub fn columns(def: &FormDefinition) -> Vec<Column> {
    let mut out = vec![
        Column {
            header: "受付番号".into(),
            source: Source::Receipt,
        },
        Column {
            header: "状況".into(),
            source: Source::Status,
        },
        Column {
            header: "送信日時".into(),
            source: Source::SubmittedAt,
        },
    ];
    for (_, q) in def.questions() {
        match &q.kind {
            Kind::Group {
                questions,
                max_items,
                ..
            } => {
                for i in 0..*max_items as usize {
                    for inner in questions {
                        for (header, part) in question_columns(inner) {
                            out.push(Column {
                                header: format!("{} {} {}", q.label, i + 1, header),
                                source: Source::Answer {
                                    group: Some((q.id.clone(), i)),
                                    question: Box::new(inner.clone()),
                                    part,
                                },
                            });
                        }
                    }
                }
            }
            _ => {
                for (header, part) in question_columns(q) {
                    out.push(Column {
                        header,
                        source: Source::Answer {
                            group: None,
                            question: Box::new(q.clone()),
                            part,
                        },
                    });
                }
            }
        }
    }
    out
}

fn question_columns(q: &Question) -> Vec<(String, Option<&'static str>)> {
    let l = &q.label;
    match &q.kind {
        Kind::Name { kana: true } => vec![
            (format!("{l}（姓）"), Some("family")),
            (format!("{l}（名）"), Some("given")),
            (format!("{l}（セイ）"), Some("family_kana")),
            (format!("{l}（メイ）"), Some("given_kana")),
        ],
        Kind::Name { kana: false } => vec![
            (format!("{l}（姓）"), Some("family")),
            (format!("{l}（名）"), Some("given")),
        ],
        Kind::Address => vec![
            (format!("{l}（都道府県）"), Some("prefecture")),
            (format!("{l}（市区町村・番地）"), Some("city")),
            (format!("{l}（建物名）"), Some("building")),
        ],
        _ => vec![(l.clone(), None)],
    }
}

/// The cells of `row` for `columns`.
pub fn cells(columns: &[Column], row: &ExportRow) -> Vec<Cell> {
    columns
        .iter()
        .map(|c| match &c.source {
            Source::Receipt => Cell::Text(row.receipt_number.clone()),
            Source::Status => Cell::Text(row.status.clone()),
            Source::SubmittedAt => Cell::Text(row.submitted_at.clone()),
            Source::Answer {
                group,
                question,
                part,
            } => {
                let (value, context) = match group {
                    None => (row.answers.get(&question.id), &row.answers),
                    Some((gid, i)) => {
                        let item = row.answers.get(gid).and_then(|g| g.get(*i));
                        let empty: &Map<String, Value> = EMPTY.get_or_init(Map::new);
                        (
                            item.and_then(|it| it.get(&question.id)),
                            item.and_then(Value::as_object).unwrap_or(empty),
                        )
                    }
                };
                match value {
                    None | Some(Value::Null) => Cell::Empty,
                    Some(v) => cell(question, v, *part, context),
                }
            }
        })
        .collect()
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

fn cell(q: &Question, v: &Value, part: Option<&str>, answers: &Map<String, Value>) -> Cell {
    if let Some(part) = part {
        return match v.get(part).and_then(Value::as_str) {
            Some(s) if !s.is_empty() => Cell::Text(s.to_string()),
            _ => Cell::Empty,
        };
    }
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match &q.kind {
        Kind::Yen { .. } => v.as_i64().map(Cell::Int).unwrap_or(Cell::Empty),
        Kind::Number { .. } => match v.as_i64() {
            Some(i) => Cell::Int(i),
            None => v.as_f64().map(Cell::Number).unwrap_or(Cell::Empty),
        },
        Kind::Date { .. } => NaiveDate::parse_from_str(&s(v), "%Y-%m-%d")
            .map(Cell::Date)
            .unwrap_or(Cell::Empty),
        Kind::MyNumber => Cell::Text(format!(
            "********{}",
            v.get("last4").and_then(Value::as_str).unwrap_or("????")
        )),
        Kind::Choice { .. } => {
            let value = s(v);
            let label = procedures::form::answers::options_for(&q.kind, answers)
                .iter()
                .find(|o| o.value == value)
                .map(|o| o.label.clone())
                .unwrap_or(value);
            Cell::Text(label)
        }
        Kind::MultiChoice { options, .. } => Cell::Text(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            let value = s(x);
                            options
                                .iter()
                                .find(|o| o.value == value)
                                .map(|o| o.label.clone())
                                .unwrap_or(value)
                        })
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
        ),
        Kind::File { .. } => Cell::Text(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.get("filename").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join("、")
                })
                .unwrap_or_default(),
        ),
        Kind::Declaration { .. } => Cell::Text(if v.as_bool() == Some(true) {
            "同意".into()
        } else {
            String::new()
        }),
        _ => Cell::Text(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    }
}

/// A CSV file's character encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark (Excel 2016 and later open it correctly).
    Utf8Bom,
    /// Shift_JIS (Windows-31J/CP932) for older Excel; characters it cannot
    /// hold become 〓 (geta), the customary substitute.
    ShiftJis,
}

/// A text cell as a spreadsheet will not run it: text that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (a formula to Excel and
/// LibreOffice, e.g. `=HYPERLINK(…)` typed by a resident) gets a leading `'`.
/// Numbers are written as numbers and are not touched.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Turns rows into CSV bytes one at a time.
#[derive(Debug)]
pub struct CsvRows {
    encoding: CsvEncoding,
    /// Characters replaced by 〓 so far (Shift_JIS only).
    pub replaced: usize,
}

impl CsvRows {
    pub fn new(encoding: CsvEncoding) -> CsvRows {
        CsvRows {
            encoding,
            replaced: 0,
        }
    }

    /// The byte-order mark (UTF-8) and the header row.
    pub fn header(&mut self, columns: &[Column]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.encoding == CsvEncoding::Utf8Bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        let fields: Vec<String> = columns.iter().map(|c| neutralise(&c.header)).collect();
        out.extend(self.line(&fields));
        out
    }

    pub fn row(&mut self, cells: &[Cell]) -> Vec<u8> {
        let fields: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(s) => neutralise(s),
                other => other.text(),
            })
            .collect();
        self.line(&fields)
    }

    /// The byte-order mark (UTF-8) and a header row of plain titles.
    pub fn titles(&mut self, titles: &[String]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.encoding == CsvEncoding::Utf8Bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        let titles: Vec<String> = titles.iter().map(|t| neutralise(t)).collect();
        out.extend(self.line(&titles));
        out
    }

    fn line(&mut self, fields: &[String]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(fields);
        let utf8 = w.into_inner().unwrap_or_default();
        match self.encoding {
            CsvEncoding::Utf8Bom => utf8,
            CsvEncoding::ShiftJis => {
                let text = String::from_utf8_lossy(&utf8);
                let mut out = Vec::with_capacity(text.len());
                for ch in text.chars() {
                    let mut buf = [0u8; 4];
                    let (bytes, _, unmappable) =
                        encoding_rs::SHIFT_JIS.encode(ch.encode_utf8(&mut buf));
                    if unmappable {
                        self.replaced += 1;
                        out.extend_from_slice(&[0x81, 0xAC]); // 〓
                    } else {
                        out.extend_from_slice(&bytes);
                    }
                }
                out
            }
        }
    }
}

/// A small table (a plan's KPIs, an inventory) as an `.xlsx` workbook in
/// memory: one sheet, a bold header row frozen at the top.
pub fn table_workbook(
    sheet: &str,
    titles: &[String],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy/mm/dd");
    let ws = workbook.add_worksheet();
    ws.set_name(sheet_name(sheet))?;
    for (i, t) in titles.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, t, &bold)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        write_cells(ws, 1 + r as u32, cells, &date)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(workbook.save_to_buffer()?)
}

#[derive(Debug, thiserror::Error)]
#[error("xlsx: {0}")]
pub struct XlsxError(String);

impl From<rust_xlsxwriter::XlsxError> for XlsxError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        XlsxError(e.to_string())
    }
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    let cleaned = cleaned.trim_matches('\'').to_string();
    if cleaned.is_empty() {
        "Sheet".into()
    } else {
        cleaned
    }
}

/// Writes an `.xlsx` workbook row by row (constant memory).
pub struct XlsxRows {
    workbook: Workbook,
    next_row: u32,
    date: Format,
}

impl XlsxRows {
    /// A workbook with one sheet named `sheet`, its header row written.
    pub fn new(sheet: &str, columns: &[Column], tempdir: &Path) -> Result<XlsxRows, XlsxError> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(tempdir)?;
        let bold = Format::new().set_bold();
        let ws = workbook.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet_name(sheet))?;
        for (i, c) in columns.iter().enumerate() {
            ws.write_string_with_format(0, i as u16, &c.header, &bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(XlsxRows {
            workbook,
            next_row: 1,
            date: Format::new().set_num_format("yyyy/mm/dd"),
        })
    }

    pub fn row(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        let row = self.next_row;
        let ws = self.workbook.worksheet_from_index(0)?;
        write_cells(ws, row, cells, &self.date)?;
        self.next_row += 1;
        Ok(())
    }

    /// Finishes the workbook into `path`.
    pub fn save(mut self, path: &Path) -> Result<(), XlsxError> {
        self.workbook.save(path)?;
        Ok(())
    }
}

fn write_cells(
    ws: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    cells: &[Cell],
    date: &Format,
) -> Result<(), XlsxError> {
    for (i, c) in cells.iter().enumerate() {
        let col = i as u16;
        match c {
            Cell::Empty => {}
            Cell::Text(s) => {
                ws.write_string(row, col, s)?;
            }
            Cell::Int(n) => {
                ws.write_number(row, col, *n as f64)?;
            }
            Cell::Number(n) => {
                ws.write_number(row, col, *n)?;
            }
            Cell::Date(d) => {
                use chrono::Datelike;
                let dt = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                ws.write_datetime_with_format(row, col, &dt, date)?;
            }
        }
    }
    Ok(())
}

/// A workbook with one sheet per group of rows (e.g. per school and
/// department: the high school's 合否判定資料). `groups` are (sheet title,
/// rows) in the order to write; every sheet has the same `columns`.
pub fn grouped_workbook(
    groups: &[(String, Vec<Vec<Cell>>)],
    headers: &[String],
    tempdir: &Path,
    path: &Path,
) -> Result<(), XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_tempdir(tempdir)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy/mm/dd");
    let mut used = std::collections::HashSet::new();
    for (title, rows) in groups {
        let mut name = sheet_name(title);
        let mut n = 2;
        while !used.insert(name.clone()) {
            let suffix = format!(" ({n})");
            name = format!(
                "{}{suffix}",
                name.chars()
                    .take(31 - suffix.chars().count())
                    .collect::<String>()
            );
            n += 1;
        }
        let ws = workbook.add_worksheet_with_constant_memory()?;
        ws.set_name(&name)?;
        ws.write_string_with_format(0, 0, title, &bold)?;
        for (i, h) in headers.iter().enumerate() {
            ws.write_string_with_format(2, i as u16, h, &bold)?;
        }
        for (r, cells) in rows.iter().enumerate() {
            write_cells(ws, 3 + r as u32, cells, &date)?;
        }
        ws.write_string(
            3 + rows.len() as u32 + 1,
            0,
            format!("志願者数 {} 名", rows.len()),
        )?;
    }
    if groups.is_empty() {
        let ws = workbook.add_worksheet();
        ws.write_string(0, 0, "該当する申請はありません")?;
    }
    workbook.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> FormDefinition {
        FormDefinition::parse(
            r#"
title = "t"
[[pages]]
id = "a"
title = "A"
[[pages.questions]]
id = "name"
type = "name"
label = "氏名"
[[pages.questions]]
id = "birth"
type = "date"
label = "生年月日"
[[pages.questions]]
id = "school"
type = "choice"
label = "志望校"
options = [{ value = "tsu", label = "津高等学校" }]
[[pages.questions]]
id = "amount"
type = "yen"
label = "金額"
[[pages]]
id = "g"
[[pages.questions]]
id = "kids"
type = "group"
label = "子"
max_items = 2
[[pages.questions.questions]]
id = "name"
type = "text"
label = "名前"
"#,
        )
        .unwrap()
    }

    fn row() -> ExportRow {
        ExportRow {
            receipt_number: "240001-R8-000001".into(),
            status: "送信済".into(),
            submitted_at: "2026-04-01 09:30".into(),
            answers: json!({
                "name": {"family": "髙橋", "given": "𠮷男", "family_kana": "タカハシ", "given_kana": "ヨシオ"},
                "birth": "2010-04-01", "school": "tsu", "amount": 120000,
                "kids": [{"name": "一郎"}]
            })
            .as_object()
            .unwrap()
            .clone(),
        }
    }

    #[test]
    fn columns_are_predictable_and_cells_typed() {
        let cols = columns(&def());
        let headers: Vec<&str> = cols.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(
            headers,
            vec![
                "受付番号",
                "状況",
                "送信日時",
                "氏名（姓）",
                "氏名（名）",
                "氏名（セイ）",
                "氏名（メイ）",
                "生年月日",
                "志望校",
                "金額",
                "子 1 名前",
                "子 2 名前"
            ]
        );
        let c = cells(&cols, &row());
        assert_eq!(
            c[7],
            Cell::Date(NaiveDate::from_ymd_opt(2010, 4, 1).unwrap())
        );
        assert_eq!(c[8], Cell::Text("津高等学校".into()));
        assert_eq!(c[9], Cell::Int(120000));
        assert_eq!(c[10], Cell::Text("一郎".into()));
        assert_eq!(c[11], Cell::Empty);
    }

    #[test]
    fn formulas_typed_by_residents_are_not_run_by_spreadsheets() {
        let mut csv = CsvRows::new(CsvEncoding::Utf8Bom);
        let line = csv.row(&[
            Cell::Text("=HYPERLINK(\"http://evil.example\",\"x\")".into()),
            Cell::Text("+81-59-224-3070".into()),
            Cell::Text("-1+1".into()),
            Cell::Text("@SUM(A1)".into()),
            Cell::Text("\tcmd".into()),
            Cell::Text("三重 =1".into()),
            Cell::Int(-5),
        ]);
        let text = String::from_utf8(line).unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",'+81-59-224-3070,'-1+1,'@SUM(A1),'\tcmd,三重 =1,-5\r\n"
        );
    }

    #[test]
    fn shift_jis_replaces_what_it_cannot_hold_with_geta() {
        let cols = columns(&def());
        let mut w = CsvRows::new(CsvEncoding::ShiftJis);
        let header = w.header(&cols);
        assert!(!header.starts_with(b"\xEF\xBB\xBF"));
        let line = w.row(&cells(&cols, &row()));
        let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&line);
        assert!(!had_errors);
        assert!(text.contains("髙橋"), "髙 is in CP932: {text}");
        assert!(text.contains("〓男"), "𠮷 is not: {text}");
        assert_eq!(w.replaced, 1);
        let mut u = CsvRows::new(CsvEncoding::Utf8Bom);
        assert!(u.header(&cols).starts_with(b"\xEF\xBB\xBF"));
    }

    #[test]
    fn xlsx_opens_in_a_spreadsheet_reader() {
        use calamine::{Reader, Xlsx, open_workbook};
        let dir = std::env::temp_dir().join(format!("madoguchi-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cols = columns(&def());
        let mut x = XlsxRows::new("申請一覧", &cols, &dir).unwrap();
        for _ in 0..3 {
            x.row(&cells(&cols, &row())).unwrap();
        }
        let path = dir.join("out.xlsx");
        x.save(&path).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
        let range = wb.worksheet_range("申請一覧").unwrap();
        assert_eq!(range.height(), 4);
        assert_eq!(range.get((1, 0)).unwrap().to_string(), "240001-R8-000001");
        assert_eq!(range.get((1, 4)).unwrap().to_string(), "𠮷男");
        std::fs::remove_dir_all(&dir).ok();
    }
}
