//! The procedure inventory (行政手続等の棚卸調査): every procedure of an
//! organisation, online or not, in the national survey's columns plus the
//! prefecture's own (県独自/法定, 年間受付件数, 重点手続, planned fiscal year).
//!
//! Imported from CSV (UTF-8, UTF-8 with BOM, Shift_JIS/CP932: the encoding is
//! recognised) or `.xlsx` in that layout, with a header row naming the
//! columns. Every bad row is reported with its line and reason, and nothing
//! is imported from a file with errors unless the caller asks for the valid
//! rows only. A row naming a madoguchi procedure (`madoguchi手続コード`)
//! counts as online as soon as that procedure is published online: the shares
//! are computed at the time of asking.

use serde::Serialize;

/// The columns, by their header in the survey's layout (and an English alias).
pub const COLUMNS: &[(&str, &str)] = &[
    ("手続ID", "item_id"),
    ("手続名", "name"),
    ("根拠法令", "legal_basis"),
    ("手続類型", "kind"),
    ("手続主体", "actor"),
    ("手続の受け手", "recipient"),
    ("オンライン化の実施状況", "online_status"),
    ("実施予定", "plan"),
    ("懸念点", "concerns"),
    ("実施時期", "timing"),
    ("本人確認手法", "identity_method"),
    ("手数料", "fee"),
    ("納付方法", "payment_method"),
    ("総手続件数", "total_count"),
    ("オンライン手続件数", "online_count"),
    ("非オンライン手続件数", "offline_count"),
    ("添付書類", "attachments"),
    ("ライフイベント", "life_events"),
    ("県独自・法定", "basis"),
    ("年間受付件数", "annual_volume"),
    ("重点手続", "priority"),
    ("デジタル化予定年度", "planned_fy"),
    ("madoguchi手続コード", "procedure_code"),
];

/// One row of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct Item {
    pub item_id: String,
    pub name: String,
    pub legal_basis: String,
    pub kind: String,
    pub actor: String,
    pub recipient: String,
    pub online_status: i64,
    pub plan_text: String,
    pub concerns: String,
    pub timing: String,
    pub identity_method: String,
    pub fee: String,
    pub payment_method: String,
    pub total_count: Option<i64>,
    pub online_count: Option<i64>,
    pub offline_count: Option<i64>,
    pub attachments: String,
    pub life_events: String,
    pub basis: String,
    pub annual_volume: Option<i64>,
    #[sqlx(try_from = "platform::db::DbBool")]
    pub priority: bool,
    pub planned_fy: Option<i64>,
    pub procedure_code: String,
}

pub use platform::import::{RowError, decode};

/// The largest inventory file read: rows, columns and cells of its sheet
/// (Mie's inventory has 4,273 procedures in 30 columns), and the bytes an
/// `.xlsx` may unpack to. Checked while reading, before anything of that
/// size is allocated.
pub const MAX_ROWS: usize = 100_000;
pub const MAX_COLUMNS: usize = 200;
pub const MAX_CELLS: usize = 2_000_000;
const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;

/// Reads the rows of a CSV text or an `.xlsx` file as (line, cells), the header
/// first. Files beyond [`MAX_ROWS`], [`MAX_COLUMNS`] or [`MAX_CELLS`] are
/// refused with what was exceeded. CPU-bound: call from a blocking task.
pub fn rows(bytes: &[u8], name: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    if bytes.starts_with(b"PK\x03\x04") || name.to_ascii_lowercase().ends_with(".xlsx") {
        return xlsx_rows(bytes);
    }
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut cells = 0usize;
    for rec in reader.records() {
        let rec =
            rec.map_err(|e| format!("line {}: {e}", e.position().map(|p| p.line()).unwrap_or(0)))?;
        let line = rec
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(out.len() + 1);
        cells += rec.len();
        if out.len() >= MAX_ROWS || rec.len() > MAX_COLUMNS || cells > MAX_CELLS {
            return Err(too_big());
        }
        out.push((line, rec.iter().map(|s| s.trim().to_string()).collect()));
    }
    Ok(out)
}

fn too_big() -> String {
    format!(
        "the file is larger than an inventory can be: at most {MAX_ROWS} rows, {MAX_COLUMNS} columns and {MAX_CELLS} cells"
    )
}

