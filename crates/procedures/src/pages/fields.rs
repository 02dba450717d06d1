//! Forms in HTML: the fields of a question page (what the templates render),
//! and the way back from submitted form fields to raw answers and typed text.
//!
//! Field names: a question's id (`birth_date`); a part of a composite
//! question after a dot (`name.family_kana`, `address.city`); inside a
//! repeating group, the item's index between (`guardians.1.phone`). Element ids
//! are the names with dots as hyphens; the error summary links to them.

use std::collections::BTreeMap;

use platform::i18n::Tr;
use platform::web::{Errors, FormData};
use serde_json::{Map, Value};

use crate::applications::Attachment;
use crate::form::answers::{PREFECTURES, condition_met, options_for};
use crate::form::definition::{ChoiceStyle, Kind, Page, Question};

/// The id of the element for field `name`.
pub fn element_id(name: &str) -> String {
    name.replace('.', "-")
}

/// An option of a choice, as shown.
#[derive(Debug, Clone)]
pub struct OptionView {
    pub id: String,
    pub value: String,
    pub label: String,
    pub hint: String,
    pub selected: bool,
}

/// A part of a composite field (family name, city …).
#[derive(Debug, Clone)]
pub struct SubField {
    pub id: String,
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub autocomplete: &'static str,
    pub width: &'static str,
}

/// A file already attached.
#[derive(Debug, Clone)]
pub struct FileView {
    pub id: i64,
    pub filename: String,
    pub kind_label: String,
    pub size: String,
    pub href: String,
}

/// A repeating group's item.
#[derive(Debug, Clone)]
pub struct ItemView {
    pub index: usize,
    pub title: String,
    pub fields: Vec<FieldView>,
    pub removable: bool,
}

#[derive(Debug, Clone)]
pub enum Widget {
    Input {
        input_type: &'static str,
        value: String,
        autocomplete: &'static str,
        inputmode: &'static str,
        width: &'static str,
        suffix: String,
    },
    Textarea {
        value: String,
        max_length: u32,
    },
    Radios {
        options: Vec<OptionView>,
    },
    Select {
        options: Vec<OptionView>,
        placeholder: String,
    },
    Checkboxes {
        options: Vec<OptionView>,
    },
    Parts {
        parts: Vec<SubField>,
    },
    Address {
        prefecture_id: String,
        prefecture_name: String,
        prefecture_error: Option<String>,
        prefectures: Vec<OptionView>,
        parts: Vec<SubField>,
    },
    MyNumber {
        value: String,
        entered_last4: Option<String>,
    },
    File {
        accept: String,
        accept_labels: String,
        max_size: String,
        files: Vec<FileView>,
        can_add: bool,
    },
    Group {
        items: Vec<ItemView>,
        can_add: bool,
        add_label: String,
    },
    Declaration {
        text: String,
        checked: bool,
    },
}

/// A question as the page shows it.
#[derive(Debug, Clone)]
pub struct FieldView {
    pub id: String,
    pub name: String,
    pub label: String,
    pub hint: String,
    pub required: bool,
    pub error: Option<String>,
    /// Whether the label is the page's heading (a page of one question).
    pub as_heading: bool,
    /// Whether it is rendered as a fieldset with a legend (several inputs).
    pub fieldset: bool,
    pub widget: Widget,
    /// For a postal code: the address question a lookup fills (its name).
    pub postal_fills: Option<String>,
}

impl FieldView {
    /// The ids of the hint and the error, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }
}

/// What the page is rendered from.
pub struct Source<'a> {
    pub answers: &'a Map<String, Value>,
    /// Typed text of fields that did not validate (by field name).
    pub pending: &'a Map<String, Value>,
    pub errors: &'a Errors,
    pub attachments: &'a [Attachment],
    pub application_id: i64,
    pub tr: &'a Tr,
    /// The whole form (an earlier question a choice depends on).
    pub def: &'a crate::form::FormDefinition,
    /// Whether postal codes can fill addresses (the directory is there).
    pub postal_lookup: bool,
}

impl Source<'_> {
    fn pending_text(&self, name: &str) -> Option<String> {
        match self.pending.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn error(&self, name: &str) -> Option<String> {
        self.errors.get(name).map(str::to_string)
    }
}

