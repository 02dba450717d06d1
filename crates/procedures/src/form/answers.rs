//! Answers: checking what a resident gave against the form definition and
//! turning it into the stored, normalised form.
//!
//! Answers are JSON objects keyed by question id. Validation accepts the *raw*
//! shape (what a browser form or an API client sends: strings, a date in 和暦,
//! a My Number in digits) and also the *normalised* shape it produces (so a
//! draft's saved answers validate again unchanged). Normalised values:
//!
//! | type | stored as |
//! |---|---|
//! | text, textarea, phone, email, postal_code, corporate_number | string |
//! | number | number; yen: integer |
//! | date | `"YYYY-MM-DD"` |
//! | name | `{"family", "given", "family_kana", "given_kana"}` |
//! | address | `{"prefecture", "city", "building"}` |
//! | my_number | `{"sealed": "v1:…", "last4": "9018"}` (AES-GCM, see `platform::crypto`) |
//! | choice | the option value; multi_choice: list of values |
//! | file | `[{"attachment_id": 12}]` (metadata is filled in by the application store) |
//! | group | list of objects of the group's questions |
//! | declaration | `true` |
//!
//! Questions hidden by `show_if` (and pages all of whose questions are hidden)
//! are dropped: their answers are neither checked nor kept. Problems are
//! [`Issue`]s: the field name (`birth_date`, `name.family_kana`,
//! `guardians.1.phone`), a message key and its arguments; the caller words
//! them in the resident's language.

use jp::wareki;
use serde_json::{Map, Value, json};

use super::definition::{Choice, FormDefinition, Kind, Page, Question};

/// A message key and its arguments.
type Problem = (&'static str, Vec<(&'static str, String)>);

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The form field: a question id, `id.part` for a part of it, `group.index.id` inside a group.
    pub field: String,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

/// What validation needs besides the definition: sealing and opening My Number values.
pub trait Sealer {
    fn seal(&self, plaintext: &str) -> String;
    fn open(&self, sealed: &str) -> Option<String>;
}

impl Sealer for platform::crypto::Keys {
    fn seal(&self, plaintext: &str) -> String {
        platform::crypto::Keys::seal(self, plaintext)
    }
    fn open(&self, sealed: &str) -> Option<String> {
        platform::crypto::Keys::open(self, sealed)
    }
}

/// The 47 prefectures, for address questions.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Whether a question or page with condition `cond` is shown, given the answers so far.
pub fn condition_met(
    cond: Option<&super::definition::Condition>,
    answers: &Map<String, Value>,
) -> bool {
    let Some(cond) = cond else { return true };
    match answers.get(&cond.question) {
        Some(Value::String(s)) => cond.values.iter().any(|v| v == s),
        Some(Value::Array(items)) => items.iter().any(|i| {
            i.as_str()
                .is_some_and(|s| cond.values.iter().any(|v| v == s))
        }),
        Some(Value::Bool(true)) => cond.values.iter().any(|v| v == "yes"),
        _ => false,
    }
}

/// Whether `page` is shown given the answers so far: its own condition holds
/// and at least one of its questions is shown.
pub fn page_visible(page: &Page, answers: &Map<String, Value>) -> bool {
    condition_met(page.show_if.as_ref(), answers)
        && page
            .questions
            .iter()
            .any(|q| condition_met(q.show_if.as_ref(), answers))
}

/// The options a choice question offers, given the answers so far (for `options_by`).
pub fn options_for<'a>(kind: &'a Kind, answers: &Map<String, Value>) -> &'a [Choice] {
    match kind {
        Kind::Choice {
            options_by: Some(parent),
            option_groups,
            ..
        } => answers
            .get(parent)
            .and_then(Value::as_str)
            .and_then(|p| option_groups.get(p))
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        Kind::Choice { options, .. } | Kind::MultiChoice { options, .. } => options,
        _ => &[],
    }
}

struct Ctx<'a> {
    sealer: &'a dyn Sealer,
    issues: Vec<Issue>,
}

impl Ctx<'_> {
    fn issue(&mut self, field: &str, key: &'static str, args: Vec<(&'static str, String)>) {
        self.issues.push(Issue {
            field: field.to_string(),
            key,
            args,
        });
    }
}

