//! Japan's standard open datasets for local governments
//! (自治体標準オープンデータセット, デジタル庁): the column templates of the
//! datasets offices publish most, and the validation of a CSV file
//! against one of them.
//!
//! The columns follow the Digital Agency's current definition (2024
//! 正式版): the managing body (`全国地方公共団体コード`, `ID`,
//! `地方公共団体名`), the name, the address split as in the Address Base
//! Registry (`所在地_連結表記`, `所在地_都道府県` … `建物名等(方書)`),
//! coordinates and the dataset's own items. Files in the older
//! recommended-dataset layout (推奨データセット, 内閣官房 IT室 2019–2021)
//! are accepted too: their header names (`都道府県コード又は市区町村コード`,
//! `NO`, `住所`, `方書`, `名称カナ` …) are aliases of the current ones, and
//! `都道府県名` + `市区町村名` are joined into `地方公共団体名`.
//!
//! In the definition each item is 必須 (◎), 推奨 (○) or optional. A
//! [`Column`]'s `required` is ◎, plus `全国地方公共団体コード`, which this
//! catalogue needs to name the NGSI entities (the definition marks it ○,
//! since a body that is not a local government gives its 法人番号
//! instead); `recommended` is ○.
//!
//! Validation maps the header row by exact name, NFKC-normalised name,
//! the ASCII attribute name or an alias; extra columns are ignored. Each
//! cell is checked by its [`ColumnKind`] and normalised (full-width digits
//! and letters folded, times as `HH:MM`, dates as `YYYY-MM-DD`, weekdays as
//! `月,火,水`). Every problem is reported with its line and column, up to
//! [`MAX_ERRORS`]; the file is never partly accepted.

use std::collections::HashMap;

use jp::lg_code::LocalGovernmentCode;
use platform::import::{RowError, decode};
use unicode_normalization::UnicodeNormalization;

/// The tag BODIK and other catalogues give datasets that follow the
/// standard, so harvesters can find them.
pub const BODIK_TAG: &str = "自治体標準ODS";

/// Validation stops after this many problems (one more error says so).
pub const MAX_ERRORS: usize = 1000;

