//! Form definitions: the declarative description of a procedure's questions,
//! written by an organisation admin in TOML (or JSON), checked on import.
//!
//! The format is documented for admins in `docs/forms.md`. A definition is a
//! list of pages; each page holds one or more questions (GOV.UK's "one thing
//! per page" where it can: a page with one question uses the question as its
//! heading). Questions can be shown only when an earlier answer matches
//! (`show_if`), choices can depend on an earlier choice (`options_by`: school →
//! department), and a group of questions can repeat ("add another").
//!
//! Parsing goes through a loose `Raw*` shape that rejects unknown keys (a typo
//! is an error, not a silently ignored setting), then [`FormDefinition::parse`]
//! builds the typed definition and reports every problem it finds, each with
//! its place (`pages[2] "school" › questions[0] "department": …`).

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use platform::files::FileKind;
use serde::{Deserialize, Serialize};

/// The largest file a form may accept, whatever its definition says.
pub const MAX_FILE_KB: u32 = 20 * 1024;
const MAX_OPTIONS: usize = 2000;
const MAX_GROUP_ITEMS: u32 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDefinition {
    pub title: String,
    pub title_en: String,
    pub intro: String,
    pub intro_en: String,
    pub pages: Vec<Page>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub id: String,
    /// The page heading when it has several questions (else the question's label is).
    pub title: String,
    pub title_en: String,
    pub intro: String,
    pub intro_en: String,
    pub show_if: Option<Condition>,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub label: String,
    pub label_en: String,
    pub hint: String,
    pub hint_en: String,
    pub required: bool,
    pub show_if: Option<Condition>,
    pub kind: Kind,
    /// Which part of the resident's profile fills it, with their consent:
    /// the resident's own name, address, postal code, phone or e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<ProfileField>,
}

/// A part of the resident's profile a question can be filled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    Name,
    Address,
    PostalCode,
    Phone,
    Email,
    /// Not a part of the profile: the 法人番号 a gBizID sign-in asserted.
    CorporateNumber,
}

impl ProfileField {
    pub fn parse(s: &str) -> Option<ProfileField> {
        Some(match s {
            "name" => ProfileField::Name,
            "address" => ProfileField::Address,
            "postal_code" => ProfileField::PostalCode,
            "phone" => ProfileField::Phone,
            "email" => ProfileField::Email,
            "corporate_number" => ProfileField::CorporateNumber,
            _ => return None,
        })
    }

    /// The question type it fills.
    pub fn kind_code(self) -> &'static str {
        match self {
            ProfileField::Name => "name",
            ProfileField::Address => "address",
            ProfileField::PostalCode => "postal_code",
            ProfileField::Phone => "phone",
            ProfileField::Email => "email",
            ProfileField::CorporateNumber => "corporate_number",
        }
    }
}

/// Shown only when the answer to `question` (an earlier, top-level question)
/// is one of `values` (for a multiple choice: contains one of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub question: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub label_en: String,
    pub hint: String,
    pub hint_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceStyle {
    Radios,
    Select,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// One line of text.
    Text {
        max_length: u32,
    },
    /// Several lines of text.
    Textarea {
        max_length: u32,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        decimals: u32,
        unit: String,
        unit_en: String,
    },
    /// An amount of yen (whole yen).
    Yen {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// A date, typed in 和暦 or Western form, stored ISO.
    Date {
        min: Option<DateBound>,
        max: Option<DateBound>,
    },
    /// Family and given name, with their readings in katakana.
    Name {
        kana: bool,
    },
    PostalCode,
    Address,
    Phone,
    Email,
    /// 個人番号: checked, encrypted at rest, masked once entered.
    MyNumber,
    /// 法人番号.
    CorporateNumber,
    /// One of a list; with `options_by`, the list depends on an earlier choice.
    Choice {
        options: Vec<Choice>,
        options_by: Option<String>,
        option_groups: BTreeMap<String, Vec<Choice>>,
        style: ChoiceStyle,
    },
    /// Any number of a list.
    MultiChoice {
        options: Vec<Choice>,
        min_selected: u32,
        max_selected: Option<u32>,
    },
    File {
        accept: Vec<FileKind>,
        max_size_kb: u32,
        max_files: u32,
    },
    /// A set of questions answered once per item ("add another").
    Group {
        questions: Vec<Question>,
        min_items: u32,
        max_items: u32,
        item_label: String,
        item_label_en: String,
    },
    /// A statement the applicant must confirm.
    Declaration {
        text: String,
        text_en: String,
    },
}

impl Kind {
    pub fn code(&self) -> &'static str {
        match self {
            Kind::Text { .. } => "text",
            Kind::Textarea { .. } => "textarea",
            Kind::Number { .. } => "number",
            Kind::Yen { .. } => "yen",
            Kind::Date { .. } => "date",
            Kind::Name { .. } => "name",
            Kind::PostalCode => "postal_code",
            Kind::Address => "address",
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::MyNumber => "my_number",
            Kind::CorporateNumber => "corporate_number",
            Kind::Choice { .. } => "choice",
            Kind::MultiChoice { .. } => "multi_choice",
            Kind::File { .. } => "file",
            Kind::Group { .. } => "group",
            Kind::Declaration { .. } => "declaration",
        }
    }
}