/// Validates the questions of one page. `raw` holds this page's submitted
/// answers; `answers` all answers so far (earlier pages decide what is shown).
/// Returns this page's normalised answers (hidden questions omitted).
pub fn validate_page(
    page: &Page,
    raw: &Map<String, Value>,
    answers: &Map<String, Value>,
    sealer: &dyn Sealer,
) -> (Map<String, Value>, Vec<Issue>) {
    let mut ctx = Ctx {
        sealer,
        issues: Vec::new(),
    };
    let mut out = Map::new();
    // Questions on the same page may depend on earlier ones of the same page.
    let mut so_far = answers.clone();
    for q in &page.questions {
        if !condition_met(q.show_if.as_ref(), &so_far) {
            continue;
        }
        if let Some(v) = question(&mut ctx, q, &q.id, raw.get(&q.id), &so_far) {
            so_far.insert(q.id.clone(), v.clone());
            out.insert(q.id.clone(), v);
        }
    }
    (out, ctx.issues)
}

/// Validates a whole application (submission, API). Returns the normalised
/// answers of every shown question.
pub fn validate_all(
    def: &FormDefinition,
    raw: &Map<String, Value>,
    sealer: &dyn Sealer,
) -> (Map<String, Value>, Vec<Issue>) {
    let mut answers = Map::new();
    let mut issues = Vec::new();
    for page in &def.pages {
        if !condition_met(page.show_if.as_ref(), &answers) {
            continue;
        }
        let (page_answers, page_issues) = validate_page(page, raw, &answers, sealer);
        answers.extend(page_answers);
        issues.extend(page_issues);
    }
    (answers, issues)
}

/// Unknown keys in submitted answers (a client's typo), reported so they are not silently lost.
pub fn unknown_keys(def: &FormDefinition, raw: &Map<String, Value>) -> Vec<String> {
    raw.keys()
        .filter(|k| def.question(k).is_none())
        .cloned()
        .collect()
}

fn label_arg(q: &Question) -> Vec<(&'static str, String)> {
    vec![("label", q.label.clone())]
}

/// A string from a raw value: strings as they are, numbers printed; anything else None.
fn as_text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// Trims, unifies newlines and drops control characters other than newline and tab.
pub fn clean_text(s: &str, multiline: bool) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_control() || (multiline && *c == '\n') || *c == '\t')
        .map(|c| {
            if c == '\t' || (!multiline && c == '\n') {
                ' '
            } else {
                c
            }
        })
        .collect();
    cleaned.trim().to_string()
}

fn blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.values().all(|v| blank(Some(v))),
        _ => false,
    }
}

