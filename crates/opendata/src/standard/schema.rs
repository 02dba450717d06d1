//! The shape of a template: a column's kind, a [`Column`], a [`Template`],
//! and a validated [`Table`].

/// How a column's cells are checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text: trimmed, control characters removed, line breaks kept.
    Text,
    /// A reading in katakana: NFKC (half-width kana become full-width) and
    /// hiragana turned into katakana.
    Kana,
    /// An identifier or code (`ID`, `POIコード`, `町字ID`): NFKC, so
    /// full-width letters and digits become ASCII.
    Code,
    /// A 6-digit 全国地方公共団体コード with its check digit.
    LgCode,
    /// A decimal latitude, −90 to 90.
    Latitude,
    /// A decimal longitude, −180 to 180.
    Longitude,
    /// A whole number of 0 or more (`60`, `1,200`, `60人`).
    Count,
    /// A telephone or fax number: digits, hyphens, brackets, `+`.
    Phone,
    /// A 13-digit 法人番号 with its check digit.
    CorporateNumber,
    /// An `http://` or `https://` address.
    Url,
    /// A date, stored as `YYYY-MM-DD` (`2024/4/1`, `2024年4月1日`,
    /// `令和6年4月1日` are read too).
    Date,
    /// A time of day, stored as `HH:MM` (`9:00`, `09:00:00`, `9時`;
    /// `24:00` allowed).
    Time,
    /// Days of the week from 月火水木金土日祝, stored comma-separated in week
    /// order (`月～金`, `月曜日、水曜日`, `毎日` are read too).
    Weekdays,
    /// 有 or 無 (あり/なし, ○/× are read too).
    Presence,
    /// One of a fixed list of values (compared after NFKC).
    OneOf(&'static [&'static str]),
}

impl ColumnKind {
    /// The NGSI attribute type of a cell of this kind.
    pub fn ngsi_type(&self) -> &'static str {
        match self {
            ColumnKind::Latitude | ColumnKind::Longitude | ColumnKind::Count => "Number",
            ColumnKind::Date => "DateTime",
            ColumnKind::Url => "URL",
            _ => "Text",
        }
    }
}

/// One column of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header name in the standard, e.g. `全国地方公共団体コード`.
    pub ja: &'static str,
    /// The ASCII attribute name (the NGSI attribute), e.g.
    /// `localGovernmentCode`.
    pub en: &'static str,
    /// Other header names accepted for this column: the older recommended
    /// dataset's names and common spellings.
    pub aliases: &'static [&'static str],
    /// A file must have this column and every row a value in it.
    pub required: bool,
    /// Recommended (○) by the standard.
    pub recommended: bool,
    pub kind: ColumnKind,
}

impl Column {
    pub(super) const fn new(ja: &'static str, en: &'static str, kind: ColumnKind) -> Column {
        Column {
            ja,
            en,
            aliases: &[],
            required: false,
            recommended: false,
            kind,
        }
    }

    pub(super) const fn required(self) -> Column {
        Column {
            required: true,
            ..self
        }
    }

    pub(super) const fn recommended(self) -> Column {
        Column {
            recommended: true,
            ..self
        }
    }

    pub(super) const fn aliases(self, aliases: &'static [&'static str]) -> Column {
        Column { aliases, ..self }
    }
}

/// A dataset of the standard.
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    /// A stable ASCII key, e.g. `public_facility`.
    pub key: &'static str,
    /// The dataset's name in the standard, e.g. `公共施設一覧`.
    pub name_ja: &'static str,
    pub name_en: &'static str,
    /// The NGSI entity type of its rows, e.g. `PublicFacility`.
    pub entity_type: &'static str,
    pub columns: &'static [Column],
    pub description_ja: &'static str,
    pub description_en: &'static str,
}

impl Template {
    /// The index of the column with this attribute name.
    pub fn column_index(&self, en: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.en == en)
    }
}

/// A validated file: the rows in template column order, each cell
/// normalised, an absent column's cells empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub template: &'static Template,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The cell of `row` in the column with the attribute name `en`.
    pub fn cell(&self, row: usize, en: &str) -> Option<&str> {
        let column = self.template.column_index(en)?;
        self.rows.get(row)?.get(column).map(String::as_str)
    }
}