impl Page {
    /// The address question a postal-code question fills: the first address
    /// question after it on the same page.
    pub fn address_filled_by(&self, postal: &str) -> Option<&Question> {
        let at = self
            .questions
            .iter()
            .position(|q| q.id == postal && matches!(q.kind, Kind::PostalCode))?;
        self.questions
            .iter()
            .skip(at + 1)
            .find(|q| matches!(q.kind, Kind::Address))
    }
}

impl FormDefinition {
    /// Every top-level question, in order.
    pub fn questions(&self) -> impl Iterator<Item = (&Page, &Question)> {
        self.pages
            .iter()
            .flat_map(|p| p.questions.iter().map(move |q| (p, q)))
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.id == id)
    }

    pub fn page(&self, id: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.id == id)
    }

    pub fn page_index(&self, id: &str) -> Option<usize> {
        self.pages.iter().position(|p| p.id == id)
    }

    /// Parses and checks a definition written in TOML, or JSON when the text
    /// starts with `{`. Returns every problem found.
    pub fn parse(text: &str) -> Result<FormDefinition, Vec<DefinitionError>> {
        let raw: RawForm = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| {
                vec![DefinitionError {
                    place: format!("line {} column {}", e.line(), e.column()),
                    message: e.to_string(),
                }]
            })?
        } else {
            toml::from_str(text).map_err(|e| {
                let place = match e.span() {
                    Some(span) => {
                        let before = text.get(..span.start.min(text.len())).unwrap_or(text);
                        let line = before.matches('\n').count() + 1;
                        format!("line {line}")
                    }
                    None => "file".into(),
                };
                vec![DefinitionError {
                    place,
                    message: e.message().to_string(),
                }]
            })?
        };
        let mut checker = Checker {
            errors: Vec::new(),
            seen_questions: Vec::new(),
        };
        let def = checker.form(raw);
        if checker.errors.is_empty() {
            Ok(def)
        } else {
            Err(checker.errors)
        }
    }
}

/// One problem in a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionError {
    /// Where: `line 12`, or `pages[2] "school" › questions[0] "department"`.
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    title: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    intro_en: String,
    #[serde(default)]
    pages: Vec<RawPage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    intro_en: String,
    #[serde(default)]
    show_if: Option<RawCondition>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    question: String,
    #[serde(default)]
    equals: Option<String>,
    #[serde(default)]
    any_of: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    value: String,
    label: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    hint: String,
    #[serde(default)]
    hint_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    hint: String,
    #[serde(default)]
    hint_en: String,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    show_if: Option<RawCondition>,
    // Type-specific settings; which are allowed depends on `type`.
    max_length: Option<u32>,
    min: Option<toml::Value>,
    max: Option<toml::Value>,
    decimals: Option<u32>,
    unit: Option<String>,
    unit_en: Option<String>,
    kana: Option<bool>,
    options: Option<Vec<RawChoice>>,
    options_by: Option<String>,
    option_groups: Option<BTreeMap<String, Vec<RawChoice>>>,
    style: Option<String>,
    min_selected: Option<u32>,
    max_selected: Option<u32>,
    accept: Option<Vec<String>>,
    max_size_kb: Option<u32>,
    max_files: Option<u32>,
    questions: Option<Vec<RawQuestion>>,
    min_items: Option<u32>,
    max_items: Option<u32>,
    item_label: Option<String>,
    item_label_en: Option<String>,
    text: Option<String>,
    text_en: Option<String>,
    /// `name`, `address`, `postal_code`, `phone` or `email`: filled from the
    /// resident's profile (a question of that type, outside groups).
    prefill: Option<String>,
}