/// The longest cell accepted, in characters.
pub const MAX_CELL_CHARS: usize = 4000;

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
    const fn new(ja: &'static str, en: &'static str, kind: ColumnKind) -> Column {
        Column {
            ja,
            en,
            aliases: &[],
            required: false,
            recommended: false,
            kind,
        }
    }

    const fn required(self) -> Column {
        Column {
            required: true,
            ..self
        }
    }

    const fn recommended(self) -> Column {
        Column {
            recommended: true,
            ..self
        }
    }

    const fn aliases(self, aliases: &'static [&'static str]) -> Column {
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

// ---------------------------------------------------------------------------
// Columns shared by the templates.

use ColumnKind as K;

const LG_CODE: Column = Column::new("全国地方公共団体コード", "localGovernmentCode", K::LgCode)
    .required()
    .recommended()
    .aliases(&[
        "都道府県コード又は市区町村コード",
        "都道府県コードまたは市区町村コード",
        "地方公共団体コード",
        "団体コード",
        "市区町村コード",
    ]);
const ID: Column = Column::new("ID", "identifier", K::Code)
    .recommended()
    .aliases(&["NO", "No.", "ＮＯ"]);
const LG_NAME: Column =
    Column::new("地方公共団体名", "localGovernmentName", K::Text).aliases(&["地方公共団体名称"]);
const NAME: Column = Column::new("名称", "name", K::Text)
    .required()
    .aliases(&["施設名", "施設名称"]);
const NAME_KANA: Column = Column::new("名称_カナ", "nameKana", K::Kana)
    .recommended()
    .aliases(&[
        "名称カナ",
        "名称(カナ)",
        "名称_かな",
        "名称_フリガナ",
        "フリガナ",
        "ふりがな",
        "ヨミガナ",
        "よみがな",
    ]);
const NAME_EN: Column = Column::new("名称_英字", "nameEn", K::Text)
    .recommended()
    .aliases(&[
        "名称_英語",
        "名称英字",
        "名称英語",
        "名称(英字)",
        "名称(英語)",
        "英語名称",
    ]);
const ALT_NAME: Column =
    Column::new("名称_通称", "alternateName", K::Text).aliases(&["通称", "名称通称"]);
const POI_CODE: Column = Column::new("POIコード", "poiCode", K::Code);
const LOCATED_LG_CODE: Column = Column::new(
    "所在地_全国地方公共団体コード",
    "locatedLocalGovernmentCode",
    K::LgCode,
)
.recommended();
const STREET_ADDRESS_ID: Column = Column::new("町字ID", "streetAddressId", K::Code);
const FULL_ADDRESS: Column = Column::new("所在地_連結表記", "fullAddress", K::Text)
    .required()
    .aliases(&[
        "住所",
        "所在地",
        "所在地_連結標記",
        "所在地連結表記",
        "住所(連結表記)",
    ]);
const PREFECTURE: Column = Column::new("所在地_都道府県", "prefecture", K::Text).recommended();
const CITY: Column = Column::new("所在地_市区町村", "city", K::Text).recommended();
const STREET: Column = Column::new("所在地_町字", "streetAddress", K::Text).recommended();
const CITY_BLOCK: Column = Column::new("所在地_番地以下", "cityBlock", K::Text).recommended();
const BUILDING: Column = Column::new("建物名等(方書)", "buildingNameEtc", K::Text).aliases(&[
    "方書",
    "建物名等",
    "建物名",
]);
const LATITUDE: Column = Column::new("緯度", "latitude", K::Latitude)
    .recommended()
    .aliases(&["緯度(世界測地系)", "lat"]);
const LONGITUDE: Column = Column::new("経度", "longitude", K::Longitude)
    .recommended()
    .aliases(&["経度(世界測地系)", "lon", "lng"]);
const PHONE: Column = Column::new("電話番号", "phoneNumber", K::Phone)
    .recommended()
    .aliases(&["連絡先電話番号", "電話", "TEL"]);
const EXTENSION: Column =
    Column::new("内線番号", "extensionNumber", K::Code).aliases(&["連絡先内線番号", "内線"]);
const FAX: Column = Column::new("FAX番号", "faxNumber", K::Phone).aliases(&[
    "FAX",
    "ファックス番号",
    "ファクス番号",
]);
const CORPORATE_NUMBER: Column = Column::new("法人番号", "corporateNumber", K::CorporateNumber);
const ORGANIZATION: Column = Column::new("団体名", "organizationName", K::Text);
const AVAILABLE_DAYS: Column = Column::new("利用可能曜日", "availableDays", K::Weekdays)
    .recommended()
    .aliases(&["利用曜日"]);
const START_TIME: Column = Column::new("開始時間", "startTime", K::Time)
    .recommended()
    .aliases(&["利用開始時間", "開始時刻", "利用開始時刻"]);
const END_TIME: Column = Column::new("終了時間", "endTime", K::Time)
    .recommended()
    .aliases(&["利用終了時間", "終了時刻", "利用終了時刻"]);
const DATE_TIME_REMARKS: Column = Column::new("利用可能日時特記事項", "dateTimeRemarks", K::Text)
    .aliases(&[
        "利用可能時間特記事項",
        "利用可能日時_特記事項",
        "利用日時特記事項",
    ]);
const DESCRIPTION: Column = Column::new("説明", "description", K::Text);
const BARRIER_FREE: Column = Column::new("バリアフリー情報", "barrierFreeInformation", K::Text);
const URL: Column = Column::new("URL", "url", K::Url).aliases(&[
    "ホームページ",
    "ホームページURL",
    "HP",
    "ウェブサイト",
]);
const REMARKS: Column = Column::new("備考", "remarks", K::Text);

static PUBLIC_FACILITY_COLUMNS: [Column; 30] = [
    LG_CODE,
    ID,
    LG_NAME,
    NAME,
    NAME_KANA,
    NAME_EN,
    ALT_NAME,
    POI_CODE,
    LOCATED_LG_CODE,
    STREET_ADDRESS_ID,
    FULL_ADDRESS,
    PREFECTURE,
    CITY,
    STREET,
    CITY_BLOCK,
    BUILDING,
    LATITUDE,
    LONGITUDE,
    PHONE,
    EXTENSION,
    CORPORATE_NUMBER,
    ORGANIZATION,
    AVAILABLE_DAYS,
    START_TIME,
    END_TIME,
    DATE_TIME_REMARKS,
    DESCRIPTION,
    BARRIER_FREE,
    URL,
    REMARKS,
];

static AED_COLUMNS: [Column; 28] = [
    LG_CODE,
    ID,
    LG_NAME,
    NAME,
    NAME_KANA,
    NAME_EN,
    LOCATED_LG_CODE,
    STREET_ADDRESS_ID,
    FULL_ADDRESS,
    PREFECTURE,
    CITY,
    STREET,
    CITY_BLOCK,
    BUILDING,
    LATITUDE,
    LONGITUDE,
    Column::new("設置位置", "installationLocation", K::Text)
        .required()
        .aliases(&["設置場所", "設置場所詳細", "設置箇所"]),
    PHONE,
    EXTENSION,
    CORPORATE_NUMBER,
    ORGANIZATION.aliases(&["事業者名", "設置者名", "設置主体"]),
    AVAILABLE_DAYS,
    START_TIME,
    END_TIME,
    DATE_TIME_REMARKS,
    Column::new("小児対応設備の有無", "pediatricEquipment", K::Presence).aliases(&[
        "小児対応機器設備の有無",
        "小児対応の有無",
        "小児用パッドの有無",
        "小児対応",
    ]),
    URL,
    REMARKS,
];

/// The kinds of childcare facility (`種別`) of the recommended dataset,
/// plus the community-based childcare services (地域型保育事業).
pub const CHILDCARE_KINDS: &[&str] = &[
    "公立幼稚園",
    "私立幼稚園",
    "認可公立保育所",
    "認可私立保育所",
    "認可外保育所",
    "認定こども園（幼保連携型）",
    "認定こども園（幼稚園型）",
    "認定こども園（保育所型）",
    "認定こども園（地方裁量型）",
    "小規模保育事業",
    "家庭的保育事業",
    "事業所内保育事業",
    "居宅訪問型保育事業",
];

static CHILDCARE_COLUMNS: [Column; 34] = [
    LG_CODE,
    ID,
    LG_NAME,
    NAME,
    NAME_KANA,
    NAME_EN,
    Column::new("種別", "facilityType", K::OneOf(CHILDCARE_KINDS))
        .recommended()
        .aliases(&["施設種別", "施設の種類"]),
    LOCATED_LG_CODE,
    STREET_ADDRESS_ID,
    FULL_ADDRESS,
    PREFECTURE,
    CITY,
    STREET,
    CITY_BLOCK,
    BUILDING,
    LATITUDE,
    LONGITUDE,
    Column::new("アクセス方法", "accessInformation", K::Text).aliases(&["アクセス"]),
    Column::new("駐車場情報", "parkingInformation", K::Text),
    PHONE,
    EXTENSION,
    FAX,
    CORPORATE_NUMBER,
    ORGANIZATION,
    Column::new("認可等年月日", "authorizationDate", K::Date).aliases(&[
        "認可年月日",
        "認定年月日",
        "認可日",
    ]),
    Column::new("収容定員", "capacity", K::Count).aliases(&["定員", "利用定員"]),
    Column::new("受入年齢", "acceptableAge", K::Text).aliases(&[
        "受け入れ年齢",
        "受入れ年齢",
        "対象年齢",
    ]),
    AVAILABLE_DAYS,
    START_TIME,
    END_TIME,
    DATE_TIME_REMARKS,
    Column::new("一時預かりの有無", "temporaryChildcare", K::Presence).aliases(&["一時預かり"]),
    URL,
    REMARKS,
];

static TEMPLATES: [Template; 3] = [
    Template {
        key: "public_facility",
        name_ja: "公共施設一覧",
        name_en: "Public facilities",
        entity_type: "PublicFacility",
        columns: &PUBLIC_FACILITY_COLUMNS,
        description_ja: "地方公共団体が管理する公共施設（庁舎、公民館、図書館、体育館など）の一覧です。名称、所在地、緯度経度、利用できる曜日と時間を記載します。",
        description_en: "Public facilities a local government manages (offices, community centres, libraries, gyms…): name, address, coordinates, opening days and hours.",
    },
    Template {
        key: "aed",
        name_ja: "AED設置箇所一覧",
        name_en: "AED locations",
        entity_type: "AED",
        columns: &AED_COLUMNS,
        description_ja: "AED（自動体外式除細動器）が設置されている施設と、施設内の設置位置、利用できる曜日と時間、小児対応設備の有無の一覧です。",
        description_en: "Where automated external defibrillators (AEDs) are: the building, the place inside it, when they can be reached and whether paediatric pads are available.",
    },
    Template {
        key: "childcare_facility",
        name_ja: "子育て施設一覧",
        name_en: "Childcare facilities",
        entity_type: "ChildcareFacility",
        columns: &CHILDCARE_COLUMNS,
        description_ja: "幼稚園、保育所、認定こども園などの子育て施設の一覧です。種別、所在地、定員、受入年齢、開所時間、一時預かりの有無を記載します。種別は「公立幼稚園」「私立幼稚園」「認可公立保育所」「認可私立保育所」「認可外保育所」「認定こども園（幼保連携型）」などから選びます。",
        description_en: "Kindergartens, nursery schools, certified centres for early childhood education and care and other childcare facilities: type, address, capacity, ages accepted, hours and whether temporary care is offered. The type is one of the standard’s values (公立幼稚園, 私立幼稚園, 認可公立保育所, 認可私立保育所, 認可外保育所, 認定こども園（幼保連携型） …).",
    },
];

/// The templates, in the order to show them.
pub fn templates() -> &'static [Template] {
    &TEMPLATES
}