/// "The choices for 「…」 (chosen earlier: …)": what an earlier answer that
/// decides a choice's options was.
fn earlier_choice(src: &Source<'_>, parent: &str, answers: &Map<String, Value>) -> Option<String> {
    let chosen = answers.get(parent).and_then(Value::as_str)?;
    let (_, q) = src.def.questions().find(|(_, q)| q.id == parent)?;
    let options = options_for(&q.kind, answers);
    let label = options
        .iter()
        .find(|o| o.value == chosen)
        .map(|o| src.tr.pick(&o.label, &o.label_en).to_string())?;
    Some(src.tr.f(
        "answer.depends_on",
        &[
            ("question", src.tr.pick(&q.label, &q.label_en).to_string()),
            ("choice", label),
        ],
    ))
}

/// Text for an input from a normalised value.
fn value_text(q: &Question, v: Option<&Value>) -> String {
    match (v, &q.kind) {
        (None, _) => String::new(),
        (Some(Value::String(s)), Kind::Date { .. }) => {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(jp::wareki::format_wareki)
                .unwrap_or_else(|_| s.clone())
        }
        (Some(Value::String(s)), _) => s.clone(),
        (Some(Value::Number(n)), _) => n.to_string(),
        _ => String::new(),
    }
}

/// The fields of `page`, in order, skipping questions hidden by earlier answers.
pub fn page_fields(page: &Page, src: &Source<'_>) -> Vec<FieldView> {
    let visible: Vec<&Question> = page
        .questions
        .iter()
        .filter(|q| condition_met(q.show_if.as_ref(), src.answers))
        .collect();
    let single = visible.len() == 1 && page.title.trim().is_empty();
    visible
        .into_iter()
        .map(|q| {
            let mut f = field(q, &q.id, src.answers.get(&q.id), src, single, src.answers);
            if src.postal_lookup {
                f.postal_fills = page.address_filled_by(&q.id).map(|a| a.id.clone());
            }
            f
        })
        .collect()
}

fn text_input(
    input_type: &'static str,
    autocomplete: &'static str,
    inputmode: &'static str,
    width: &'static str,
) -> Widget {
    Widget::Input {
        input_type,
        value: String::new(),
        autocomplete,
        inputmode,
        width,
        suffix: String::new(),
    }
}

