//! An FAQ entry as the index and the CSV files see it, and the CSV format:
//! `id,question,answer,area,url` and optional further columns
//! (`organisation,section,procedure,keywords,question_en,answer_en,status,valid_from,valid_until`),
//! in UTF-8, UTF-8 with BOM or Shift_JIS (CP932). Unknown columns are ignored.

use serde::Serialize;

/// One entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Entry {
    /// The external id (the CSV's `id`).
    pub id: String,
    pub question: String,
    pub answer: String,
    /// The business area (業務分野), e.g. 自動車税.
    pub area: String,
    pub url: String,
    /// The organisation's 地方公共団体コード, or empty for the whole installation.
    pub organisation: String,
    /// The section's code within the organisation.
    pub section: String,
    /// The code of the madoguchi procedure to apply for, if any.
    pub procedure: String,
    pub keywords: String,
    pub question_en: String,
    pub answer_en: String,
    /// `published`, `draft` or `retired`.
    pub status: String,
    /// ISO dates, or empty.
    pub valid_from: String,
    pub valid_until: String,
}

impl Entry {
    /// Whether residents are answered from the entry on `today` (an ISO
    /// date): published, and valid that day.
    pub fn is_answerable_on(&self, today: &str) -> bool {
        self.status == "published"
            && (self.valid_from.is_empty() || self.valid_from.as_str() <= today)
            && (self.valid_until.is_empty() || self.valid_until.as_str() >= today)
    }

    /// The entry as a version snapshot (JSON).
    pub fn snapshot(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An entry from a version snapshot; what cannot be read is left empty.
    pub fn from_snapshot(snapshot: &str) -> Entry {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(snapshot) else {
            return Entry::default();
        };
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Entry {
            id: s("id"),
            question: s("question"),
            answer: s("answer"),
            area: s("area"),
            url: s("url"),
            organisation: s("organisation"),
            section: s("section"),
            procedure: s("procedure"),
            keywords: s("keywords"),
            question_en: s("question_en"),
            answer_en: s("answer_en"),
            status: s("status"),
            valid_from: s("valid_from"),
            valid_until: s("valid_until"),
        }
    }
}

/// The export's columns, in order.
pub const COLUMNS: &[&str] = &[
    "id",
    "question",
    "answer",
    "area",
    "url",
    "organisation",
    "section",
    "procedure",
    "keywords",
    "question_en",
    "answer_en",
    "status",
    "valid_from",
    "valid_until",
];

/// The columns an import must have.
pub const REQUIRED: &[&str] = &["id", "question", "answer", "area", "url"];

/// Longest accepted values (characters).
pub const MAX_QUESTION: usize = 1_000;
pub const MAX_ANSWER: usize = 20_000;

pub use platform::import::{RowError, decode};

/// The most rows and columns an import file may have (a city's FAQ has a
/// few thousand entries in 14 columns). Checked row by row while reading.
pub const MAX_ROWS: usize = 50_000;
pub const MAX_COLUMNS: usize = 100;

/// Parses an import file into entries and the problems found (each with its
/// line). Entries are returned for the valid rows even when others are bad:
/// the caller decides whether to import them.
pub fn parse_csv(bytes: &[u8]) -> (Vec<(usize, Entry)>, Vec<RowError>) {
    parse(bytes, true)
}

/// Every row with an id, a question and an answer, whatever else is wrong
/// with it (the evaluation harness ranks a benchmark's entries as they are),
/// and the problems found.
pub fn parse_csv_lenient(bytes: &[u8]) -> (Vec<(usize, Entry)>, Vec<RowError>) {
    parse(bytes, false)
}

fn parse(bytes: &[u8], strict: bool) -> (Vec<(usize, Entry)>, Vec<RowError>) {
    let text = decode(bytes);
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    if text.contains('\0') {
        errors.push(RowError::new(1, "", "faq.row.binary", ""));
        return (entries, errors);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Some(Err(e)) => {
            errors.push(RowError::new(1, "", "faq.row.unreadable", e.to_string()));
            return (entries, errors);
        }
        None => {
            errors.push(RowError::new(1, "", "faq.row.empty_file", ""));
            return (entries, errors);
        }
    };
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        errors.push(RowError::new(
            1,
            "",
            "faq.row.missing_columns",
            missing.join(", "),
        ));
        return (entries, errors);
    }
    let col = |name: &str| header.iter().position(|h| h == name);
    let idx: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (n, record) in records.enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                errors.push(RowError::new(line, "", "faq.row.unreadable", e.to_string()));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if n >= MAX_ROWS || record.len() > MAX_COLUMNS {
            errors.push(RowError::new(
                line,
                "",
                "faq.row.too_large",
                format!("{MAX_ROWS} / {MAX_COLUMNS}"),
            ));
            return (entries, errors);
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| -> String {
            idx.get(i)
                .copied()
                .flatten()
                .and_then(|j| record.get(j))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let entry = Entry {
            id: get(0),
            question: get(1),
            answer: get(2),
            area: get(3),
            url: get(4),
            organisation: get(5),
            section: get(6),
            procedure: get(7),
            keywords: get(8),
            question_en: get(9),
            answer_en: get(10),
            status: match get(11).as_str() {
                "" => "published".to_string(),
                s => s.to_string(),
            },
            valid_from: get(12),
            valid_until: get(13),
        };
        let before = errors.len();
        check(&entry, line, &mut errors);
        if let Some(first) = seen.insert(entry.id.clone(), line)
            && !entry.id.is_empty()
        {
            errors.push(RowError::new(
                line,
                "id",
                "faq.row.duplicate_id",
                format!("{} ({first})", entry.id),
            ));
        }
        let usable = !entry.id.is_empty() && !entry.question.is_empty() && !entry.answer.is_empty();
        if errors.len() == before || (!strict && usable) {
            entries.push((line, entry));
        }
    }
    (entries, errors)
}

/// The checks every entry passes, from a file or a form.
pub fn check(entry: &Entry, line: usize, errors: &mut Vec<RowError>) {
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars().count() <= 100
            && s.chars()
                .all(|c| c.is_alphanumeric() || "-_.:~".contains(c))
    };
    if entry.id.is_empty() {
        errors.push(RowError::new(line, "id", "faq.row.required", ""));
    } else if !id_ok(&entry.id) {
        errors.push(RowError::new(
            line,
            "id",
            "faq.row.bad_id",
            entry.id.clone(),
        ));
    }
    for (column, value, max) in [
        ("question", &entry.question, MAX_QUESTION),
        ("answer", &entry.answer, MAX_ANSWER),
    ] {
        if value.is_empty() {
            errors.push(RowError::new(line, column, "faq.row.required", ""));
        } else if value.chars().count() > max {
            errors.push(RowError::new(
                line,
                column,
                "faq.row.too_long",
                max.to_string(),
            ));
        }
    }
    if entry.area.chars().count() > 100 {
        errors.push(RowError::new(line, "area", "faq.row.too_long", "100"));
    }
    if !(entry.url.is_empty()
        || entry.url.starts_with("https://")
        || entry.url.starts_with("http://"))
    {
        errors.push(RowError::new(
            line,
            "url",
            "faq.row.bad_url",
            entry.url.clone(),
        ));
    }
    if !entry.organisation.is_empty()
        && jp::lg_code::LocalGovernmentCode::parse(&entry.organisation).is_err()
    {
        errors.push(RowError::new(
            line,
            "organisation",
            "faq.row.bad_organisation",
            entry.organisation.clone(),
        ));
    }
    if !matches!(entry.status.as_str(), "published" | "draft" | "retired") {
        errors.push(RowError::new(
            line,
            "status",
            "faq.row.bad_status",
            entry.status.clone(),
        ));
    }
    for (column, value) in [
        ("valid_from", &entry.valid_from),
        ("valid_until", &entry.valid_until),
    ] {
        if !value.is_empty() && chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err() {
            errors.push(RowError::new(
                line,
                column,
                "faq.row.bad_date",
                value.clone(),
            ));
        }
    }
}