/// The template with this key.
pub fn template(key: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.key == key)
}

/// An empty file for staff to fill in: the header row of Japanese column
/// names, CRLF-terminated. Serve it with a UTF-8 BOM so Excel reads it.
pub fn sample_csv(template: &Template) -> String {
    let names: Vec<String> = template.columns.iter().map(|c| csv_field(c.ja)).collect();
    format!("{}\r\n", names.join(","))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------------------
// Validation.

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

/// Validates a CSV file (UTF-8 with or without BOM, or Shift_JIS/CP932)
/// against a template. On success the rows come back normalised in
/// template column order; otherwise every problem found, by line and
/// column.
/// The 1-based line a record starts on. csv reports a record's position
/// where the previous record ended (before its line break), and its own line
/// count lags, so count the newlines up to there and through the line breaks
/// (and blank lines) that follow.
fn line_at(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    let before = bytes[..end].iter().filter(|b| **b == b'\n').count();
    let breaks = bytes[end..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    before + breaks + 1
}

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
    let (header_line, header) = records[header_at].clone();
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

    let data = &records[header_at + 1..];
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
                && cells[header.len()..]
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
        // Latitude and longitude come as a pair.
        if let (Some(lat), Some(lon)) = (lat_column, lon_column) {
            let (has_lat, has_lon) = (!row[lat].is_empty(), !row[lon].is_empty());
            let raw_empty = |col: usize| match &sources[col] {
                Some(Source::Header { index, .. }) => {
                    cells.get(*index).is_none_or(|c| clean_text(c).is_empty())
                }
                _ => true,
            };
            if has_lat && !has_lon && raw_empty(lon) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, &sources[lon], LONGITUDE.ja),
                    "opendata.row.coordinates_pair",
                    row[lat].clone(),
                ));
            } else if has_lon && !has_lat && raw_empty(lat) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, &sources[lat], LATITUDE.ja),
                    "opendata.row.coordinates_pair",
                    row[lon].clone(),
                ));
            }
        }
        if let Some(id) = id_column
            && !row[id].is_empty()
        {
            if let Some(first) = seen_ids.get(&row[id]) {
                errors.push(RowError::new(
                    line,
                    header_name(&header, &sources[id], ID.ja),
                    "opendata.row.duplicate_id",
                    first.to_string(),
                ));
            } else {
                seen_ids.insert(row[id].clone(), line);
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

fn header_name<'a>(header: &'a [String], source: &Option<Source>, fallback: &'a str) -> &'a str {
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
        match &sources[column] {
            None => sources[column] = Some(Source::Header { index, alias }),
            Some(Source::Header {
                alias: previous_alias,
                ..
            }) => {
                if *previous_alias && !alias {
                    sources[column] = Some(Source::Header { index, alias });
                } else if *previous_alias == alias {
                    duplicates.push(index);
                }
            }
            Some(Source::Joined(_)) => {}
        }
    }
    // The older layout's 都道府県名 + 市区町村名 make 地方公共団体名.
    if let Some(column) = template.column_index("localGovernmentName")
        && sources[column].is_none()
    {
        let parts: Vec<usize> = ["都道府県名", "市区町村名"]
            .iter()
            .filter_map(|part| header.iter().position(|h| header_key(h) == *part))
            .collect();
        if !parts.is_empty() {
            sources[column] = Some(Source::Joined(parts));
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

/// A header name for comparison: NFKC, no whitespace or BOM, ASCII
/// lowercase.
fn header_key(name: &str) -> String {
    name.nfkc()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}' && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
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

/// Trims (ASCII and ideographic spaces), normalises line breaks to `\n`
/// and drops other control characters.
fn clean_text(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// NFKC, then [`clean_text`].
fn nfkc(raw: &str) -> String {
    clean_text(&raw.nfkc().collect::<String>())
}

type CellResult = Result<String, (&'static str, String)>;

/// Checks and normalises one cell. An empty cell is `Ok("")`.
fn check_cell(kind: ColumnKind, raw: &str) -> CellResult {
    let text = clean_text(raw);
    if text.is_empty() {
        return Ok(String::new());
    }
    match kind {
        ColumnKind::Text => Ok(text),
        ColumnKind::Kana => Ok(nfkc(&text)
            .chars()
            .map(|c| match c {
                '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
                _ => c,
            })
            .collect()),
        ColumnKind::Code => Ok(nfkc(&text)),
        ColumnKind::LgCode => check_lg_code(&text),
        ColumnKind::Latitude => check_degrees(&text, 90.0, "opendata.row.latitude"),
        ColumnKind::Longitude => check_degrees(&text, 180.0, "opendata.row.longitude"),
        ColumnKind::Count => check_count(&text),
        ColumnKind::Phone => check_phone(&text),
        ColumnKind::CorporateNumber => check_corporate_number(&text),
        ColumnKind::Url => check_url(&text),
        ColumnKind::Date => check_date(&text),
        ColumnKind::Time => check_time(&text),
        ColumnKind::Weekdays => check_weekdays(&text),
        ColumnKind::Presence => check_presence(&text),
        ColumnKind::OneOf(values) => {
            let key = header_key(&text);
            values
                .iter()
                .find(|v| header_key(v) == key)
                .map(|v| v.to_string())
                .ok_or(("opendata.row.one_of", text))
        }
    }
}

fn check_lg_code(text: &str) -> CellResult {
    if let Ok(code) = LocalGovernmentCode::parse(text) {
        return Ok(code.as_str().to_string());
    }
    let normalized = nfkc(text);
    let digits: String = normalized.chars().filter(char::is_ascii_digit).collect();
    let only_digits = normalized
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    if only_digits && (4..=5).contains(&digits.len()) {
        // A 5-digit 団体コード without its check digit, or a code whose
        // leading zero a spreadsheet dropped: suggest the code it may be.
        let complete = |base: &str| -> Vec<String> {
            (0..=9)
                .filter_map(|d| LocalGovernmentCode::parse(&format!("{base}{d}")).ok())
                .map(|c| c.as_str().to_string())
                .collect()
        };
        let candidates = if digits.len() == 4 {
            complete(&format!("0{digits}"))
        } else {
            let appended = complete(&digits);
            if appended.is_empty() {
                LocalGovernmentCode::parse(&format!("0{digits}"))
                    .map(|c| vec![c.as_str().to_string()])
                    .unwrap_or_default()
            } else {
                appended
            }
        };
        let value = if candidates.is_empty() {
            normalized
        } else {
            format!("{normalized} → {}", candidates.join(" / "))
        };
        return Err(("opendata.row.lg_code_short", value));
    }
    Err(("opendata.row.lg_code", text.to_string()))
}

fn check_degrees(text: &str, limit: f64, code: &'static str) -> CellResult {
    let value = nfkc(text).replace(['−', '－', '‐'], "-");
    let ok = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && value
            .parse::<f64>()
            .is_ok_and(|v| v.is_finite() && (-limit..=limit).contains(&v));
    if ok {
        Ok(value)
    } else {
        Err((code, text.to_string()))
    }
}

fn check_count(text: &str) -> CellResult {
    let value = nfkc(text);
    let digits = value.trim_end_matches(['人', '名']).trim().replace(',', "");
    if !digits.is_empty() && digits.len() <= 12 && digits.chars().all(|c| c.is_ascii_digit()) {
        let trimmed = digits.trim_start_matches('0');
        Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
    } else {
        Err(("opendata.row.integer", text.to_string()))
    }
}

fn check_phone(text: &str) -> CellResult {
    let value: String = nfkc(text)
        .chars()
        .map(|c| match c {
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | 'ｰ' => '-',
            _ => c,
        })
        .collect();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | '+' | ' '));
    if allowed && (3..=15).contains(&digits) {
        Ok(value)
    } else {
        Err(("opendata.row.phone", text.to_string()))
    }
}

/// 法人番号: 13 digits, the first a check digit: `9 − (Σ Pn·Qn mod 9)`
/// over the other twelve, `Qn` 1 for odd `n` and 2 for even `n` counted
/// from the right.
fn check_corporate_number(text: &str) -> CellResult {
    let value: String = nfkc(text)
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let valid = digits.len() == 13 && value.chars().all(|c| c.is_ascii_digit()) && {
        let sum: u32 = digits[1..]
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 2 })
            .sum();
        digits[0] == 9 - sum % 9
    };
    if valid {
        Ok(value)
    } else {
        Err(("opendata.row.corporate_number", text.to_string()))
    }
}

fn check_url(text: &str) -> CellResult {
    let value = nfkc(text);
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    if rest.is_some_and(|r| !r.is_empty()) && !value.chars().any(char::is_whitespace) {
        Ok(value)
    } else {
        Err(("opendata.row.url", text.to_string()))
    }
}

fn check_date(text: &str) -> CellResult {
    let err = || ("opendata.row.date", text.to_string());
    let value = nfkc(text);
    // A date and time from a spreadsheet (`2024/04/01 0:00`): the date.
    let value = value
        .split(|c: char| c.is_whitespace() || c == 'T')
        .next()
        .unwrap_or("")
        .to_string();
    // A Japanese era: 令和6年4月1日, 平成31年4月1日, 令和元年….
    let eras = [("令和", 2018), ("平成", 1988), ("昭和", 1925)];
    let (offset, rest) = eras
        .iter()
        .find_map(|(name, offset)| value.strip_prefix(name).map(|rest| (Some(*offset), rest)))
        .unwrap_or((None, value.as_str()));
    let rest = rest.replacen("元", "1", 1);
    let parts: Vec<&str> = rest
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(err());
    };
    let (Ok(y), Ok(m), Ok(d)) = (
        y.trim().parse::<i32>(),
        m.trim().parse::<u32>(),
        d.trim().parse::<u32>(),
    ) else {
        return Err(err());
    };
    let year = match offset {
        Some(offset) if (1..=99).contains(&y) => offset + y,
        Some(_) => return Err(err()),
        None if (1000..=9999).contains(&y) => y,
        None => return Err(err()),
    };
    chrono::NaiveDate::from_ymd_opt(year, m, d)
        .map(|date| date.format("%Y-%m-%d").to_string())
        .ok_or_else(err)
}

fn check_time(text: &str) -> CellResult {
    let err = || ("opendata.row.time", text.to_string());
    let value = nfkc(text);
    let value = value.trim_end_matches('分');
    let parts: Vec<&str> = value.split([':', '時']).collect();
    let (h, m) = match parts.as_slice() {
        [h] | [h, ""] => (*h, "0"),
        [h, m] | [h, m, _] => (*h, *m),
        _ => return Err(err()),
    };
    let valid_part =
        |p: &str| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit());
    if !valid_part(h) || !valid_part(m) {
        return Err(err());
    }
    if let [_, _, s] = parts.as_slice()
        && !(s.len() == 2 && s.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(err());
    }
    let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else {
        return Err(err());
    };
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(err());
    }
    Ok(format!("{h:02}:{m:02}"))
}