/// Validates one question's raw value; `None` when it has no answer (and that is allowed or reported).
fn question(
    ctx: &mut Ctx<'_>,
    q: &Question,
    field: &str,
    raw: Option<&Value>,
    answers: &Map<String, Value>,
) -> Option<Value> {
    let empty = blank(raw);
    // Composite types report missing parts themselves.
    let composite = matches!(
        q.kind,
        Kind::Name { .. }
            | Kind::Address
            | Kind::Group { .. }
            | Kind::MultiChoice { .. }
            | Kind::Declaration { .. }
            | Kind::File { .. }
    );
    if empty && !composite {
        if q.required {
            let key = match q.kind {
                Kind::Choice { .. } => "answer.choose",
                _ => "answer.required",
            };
            ctx.issue(field, key, label_arg(q));
        }
        return None;
    }
    match &q.kind {
        Kind::Text { max_length } | Kind::Textarea { max_length } => {
            let multiline = matches!(q.kind, Kind::Textarea { .. });
            let Some(text) = as_text(raw) else {
                ctx.issue(field, "answer.invalid", label_arg(q));
                return None;
            };
            let text = clean_text(&text, multiline);
            let n = text.chars().count();
            if n > *max_length as usize {
                ctx.issue(
                    field,
                    "answer.too_long",
                    vec![
                        ("label", q.label.clone()),
                        ("max", max_length.to_string()),
                        ("count", n.to_string()),
                    ],
                );
                return None;
            }
            if text.is_empty() {
                if q.required {
                    ctx.issue(field, "answer.required", label_arg(q));
                }
                return None;
            }
            Some(Value::String(text))
        }
        Kind::Number {
            min, max, decimals, ..
        } => {
            let text = jp::width::normalize_width(&as_text(raw).unwrap_or_default())
                .replace([',', ' '], "");
            let parsed: Option<f64> = text.parse().ok().filter(|f: &f64| f.is_finite());
            let Some(n) = parsed else {
                ctx.issue(field, "answer.number_invalid", label_arg(q));
                return None;
            };
            let scale = 10f64.powi(*decimals as i32);
            if ((n * scale).round() - n * scale).abs() > 1e-9 {
                if *decimals == 0 {
                    ctx.issue(field, "answer.number_whole", label_arg(q));
                } else {
                    ctx.issue(
                        field,
                        "answer.number_decimals",
                        vec![
                            ("label", q.label.clone()),
                            ("decimals", decimals.to_string()),
                        ],
                    );
                }
                return None;
            }
            if let Some(m) = min.filter(|m| n < *m) {
                ctx.issue(
                    field,
                    "answer.number_too_small",
                    vec![("label", q.label.clone()), ("min", fmt_num(m))],
                );
                return None;
            }
            if let Some(m) = max.filter(|m| n > *m) {
                ctx.issue(
                    field,
                    "answer.number_too_large",
                    vec![("label", q.label.clone()), ("max", fmt_num(m))],
                );
                return None;
            }
            if *decimals == 0 {
                Some(json!(n as i64))
            } else {
                Some(json!(n))
            }
        }
        Kind::Yen { min, max } => {
            let parsed = match raw {
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(v) if v >= 0 => Ok(v),
                    _ => jp::yen::parse_yen(&n.to_string()),
                },
                _ => jp::yen::parse_yen(&as_text(raw).unwrap_or_default()),
            };
            match parsed {
                Err(e) => {
                    ctx.issue(field, e.key(), e.args());
                    None
                }
                Ok(v) => {
                    if let Some(m) = min.filter(|m| v < *m) {
                        ctx.issue(
                            field,
                            "answer.yen_too_small",
                            vec![("label", q.label.clone()), ("min", jp::yen::format_yen(m))],
                        );
                        return None;
                    }
                    if let Some(m) = max.filter(|m| v > *m) {
                        ctx.issue(
                            field,
                            "answer.yen_too_large",
                            vec![("label", q.label.clone()), ("max", jp::yen::format_yen(m))],
                        );
                        return None;
                    }
                    Some(json!(v))
                }
            }
        }
        Kind::Date { min, max } => match wareki::parse_date(&as_text(raw).unwrap_or_default()) {
            Err(e) => {
                ctx.issue(field, e.key(), e.args());
                None
            }
            Ok(d) => {
                let today = today_in_japan();
                let min = min.and_then(|b| b.on(today));
                let max = max.and_then(|b| b.on(today));
                if let Some(m) = min.filter(|m| d < *m) {
                    ctx.issue(
                        field,
                        "answer.date_too_early",
                        vec![("label", q.label.clone()), ("min", wareki::format_both(m))],
                    );
                    return None;
                }
                if let Some(m) = max.filter(|m| d > *m) {
                    ctx.issue(
                        field,
                        "answer.date_too_late",
                        vec![("label", q.label.clone()), ("max", wareki::format_both(m))],
                    );
                    return None;
                }
                Some(Value::String(d.format("%Y-%m-%d").to_string()))
            }
        },
        Kind::Name { kana } => name(ctx, q, field, raw, *kana),
        Kind::PostalCode => simple(
            ctx,
            field,
            jp::postal::PostalCode::parse(&as_text(raw).unwrap_or_default())
                .map(|p| p.as_str().to_string())
                .map_err(|e| (e.key(), e.args())),
        ),
        Kind::Phone => simple(
            ctx,
            field,
            jp::phone::normalize_phone(&as_text(raw).unwrap_or_default())
                .map_err(|e| (e.key(), e.args())),
        ),
        Kind::Email => match platform::accounts::normalize_email(&as_text(raw).unwrap_or_default())
        {
            Some(e) => Some(Value::String(e)),
            None => {
                ctx.issue(field, "answer.email_invalid", label_arg(q));
                None
            }
        },
        Kind::CorporateNumber => simple(
            ctx,
            field,
            jp::corporate_number::CorporateNumber::parse(&as_text(raw).unwrap_or_default())
                .map(|c| c.as_str().to_string())
                .map_err(|e| (e.key(), e.args())),
        ),
        Kind::MyNumber => {
            if let Some(Value::Object(o)) = raw {
                // Already sealed (a saved draft): keep it if it opens with our key.
                if let Some(sealed) = o.get("sealed").and_then(Value::as_str)
                    && let Some(plain) = ctx.sealer.open(sealed)
                    && jp::my_number::MyNumber::parse(&plain).is_ok()
                {
                    return Some(Value::Object(o.clone()));
                }
                ctx.issue(field, "answer.invalid", label_arg(q));
                return None;
            }
            match jp::my_number::MyNumber::parse(&as_text(raw).unwrap_or_default()) {
                Ok(n) => {
                    let digits = n.as_str();
                    let last4: String = digits
                        .chars()
                        .skip(digits.chars().count().saturating_sub(4))
                        .collect();
                    Some(json!({"sealed": ctx.sealer.seal(digits), "last4": last4}))
                }
                Err(e) => {
                    ctx.issue(field, e.key(), e.args());
                    None
                }
            }
        }
        Kind::Choice { .. } => {
            let options = options_for(&q.kind, answers);
            let v = as_text(raw).unwrap_or_default();
            if options.iter().any(|o| o.value == v) {
                Some(Value::String(v))
            } else {
                ctx.issue(field, "answer.choose", label_arg(q));
                None
            }
        }
        Kind::MultiChoice {
            options,
            min_selected,
            max_selected,
        } => {
            let values: Vec<String> = match raw {
                Some(Value::Array(a)) => a.iter().filter_map(|v| as_text(Some(v))).collect(),
                Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
                _ => Vec::new(),
            };
            let mut chosen = Vec::new();
            for v in values {
                if !options.iter().any(|o| o.value == v) {
                    ctx.issue(field, "answer.choose", label_arg(q));
                    return None;
                }
                if !chosen.contains(&v) {
                    chosen.push(v);
                }
            }
            // Keep the definition's order.
            chosen.sort_by_key(|v| options.iter().position(|o| &o.value == v));
            let min = if q.required {
                (*min_selected).max(1)
            } else {
                *min_selected
            };
            if (chosen.len() as u32) < min {
                if min <= 1 {
                    ctx.issue(field, "answer.choose_some", label_arg(q));
                } else {
                    ctx.issue(
                        field,
                        "answer.choose_at_least",
                        vec![("label", q.label.clone()), ("min", min.to_string())],
                    );
                }
                return None;
            }
            if let Some(max) = max_selected.filter(|m| chosen.len() as u32 > *m) {
                ctx.issue(
                    field,
                    "answer.choose_at_most",
                    vec![("label", q.label.clone()), ("max", max.to_string())],
                );
                return None;
            }
            if chosen.is_empty() {
                None
            } else {
                Some(json!(chosen))
            }
        }
        Kind::File { max_files, .. } => {
            let items: Vec<i64> = match raw {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| {
                        v.get("attachment_id")
                            .and_then(Value::as_i64)
                            .or_else(|| v.as_i64())
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if items.is_empty() {
                if q.required {
                    ctx.issue(field, "answer.file_required", label_arg(q));
                }
                return None;
            }
            if items.len() as u32 > *max_files {
                ctx.issue(
                    field,
                    "answer.file_too_many",
                    vec![("label", q.label.clone()), ("max", max_files.to_string())],
                );
                return None;
            }
            Some(Value::Array(
                items
                    .into_iter()
                    .map(|id| json!({"attachment_id": id}))
                    .collect(),
            ))
        }
        Kind::Group {
            questions,
            min_items,
            max_items,
            ..
        } => {
            let items: Vec<Map<String, Value>> = match raw {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| v.as_object().cloned().unwrap_or_default())
                    .collect(),
                _ => Vec::new(),
            };
            // Entirely empty items (an unused "add another" row) are dropped.
            let items: Vec<Map<String, Value>> = items
                .into_iter()
                .filter(|m| !m.values().all(|v| blank(Some(v))))
                .collect();
            let min = if q.required {
                (*min_items).max(1)
            } else {
                *min_items
            };
            if (items.len() as u32) < min {
                ctx.issue(
                    &format!(
                        "{field}.0.{}",
                        questions.first().map(|q| q.id.as_str()).unwrap_or("")
                    ),
                    "answer.group_too_few",
                    vec![("label", q.label.clone()), ("min", min.to_string())],
                );
                return None;
            }
            if items.len() as u32 > *max_items {
                ctx.issue(
                    field,
                    "answer.group_too_many",
                    vec![("label", q.label.clone()), ("max", max_items.to_string())],
                );
                return None;
            }
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let mut obj = Map::new();
                for inner in questions {
                    let inner_field = format!("{field}.{i}.{}", inner.id);
                    if let Some(v) =
                        question(ctx, inner, &inner_field, item.get(&inner.id), answers)
                    {
                        obj.insert(inner.id.clone(), v);
                    }
                }
                out.push(Value::Object(obj));
            }
            if out.is_empty() {
                None
            } else {
                Some(Value::Array(out))
            }
        }
        Kind::Declaration { .. } => {
            let agreed = matches!(raw, Some(Value::Bool(true)))
                || matches!(raw, Some(Value::String(s)) if s == "yes" || s == "true");
            if agreed {
                Some(Value::Bool(true))
            } else {
                ctx.issue(field, "answer.declaration_required", label_arg(q));
                None
            }
        }
        Kind::Address => address(ctx, q, field, raw),
    }
}