struct SeenQuestion {
    id: String,
    kind: Kind,
}

struct Checker {
    errors: Vec<DefinitionError>,
    /// Top-level questions defined so far (conditions may refer only to these).
    seen_questions: Vec<SeenQuestion>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Checker {
    fn err(&mut self, place: &str, message: impl Into<String>) {
        self.errors.push(DefinitionError {
            place: place.to_string(),
            message: message.into(),
        });
    }

    fn form(&mut self, raw: RawForm) -> FormDefinition {
        if raw.title.trim().is_empty() {
            self.err("title", "the form needs a title");
        }
        if raw.pages.is_empty() {
            self.err("pages", "the form needs at least one page");
        }
        let mut page_ids = HashSet::new();
        let mut all_ids = HashSet::new();
        let mut pages = Vec::new();
        for (i, p) in raw.pages.into_iter().enumerate() {
            let place = format!("pages[{i}] {:?}", p.id);
            if !valid_id(&p.id) {
                self.err(
                    &place,
                    "page ids use lower-case letters, digits and _ and start with a letter",
                );
            }
            if !page_ids.insert(p.id.clone()) {
                self.err(&place, format!("the page id {:?} is used twice", p.id));
            }
            if p.questions.is_empty() {
                self.err(&place, "a page needs at least one question");
            }
            if p.questions.len() > 1 && p.title.trim().is_empty() {
                self.err(&place, "a page with several questions needs a title");
            }
            let show_if = p.show_if.map(|c| self.condition(&place, c));
            let mut questions = Vec::new();
            for (j, q) in p.questions.into_iter().enumerate() {
                let qplace = format!("{place} › questions[{j}] {:?}", q.id);
                if !all_ids.insert(q.id.clone()) {
                    self.err(&qplace, format!("the question id {:?} is used twice", q.id));
                }
                let question = self.question(&qplace, q, false);
                self.seen_questions.push(SeenQuestion {
                    id: question.id.clone(),
                    kind: question.kind.clone(),
                });
                questions.push(question);
            }
            pages.push(Page {
                id: p.id,
                title: p.title,
                title_en: p.title_en,
                intro: p.intro,
                intro_en: p.intro_en,
                show_if,
                questions,
            });
        }
        FormDefinition {
            title: raw.title,
            title_en: raw.title_en,
            intro: raw.intro,
            intro_en: raw.intro_en,
            pages,
        }
    }

    fn condition(&mut self, place: &str, c: RawCondition) -> Condition {
        let mut values = c.any_of;
        if let Some(v) = c.equals {
            values.push(v);
        }
        if values.is_empty() {
            self.err(place, "show_if needs `equals` or `any_of`");
        }
        let known: Option<Option<Vec<String>>> = self
            .seen_questions
            .iter()
            .find(|s| s.id == c.question)
            .map(|seen| match &seen.kind {
                Kind::Choice {
                    options,
                    options_by: None,
                    ..
                }
                | Kind::MultiChoice { options, .. } => {
                    Some(options.iter().map(|o| o.value.clone()).collect())
                }
                Kind::Declaration { .. } => Some(vec!["yes".to_string()]),
                _ => None,
            });
        match known {
            None => self.err(
                place,
                format!(
                    "show_if refers to {:?}, which is not an earlier question",
                    c.question
                ),
            ),
            Some(Some(known)) => {
                for v in &values {
                    if !known.contains(v) {
                        self.err(
                            place,
                            format!("show_if: {:?} is not an option of {:?}", v, c.question),
                        );
                    }
                }
            }
            Some(None) => {}
        }
        Condition {
            question: c.question,
            values,
        }
    }

    fn choices(&mut self, place: &str, raw: Vec<RawChoice>) -> Vec<Choice> {
        if raw.is_empty() {
            self.err(place, "the list of options is empty");
        }
        if raw.len() > MAX_OPTIONS {
            self.err(place, format!("at most {MAX_OPTIONS} options"));
        }
        let mut seen = HashSet::new();
        raw.into_iter()
            .map(|c| {
                if c.value.trim().is_empty() || c.value.len() > 100 {
                    self.err(place, "an option value must be 1 to 100 characters");
                }
                if c.label.trim().is_empty() {
                    self.err(place, format!("the option {:?} needs a label", c.value));
                }
                if !seen.insert(c.value.clone()) {
                    self.err(
                        place,
                        format!("the option value {:?} is used twice", c.value),
                    );
                }
                Choice {
                    value: c.value,
                    label: c.label,
                    label_en: c.label_en,
                    hint: c.hint,
                    hint_en: c.hint_en,
                }
            })
            .collect()
    }

    fn question(&mut self, place: &str, q: RawQuestion, in_group: bool) -> Question {
        if !valid_id(&q.id) {
            self.err(
                place,
                "question ids use lower-case letters, digits and _ and start with a letter",
            );
        }
        if q.label.trim().is_empty() {
            self.err(place, "the question needs a label");
        }
        let show_if = q.show_if.map(|c| self.condition(place, c));
        if in_group && show_if.is_some() {
            self.err(place, "questions inside a group cannot have show_if");
        }
        // Settings each type accepts; anything else given is an error.
        let allowed: &[&str] = match q.kind.as_str() {
            "text" | "textarea" => &["max_length"],
            "number" => &["min", "max", "decimals", "unit", "unit_en"],
            "yen" | "date" => &["min", "max"],
            "name" => &["kana"],
            "postal_code" | "address" | "phone" | "email" | "my_number" | "corporate_number" => &[],
            "choice" => &["options", "options_by", "option_groups", "style"],
            "multi_choice" => &["options", "min_selected", "max_selected"],
            "file" => &["accept", "max_size_kb", "max_files"],
            "group" => &[
                "questions",
                "min_items",
                "max_items",
                "item_label",
                "item_label_en",
            ],
            "declaration" => &["text", "text_en"],
            other => {
                self.err(place, format!("unknown question type {other:?}"));
                &[]
            }
        };
        let given: Vec<&str> = [
            ("max_length", q.max_length.is_some()),
            ("min", q.min.is_some()),
            ("max", q.max.is_some()),
            ("decimals", q.decimals.is_some()),
            ("unit", q.unit.is_some()),
            ("unit_en", q.unit_en.is_some()),
            ("kana", q.kana.is_some()),
            ("options", q.options.is_some()),
            ("options_by", q.options_by.is_some()),
            ("option_groups", q.option_groups.is_some()),
            ("style", q.style.is_some()),
            ("min_selected", q.min_selected.is_some()),
            ("max_selected", q.max_selected.is_some()),
            ("accept", q.accept.is_some()),
            ("max_size_kb", q.max_size_kb.is_some()),
            ("max_files", q.max_files.is_some()),
            ("questions", q.questions.is_some()),
            ("min_items", q.min_items.is_some()),
            ("max_items", q.max_items.is_some()),
            ("item_label", q.item_label.is_some()),
            ("item_label_en", q.item_label_en.is_some()),
            ("text", q.text.is_some()),
            ("text_en", q.text_en.is_some()),
        ]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| name)
        .collect();
        for name in given {
            if !allowed.contains(&name) {
                self.err(
                    place,
                    format!("{name:?} does not apply to a question of type {:?}", q.kind),
                );
            }
        }
        let required = q.required.unwrap_or(true);
        if in_group && q.prefill.is_some() {
            self.err(place, "a question inside a group cannot be prefilled");
        }
        let prefill = q
            .prefill
            .as_deref()
            .and_then(|p| match ProfileField::parse(p) {
                Some(f) if f.kind_code() == q.kind && !in_group => Some(f),
                Some(_) if in_group => None,
                Some(f) => {
                    self.err(
                        place,
                        format!(
                            "prefill = {p:?} fills only a question of type {:?}",
                            f.kind_code()
                        ),
                    );
                    None
                }
                None => {
                    self.err(
                        place,
                        format!(
                            "prefill must be name, address, postal_code, phone, email or corporate_number, not {p:?}"
                        ),
                    );
                    None
                }
            });
        let kind = match q.kind.as_str() {
            "text" => Kind::Text {
                max_length: self.max_length(place, q.max_length, 200),
            },
            "textarea" => Kind::Textarea {
                max_length: self.max_length(place, q.max_length, 4000),
            },
            "number" => {
                let min = self.float(place, "min", q.min);
                let max = self.float(place, "max", q.max);
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    self.err(place, "min is greater than max");
                }
                let decimals = q.decimals.unwrap_or(0);
                if decimals > 6 {
                    self.err(place, "decimals must be 0 to 6");
                }
                Kind::Number {
                    min,
                    max,
                    decimals,
                    unit: q.unit.unwrap_or_default(),
                    unit_en: q.unit_en.unwrap_or_default(),
                }
            }
            "yen" => {
                let min = self.int(place, "min", q.min);
                let max = self.int(place, "max", q.max);
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    self.err(place, "min is greater than max");
                }
                if min.is_some_and(|m| m < 0) {
                    self.err(place, "min must not be negative");
                }
                Kind::Yen { min, max }
            }
            "date" => {
                let min = self.date(place, "min", q.min);
                let max = self.date(place, "max", q.max);
                if let (Some(a), Some(b)) = (min, max)
                    && a.is_after(b)
                {
                    self.err(place, "min is after max");
                }
                Kind::Date { min, max }
            }
            "name" => Kind::Name {
                kana: q.kana.unwrap_or(true),
            },
            "postal_code" => Kind::PostalCode,
            "address" => Kind::Address,
            "phone" => Kind::Phone,
            "email" => Kind::Email,
            "my_number" => Kind::MyNumber,
            "corporate_number" => Kind::CorporateNumber,
            "choice" => {
                let style = match q.style.as_deref() {
                    None => None,
                    Some("radios") => Some(ChoiceStyle::Radios),
                    Some("select") => Some(ChoiceStyle::Select),
                    Some(other) => {
                        self.err(
                            place,
                            format!("style must be \"radios\" or \"select\", not {other:?}"),
                        );
                        None
                    }
                };
                match q.options_by {
                    Some(parent) => {
                        if q.options.is_some() {
                            self.err(
                                place,
                                "give either options or options_by with option_groups, not both",
                            );
                        }
                        let groups = q.option_groups.unwrap_or_default();
                        if in_group {
                            self.err(
                                place,
                                "a choice inside a group cannot depend on another (options_by)",
                            );
                        }
                        let parent_options: Option<Vec<String>> = match self
                            .seen_questions
                            .iter()
                            .find(|s| s.id == parent)
                            .map(|s| &s.kind)
                        {
                            Some(Kind::Choice {
                                options,
                                options_by: None,
                                ..
                            }) => Some(options.iter().map(|o| o.value.clone()).collect()),
                            Some(_) => {
                                self.err(
                                    place,
                                    format!("options_by: {parent:?} is not a simple choice"),
                                );
                                None
                            }
                            None => {
                                self.err(
                                    place,
                                    format!("options_by: {parent:?} is not an earlier question"),
                                );
                                None
                            }
                        };
                        let mut option_groups = BTreeMap::new();
                        for (key, list) in groups {
                            let gplace = format!("{place} › option_groups.{key}");
                            if let Some(parents) = &parent_options
                                && !parents.contains(&key)
                            {
                                self.err(
                                    &gplace,
                                    format!("{key:?} is not an option of {parent:?}"),
                                );
                            }
                            let choices = self.choices(&gplace, list);
                            option_groups.insert(key, choices);
                        }
                        if let Some(parents) = &parent_options {
                            for p in parents {
                                if !option_groups.contains_key(p) {
                                    self.err(
                                        place,
                                        format!(
                                            "option_groups has no list for {p:?} of {parent:?}"
                                        ),
                                    );
                                }
                            }
                        }
                        Kind::Choice {
                            options: Vec::new(),
                            options_by: Some(parent),
                            option_groups,
                            style: style.unwrap_or(ChoiceStyle::Radios),
                        }
                    }
                    None => {
                        if q.option_groups.is_some() {
                            self.err(place, "option_groups needs options_by");
                        }
                        let options = self.choices(place, q.options.unwrap_or_default());
                        // Long lists read better as a select; short ones as radios.
                        let default_style = if options.len() > 12 {
                            ChoiceStyle::Select
                        } else {
                            ChoiceStyle::Radios
                        };
                        Kind::Choice {
                            options,
                            options_by: None,
                            option_groups: BTreeMap::new(),
                            style: style.unwrap_or(default_style),
                        }
                    }
                }
            }
            "multi_choice" => {
                let options = self.choices(place, q.options.unwrap_or_default());
                let min_selected = q.min_selected.unwrap_or(u32::from(required));
                if let Some(max) = q.max_selected
                    && (max < min_selected.max(1) || max as usize > options.len().max(1))
                {
                    self.err(
                        place,
                        "max_selected must be between min_selected and the number of options",
                    );
                }
                Kind::MultiChoice {
                    options,
                    min_selected,
                    max_selected: q.max_selected,
                }
            }
            "file" => {
                let accept_raw = q
                    .accept
                    .unwrap_or_else(|| vec!["pdf".into(), "jpeg".into(), "png".into()]);
                let mut accept = Vec::new();
                for a in accept_raw {
                    match FileKind::parse(&a) {
                        Some(k) => accept.push(k),
                        None => self.err(place, format!("accept: unknown file type {a:?}")),
                    }
                }
                if accept.is_empty() {
                    self.err(place, "accept lists no file type");
                }
                let max_size_kb = q.max_size_kb.unwrap_or(5 * 1024);
                if max_size_kb == 0 || max_size_kb > MAX_FILE_KB {
                    self.err(place, format!("max_size_kb must be 1 to {MAX_FILE_KB}"));
                }
                let max_files = q.max_files.unwrap_or(1);
                if max_files == 0 || max_files > 20 {
                    self.err(place, "max_files must be 1 to 20");
                }
                if in_group {
                    self.err(place, "a group cannot contain file questions");
                }
                Kind::File {
                    accept,
                    max_size_kb,
                    max_files,
                }
            }
            "group" => {
                if in_group {
                    self.err(place, "groups cannot be nested");
                }
                let raw = q.questions.unwrap_or_default();
                if raw.is_empty() {
                    self.err(place, "a group needs questions");
                }
                let mut inner_ids = HashSet::new();
                let mut questions = Vec::new();
                for (k, inner) in raw.into_iter().enumerate() {
                    let iplace = format!("{place} › questions[{k}] {:?}", inner.id);
                    if !inner_ids.insert(inner.id.clone()) {
                        self.err(
                            &iplace,
                            format!("the question id {:?} is used twice in the group", inner.id),
                        );
                    }
                    if matches!(inner.kind.as_str(), "declaration") {
                        self.err(&iplace, "a group cannot contain a declaration");
                    }
                    questions.push(self.question(&iplace, inner, true));
                }
                let min_items = q.min_items.unwrap_or(u32::from(required));
                let max_items = q.max_items.unwrap_or(10);
                if max_items == 0 || max_items > MAX_GROUP_ITEMS || min_items > max_items {
                    self.err(
                        place,
                        format!("max_items must be 1 to {MAX_GROUP_ITEMS} and at least min_items"),
                    );
                }
                Kind::Group {
                    questions,
                    min_items,
                    max_items,
                    item_label: q.item_label.unwrap_or_default(),
                    item_label_en: q.item_label_en.unwrap_or_default(),
                }
            }
            "declaration" => {
                let text = q.text.unwrap_or_default();
                if text.trim().is_empty() {
                    self.err(place, "a declaration needs its text");
                }
                if !required {
                    self.err(place, "a declaration is always required");
                }
                Kind::Declaration {
                    text,
                    text_en: q.text_en.unwrap_or_default(),
                }
            }
            _ => Kind::Text { max_length: 200 },
        };
        Question {
            id: q.id,
            label: q.label,
            label_en: q.label_en,
            hint: q.hint,
            hint_en: q.hint_en,
            required,
            show_if,
            kind,
            prefill,
        }
    }

    fn max_length(&mut self, place: &str, v: Option<u32>, default: u32) -> u32 {
        let v = v.unwrap_or(default);
        if v == 0 || v > 20_000 {
            self.err(place, "max_length must be 1 to 20000");
        }
        v
    }

    fn float(&mut self, place: &str, name: &str, v: Option<toml::Value>) -> Option<f64> {
        match v {
            None => None,
            Some(toml::Value::Integer(i)) => Some(i as f64),
            Some(toml::Value::Float(f)) if f.is_finite() => Some(f),
            Some(_) => {
                self.err(place, format!("{name} must be a number"));
                None
            }
        }
    }

    fn int(&mut self, place: &str, name: &str, v: Option<toml::Value>) -> Option<i64> {
        match v {
            None => None,
            Some(toml::Value::Integer(i)) => Some(i),
            Some(_) => {
                self.err(place, format!("{name} must be a whole number"));
                None
            }
        }
    }

    fn date(&mut self, place: &str, name: &str, v: Option<toml::Value>) -> Option<DateBound> {
        match v {
            None => None,
            Some(toml::Value::String(s)) => match DateBound::parse(&s) {
                Some(d) => Some(d),
                None => {
                    self.err(
                        place,
                        format!(
                            "{name}: {s:?} is not a date (\"2000-04-01\", \"令和7年4月1日\") or \"today\", \"today-18y\", \"today+30d\""
                        ),
                    );
                    None
                }
            },
            Some(toml::Value::Datetime(d)) => match d.date {
                Some(date) => NaiveDate::from_ymd_opt(
                    i32::from(date.year),
                    u32::from(date.month),
                    u32::from(date.day),
                )
                .map(DateBound::On),
                None => {
                    self.err(place, format!("{name} must be a date"));
                    None
                }
            },
            Some(_) => {
                self.err(
                    place,
                    format!("{name} must be a date such as \"2000-04-01\""),
                );
                None
            }
        }
    }
}