const WEEKDAYS: [char; 8] = ['月', '火', '水', '木', '金', '土', '日', '祝'];

fn check_weekdays(text: &str) -> CellResult {
    let err = || ("opendata.row.weekdays", text.to_string());
    let value = nfkc(text)
        .replace("曜日", "")
        .replace('曜', "")
        .replace("祝祭日", "祝")
        .replace("祝日", "祝")
        .replace("祭日", "祝")
        .replace("平日", "月火水木金");
    let mut days = [false; 8];
    if matches!(value.as_str(), "毎日" | "全日" | "年中無休") {
        days[..7].iter_mut().for_each(|d| *d = true);
    } else {
        let chars: Vec<char> = value.chars().collect();
        let mut i = 0;
        let mut previous: Option<usize> = None;
        while i < chars.len() {
            let c = chars[i];
            if let Some(day) = WEEKDAYS.iter().position(|w| *w == c) {
                days[day] = true;
                previous = Some(day);
            } else if matches!(c, '~' | '〜' | '-' | '－' | '‐' | '−' | '–' | '—') {
                // A range: 月～金 (not across 祝).
                let next = chars
                    .get(i + 1)
                    .and_then(|n| WEEKDAYS.iter().position(|w| w == n));
                match (previous, next) {
                    (Some(from), Some(to)) if from < 7 && to < 7 && from <= to => {
                        days[from..=to].iter_mut().for_each(|d| *d = true);
                        previous = Some(to);
                        i += 1;
                    }
                    _ => return Err(err()),
                }
            } else if !matches!(c, ',' | '、' | '・' | ';' | ' ' | '/' | '，') {
                return Err(err());
            }
            i += 1;
        }
    }
    if !days.iter().any(|d| *d) {
        return Err(err());
    }
    Ok(WEEKDAYS
        .iter()
        .zip(days)
        .filter(|(_, on)| *on)
        .map(|(d, _)| d.to_string())
        .collect::<Vec<_>>()
        .join(","))
}

