//! The procedure catalogue's types: a procedure and what it says about
//! itself, the categories and the national inventory survey's life events
//! residents browse by, the input an import or an admin gives, and the form
//! versions online procedures ask. Storage is in `store::catalogue`, the use
//! cases in `service::catalogue`.

use platform::db::{DbBool, Timestamp};
use serde::{Deserialize, Serialize};

use crate::form::FormDefinition;

/// A category residents browse by: (code, 日本語, English).
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    ("childcare", "子育て・教育", "Children and education"),
    ("welfare", "福祉・介護", "Welfare and care"),
    ("health", "健康・医療", "Health and medical care"),
    ("housing", "住まい・まちづくり", "Housing and community"),
    ("tax", "税金", "Taxes"),
    (
        "registration",
        "届出・証明",
        "Registration and certificates",
    ),
    ("environment", "環境・エネルギー", "Environment and energy"),
    ("business", "産業・事業者", "Industry and business"),
    ("subsidy", "補助金・助成金", "Subsidies and grants"),
    ("employment", "仕事・雇用", "Work and employment"),
    ("safety", "防災・安全", "Disaster prevention and safety"),
    ("transport", "交通・道路", "Transport and roads"),
    ("culture", "文化・スポーツ", "Culture and sport"),
    (
        "agriculture",
        "農林水産",
        "Agriculture, forestry and fisheries",
    ),
    ("other", "その他", "Other"),
];

/// The life events of the national inventory survey of administrative
/// procedures (行政手続等の棚卸調査): (code, 日本語, English, business?).
pub const LIFE_EVENTS: &[(&str, &str, &str, bool)] = &[
    ("pregnancy", "妊娠", "Pregnancy", false),
    (
        "birth_children",
        "出生・こども",
        "Birth and children",
        false,
    ),
    ("moving", "引越し", "Moving house", false),
    ("job", "就職・転職", "Getting or changing a job", false),
    (
        "marriage_divorce",
        "結婚・離婚",
        "Marriage and divorce",
        false,
    ),
    ("car", "自動車の購入・保有", "Buying or owning a car", false),
    ("home", "住宅の購入・保有", "Buying or owning a home", false),
    ("care", "介護", "Long-term care", false),
    ("health", "医療・健康", "Medical care and health", false),
    ("tax", "税金", "Taxes", false),
    ("pension", "年金の受給", "Receiving a pension", false),
    (
        "death_inheritance",
        "死亡・相続",
        "Death and inheritance",
        false,
    ),
    (
        "other_personal",
        "その他イベント(個人)",
        "Other (personal)",
        false,
    ),
    ("incorporation", "法人の設立", "Incorporation", true),
    (
        "company_change",
        "法人の情報変更・役員変更",
        "Change of company details or officers",
        true,
    ),
    (
        "hiring",
        "職員の採用・退職",
        "Hiring and leaving of staff",
        true,
    ),
    ("tender", "入札・契約", "Tendering and contracts", true),
    (
        "office",
        "事務所の新設・移転",
        "Opening or moving an office",
        true,
    ),
    (
        "new_business",
        "新しい事業の開始",
        "Starting a new business line",
        true,
    ),
    ("merger", "法人の合併・分割", "Merger or demerger", true),
    (
        "succession",
        "法人の承継・廃業",
        "Succession or closure",
        true,
    ),
    (
        "periodic_report",
        "定期的な報告等",
        "Periodic reporting",
        true,
    ),
    (
        "task_report",
        "作業ごとの報告等",
        "Per-task reporting",
        true,
    ),
    (
        "other_business",
        "その他イベント(法人)",
        "Other (business)",
        true,
    ),
];

pub fn category(code: &str) -> Option<(&'static str, &'static str, &'static str)> {
    CATEGORIES.iter().copied().find(|c| c.0 == code)
}

pub fn life_event(code: &str) -> Option<(&'static str, &'static str, &'static str, bool)> {
    LIFE_EVENTS.iter().copied().find(|e| e.0 == code)
}

/// A document the applicant must attach (shown on the procedure page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequiredAttachment {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub note_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcedureStatus {
    Draft,
    Published,
    Archived,
}

impl ProcedureStatus {
    pub fn code(self) -> &'static str {
        match self {
            ProcedureStatus::Draft => "draft",
            ProcedureStatus::Published => "published",
            ProcedureStatus::Archived => "archived",
        }
    }
}

/// A procedure as stored.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Procedure {
    pub id: i64,
    pub organisation_id: i64,
    pub section_id: i64,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub summary: String,
    pub summary_en: String,
    pub description: String,
    pub description_en: String,
    pub category: String,
    pub basis: String,
    pub audience: String,
    pub life_events: String,
    pub attachments: String,
    pub fee_yen: Option<i64>,
    pub fee_note: String,
    #[sqlx(try_from = "DbBool")]
    pub online: bool,
    pub annual_volume: Option<i64>,
    #[sqlx(try_from = "DbBool")]
    pub priority: bool,
    pub keywords: String,
    pub status: String,
    pub current_form_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// [`Guidance`] as JSON.
    pub guidance: String,
    /// What the applicant must sign in with (`platform::identity::Requirement`'s code).
    pub identity: String,
    /// 保存期間: years a decided application is kept before its answers and
    /// files are erased; None keeps them.
    pub retention_years: Option<i64>,
}

