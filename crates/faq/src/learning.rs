//! Learning from what the chatbot could not answer: questions are masked
//! before they are logged, and the unanswered or unhelpful ones are grouped by
//! similarity per business area for staff to turn into new entries.

use std::collections::{BTreeMap, HashSet};

use unicode_normalization::UnicodeNormalization;

use crate::analysis::Analyzer;
use crate::model::Logged;

/// The longest question kept in the log (characters).
pub const MAX_LOGGED_CHARS: usize = 500;

/// Masks personal data: e-mail addresses become `[メール]`, and every run of
/// four or more digits (phone numbers, My Number, postal codes, card numbers;
/// hyphens, spaces and full-width digits included) becomes `[数字]`.
pub fn mask(question: &str) -> String {
    let text: String = question
        .nfkc()
        .take(MAX_LOGGED_CHARS * 2)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let masked = mask_emails(&text);
    let masked = mask_digits(&masked);
    masked.chars().take(MAX_LOGGED_CHARS).collect()
}

fn mask_emails(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '@' {
            let mut start = i;
            while start > 0 && chars.get(start - 1).is_some_and(|&c| local(c)) {
                start -= 1;
            }
            let mut end = i + 1;
            while chars.get(end).is_some_and(|&c| domain(c)) {
                end += 1;
            }
            let dom: String = chars.get(i + 1..end).unwrap_or_default().iter().collect();
            if start < i && dom.contains('.') {
                // Drop the local part already copied.
                for _ in start..i {
                    out.pop();
                }
                out.push_str("[メール]");
                i = end;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn mask_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let sep = |c: char| matches!(c, '-' | ' ' | '‐' | '−' | '―' | 'ー' | '(' | ')' | '.');
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() {
            // A run of digits and separators that starts and ends with a digit.
            let mut j = i;
            let mut last_digit = i;
            let mut digits = 0;
            while let Some(&d) = chars.get(j)
                && (d.is_ascii_digit() || sep(d))
            {
                if d.is_ascii_digit() {
                    digits += 1;
                    last_digit = j;
                }
                j += 1;
            }
            if digits >= 4 {
                out.push_str("[数字]");
            } else {
                out.extend(chars.get(i..=last_digit).unwrap_or_default());
            }
            i = last_digit + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Unanswered questions that look alike, within one business area.
#[derive(Debug, Clone)]
pub struct Group {
    /// The area of the entry shown first (empty when nothing matched).
    pub area: String,
    pub questions: Vec<Logged>,
    /// The question that stands for the group (the one most like the others).
    pub representative: String,
}

/// Groups questions by the overlap of their terms (content words, or
/// character bigrams where there are none; Jaccard ≥ `threshold`, single link). A group's area is
/// the one most of its questions were matched to (an unanswered question's
/// nearest entry may be in the wrong area, the group's majority rarely is).
/// Listed by area, larger groups first.
pub fn group(questions: Vec<Logged>, analyzer: &Analyzer, threshold: f32) -> Vec<Group> {
    let items: Vec<(Logged, HashSet<String>)> = questions
        .into_iter()
        .map(|q| {
            // Content words say what a question is about; bigrams only when
            // there are none (no dictionary, or a question of symbols).
            let a = analyzer.analyse(&q.question);
            let terms: HashSet<String> = if a.words.is_empty() {
                a.grams.into_iter().collect()
            } else {
                a.words.into_iter().collect()
            };
            (q, terms)
        })
        .collect();
    let jaccard = |a: &HashSet<String>, b: &HashSet<String>| {
        let inter = a.intersection(b).count() as f32;
        let union = (a.len() + b.len()) as f32 - inter;
        if union == 0.0 { 1.0 } else { inter / union }
    };
    // Union-find over the pairs that are alike.
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while let Some(&up) = p.get(r)
            && up != r
        {
            r = up;
        }
        let mut j = i;
        while let Some(slot) = p.get_mut(j)
            && *slot != r
        {
            j = std::mem::replace(slot, r);
        }
        r
    }
    for (i, (_, ti)) in items.iter().enumerate() {
        for (j, (_, tj)) in items.iter().enumerate().skip(i + 1) {
            if jaccard(ti, tj) >= threshold {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a != b
                    && let Some(slot) = parent.get_mut(b)
                {
                    *slot = a;
                }
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<&(Logged, HashSet<String>)>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let r = find(&mut parent, i);
        members.entry(r).or_default().push(item);
    }
    let mut groups = Vec::new();
    for (_, members) in members {
        let score =
            |x: &HashSet<String>| -> f32 { members.iter().map(|(_, t)| jaccard(x, t)).sum() };
        // The one most like the others; of equals, the first.
        let best = members
            .iter()
            .enumerate()
            .max_by(|(a, (_, ta)), (b, (_, tb))| score(ta).total_cmp(&score(tb)).then(b.cmp(a)))
            .map(|(_, (q, _))| q.question.clone())
            .unwrap_or_default();
        let mut areas: BTreeMap<&str, usize> = BTreeMap::new();
        for (q, _) in &members {
            *areas.entry(q.area.as_str()).or_default() += 1;
        }
        let area = areas
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(a, _)| a.to_string())
            .unwrap_or_default();
        groups.push(Group {
            area,
            representative: best,
            questions: members.iter().map(|(q, _)| q.clone()).collect(),
        });
    }
    groups.sort_by(|a, b| {
        a.area
            .cmp(&b.area)
            .then(b.questions.len().cmp(&a.questions.len()))
            .then(a.representative.cmp(&b.representative))
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phone_numbers_my_number_and_e_mail() {
        assert_eq!(mask("電話は059-224-2913です"), "電話は[数字]です");
        assert_eq!(
            mask("マイナンバー 1234 5678 9012 を入力"),
            "マイナンバー [数字] を入力"
        );
        assert_eq!(mask("１２３４５６７８９０１２"), "[数字]");
        assert_eq!(
            mask("連絡は taro.yamada+x@mail.example.jp まで"),
            "連絡は [メール] まで"
        );
        assert_eq!(mask("令和6年5月31日までに2台"), "令和6年5月31日までに2台");
        assert_eq!(mask("2024年"), "[数字]年");
    }

    #[test]
    fn groups_alike_questions_per_area() {
        let q = |id: i64, text: &str, area: &str| Logged {
            id,
            asked_at: String::new(),
            organisation_id: None,
            question: text.into(),
            language: "ja".into(),
            mode: "lexical".into(),
            confident: false,
            area: area.into(),
            shown: vec![],
            feedback: String::new(),
        };
        let analyzer = Analyzer::bigrams_only();
        let groups = group(
            vec![
                q(1, "ドローンの飛行許可はどこで取るの", "防災"),
                q(2, "ドローンの飛行許可の申請", "薬務"),
                q(3, "ドローン飛行許可 申請先", "防災"),
                q(4, "花火大会の日程", "防災"),
            ],
            &analyzer,
            0.25,
        );
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].questions.len(), 3);
        assert_eq!(groups[0].area, "防災", "the majority's area");
        assert_eq!(groups[1].questions.len(), 1);
    }
}