fn check_presence(text: &str) -> CellResult {
    let value = nfkc(text).to_lowercase();
    match value.as_str() {
        "有" | "有り" | "あり" | "アリ" | "○" | "〇" | "◯" | "yes" | "true" => {
            Ok("有".to_string())
        }
        "無" | "無し" | "なし" | "ナシ" | "×" | "✕" | "no" | "false" => {
            Ok("無".to_string())
        }
        _ => Err(("opendata.row.presence", text.to_string())),
    }
}

#[cfg(test)]
mod line_tests {
    #[test]
    fn rows_are_reported_by_their_line_in_the_file() {
        let t = super::template("aed").unwrap();
        let header = super::sample_csv(t);
        let cols: Vec<&str> = header
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .split(',')
            .collect();
        for eol in ["\r\n", "\n"] {
            let mut csv = cols.join(",") + eol;
            for code in ["242012", "242011", "242012"] {
                let row: Vec<&str> = cols
                    .iter()
                    .map(|c| match *c {
                        "全国地方公共団体コード" => code,
                        "名称" => "津市役所",
                        "所在地_連結表記" => "三重県津市西丸之内23番1号",
                        "設置位置" => "1階",
                        _ => "",
                    })
                    .collect();
                csv += &row.join(",");
                csv += eol;
                if code == "242011" {
                    csv += eol; // a blank line after the bad row
                }
            }
            let errors = super::validate(t, csv.as_bytes()).err().unwrap();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].line, 3, "{eol:?}: {errors:?}");
            assert_eq!(errors[0].column, "全国地方公共団体コード");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> &'static Template {
        template("public_facility").unwrap()
    }

    fn codes(errors: &[RowError]) -> Vec<(usize, &str, &str)> {
        errors
            .iter()
            .map(|e| (e.line, e.column.as_str(), e.code))
            .collect()
    }

    const GOOD: &str = "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,緯度,経度,電話番号,利用可能曜日,開始時間,終了時間,URL,備考\r\n\
242012,F001,三重県津市,津市役所,ツシヤクショ,三重県津市西丸之内23-1,34.7186,136.5056,059-229-3110,\"月,火,水,木,金\",08:30,17:15,https://www.info.city.tsu.mie.jp/,\r\n\
242012,F002,三重県津市,津市図書館,つしとしょかん,三重県津市西丸之内37-8,34.72,136.50,０５９－２２９－３３２１,月～金,9:00,19:00,,祝日は休館\r\n\
\r\n\
,,,,,,,,,,,,,\r\n";

    #[test]
    fn templates_are_consistent() {
        assert!(templates().len() >= 3);
        for t in templates() {
            assert_eq!(template(t.key).map(|x| x.key), Some(t.key));
            assert!(t.entity_type.chars().all(|c| c.is_ascii_alphanumeric()));
            for c in t.columns {
                assert!(
                    c.en.chars().all(|ch| ch.is_ascii_alphanumeric()),
                    "{}",
                    c.en
                );
                assert_ne!(c.en, "id");
                assert_ne!(c.en, "type");
            }
            // No header name may point at two columns.
            let per_column: Vec<Vec<String>> = t
                .columns
                .iter()
                .map(|c| {
                    let mut k = vec![header_key(c.ja), c.en.to_ascii_lowercase()];
                    k.extend(c.aliases.iter().map(|a| header_key(a)));
                    k.sort();
                    k.dedup();
                    k
                })
                .collect();
            let mut all: Vec<&String> = per_column.iter().flatten().collect();
            let total = all.len();
            all.sort();
            all.dedup();
            assert_eq!(
                total,
                all.len(),
                "{}: a header name maps to two columns",
                t.key
            );
            assert!(t.columns.iter().any(|c| c.required));
            assert!(sample_csv(t).starts_with("全国地方公共団体コード,ID,"));
            assert!(sample_csv(t).ends_with("\r\n"));
        }
        assert!(template("nope").is_none());
        assert_eq!(BODIK_TAG, "自治体標準ODS");
    }

    #[test]
    fn good_file_in_every_encoding() {
        let utf8 = GOOD.as_bytes().to_vec();
        let bom = [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat();
        let sjis = encoding_rs::SHIFT_JIS.encode(GOOD).0.into_owned();
        // Excel's "Unicode text": UTF-16LE with a BOM, tab-separated.
        let tsv = GOOD
            .replace("\"月,火,水,木,金\"", "月火水木金")
            .replace(',', "\t");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(tsv.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for bytes in [utf8, bom, sjis, utf16] {
            let table = validate(public(), &bytes).unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(table.rows.len(), 2);
            assert_eq!(table.cell(0, "localGovernmentCode"), Some("242012"));
            assert_eq!(table.cell(0, "availableDays"), Some("月,火,水,木,金"));
            assert_eq!(table.cell(1, "availableDays"), Some("月,火,水,木,金"));
            assert_eq!(table.cell(1, "nameKana"), Some("ツシトショカン"));
            assert_eq!(table.cell(1, "phoneNumber"), Some("059-229-3321"));
            assert_eq!(table.cell(1, "startTime"), Some("09:00"));
            assert_eq!(table.cell(1, "remarks"), Some("祝日は休館"));
            assert_eq!(table.cell(0, "buildingNameEtc"), Some(""));
            assert_eq!(table.rows[0].len(), public().columns.len());
        }
    }

    #[test]
    fn old_recommended_dataset_headers() {
        let csv = "都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称カナ,住所,方書,緯度,経度,設置位置,電話番号,利用可能曜日,開始時間,終了時間,小児対応設備の有無,ホームページ,謎の列\n\
                   242012,1,三重県,津市,津市役所,つしやくしょ,三重県津市西丸之内23-1,本庁舎,34.7186,136.5056,1階ロビー,059-229-3110,月火水木金,8:30,17:15,あり,http://example.jp/,x\n";
        let aed = template("aed").unwrap();
        let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(table.cell(0, "localGovernmentName"), Some("三重県津市"));
        assert_eq!(table.cell(0, "identifier"), Some("1"));
        assert_eq!(table.cell(0, "nameKana"), Some("ツシヤクショ"));
        assert_eq!(table.cell(0, "fullAddress"), Some("三重県津市西丸之内23-1"));
        assert_eq!(table.cell(0, "buildingNameEtc"), Some("本庁舎"));
        assert_eq!(table.cell(0, "installationLocation"), Some("1階ロビー"));
        assert_eq!(table.cell(0, "pediatricEquipment"), Some("有"));
        assert_eq!(table.cell(0, "url"), Some("http://example.jp/"));
        assert_eq!(table.cell(0, "availableDays"), Some("月,火,水,木,金"));
        // Half-width katakana and full-width brackets in headers.
        let csv =
            "全国地方公共団体ｺｰﾄﾞ,名称,所在地_連結表記,建物名等（方書）,設置位置\n242012,a,b,c,d\n";
        let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(table.cell(0, "buildingNameEtc"), Some("c"));
        // The ASCII attribute names work as headers too.
        let csv = "localGovernmentCode,name,fullAddress,installationLocation\n242012,a,b,c\n";
        assert!(validate(aed, csv.as_bytes()).is_ok());
        // A title row above the header.
        let csv = "AED設置箇所一覧（令和6年4月1日現在）\n全国地方公共団体コード,名称,所在地_連結表記,設置位置\n242012,a,b,c\n";
        let table = validate(aed, csv.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(table.rows.len(), 1);
    }

    #[test]
    fn missing_and_duplicate_columns() {
        let csv = "ID,名称\n1,a\n";
        let errors = validate(public(), csv.as_bytes()).unwrap_err();
        assert_eq!(
            errors,
            vec![
                RowError::new(
                    1,
                    "",
                    "opendata.row.missing_column",
                    "全国地方公共団体コード"
                ),
                RowError::new(1, "", "opendata.row.missing_column", "所在地_連結表記"),
            ]
        );
        let csv = "全国地方公共団体コード,名称,所在地_連結表記,名称\n242012,a,b,c\n";
        let errors = validate(public(), csv.as_bytes()).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![(1, "名称", "opendata.row.duplicate_column")]
        );
        // The current name wins over an older one.
        let csv = "全国地方公共団体コード,名称,住所,所在地_連結表記\n242012,a,old,new\n";
        let table = validate(public(), csv.as_bytes()).unwrap();
        assert_eq!(table.cell(0, "fullAddress"), Some("new"));
    }

    #[test]
    fn every_cell_error_with_line_and_column() {
        let csv = "全国地方公共団体コード,ID,名称,所在地_連結表記,緯度,経度,電話番号,法人番号,利用可能曜日,開始時間,終了時間,URL\n\
                   24201,1,,addr,91,181,abc,1234567890123,月火X,25:00,9:60,ftp://x\n\
                   242013,1,n,addr,35,,0,7000012050002,月～金,09:00,17:00,https://ok.example/\n";
        let errors = validate(public(), csv.as_bytes()).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                (2, "全国地方公共団体コード", "opendata.row.lg_code_short"),
                (2, "名称", "opendata.row.required"),
                (2, "緯度", "opendata.row.latitude"),
                (2, "経度", "opendata.row.longitude"),
                (2, "電話番号", "opendata.row.phone"),
                (2, "法人番号", "opendata.row.corporate_number"),
                (2, "利用可能曜日", "opendata.row.weekdays"),
                (2, "開始時間", "opendata.row.time"),
                (2, "終了時間", "opendata.row.time"),
                (2, "URL", "opendata.row.url"),
                (3, "全国地方公共団体コード", "opendata.row.lg_code"),
                (3, "電話番号", "opendata.row.phone"),
                (3, "経度", "opendata.row.coordinates_pair"),
                (3, "ID", "opendata.row.duplicate_id"),
            ]
        );
        assert_eq!(errors[0].value, "24201 → 242012");
        assert_eq!(errors[2].value, "91");
        assert_eq!(errors.last().unwrap().value, "2");
    }

    #[test]
    fn childcare_values() {
        let t = template("childcare_facility").unwrap();
        let csv = "全国地方公共団体コード,名称,種別,所在地_連結表記,定員,認可等年月日,一時預かりの有無\n\
                   242012,a,認定こども園(幼保連携型),x,\"1,200人\",令和6年4月1日,×\n\
                   242012,b,保育園,x,六十,2024-02-30,たぶん\n";
        let errors = validate(t, csv.as_bytes()).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                (3, "種別", "opendata.row.one_of"),
                (3, "認可等年月日", "opendata.row.date"),
                (3, "定員", "opendata.row.integer"),
                (3, "一時預かりの有無", "opendata.row.presence"),
            ]
        );
        let ok = validate(
            t,
            csv.lines()
                .take(2)
                .collect::<Vec<_>>()
                .join("\n")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            ok.cell(0, "facilityType"),
            Some("認定こども園（幼保連携型）")
        );
        assert_eq!(ok.cell(0, "capacity"), Some("1200"));
        assert_eq!(ok.cell(0, "authorizationDate"), Some("2024-04-01"));
        assert_eq!(ok.cell(0, "temporaryChildcare"), Some("無"));
    }

    #[test]
    fn cell_checks() {
        assert_eq!(check_cell(K::LgCode, "０９２０１１"), Ok("092011".into()));
        assert_eq!(
            check_cell(K::LgCode, "92011"),
            Err(("opendata.row.lg_code_short", "92011 → 092011".into()))
        );
        assert_eq!(
            check_cell(K::LgCode, "1100"),
            Err(("opendata.row.lg_code_short", "1100 → 011002".into()))
        );
        assert_eq!(check_cell(K::Latitude, "-35.5"), Ok("-35.5".into()));
        assert_eq!(check_cell(K::Latitude, "－３５．５"), Ok("-35.5".into()));
        assert!(check_cell(K::Latitude, "NaN").is_err());
        assert!(check_cell(K::Latitude, "inf").is_err());
        assert!(check_cell(K::Longitude, "1e2").is_err());
        assert_eq!(check_cell(K::Longitude, "180"), Ok("180".into()));
        assert_eq!(check_cell(K::Time, "24:00"), Ok("24:00".into()));
        assert_eq!(check_cell(K::Time, "8時30分"), Ok("08:30".into()));
        assert_eq!(check_cell(K::Time, "9時"), Ok("09:00".into()));
        assert_eq!(check_cell(K::Time, "09:00:00"), Ok("09:00".into()));
        assert!(check_cell(K::Time, "9").is_ok());
        assert!(check_cell(K::Time, "24:01").is_err());
        assert!(check_cell(K::Time, "9:0:0:0").is_err());
        assert!(check_cell(K::Time, "午前9時").is_err());
        assert_eq!(check_cell(K::Date, "2024/4/1"), Ok("2024-04-01".into()));
        assert_eq!(
            check_cell(K::Date, "平成元年1月8日"),
            Ok("1989-01-08".into())
        );
        assert!(check_cell(K::Date, "令和100年1月1日").is_err());
        assert!(check_cell(K::Date, "24/4/1").is_err());
        assert_eq!(
            check_cell(K::Weekdays, "毎日"),
            Ok("月,火,水,木,金,土,日".into())
        );
        assert_eq!(check_cell(K::Weekdays, "土日祝"), Ok("土,日,祝".into()));
        assert_eq!(
            check_cell(K::Weekdays, "月曜日、水曜日"),
            Ok("月,水".into())
        );
        assert_eq!(
            check_cell(K::Weekdays, "平日・祝日"),
            Ok("月,火,水,木,金,祝".into())
        );
        assert_eq!(check_cell(K::Weekdays, "日曜・祝日"), Ok("日,祝".into()));
        assert_eq!(
            check_cell(K::Date, "2024/04/01 0:00:00"),
            Ok("2024-04-01".into())
        );
        assert_eq!(
            check_cell(K::Date, "2024-04-01T09:00"),
            Ok("2024-04-01".into())
        );
        assert!(check_cell(K::Weekdays, "金～月").is_err());
        assert!(check_cell(K::Weekdays, "～").is_err());
        assert_eq!(
            check_cell(K::CorporateNumber, "7000012050002"),
            Ok("7000012050002".into())
        );
        assert!(check_cell(K::CorporateNumber, "8000012050002").is_err());
        assert_eq!(
            check_cell(K::Url, "ＨＴＴＰＳ://a.jp"),
            Ok("HTTPS://a.jp".into())
        );
        assert!(check_cell(K::Url, "https://").is_err());
        assert!(check_cell(K::Url, "https://a b").is_err());
        assert_eq!(check_cell(K::Count, "００７"), Ok("7".into()));
        assert_eq!(check_cell(K::Count, "0"), Ok("0".into()));
        assert!(check_cell(K::Count, "-1").is_err());
        assert!(check_cell(K::Count, "9999999999999").is_err());
        assert_eq!(check_cell(K::Text, "  a\r\nb\u{7}　"), Ok("a\nb".into()));
        assert_eq!(
            check_cell(K::Kana, "ﾂｼ やくしょ"),
            Ok("ツシ ヤクショ".into())
        );
        assert_eq!(check_cell(K::Text, "　"), Ok(String::new()));
    }

    #[test]
    fn ragged_rows_and_garbage_never_panic() {
        let csv =
            "全国地方公共団体コード,名称,所在地_連結表記\n242012,a\n242012,a,b,c\n242012,a,b,,\n";
        let errors = validate(public(), csv.as_bytes()).unwrap_err();
        assert_eq!(
            errors,
            vec![
                RowError::new(2, "", "opendata.row.ragged", "2"),
                RowError::new(3, "", "opendata.row.ragged", "4"),
            ]
        );
        assert_eq!(
            codes(&validate(public(), b"").unwrap_err()),
            vec![(1, "", "opendata.row.empty_file")]
        );
        assert_eq!(
            codes(&validate(public(), b"\r\n\r\n,,,\r\n").unwrap_err()),
            vec![(1, "", "opendata.row.empty_file")]
        );
        assert_eq!(
            codes(
                &validate(
                    public(),
                    "全国地方公共団体コード,名称,所在地_連結表記\r\n".as_bytes()
                )
                .unwrap_err()
            ),
            vec![(1, "", "opendata.row.no_rows")]
        );
        assert_eq!(
            codes(&validate(public(), b"PK\x03\x04\x14\x00").unwrap_err()),
            vec![(1, "", "opendata.row.spreadsheet")]
        );
        assert_eq!(
            codes(&validate(public(), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err()),
            vec![(1, "", "opendata.row.not_csv")]
        );
        // Pseudo-random bytes, quotes everywhere, lone CRs, huge cells.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for round in 0..300 {
            let len = (round * 7) % 400;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let pick = (seed % 12) as usize;
                    if round % 2 == 0 {
                        b",\"\r\n\xe3\x81\x82a1;\x82\xa0"[pick]
                    } else {
                        (seed >> 24) as u8
                    }
                })
                .collect();
            let _ = validate(public(), &bytes);
            let with_header = [
                b"\xEF\xBB\xBF\xe5\x90\x8d\xe7\xa7\xb0,\xe4\xbd\x8f\xe6\x89\x80\n".as_slice(),
                &bytes,
            ]
            .concat();
            let _ = validate(template("aed").unwrap(), &with_header);
        }
        let huge = format!(
            "全国地方公共団体コード,名称,所在地_連結表記\n242012,{},b\n\"unterminated",
            "x".repeat(MAX_CELL_CHARS + 1)
        );
        let errors = validate(public(), huge.as_bytes()).unwrap_err();
        assert_eq!(errors[0].code, "opendata.row.too_long");
    }

    #[test]
    fn errors_stop_at_the_limit() {
        let mut csv = String::from("全国地方公共団体コード,名称,所在地_連結表記\n");
        for _ in 0..(MAX_ERRORS + 50) {
            csv.push_str("x,,\n");
        }
        let errors = validate(public(), csv.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS + 1);
        assert_eq!(errors.last().unwrap().code, "opendata.row.too_many_errors");
    }
}