/// Writes entries in the import format (UTF-8 with BOM so that spreadsheet
/// programs read it, or Shift_JIS).
pub fn write_csv(entries: &[Entry], shift_jis: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(COLUMNS);
    for e in entries {
        let _ = writer.write_record([
            &e.id,
            &e.question,
            &e.answer,
            &e.area,
            &e.url,
            &e.organisation,
            &e.section,
            &e.procedure,
            &e.keywords,
            &e.question_en,
            &e.answer_en,
            &e.status,
            &e.valid_from,
            &e.valid_until,
        ]);
    }
    let text = String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default();
    if shift_jis {
        encoding_rs::SHIFT_JIS.encode(&text).0.into_owned()
    } else {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_too_large_is_refused_at_the_first_row_too_many() {
        let wide = format!(
            "id,question,answer,area,url\n{}\n",
            vec!["x"; 150].join(",")
        );
        let (_, errors) = parse_csv(wide.as_bytes());
        assert_eq!(errors.first().map(|e| e.code), Some("faq.row.too_large"));
        let mut long = String::from("id,question,answer,area,url\n");
        for i in 0..=MAX_ROWS {
            long.push_str(&format!("q{i},質問,回答,,\n"));
        }
        let (entries, errors) = parse_csv(long.as_bytes());
        assert_eq!(entries.len(), MAX_ROWS);
        assert_eq!(errors.last().map(|e| e.code), Some("faq.row.too_large"));
    }

    use super::*;

    #[test]
    fn reads_the_minimal_columns_in_every_encoding() {
        let text = "id,question,answer,area,url,extra\nq1,自動車税の納期限は？,5月31日です。,自動車税,,x\n";
        for bytes in [
            text.as_bytes().to_vec(),
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        ] {
            let (entries, errors) = parse_csv(&bytes);
            assert!(errors.is_empty(), "{errors:?}");
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].1.id, "q1");
            assert_eq!(entries[0].1.question, "自動車税の納期限は？");
            assert_eq!(entries[0].1.status, "published");
        }
    }

    #[test]
    fn reports_bad_rows_by_line() {
        let text = "id,question,answer,area,url\nq1,,a,x,\nq2,q,a,x,ftp://x\nq1,q,a,x,\n";
        let (entries, errors) = parse_csv(text.as_bytes());
        let lines: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            lines,
            vec![
                (2, "faq.row.required"),
                (3, "faq.row.bad_url"),
                (4, "faq.row.duplicate_id")
            ]
        );
        assert!(entries.is_empty());
        // The harness ranks what is usable.
        let (lenient, _) = parse_csv_lenient(text.as_bytes());
        let ids: Vec<&str> = lenient.iter().map(|(_, e)| e.id.as_str()).collect();
        assert_eq!(ids, vec!["q2", "q1"]);
    }

    #[test]
    fn export_reads_back() {
        let e = Entry {
            id: "x-1".into(),
            question: "質問, \"引用\"".into(),
            answer: "答え\n二行".into(),
            area: "防災".into(),
            status: "published".into(),
            ..Entry::default()
        };
        for sjis in [false, true] {
            let (back, errors) = parse_csv(&write_csv(std::slice::from_ref(&e), sjis));
            assert!(errors.is_empty());
            assert_eq!(back[0].1, e);
        }
    }
}
