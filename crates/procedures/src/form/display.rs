//! Showing answers to people: on the check-your-answers page, the
//! application's page, staff pages and exports. Dates appear both ways
//! (2010年4月1日（平成22年4月1日）), My Numbers only masked.

use jp::wareki;
use platform::i18n::Tr;
use serde_json::{Map, Value};

use super::answers::{condition_met, options_for, page_visible};
use super::definition::{FormDefinition, Kind, Question};

/// One answered question, ready to show.
#[derive(Debug, Clone)]
pub struct AnswerRow {
    pub question_id: String,
    pub label: String,
    /// The page to change it on.
    pub page_id: String,
    /// Lines of the value (a group's items are several rows' worth of lines).
    pub lines: Vec<String>,
}

/// Rows for every shown question, in form order; unanswered optional
/// questions show "(未回答)".
pub fn rows(def: &FormDefinition, answers: &Map<String, Value>, tr: &Tr) -> Vec<AnswerRow> {
    let mut out = Vec::new();
    for page in &def.pages {
        if !page_visible(page, answers) {
            continue;
        }
        for q in &page.questions {
            if !condition_met(q.show_if.as_ref(), answers) {
                continue;
            }
            let value = answers.get(&q.id);
            out.push(AnswerRow {
                question_id: q.id.clone(),
                label: tr.pick(&q.label, &q.label_en).to_string(),
                page_id: page.id.clone(),
                lines: match value {
                    Some(v) => lines(q, v, answers, tr),
                    None => vec![tr.t("answer.not_answered").to_string()],
                },
            });
        }
    }
    out
}

/// The value of one answer as lines of text.
pub fn lines(q: &Question, v: &Value, answers: &Map<String, Value>, tr: &Tr) -> Vec<String> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match &q.kind {
        Kind::Text { .. }
        | Kind::Textarea { .. }
        | Kind::Phone
        | Kind::Email
        | Kind::CorporateNumber => vec![s(v)],
        Kind::PostalCode => vec![format!("〒{}", s(v))],
        Kind::Number { unit, unit_en, .. } => {
            let unit = tr.pick(unit, unit_en);
            vec![format!(
                "{}{}{}",
                number_text(v),
                if tr.is_en() && !unit.is_empty() {
                    " "
                } else {
                    ""
                },
                unit
            )]
        }
        Kind::Yen { .. } => {
            let n = v.as_i64().unwrap_or(0);
            vec![if tr.is_en() {
                jp::yen::format_yen_en(n)
            } else {
                jp::yen::format_yen(n)
            }]
        }
        Kind::Date { .. } => match chrono::NaiveDate::parse_from_str(&s(v), "%Y-%m-%d") {
            Ok(d) if tr.is_en() => vec![format!(
                "{} ({})",
                wareki::format_en(d),
                wareki::format_wareki(d)
            )],
            Ok(d) => vec![wareki::format_both(d)],
            Err(_) => vec![s(v)],
        },
        Kind::Name { kana } => {
            let part = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut line = format!("{} {}", part("family"), part("given"));
            if *kana {
                line.push_str(&format!(
                    "（{} {}）",
                    part("family_kana"),
                    part("given_kana")
                ));
            }
            vec![line]
        }
        Kind::Address => {
            let part = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let mut out = vec![format!("{}{}", part("prefecture"), part("city"))];
            let building = part("building");
            if !building.is_empty() {
                out.push(building);
            }
            out
        }
        Kind::MyNumber => {
            let last4 = v.get("last4").and_then(Value::as_str).unwrap_or("????");
            vec![format!("********{last4}")]
        }
        Kind::Choice { .. } => {
            let value = s(v);
            let label = options_for(&q.kind, answers)
                .iter()
                .find(|o| o.value == value)
                .map(|o| tr.pick(&o.label, &o.label_en).to_string())
                .unwrap_or(value);
            vec![label]
        }
        Kind::MultiChoice { options, .. } => v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        let value = s(x);
                        options
                            .iter()
                            .find(|o| o.value == value)
                            .map(|o| tr.pick(&o.label, &o.label_en).to_string())
                            .unwrap_or(value)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Kind::File { .. } => v
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        let name = f.get("filename").and_then(Value::as_str).unwrap_or("?");
                        let kind = f
                            .get("kind")
                            .and_then(Value::as_str)
                            .and_then(platform::files::FileKind::parse);
                        let size = f.get("size").and_then(Value::as_i64).unwrap_or(0);
                        format!(
                            "{name}（{}、{}）",
                            kind.map(|k| k.label()).unwrap_or("?"),
                            size_text(size)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Kind::Group {
            questions,
            item_label,
            item_label_en,
            ..
        } => {
            let mut out = Vec::new();
            let item_label = tr.pick(item_label, item_label_en);
            let item_label = if item_label.is_empty() {
                tr.pick(&q.label, &q.label_en)
            } else {
                item_label
            };
            for (i, item) in v
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                out.push(format!("【{} {}】", item_label, i + 1));
                for inner in questions {
                    if let Some(iv) = item.get(&inner.id) {
                        let label = tr.pick(&inner.label, &inner.label_en);
                        let empty = Map::new();
                        let text =
                            lines(inner, iv, item.as_object().unwrap_or(&empty), tr).join(" ");
                        out.push(format!("{label}: {text}"));
                    }
                }
            }
            out
        }
        Kind::Declaration { .. } => vec![tr.t("answer.declared").to_string()],
    }
}

fn number_text(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => group_digits(i),
            None => n.to_string(),
        },
        other => other.as_str().unwrap_or("").to_string(),
    }
}

fn group_digits(i: i64) -> String {
    let s = i.unsigned_abs().to_string();
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n > 0 && (s.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if i < 0 { format!("-{out}") } else { out }
}

/// `1.2 MB`, `350 KB`.
pub fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}