/// What a resident should know before starting: who can apply, how long the
/// section takes (標準処理期間), how long the result is valid, and how the
/// result is told. Each in Japanese and English; empty when not written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    #[serde(default)]
    pub who_can_apply: String,
    #[serde(default)]
    pub who_can_apply_en: String,
    #[serde(default)]
    pub processing_time: String,
    #[serde(default)]
    pub processing_time_en: String,
    #[serde(default)]
    pub validity: String,
    #[serde(default)]
    pub validity_en: String,
    #[serde(default)]
    pub how_you_hear: String,
    #[serde(default)]
    pub how_you_hear_en: String,
}

impl Procedure {
    /// What to know before starting (empty parts where none is written).
    pub fn guidance(&self) -> Guidance {
        serde_json::from_str(&self.guidance).unwrap_or_default()
    }

    pub fn life_event_codes(&self) -> Vec<&str> {
        self.life_events.split_whitespace().collect()
    }

    pub fn required_attachments(&self) -> Vec<RequiredAttachment> {
        serde_json::from_str(&self.attachments).unwrap_or_default()
    }

    /// What the applicant must sign in with (an unknown code asks the most: the card).
    pub fn requirement(&self) -> platform::identity::Requirement {
        platform::identity::Requirement::parse(&self.identity)
            .unwrap_or(platform::identity::Requirement::MyNumberCard)
    }

    pub fn is_published(&self) -> bool {
        self.status == ProcedureStatus::Published.code()
    }

    /// Whether a resident can apply here now.
    pub fn accepts_applications(&self) -> bool {
        self.is_published() && self.online && self.current_form_id.is_some()
    }
}

/// A procedure to add or update (import, demo data, admin pages).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProcedureInput {
    pub code: String,
    pub section: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub summary_en: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_en: String,
    pub category: String,
    #[serde(default = "default_basis")]
    pub basis: String,
    #[serde(default = "default_audience")]
    pub audience: String,
    #[serde(default)]
    pub life_events: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<RequiredAttachment>,
    #[serde(default)]
    pub fee_yen: Option<i64>,
    #[serde(default)]
    pub fee_note: String,
    #[serde(default)]
    pub online: bool,
    #[serde(default)]
    pub annual_volume: Option<i64>,
    #[serde(default)]
    pub priority: bool,
    #[serde(default)]
    pub keywords: String,
    #[serde(default = "default_status")]
    pub status: String,
    /// In an import bundle: the path of the form definition, relative to the bundle.
    #[serde(default)]
    pub form: Option<String>,
    #[serde(default)]
    pub guidance: Guidance,
    /// What the applicant must sign in with: `account` (the default),
    /// `mynumber_card`, `gbizid` or `gbizid_prime`.
    #[serde(default = "default_identity")]
    pub identity: String,
    /// 保存期間 in years (1 to 100); without it, applications are kept.
    #[serde(default)]
    pub retention_years: Option<i64>,
}

fn default_identity() -> String {
    "account".into()
}

fn default_basis() -> String {
    "local".into()
}
fn default_audience() -> String {
    "resident".into()
}
fn default_status() -> String {
    "published".into()
}

impl ProcedureInput {
    /// Problems with the input, as (field, message) in English (for import reports).
    pub fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |f: &str, m: String| out.push((f.to_string(), m));
        if self.code.trim().is_empty() || self.code.len() > 64 {
            bad("code", "the code must be 1 to 64 characters".into());
        }
        if self.name.trim().is_empty() {
            bad("name", "the name is empty".into());
        }
        if category(&self.category).is_none() {
            let known: Vec<&str> = CATEGORIES.iter().map(|c| c.0).collect();
            bad(
                "category",
                format!(
                    "unknown category {:?} (one of {})",
                    self.category,
                    known.join(", ")
                ),
            );
        }
        if !matches!(self.basis.as_str(), "local" | "statutory") {
            bad(
                "basis",
                format!("{:?} is not local or statutory", self.basis),
            );
        }
        if !matches!(self.audience.as_str(), "resident" | "business" | "both") {
            bad(
                "audience",
                format!("{:?} is not resident, business or both", self.audience),
            );
        }
        for e in &self.life_events {
            if life_event(e).is_none() {
                bad("life_events", format!("unknown life event {e:?}"));
            }
        }
        // Empty is the default (an account), as a ProcedureInput built in code has it.
        if !self.identity.is_empty()
            && platform::identity::Requirement::parse(&self.identity).is_none()
        {
            bad(
                "identity",
                format!(
                    "{:?} is not account, mynumber_card, gbizid or gbizid_prime",
                    self.identity
                ),
            );
        }
        if self
            .retention_years
            .is_some_and(|y| !(1..=100).contains(&y))
        {
            bad(
                "retention_years",
                "the retention period must be 1 to 100 years".into(),
            );
        }
        if self.fee_yen.is_some_and(|f| f < 0) {
            bad("fee_yen", "the fee is negative".into());
        }
        if self.annual_volume.is_some_and(|v| v < 0) {
            bad("annual_volume", "the annual volume is negative".into());
        }
        if !matches!(self.status.as_str(), "draft" | "published" | "archived") {
            bad(
                "status",
                format!("{:?} is not draft, published or archived", self.status),
            );
        }
        out
    }
}

/// A stored form version.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormVersion {
    pub id: i64,
    pub procedure_id: i64,
    pub organisation_id: i64,
    pub version: i64,
    pub source: String,
    pub definition: String,
}

impl FormVersion {
    pub fn parsed(&self) -> Result<FormDefinition, serde_json::Error> {
        serde_json::from_str(&self.definition)
    }
}