/// A date question's bound: a fixed date, or one counted from the day the
/// answer is checked (in Japan): `today` (a birth date: `max = "today"`; "not
/// before the application date": `min = "today"`), `today-18y`, `today+30d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateBound {
    On(NaiveDate),
    /// Today moved by whole years, then days (either may be negative).
    Today {
        years: i32,
        days: i32,
    },
}

/// Stored as the text it is written as (`2000-04-01` for a fixed date, as a
/// plain date always was; `today-18y`).
impl Serialize for DateBound {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DateBound {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateBound::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a date bound: {text:?}")))
    }
}

impl std::fmt::Display for DateBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateBound::On(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateBound::Today { years: 0, days: 0 } => f.write_str("today"),
            DateBound::Today { years, days: 0 } => write!(f, "today{years:+}y"),
            DateBound::Today { years: 0, days } => write!(f, "today{days:+}d"),
            // Not written by `parse`, which reads one unit.
            DateBound::Today { years, days } => write!(f, "today{years:+}y{days:+}d"),
        }
    }
}

impl DateBound {
    /// Reads `2000-04-01`, `令和7年4月1日`, `today`, `today-18y`, `today+30d`.
    pub fn parse(s: &str) -> Option<DateBound> {
        let t = s.trim();
        let Some(rest) = t.strip_prefix("today") else {
            return jp::wareki::parse_date(t).ok().map(DateBound::On);
        };
        if rest.is_empty() {
            return Some(DateBound::Today { years: 0, days: 0 });
        }
        let (sign, amount) = match rest.split_at_checked(1) {
            Some(("+", a)) => (1, a),
            Some(("-", a)) => (-1, a),
            _ => return None,
        };
        let (number, unit) = amount.split_at_checked(amount.len().saturating_sub(1))?;
        let n: i32 = number.parse().ok()?;
        if !(0..=200 * 366).contains(&n) {
            return None;
        }
        match unit {
            "y" if n <= 200 => Some(DateBound::Today {
                years: sign * n,
                days: 0,
            }),
            "d" => Some(DateBound::Today {
                years: 0,
                days: sign * n,
            }),
            _ => None,
        }
    }