fn field(
    q: &Question,
    name: &str,
    value: Option<&Value>,
    src: &Source<'_>,
    as_heading: bool,
    answers: &Map<String, Value>,
) -> FieldView {
    let tr = src.tr;
    let id = element_id(name);
    let typed = src.pending_text(name);
    let text = typed.clone().unwrap_or_else(|| value_text(q, value));
    let mut fieldset = false;
    let mut depends_on: Option<String> = None;
    let mut widget = match &q.kind {
        Kind::Text { .. } => text_input("text", "off", "", "input--medium"),
        Kind::Textarea { max_length } => Widget::Textarea {
            value: String::new(),
            max_length: *max_length,
        },
        Kind::Number {
            unit,
            unit_en,
            decimals,
            ..
        } => Widget::Input {
            input_type: "text",
            value: String::new(),
            autocomplete: "off",
            inputmode: if *decimals > 0 { "decimal" } else { "numeric" },
            width: "input--short",
            suffix: tr.pick(unit, unit_en).to_string(),
        },
        Kind::Yen { .. } => Widget::Input {
            input_type: "text",
            value: String::new(),
            autocomplete: "off",
            inputmode: "numeric",
            width: "input--short",
            suffix: tr.t("answer.yen_suffix").to_string(),
        },
        Kind::Date { .. } => text_input("text", "off", "", "input--short"),
        Kind::PostalCode => text_input("text", "postal-code", "numeric", "input--short"),
        Kind::Phone => text_input("tel", "tel", "tel", "input--short"),
        Kind::Email => text_input("email", "email", "email", "input--medium"),
        Kind::CorporateNumber => text_input("text", "off", "numeric", "input--short"),
        Kind::MyNumber => Widget::MyNumber {
            value: String::new(),
            entered_last4: value
                .and_then(|v| v.get("last4"))
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        Kind::Name { kana } => {
            fieldset = true;
            let mut parts = vec![
                sub(
                    src,
                    name,
                    "family",
                    tr.t("answer.name.family"),
                    value,
                    "family-name",
                    "input--medium",
                ),
                sub(
                    src,
                    name,
                    "given",
                    tr.t("answer.name.given"),
                    value,
                    "given-name",
                    "input--medium",
                ),
            ];
            if *kana {
                parts.push(sub(
                    src,
                    name,
                    "family_kana",
                    tr.t("answer.name.family_kana"),
                    value,
                    "off",
                    "input--medium",
                ));
                parts.push(sub(
                    src,
                    name,
                    "given_kana",
                    tr.t("answer.name.given_kana"),
                    value,
                    "off",
                    "input--medium",
                ));
            }
            Widget::Parts { parts }
        }
        Kind::Address => {
            fieldset = true;
            let pref_name = format!("{name}.prefecture");
            let current = src
                .pending_text(&pref_name)
                .or_else(|| {
                    value
                        .and_then(|v| v.get("prefecture"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_default();
            Widget::Address {
                prefecture_id: element_id(&pref_name),
                prefecture_error: src.error(&pref_name),
                prefectures: PREFECTURES
                    .iter()
                    .map(|p| OptionView {
                        id: String::new(),
                        value: p.to_string(),
                        label: p.to_string(),
                        hint: String::new(),
                        selected: current == *p,
                    })
                    .collect(),
                prefecture_name: pref_name,
                parts: vec![
                    sub(
                        src,
                        name,
                        "city",
                        tr.t("answer.address.city"),
                        value,
                        "address-line1",
                        "",
                    ),
                    sub(
                        src,
                        name,
                        "building",
                        tr.t("answer.address.building"),
                        value,
                        "address-line2",
                        "",
                    ),
                ],
            }
        }
        Kind::Choice {
            style, options_by, ..
        } => {
            let options = options_for(&q.kind, answers);
            // Only one possible answer (one department at the school chosen):
            // it is chosen already.
            let only = match options {
                [one] => Some(one.value.clone()),
                _ => None,
            };
            let current = typed
                .clone()
                .or_else(|| value.and_then(Value::as_str).map(str::to_string))
                .or(only)
                .unwrap_or_default();
            // Options that depend on an earlier choice say which.
            if let Some(parent) = options_by {
                depends_on = earlier_choice(src, parent, answers);
            }
            let views = option_views(&id, options, &[current], tr);
            let style = if options_by.is_some() && options.len() > 12 {
                ChoiceStyle::Select
            } else {
                *style
            };
            match style {
                ChoiceStyle::Radios => {
                    fieldset = true;
                    Widget::Radios { options: views }
                }
                ChoiceStyle::Select => Widget::Select {
                    options: views,
                    placeholder: tr.t("answer.select_placeholder").to_string(),
                },
            }
        }
        Kind::MultiChoice { options, .. } => {
            fieldset = true;
            let current: Vec<String> = match src.pending.get(name) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => value
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            Widget::Checkboxes {
                options: option_views(&id, options, &current, tr),
            }
        }
        Kind::File {
            accept,
            max_size_kb,
            max_files,
        } => {
            let files: Vec<FileView> = src
                .attachments
                .iter()
                .filter(|a| a.question_id == q.id)
                .map(|a| FileView {
                    id: a.id,
                    filename: a.filename.clone(),
                    kind_label: platform::files::FileKind::parse(&a.kind)
                        .map(|k| k.label())
                        .unwrap_or("?")
                        .to_string(),
                    size: crate::form::display::size_text(a.size),
                    href: format!("/applications/{}/attachments/{}", src.application_id, a.id),
                })
                .collect();
            Widget::File {
                accept: accept
                    .iter()
                    .map(|k| format!(".{},{}", k.extension(), k.mime()))
                    .collect::<Vec<_>>()
                    .join(","),
                accept_labels: accept
                    .iter()
                    .map(|k| k.label())
                    .collect::<Vec<_>>()
                    .join("、"),
                max_size: crate::form::display::size_text(i64::from(*max_size_kb) * 1024),
                can_add: (files.len() as u32) < *max_files,
                files,
            }
        }
        Kind::Group {
            questions,
            min_items,
            max_items,
            item_label,
            item_label_en,
        } => {
            fieldset = true;
            let items_saved = value.and_then(Value::as_array).map(Vec::len).unwrap_or(0);
            let items_pending = group_indices(src.pending, name).map(|m| m + 1).unwrap_or(0);
            let wanted = src
                .pending
                .get(&format!("_items.{name}"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(0);
            let count = items_saved
                .max(items_pending)
                .max(wanted)
                .max(1)
                .min(*max_items as usize);
            let label = tr.pick(item_label, item_label_en);
            let label = if label.is_empty() {
                tr.pick(&q.label, &q.label_en)
            } else {
                label
            };
            let items = (0..count)
                .map(|i| {
                    let item_value = value.and_then(Value::as_array).and_then(|a| a.get(i));
                    let item_map = item_value
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    ItemView {
                        index: i,
                        title: format!("{label} {}", i + 1),
                        fields: questions
                            .iter()
                            .map(|inner| {
                                field(
                                    inner,
                                    &format!("{name}.{i}.{}", inner.id),
                                    item_map.get(&inner.id),
                                    src,
                                    false,
                                    &item_map,
                                )
                            })
                            .collect(),
                        removable: count > (*min_items).max(1) as usize,
                    }
                })
                .collect();
            Widget::Group {
                items,
                can_add: count < *max_items as usize,
                add_label: tr.f("answer.group_add", &[("label", label.to_string())]),
            }
        }
        Kind::Declaration { text, text_en } => {
            fieldset = true;
            let checked =
                typed.as_deref() == Some("yes") || matches!(value, Some(Value::Bool(true)));
            Widget::Declaration {
                text: tr.pick(text, text_en).to_string(),
                checked,
            }
        }
    };
    match &mut widget {
        Widget::Input { value, .. } | Widget::Textarea { value, .. } => *value = text,
        _ => {}
    }
    let hint = tr.pick(&q.hint, &q.hint_en).to_string();
    let hint = if hint.is_empty() {
        match q.kind {
            Kind::Date { .. } => tr.t("answer.date_hint").to_string(),
            Kind::Phone => tr.t("answer.phone_hint").to_string(),
            Kind::PostalCode => tr.t("answer.postal_code_hint").to_string(),
            Kind::MyNumber => tr.t("answer.my_number_hint").to_string(),
            Kind::CorporateNumber => tr.t("answer.corporate_number_hint").to_string(),
            _ => hint,
        }
    } else {
        hint
    };
    let hint = match depends_on {
        Some(said) if hint.is_empty() => said,
        Some(said) => format!("{said} {hint}"),
        None => hint,
    };
    // A composite field's error is reported on its first part; show it at the top too.
    let error = src.error(name).or_else(|| match &widget {
        Widget::Parts { parts } => parts.iter().find_map(|p| p.error.clone()),
        Widget::Address {
            prefecture_error,
            parts,
            ..
        } => prefecture_error
            .clone()
            .or_else(|| parts.iter().find_map(|p| p.error.clone())),
        _ => None,
    });
    FieldView {
        id,
        name: name.to_string(),
        label: tr.pick(&q.label, &q.label_en).to_string(),
        hint,
        required: q.required,
        error,
        as_heading,
        fieldset,
        widget,
        postal_fills: None,
    }
}

fn sub(
    src: &Source<'_>,
    name: &str,
    part: &str,
    label: &str,
    value: Option<&Value>,
    autocomplete: &'static str,
    width: &'static str,
) -> SubField {
    let field_name = format!("{name}.{part}");
    let value = src
        .pending_text(&field_name)
        .or_else(|| {
            value
                .and_then(|v| v.get(part))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    SubField {
        id: element_id(&field_name),
        error: src.error(&field_name),
        name: field_name,
        label: label.to_string(),
        value,
        autocomplete,
        width,
    }
}

fn option_views(
    base_id: &str,
    options: &[crate::form::definition::Choice],
    current: &[String],
    tr: &Tr,
) -> Vec<OptionView> {
    options
        .iter()
        .enumerate()
        .map(|(i, o)| OptionView {
            // The first option carries the field's own id, so the error summary can link to it.
            id: if i == 0 {
                base_id.to_string()
            } else {
                format!("{base_id}-{i}")
            },
            value: o.value.clone(),
            label: tr.pick(&o.label, &o.label_en).to_string(),
            hint: tr.pick(&o.hint, &o.hint_en).to_string(),
            selected: current.iter().any(|c| c == &o.value),
        })
        .collect()
}

/// The highest item index of group `name` among the keys of `map`.
fn group_indices(map: &Map<String, Value>, name: &str) -> Option<usize> {
    let prefix = format!("{name}.");
    map.keys()
        .filter_map(|k| k.strip_prefix(&prefix))
        .filter_map(|rest| rest.split('.').next()?.parse::<usize>().ok())
        .max()
}

/// Turns the submitted fields of `page` into raw answers (the shape
/// `form::answers::validate_page` takes). File questions are filled in by
/// the caller from the application's attachments.
pub fn raw_from_form(
    page: &Page,
    form: &FormData,
    current: &Map<String, Value>,
) -> Map<String, Value> {
    let mut raw = Map::new();
    for q in &page.questions {
        if let Some(v) = raw_question(q, &q.id, form, current.get(&q.id)) {
            raw.insert(q.id.clone(), v);
        }
    }
    raw
}

fn raw_question(
    q: &Question,
    name: &str,
    form: &FormData,
    current: Option<&Value>,
) -> Option<Value> {
    let parts = |keys: &[&str]| -> Option<Value> {
        let mut obj = Map::new();
        for k in keys {
            if let Some(v) = form.get(&format!("{name}.{k}")) {
                obj.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
        (!obj.is_empty()).then_some(Value::Object(obj))
    };
    match &q.kind {
        Kind::Name { .. } => parts(&["family", "given", "family_kana", "given_kana"]),
        Kind::Address => parts(&["prefecture", "city", "building"]),
        Kind::MultiChoice { .. } => {
            let values: Vec<Value> = form
                .get_all(name)
                .into_iter()
                .map(|s| Value::String(s.to_string()))
                .collect();
            Some(Value::Array(values))
        }
        Kind::MyNumber => match form.get(name) {
            // Left empty once entered: keep the stored (sealed) number.
            Some(s) if s.trim().is_empty() => current.cloned(),
            Some(s) => Some(Value::String(s.to_string())),
            None => current.cloned(),
        },
        Kind::File { .. } => None,
        Kind::Group { questions, .. } => {
            let prefix = format!("{name}.");
            let mut items: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
            let indices: Vec<usize> = form
                .0
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix))
                .filter_map(|rest| rest.split('.').next()?.parse::<usize>().ok())
                .filter(|i| *i < 100)
                .collect();
            for i in indices {
                let item = items.entry(i).or_default();
                for inner in questions {
                    let inner_name = format!("{name}.{i}.{}", inner.id);
                    let cur = current
                        .and_then(|c| c.get(i))
                        .and_then(|c| c.get(&inner.id));
                    if let Some(v) = raw_question(inner, &inner_name, form, cur) {
                        item.insert(inner.id.clone(), v);
                    }
                }
            }
            Some(Value::Array(
                items.into_values().map(Value::Object).collect(),
            ))
        }
        _ => form.get(name).map(|s| Value::String(s.to_string())),
    }
}

fn is_my_number_field(page: &Page, name: &str) -> bool {
    let mut parts = name.split('.');
    let Some(top) = parts.next() else {
        return false;
    };
    let Some(q) = page.questions.iter().find(|q| q.id == top) else {
        return false;
    };
    match &q.kind {
        Kind::MyNumber => true,
        Kind::Group { questions, .. } => {
            let _index = parts.next();
            let inner = parts.next().unwrap_or("");
            questions
                .iter()
                .any(|iq| iq.id == inner && matches!(iq.kind, Kind::MyNumber))
        }
        _ => false,
    }
}

/// The typed text of every field of `page` (My Numbers excluded), for the
/// service to keep in the draft for the fields with a problem, so nothing the
/// resident typed is lost.
pub fn typed_text(page: &Page, form: &FormData) -> Map<String, Value> {
    let mut pending = Map::new();
    let question_ids: Vec<&str> = page.questions.iter().map(|q| q.id.as_str()).collect();
    for (k, v) in &form.0 {
        if k.starts_with('_') {
            continue;
        }
        let top = k.split('.').next().unwrap_or("");
        if !question_ids.contains(&top) {
            continue;
        }
        // A My Number is never stored unencrypted, not even half-typed.
        if is_my_number_field(page, k) {
            continue;
        }
        match pending.get_mut(k) {
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            Some(existing) => {
                let first = existing.clone();
                *existing = Value::Array(vec![first, Value::String(v.clone())]);
            }
            None => {
                // Multiple choice values are always lists.
                let is_multi = page
                    .questions
                    .iter()
                    .any(|q| q.id == *k && matches!(q.kind, Kind::MultiChoice { .. }));
                let value = if is_multi {
                    Value::Array(vec![Value::String(v.clone())])
                } else {
                    Value::String(v.clone())
                };
                pending.insert(k.clone(), value);
            }
        }
    }
    pending
}
