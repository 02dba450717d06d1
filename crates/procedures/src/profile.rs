//! The resident's profile: their own name, postal code, address, phone and
//! e-mail, kept to fill new applications when they have agreed to it.
//!
//! The profile is asked with the same questions (and checked by the same
//! rules) as a form: [`page`] is a page of five optional questions whose ids
//! are the profile's parts, so its answers are stored as they are and copied
//! into a form's questions marked `prefill` with the same part.

use serde_json::{Map, Value};

use crate::form::FormDefinition;
use crate::form::definition::{Kind, Page, ProfileField, Question};

/// The profile's parts, in the order the page asks them.
pub const PARTS: [ProfileField; 5] = [
    ProfileField::Name,
    ProfileField::PostalCode,
    ProfileField::Address,
    ProfileField::Phone,
    ProfileField::Email,
];

/// A resident's profile as stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Answers keyed by the part's code (`name`, `address` …), normalised as
    /// a form's answers are.
    pub values: Map<String, Value>,
    /// Whether new applications start with these answers filled in.
    pub prefill_consent: bool,
}

impl Profile {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The profile page's questions (labels from the catalogue keys given).
pub fn page(label: impl Fn(&str) -> (String, String)) -> Page {
    let question = |part: ProfileField, kind: Kind| {
        let (label, label_en) = label(part.kind_code());
        Question {
            id: part.kind_code().to_string(),
            label,
            label_en,
            hint: String::new(),
            hint_en: String::new(),
            required: false,
            show_if: None,
            kind,
            prefill: Some(part),
        }
    };
    Page {
        id: "profile".into(),
        title: String::new(),
        title_en: String::new(),
        intro: String::new(),
        intro_en: String::new(),
        show_if: None,
        questions: vec![
            question(ProfileField::Name, Kind::Name { kana: true }),
            question(ProfileField::PostalCode, Kind::PostalCode),
            question(ProfileField::Address, Kind::Address),
            question(ProfileField::Phone, Kind::Phone),
            question(ProfileField::Email, Kind::Email),
        ],
    }
}

/// The answers a new application of `def` starts with: each question marked
/// `prefill` gets the profile's part, where the profile has it.
pub fn prefill(def: &FormDefinition, profile: &Profile) -> Map<String, Value> {
    def.questions()
        .filter_map(|(_, q)| {
            let part = q.prefill?;
            let v = profile.values.get(part.kind_code())?;
            Some((q.id.clone(), v.clone()))
        })
        .collect()
}

/// The profile's parts an application's answers give (the first question
/// marked with each part).
pub fn from_answers(def: &FormDefinition, answers: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (_, q) in def.questions() {
        if let Some(part) = q.prefill
            && PARTS.contains(&part)
            && let Some(v) = answers.get(&q.id)
            && !v.is_null()
            && !out.contains_key(part.kind_code())
        {
            out.insert(part.kind_code().to_string(), v.clone());
        }
    }
    out
}

/// Whether a form asks anything the profile can fill.
pub fn fills(def: &FormDefinition) -> bool {
    def.questions()
        .any(|(_, q)| q.prefill.is_some_and(|p| PARTS.contains(&p)))
}

/// The answers a new application of `def` takes from how the applicant
/// signed in: the 法人番号 gBizID asserted, into questions marked
/// `prefill = "corporate_number"`.
pub fn prefill_from_identity(
    def: &FormDefinition,
    identity: Option<&platform::identity::Verified>,
) -> Map<String, Value> {
    let Some(number) = identity.and_then(|i| i.corporate_number.as_deref()) else {
        return Map::new();
    };
    def.questions()
        .filter(|(_, q)| q.prefill == Some(ProfileField::CorporateNumber))
        .map(|(_, q)| (q.id.clone(), Value::String(number.to_string())))
        .collect()
}
