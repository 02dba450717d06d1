//! What every file import shares: reading a CSV file in the encodings
//! offices save them in, and reporting a bad row by its line and column in
//! the reader's language. The modules' imports (the procedure inventory, FAQ
//! entries) use these; their message keys name the problem.

use serde::Serialize;

use crate::i18n::Tr;

/// A problem with one row (or the header) of an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    pub line: usize,
    /// The column, or empty when the problem is the whole row's.
    pub column: String,
    /// The message key (e.g. `plans.row.*`, `faq.row.*`); its text may name `{value}`.
    pub code: &'static str,
    /// The offending value, or a detail the message names.
    pub value: String,
}

impl RowError {
    pub fn new(
        line: usize,
        column: &str,
        code: &'static str,
        value: impl Into<String>,
    ) -> RowError {
        RowError {
            line,
            column: column.to_string(),
            code,
            value: value.into(),
        }
    }

    /// The problem in the reader's language: `3行目（手続名）: 手続名が空欄です。`
    pub fn message(&self, tr: &Tr) -> String {
        let what = tr.f1(self.code, "value", &self.value);
        if self.column.is_empty() {
            tr.f(
                "import.row.at_line",
                &[("line", self.line.to_string()), ("message", what)],
            )
        } else {
            tr.f(
                "import.row.at_cell",
                &[
                    ("line", self.line.to_string()),
                    ("column", self.column.clone()),
                    ("message", what),
                ],
            )
        }
    }
}

/// Decodes a CSV file: UTF-8 with or without BOM, else Shift_JIS (CP932).
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::SHIFT_JIS.decode(bytes).0.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_encoding_offices_save_in() {
        let text = "手続名,年間件数\n";
        assert_eq!(decode(text.as_bytes()), text);
        assert_eq!(
            decode(&[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()),
            text
        );
        assert_eq!(decode(&encoding_rs::SHIFT_JIS.encode(text).0), text);
    }
}