/// The first sheet of an `.xlsx`, cell by cell (a sheet whose cells are far
/// apart is never laid out whole in memory), as rows from the first used row
/// to the last, each from the first used column to the last.
fn xlsx_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    use calamine::{Data, DataRef, Reader};
    // A zip bomb: parts that unpack to far more than the file.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable .xlsx file: {e}"))?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        let part = zip
            .by_index_raw(i)
            .map_err(|e| format!("not a readable .xlsx file: {e}"))?;
        unpacked = unpacked.saturating_add(part.size());
    }
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(too_big());
    }
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable .xlsx file: {e}"))?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or("the workbook has no sheet")?;
    let mut reader = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| e.to_string())?;
    let mut cells: std::collections::BTreeMap<usize, std::collections::BTreeMap<usize, String>> =
        std::collections::BTreeMap::new();
    let mut count = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|e| e.to_string())? {
        let (row, col) = cell.get_position();
        let (row, col) = (row as usize, col as usize);
        count += 1;
        if row >= MAX_ROWS || col >= MAX_COLUMNS || count > MAX_CELLS {
            return Err(too_big());
        }
        let text = match cell.get_value() {
            DataRef::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
            other => Data::from(other.clone()).to_string(),
        };
        cells.entry(row).or_default().insert(col, text);
    }
    let (Some(first_row), Some(last_row)) = (
        cells.keys().next().copied(),
        cells.keys().next_back().copied(),
    ) else {
        return Ok(Vec::new());
    };
    let first_col = cells
        .values()
        .filter_map(|r| r.keys().next().copied())
        .min()
        .unwrap_or(0);
    let last_col = cells
        .values()
        .filter_map(|r| r.keys().next_back().copied())
        .max()
        .unwrap_or(0);
    Ok((first_row..=last_row)
        .map(|r| {
            let row = cells.get(&r);
            (
                r - first_row + 1,
                (first_col..=last_col)
                    .map(|c| row.and_then(|row| row.get(&c)).cloned().unwrap_or_default())
                    .collect(),
            )
        })
        .collect())
}

fn parse_count(s: &str) -> Result<Option<i64>, String> {
    let s = jp::width::normalize_width(s).replace([',', ' '], "");
    if s.is_empty() || s == "-" || s == "－" {
        return Ok(None);
    }
    s.parse::<i64>().ok().filter(|n| *n >= 0).map(Some).ok_or(s)
}

fn parse_status(s: &str) -> Result<i64, String> {
    let s = jp::width::normalize_width(s);
    let t = s.trim();
    match t {
        "1" | "実施済" | "実施済み" | "1 実施済" => Ok(1),
        "2" | "未実施" | "2 未実施" => Ok(2),
        "3" | "適用除外" | "3 適用除外" => Ok(3),
        "4" | "その他" | "4 その他" => Ok(4),
        _ => match t.chars().next() {
            Some(c @ '1'..='4') if t.len() > 1 => Ok(i64::from(c as u8 - b'0')),
            _ => Err(t.to_string()),
        },
    }
}

fn parse_flag(s: &str) -> Result<bool, String> {
    match jp::width::normalize_width(s).trim() {
        "" | "0" | "-" | "×" | "いいえ" | "false" | "no" => Ok(false),
        "1" | "○" | "〇" | "◯" | "はい" | "true" | "yes" | "重点" => Ok(true),
        other => Err(other.to_string()),
    }
}

fn parse_basis(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Ok(String::new()),
        "県独自" | "独自" | "市町村独自" | "local" => Ok("local".into()),
        "法定" | "法定受託" | "statutory" => Ok("statutory".into()),
        other => Err(other.to_string()),
    }
}

