//! The standard's datasets this catalogue knows: the columns they share,
//! the three templates (公共施設一覧, AED設置箇所一覧, 子育て施設一覧), and the
//! empty CSV file staff fill in.

use super::schema::{Column, ColumnKind, Template};

/// The tag BODIK and other catalogues give datasets that follow the
/// standard, so harvesters can find them.
pub const BODIK_TAG: &str = "自治体標準ODS";

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
pub(super) const ID: Column = Column::new("ID", "identifier", K::Code)
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
pub(super) const LATITUDE: Column = Column::new("緯度", "latitude", K::Latitude)
    .recommended()
    .aliases(&["緯度(世界測地系)", "lat"]);
pub(super) const LONGITUDE: Column = Column::new("経度", "longitude", K::Longitude)
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