fn simple(ctx: &mut Ctx<'_>, field: &str, r: Result<String, Problem>) -> Option<Value> {
    match r {
        Ok(v) => Some(Value::String(v)),
        Err((key, args)) => {
            ctx.issue(field, key, args);
            None
        }
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn part(raw: Option<&Value>, key: &str) -> String {
    raw.and_then(|v| v.get(key))
        .and_then(|v| as_text(Some(v)))
        .unwrap_or_default()
}

fn name(
    ctx: &mut Ctx<'_>,
    q: &Question,
    field: &str,
    raw: Option<&Value>,
    kana: bool,
) -> Option<Value> {
    if blank(raw) {
        if q.required {
            ctx.issue(
                &format!("{field}.family"),
                "answer.name_family_required",
                label_arg(q),
            );
        }
        return None;
    }
    let mut ok = true;
    let family = clean_text(&part(raw, "family"), false);
    let given = clean_text(&part(raw, "given"), false);
    if family.is_empty() {
        ctx.issue(
            &format!("{field}.family"),
            "answer.name_family_required",
            label_arg(q),
        );
        ok = false;
    }
    if given.is_empty() {
        ctx.issue(
            &format!("{field}.given"),
            "answer.name_given_required",
            label_arg(q),
        );
        ok = false;
    }
    for (part_name, value) in [("family", &family), ("given", &given)] {
        if value.chars().count() > 50 {
            ctx.issue(
                &format!("{field}.{part_name}"),
                "answer.too_long",
                vec![
                    ("label", q.label.clone()),
                    ("max", "50".into()),
                    ("count", value.chars().count().to_string()),
                ],
            );
            ok = false;
        }
    }
    let mut out = json!({"family": family, "given": given});
    if kana {
        for (key, missing_key) in [
            ("family_kana", "answer.name_family_kana_required"),
            ("given_kana", "answer.name_given_kana_required"),
        ] {
            let raw_kana = part(raw, key);
            let f = format!("{field}.{key}");
            if raw_kana.trim().is_empty() {
                ctx.issue(&f, missing_key, label_arg(q));
                ok = false;
                continue;
            }
            match jp::kana::validate_katakana_name(&raw_kana) {
                Ok(k) => {
                    if let Some(o) = out.as_object_mut() {
                        o.insert(key.to_string(), Value::String(k));
                    }
                }
                Err(e) => {
                    ctx.issue(&f, e.key(), e.args());
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

fn address(ctx: &mut Ctx<'_>, q: &Question, field: &str, raw: Option<&Value>) -> Option<Value> {
    if blank(raw) {
        if q.required {
            ctx.issue(
                &format!("{field}.prefecture"),
                "answer.address_prefecture_required",
                label_arg(q),
            );
        }
        return None;
    }
    let prefecture = part(raw, "prefecture");
    let city = clean_text(&part(raw, "city"), false);
    let building = clean_text(&part(raw, "building"), false);
    let mut ok = true;
    if !PREFECTURES.contains(&prefecture.as_str()) {
        ctx.issue(
            &format!("{field}.prefecture"),
            "answer.address_prefecture_required",
            label_arg(q),
        );
        ok = false;
    }
    if city.is_empty() {
        ctx.issue(
            &format!("{field}.city"),
            "answer.address_city_required",
            label_arg(q),
        );
        ok = false;
    } else if city.chars().count() > 200 {
        ctx.issue(
            &format!("{field}.city"),
            "answer.too_long",
            vec![
                ("label", q.label.clone()),
                ("max", "200".into()),
                ("count", city.chars().count().to_string()),
            ],
        );
        ok = false;
    }
    if building.chars().count() > 200 {
        ctx.issue(
            &format!("{field}.building"),
            "answer.too_long",
            vec![
                ("label", q.label.clone()),
                ("max", "200".into()),
                ("count", building.chars().count().to_string()),
            ],
        );
        ok = false;
    }
    ok.then(|| json!({"prefecture": prefecture, "city": city, "building": building}))
}

/// Today's date in Japan, against which `today` date bounds are checked.
fn today_in_japan() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::definition::FormDefinition;

    struct TestSealer;
    impl Sealer for TestSealer {
        fn seal(&self, p: &str) -> String {
            format!("sealed:{p}")
        }
        fn open(&self, s: &str) -> Option<String> {
            s.strip_prefix("sealed:").map(str::to_string)
        }
    }

    fn def() -> FormDefinition {
        FormDefinition::parse(
            r#"
title = "t"
[[pages]]
id = "a"
title = "A"
[[pages.questions]]
id = "name"
type = "name"
label = "氏名"
[[pages.questions]]
id = "birth"
type = "date"
label = "生年月日"
[[pages.questions]]
id = "mn"
type = "my_number"
label = "個人番号"
required = false
[[pages.questions]]
id = "amount"
type = "yen"
label = "申請額"
max = 500000
[[pages.questions]]
id = "has_guardian"
type = "choice"
label = "保護者"
options = [{ value = "yes", label = "いる" }, { value = "no", label = "いない" }]
[[pages]]
id = "g"
show_if = { question = "has_guardian", equals = "yes" }
[[pages.questions]]
id = "guardians"
type = "group"
label = "保護者"
[[pages.questions.questions]]
id = "phone"
type = "phone"
label = "電話番号"
"#,
        )
        .unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn raw_answers_are_normalised() {
        let raw = obj(json!({
            "name": {"family": " 山田 ", "given": "太郎", "family_kana": "やまだ", "given_kana": "ﾀﾛｳ"},
            "birth": "平成22年4月1日",
            "mn": "1234 5678 9018",
            "amount": "１２万円",
            "has_guardian": "no",
            "guardians": [{"phone": "x"}]
        }));
        let (answers, issues) = validate_all(&def(), &raw, &TestSealer);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            answers["name"],
            json!({"family": "山田", "given": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ"})
        );
        assert_eq!(answers["birth"], json!("2010-04-01"));
        assert_eq!(
            answers["mn"],
            json!({"sealed": "sealed:123456789018", "last4": "9018"})
        );
        assert_eq!(answers["amount"], json!(120000));
        assert!(!answers.contains_key("guardians"), "hidden page dropped");
        // Normalised answers validate again unchanged.
        let (again, issues) = validate_all(&def(), &answers, &TestSealer);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(again, answers);
    }

    #[test]
    fn problems_name_their_field() {
        let raw = obj(json!({
            "name": {"family": "山田", "given": "", "family_kana": "Yamada", "given_kana": ""},
            "birth": "平成31年5月1日",
            "mn": "123456789012",
            "amount": 600000,
            "has_guardian": "yes",
            "guardians": [{"phone": "12"}]
        }));
        let (_, issues) = validate_all(&def(), &raw, &TestSealer);
        let got: Vec<(&str, &str)> = issues.iter().map(|i| (i.field.as_str(), i.key)).collect();
        assert!(
            got.contains(&("name.given", "answer.name_given_required")),
            "{got:?}"
        );
        assert!(got.iter().any(|(f, _)| *f == "name.family_kana"), "{got:?}");
        assert!(got.contains(&("birth", "date.era_ended")), "{got:?}");
        assert!(
            got.iter()
                .any(|(f, k)| *f == "mn" && k.starts_with("my_number.")),
            "{got:?}"
        );
        assert!(got.contains(&("amount", "answer.yen_too_large")), "{got:?}");
        assert!(
            got.iter().any(|(f, _)| *f == "guardians.0.phone"),
            "{got:?}"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            json!({}),
            json!({"name": 5, "birth": [1], "mn": {"sealed": "nope"}, "amount": -1, "guardians": "x", "has_guardian": {"a": 1}}),
            json!({"name": {"family": "\u{0}\u{7}", "given": "😀"}}),
        ] {
            let (_, issues) = validate_all(&def(), &obj(raw), &TestSealer);
            assert!(!issues.is_empty());
        }
    }
}