/// A fiscal year as `2023`, `令和5年度`, `R5`, `H30年度`; the text back if it is not one.
pub fn parse_fy(s: &str) -> Result<Option<i64>, String> {
    let s = jp::width::normalize_width(s).replace(' ', "");
    let s = s.trim_end_matches("年度").trim_end_matches('年');
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(y) = s.parse::<i64>() {
        return if (1989..=2100).contains(&y) {
            Ok(Some(y))
        } else {
            Err(y.to_string())
        };
    }
    let eras = [
        ("令和", 2018),
        ("R", 2018),
        ("r", 2018),
        ("平成", 1988),
        ("H", 1988),
        ("h", 1988),
    ];
    for (prefix, base) in eras {
        if let Some(rest) = s.strip_prefix(prefix) {
            let n = if rest == "元" {
                Some(1)
            } else {
                rest.parse::<i64>().ok()
            };
            if let Some(n) = n.filter(|n| (1..=99).contains(n)) {
                return Ok(Some(base + n));
            }
        }
    }
    Err(s.to_string())
}

/// The header of column `col` in the survey's layout.
fn column(col: usize) -> &'static str {
    COLUMNS.get(col).map_or("", |(ja, _)| ja)
}

/// Parses the rows (header first) into items, collecting every row's problems.
pub fn parse(rows: &[(usize, Vec<String>)]) -> Result<Vec<(usize, Item)>, Vec<RowError>> {
    let Some((_, header)) = rows.first() else {
        return Err(vec![RowError::new(1, "", "plans.row.empty_file", "")]);
    };
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|(ja, en)| {
            header.iter().position(|h| {
                let h = h.trim().trim_start_matches('\u{feff}');
                h == *ja || h.eq_ignore_ascii_case(en)
            })
        })
        .collect();
    let mut errors = Vec::new();
    // 手続ID, 手続名 and オンライン化の実施状況 are required.
    for (i, ((ja, _), found)) in COLUMNS.iter().zip(&index).enumerate() {
        if matches!(i, 0 | 1 | 6) && found.is_none() {
            errors.push(RowError::new(1, ja, "plans.row.column_required", *ja));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut items = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (line, cells) in rows.iter().skip(1) {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| {
            index
                .get(i)
                .copied()
                .flatten()
                .and_then(|j| cells.get(j))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let mut err = |col: usize, code: &'static str, value: String| {
            errors.push(RowError::new(*line, column(col), code, value))
        };
        let mut item = Item {
            item_id: get(0),
            name: get(1),
            ..Default::default()
        };
        if item.item_id.is_empty() {
            err(0, "plans.row.id_empty", String::new());
        } else if let Some(first) = seen.insert(item.item_id.clone(), *line) {
            err(0, "plans.row.id_duplicate", first.to_string());
        }
        if item.name.is_empty() {
            err(1, "plans.row.name_empty", String::new());
        }
        for (col, field) in [
            (2, &mut item.legal_basis),
            (3, &mut item.kind),
            (4, &mut item.actor),
            (5, &mut item.recipient),
            (7, &mut item.plan_text),
            (8, &mut item.concerns),
            (9, &mut item.timing),
            (10, &mut item.identity_method),
            (11, &mut item.fee),
            (12, &mut item.payment_method),
            (16, &mut item.attachments),
            (17, &mut item.life_events),
            (22, &mut item.procedure_code),
        ] {
            *field = get(col);
        }
        match parse_status(&get(6)) {
            Ok(s) => item.online_status = s,
            Err(e) => err(6, "plans.row.status", e),
        }
        for (col, slot) in [
            (13, &mut item.total_count),
            (14, &mut item.online_count),
            (15, &mut item.offline_count),
            (19, &mut item.annual_volume),
        ] {
            match parse_count(&get(col)) {
                Ok(v) => *slot = v,
                Err(e) => err(col, "plans.row.count", e),
            }
        }
        match parse_basis(&get(18)) {
            Ok(b) => item.basis = b,
            Err(e) => err(18, "plans.row.basis", e),
        }
        match parse_flag(&get(20)) {
            Ok(f) => item.priority = f,
            Err(e) => err(20, "plans.row.flag", e),
        }
        match parse_fy(&get(21)) {
            Ok(f) => item.planned_fy = f,
            Err(e) => err(21, "plans.row.fiscal_year", e),
        }
        if let (Some(t), Some(o), Some(n)) =
            (item.total_count, item.online_count, item.offline_count)
            && o + n != t
        {
            err(13, "plans.row.counts_sum", format!("{t} ≠ {o} + {n}"));
        }
        items.push((*line, item));
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: Vec<RowError>,
}

/// How much of the inventory is online (by count and by annual volume).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Shares {
    pub total: i64,
    pub online: i64,
    pub count_share: Option<f64>,
    pub volume_total: i64,
    pub volume_online: i64,
    pub volume_share: Option<f64>,
}

impl Shares {
    /// The shares of `total` items, `online` of them online, with their
    /// annual volumes.
    pub fn of(total: i64, online: i64, volume_total: i64, volume_online: i64) -> Shares {
        Shares {
            total,
            online,
            count_share: share(online, total),
            volume_total,
            volume_online,
            volume_share: share(volume_online, volume_total),
        }
    }
}

/// `part` of `total`, if there is any total.
pub fn share(part: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| part as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "手続ID,手続名,オンライン化の実施状況,年間受付件数,重点手続,県独自・法定,デジタル化予定年度\n\
        A-1,三重県立高等学校入学願書,1,17000,○,県独自,令和4年度\n\
        A-2,三重おもいやり駐車場利用証 新規・更新交付申請,2,12600,○,県独自,R5\n";

    fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        for (r, c, v) in cells {
            sheet.write_string(*r, *c, *v).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn an_xlsx_reads_as_the_csv_does() {
        let csv = rows(CSV.as_bytes(), "x.csv").unwrap();
        let mut cells = Vec::new();
        for (line, row) in &csv {
            for (c, v) in row.iter().enumerate() {
                cells.push((*line as u32 - 1, c as u16, v.as_str()));
            }
        }
        assert_eq!(rows(&workbook(&cells), "x.xlsx").unwrap(), csv);
    }

    /// Two cells at opposite corners of a sheet made the import lay out 17
    /// billion cells and the process abort; now it is refused at once.
    #[test]
    fn a_sheet_too_large_is_refused_before_it_is_laid_out() {
        let far = workbook(&[(0, 0, "手続ID"), (1_048_575, 16_383, "x")]);
        let err = rows(&far, "inventory.xlsx").unwrap_err();
        assert!(err.contains("at most"), "{err}");
        let wide = workbook(&[(0, 0, "a"), (0, 250, "b")]);
        assert!(rows(&wide, "inventory.xlsx").is_err());
        let csv = format!("{}\n", vec!["x"; 300].join(","));
        assert!(rows(csv.as_bytes(), "inventory.csv").is_err());
    }

    #[test]
    fn utf8_bom_and_shift_jis_read_the_same() {
        let utf8 = rows(CSV.as_bytes(), "x.csv").unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(CSV.as_bytes());
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(CSV);
        assert_eq!(rows(&bom, "x.csv").unwrap(), utf8);
        assert_eq!(rows(&sjis, "x.csv").unwrap(), utf8);
        let items = parse(&utf8).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].1.planned_fy, Some(2022));
        assert_eq!(items[1].1.planned_fy, Some(2023));
        assert!(items[0].1.priority);
        assert_eq!(items[1].1.annual_volume, Some(12600));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let bad = format!("{CSV}A-3,,5,-3,maybe,国,令和99999年度\nA-1,重複,1,,,,\n");
        let errors = parse(&rows(bad.as_bytes(), "x.csv").unwrap()).unwrap_err();
        let lines: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        for expected in [
            (4, "手続名"),
            (4, "オンライン化の実施状況"),
            (4, "年間受付件数"),
            (4, "重点手続"),
            (4, "県独自・法定"),
            (4, "デジタル化予定年度"),
            (5, "手続ID"),
        ] {
            assert!(
                lines.contains(&expected),
                "{expected:?} missing in {errors:?}"
            );
        }
        assert!(
            errors
                .iter()
                .any(|e| e.code == "plans.row.id_duplicate" && e.value == "2"),
            "the duplicate names the first line"
        );
    }

    #[test]
    fn fiscal_years_in_every_form() {
        assert_eq!(parse_fy("令和5年度"), Ok(Some(2023)));
        assert_eq!(parse_fy("R5"), Ok(Some(2023)));
        assert_eq!(parse_fy("令和元年度"), Ok(Some(2019)));
        assert_eq!(parse_fy("H30"), Ok(Some(2018)));
        assert_eq!(parse_fy("２０２４"), Ok(Some(2024)));
        assert_eq!(parse_fy(""), Ok(None));
        assert!(parse_fy("来年").is_err());
    }
}