    /// The date this bound is on the day `today`.
    pub fn on(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            DateBound::On(d) => Some(d),
            DateBound::Today { years, days } => {
                let months = chrono::Months::new(years.unsigned_abs().checked_mul(12)?);
                let moved = if years >= 0 {
                    today.checked_add_months(months)?
                } else {
                    today.checked_sub_months(months)?
                };
                moved.checked_add_signed(chrono::Duration::try_days(i64::from(days))?)
            }
        }
    }

    /// Whether this bound falls after `other` on every day (both fixed, or
    /// both counted from today).
    fn is_after(self, other: DateBound) -> bool {
        match (self, other) {
            (DateBound::On(a), DateBound::On(b)) => a > b,
            (DateBound::Today { .. }, DateBound::Today { .. }) => {
                let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
                self.on(day) > other.on(day)
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "テスト申請"

[[pages]]
id = "applicant"
title = "申請者"
[[pages.questions]]
id = "name"
type = "name"
label = "氏名"
[[pages.questions]]
id = "birth_date"
type = "date"
label = "生年月日"
max = "2026-12-31"

[[pages]]
id = "school"
[[pages.questions]]
id = "school"
type = "choice"
label = "志望校"
options = [{ value = "tsu", label = "津高等学校" }, { value = "ise", label = "伊勢高等学校" }]

[[pages]]
id = "department"
[[pages.questions]]
id = "department"
type = "choice"
label = "学科"
options_by = "school"
[pages.questions.option_groups]
tsu = [{ value = "general", label = "普通科" }]
ise = [{ value = "general", label = "普通科" }, { value = "science", label = "国際科学科" }]

[[pages]]
id = "guardians"
show_if = { question = "school", equals = "tsu" }
[[pages.questions]]
id = "guardians"
type = "group"
label = "保護者"
max_items = 2
[[pages.questions.questions]]
id = "name"
type = "name"
label = "保護者氏名"

[[pages]]
id = "declaration"
[[pages.questions]]
id = "agree"
type = "declaration"
label = "確認"
text = "記載事項は事実と相違ありません。"
"#;

    #[test]
    fn a_good_definition_parses() {
        let def = FormDefinition::parse(GOOD).unwrap();
        assert_eq!(def.pages.len(), 5);
        assert!(matches!(
            def.question("department").unwrap().kind,
            Kind::Choice {
                options_by: Some(_),
                ..
            }
        ));
        assert_eq!(
            def.page("guardians")
                .unwrap()
                .show_if
                .as_ref()
                .unwrap()
                .values,
            vec!["tsu"]
        );
    }

    #[test]
    fn json_works_too() {
        let json = r#"{"title":"t","pages":[{"id":"p","questions":[{"id":"q","type":"text","label":"L"}]}]}"#;
        assert!(FormDefinition::parse(json).is_ok());
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let bad = r#"
title = ""
[[pages]]
id = "Bad Id"
[[pages.questions]]
id = "a"
type = "colour"
label = "x"
[[pages.questions]]
id = "a"
type = "text"
label = ""
max_length = 0
options = []
[[pages]]
id = "p2"
show_if = { question = "later", equals = "x" }
[[pages.questions]]
id = "later"
type = "choice"
label = "l"
options_by = "a"
"#;
        let errors = FormDefinition::parse(bad).unwrap_err();
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let joined = text.join("\n");
        for expected in [
            "title: the form needs a title",
            "page ids use lower-case",
            "unknown question type \"colour\"",
            "the question id \"a\" is used twice",
            "the question needs a label",
            "max_length must be 1 to 20000",
            "\"options\" does not apply to a question of type \"text\"",
            "show_if refers to \"later\", which is not an earlier question",
            "options_by: \"a\" is not a simple choice",
        ] {
            assert!(
                joined.contains(expected),
                "missing {expected:?} in\n{joined}"
            );
        }
    }

    #[test]
    fn syntax_errors_carry_a_line_number_and_typos_are_refused() {
        let errors = FormDefinition::parse("title = \"t\"\n[[pages]]\nid = \"p\"\nquestons = []\n")
            .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].place.starts_with("line "), "{:?}", errors[0]);
        assert!(errors[0].message.contains("questons"), "{:?}", errors[0]);
        let errors = FormDefinition::parse("title = \"t\n").unwrap_err();
        assert!(errors[0].place.starts_with("line "));
    }

    #[test]
    fn dependent_choices_must_cover_every_parent_option() {
        let text = GOOD.replace("tsu = [{ value = \"general\", label = \"普通科\" }]\n", "");
        let errors = FormDefinition::parse(&text).unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.message.contains("no list for \"tsu\"")),
            "{errors:?}"
        );
    }
}

#[cfg(test)]
mod date_bound_tests {
    use super::DateBound;
    use chrono::NaiveDate;

    #[test]
    fn bounds_read_fixed_and_relative_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(
            DateBound::parse("2000-04-01"),
            Some(DateBound::On(d(2000, 4, 1)))
        );
        assert_eq!(
            DateBound::parse("令和7年4月1日"),
            Some(DateBound::On(d(2025, 4, 1)))
        );
        let today = d(2026, 12, 7);
        assert_eq!(
            DateBound::parse("today").and_then(|b| b.on(today)),
            Some(today)
        );
        assert_eq!(
            DateBound::parse("today-18y").and_then(|b| b.on(today)),
            Some(d(2008, 12, 7))
        );
        assert_eq!(
            DateBound::parse("today+30d").and_then(|b| b.on(today)),
            Some(d(2027, 1, 6))
        );
        assert_eq!(
            DateBound::parse("today-1y").and_then(|b| b.on(d(2028, 2, 29))),
            Some(d(2027, 2, 28))
        );
        for text in ["2000-04-01", "today", "today-18y", "today+30d"] {
            let bound = DateBound::parse(text).unwrap();
            assert_eq!(bound.to_string(), text);
            let json = serde_json::to_string(&bound).unwrap();
            assert_eq!(serde_json::from_str::<DateBound>(&json).unwrap(), bound);
        }
        for bad in [
            "tomorrow",
            "today+",
            "today*3d",
            "today+3w",
            "today-999999d",
            "today+-3d",
            "today+３d",
        ] {
            assert!(DateBound::parse(bad).is_none(), "{bad}");
        }
    }
}
