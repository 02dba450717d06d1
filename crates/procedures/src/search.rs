//! Finding procedures: the published catalogue held in memory and searched in
//! Japanese.
//!
//! A catalogue has at most a few thousand procedures per organisation (Mie's
//! inventory has 4,273), so each node keeps the published ones in memory and
//! rebuilds when the catalogue's generation number in the database changes
//! (any publish bumps it in the same transaction), which keeps several nodes
//! consistent without a search server.
//!
//! Matching works on normalised text (full-width ASCII folded, katakana folded
//! to hiragana, spaces and punctuation dropped), so 駐車 finds
//! 三重おもいやり駐車場利用証 as a substring. Abbreviations residents type
//! are expanded from a small dictionary (`synonyms.toml`: 高校 → 高等学校, 引っ越し →
//! 転入・転出 …). Every term of the query must match; a match in the name counts
//! most, then keywords, then the summary and description. Terms that match
//! nowhere as a whole still match by character bigrams when most of their
//! bigrams appear in the name (a typo, a different okurigana).
//!
//! With a Japanese dictionary (the FAQ chatbot's, given as [`Readings`]),
//! names and keywords are also matched by their readings, so くるまいす and
//! 車椅子 meet 車いす, and ちゅうしゃじょう meets 駐車場.
//!
//! This module is the index itself (no I/O); `service::catalogue` keeps the
//! current one per node.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use crate::catalogue::Procedure;

/// Folds text for matching: NFKC-like width folding for ASCII, katakana to
/// hiragana, lower-case, and drops whitespace and common punctuation.
pub fn normalize(s: &str) -> String {
    let s = jp::width::normalize_width(s);
    let s = jp::kana::to_hiragana(&jp::kana::to_fullwidth_katakana(&s));
    s.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '・' | '、'
                        | '。'
                        | '「'
                        | '」'
                        | '（'
                        | '）'
                        | '('
                        | ')'
                        | '-'
                        | '－'
                        | '_'
                        | '/'
                        | '／'
                        | ','
                        | '.'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn bigrams(s: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

/// The abbreviation dictionary: each key also searches for its alternatives.
fn synonyms() -> &'static HashMap<String, Vec<String>> {
    static MAP: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    MAP.get_or_init(|| {
        // The file ships with the binary and a test parses it; were it ever
        // broken, search would still work, without expansions.
        let table: toml::Table =
            toml::from_str(include_str!("../synonyms.toml")).unwrap_or_default();
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in table {
            let alts: Vec<String> = v
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).map(normalize).collect())
                .unwrap_or_default();
            map.entry(normalize(&k)).or_default().extend(alts);
        }
        map
    })
}

/// The forms a query term may take in the text: itself and its expansions.
fn alternatives(term: &str) -> Vec<String> {
    let mut alts = vec![term.to_string()];
    let dict = synonyms();
    if let Some(more) = dict.get(term) {
        alts.extend(more.iter().cloned());
    }
    // A term that contains a dictionary key also tries the key's expansion in place
    // (高校入試 → 高等学校入試).
    for (k, more) in dict {
        if k.chars().count() >= 2 && term.contains(k.as_str()) && term != k {
            for m in more {
                alts.push(term.replace(k.as_str(), m));
            }
        }
    }
    alts.sort();
    alts.dedup();
    alts
}

/// Readings of Japanese text (a morphological dictionary): the katakana
/// reading of a whole text, or None when there is no dictionary.
pub trait Readings: Send + Sync + std::fmt::Debug {
    fn reading(&self, text: &str) -> Option<String>;
}

/// Readings shorter than this (in kana) are not matched: too many names
/// share two-kana sounds.
const MIN_READING_CHARS: usize = 3;

/// One published procedure, ready to match.
#[derive(Debug)]
pub struct Entry {
    pub procedure: Procedure,
    name: String,
    keywords: String,
    text: String,
    name_bigrams: HashSet<(char, char)>,
    /// The readings of the name and the keywords, folded as [`normalize`] folds.
    name_reading: String,
    keywords_reading: String,
}

/// Filters besides the free text.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub organisation_id: Option<i64>,
    pub category: Option<String>,
    pub life_event: Option<String>,
    pub online_only: bool,
}

/// The in-memory catalogue of one generation.
#[derive(Debug, Default)]
pub struct Index {
    generation: i64,
    entries: Vec<Entry>,
    readings: Option<Arc<dyn Readings>>,
}

fn reading_of(readings: Option<&Arc<dyn Readings>>, text: &str) -> String {
    readings
        .and_then(|r| r.reading(text))
        .map(|r| normalize(&r))
        .unwrap_or_default()
}

impl Index {
    pub fn build(
        generation: i64,
        procedures: Vec<Procedure>,
        readings: Option<Arc<dyn Readings>>,
    ) -> Index {
        let entries = procedures
            .into_iter()
            .map(|p| {
                let name = normalize(&format!("{} {}", p.name, p.name_en));
                Entry {
                    name_reading: reading_of(readings.as_ref(), &p.name),
                    keywords_reading: reading_of(readings.as_ref(), &p.keywords),
                    keywords: normalize(&p.keywords),
                    text: normalize(&format!(
                        "{} {} {} {}",
                        p.summary, p.description, p.summary_en, p.description_en
                    )),
                    name_bigrams: bigrams(&name),
                    name,
                    procedure: p,
                }
            })
            .collect();
        Index {
            generation,
            entries,
            readings,
        }
    }

    /// Whether names are matched by their readings too.
    pub fn has_readings(&self) -> bool {
        self.readings.is_some()
    }

    /// The catalogue generation it was built from.
    pub fn generation(&self) -> i64 {
        self.generation
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Procedures matching `query` and `filter`, best first (all of them, by
    /// organisation and name, when the query is empty).
    pub fn search(&self, query: &str, filter: &Filter) -> Vec<&Procedure> {
        let terms: Vec<Vec<String>> = query
            .split(|c: char| c.is_whitespace() || c == '　')
            .map(normalize)
            .filter(|t| !t.is_empty())
            .take(10)
            .map(|t| {
                let mut alts = alternatives(&t);
                // The term's reading, marked apart: it is matched against readings only.
                let reading = reading_of(self.readings.as_ref(), &t);
                if reading.chars().count() >= MIN_READING_CHARS {
                    alts.push(format!("{READING_MARK}{reading}"));
                }
                alts
            })
            .collect();
        let mut scored: Vec<(f64, &Entry)> = self
            .entries
            .iter()
            .filter(|e| {
                filter
                    .organisation_id
                    .is_none_or(|o| e.procedure.organisation_id == o)
            })
            .filter(|e| {
                filter
                    .category
                    .as_deref()
                    .is_none_or(|c| e.procedure.category == c)
            })
            .filter(|e| {
                filter
                    .life_event
                    .as_deref()
                    .is_none_or(|l| e.procedure.life_event_codes().contains(&l))
            })
            .filter(|e| !filter.online_only || e.procedure.accepts_applications())
            .filter_map(|e| score(e, &terms).map(|s| (s, e)))
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| {
                    a.1.procedure
                        .organisation_id
                        .cmp(&b.1.procedure.organisation_id)
                })
                .then_with(|| a.1.procedure.name.cmp(&b.1.procedure.name))
        });
        scored.into_iter().map(|(_, e)| &e.procedure).collect()
    }

    pub fn get(&self, id: i64) -> Option<&Procedure> {
        self.entries
            .iter()
            .map(|e| &e.procedure)
            .find(|p| p.id == id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Procedure> {
        self.entries.iter().map(|e| &e.procedure)
    }
}

/// Marks the alternative that is a term's reading.
const READING_MARK: char = '\u{1}';

/// The score of `e` for `terms` (each a list of alternatives), or None when a term matches nowhere.
fn score(e: &Entry, terms: &[Vec<String>]) -> Option<f64> {
    let mut total = 0.0;
    for alts in terms {
        let mut best: f64 = 0.0;
        for alt in alts {
            if let Some(reading) = alt.strip_prefix(READING_MARK) {
                let s = if e.name_reading.contains(reading) {
                    9.0
                } else if e.keywords_reading.contains(reading) {
                    5.0
                } else {
                    0.0
                };
                best = best.max(s);
                continue;
            }
            let s = if e.name.contains(alt.as_str()) {
                // Whole-name and prefix matches rank above matches in the middle.
                if e.name == *alt {
                    12.0
                } else if e.name.starts_with(alt.as_str()) {
                    11.0
                } else {
                    10.0
                }
            } else if e.keywords.contains(alt.as_str()) {
                6.0
            } else if e.text.contains(alt.as_str()) {
                3.0
            } else {
                let grams = bigrams(alt);
                if grams.len() >= 2 {
                    let hit = grams.iter().filter(|g| e.name_bigrams.contains(g)).count() as f64;
                    let ratio = hit / grams.len() as f64;
                    if ratio >= 0.6 { 4.0 * ratio } else { 0.0 }
                } else {
                    0.0
                }
            };
            best = best.max(s);
        }
        if best == 0.0 {
            return None;
        }
        total += best;
    }
    // Among equal matches, procedures residents can apply for online come first.
    if e.procedure.accepts_applications() {
        total += 0.5;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::db::Timestamp;

    fn proc(id: i64, name: &str, keywords: &str) -> Procedure {
        Procedure {
            id,
            organisation_id: 1,
            section_id: 1,
            code: format!("p{id}"),
            name: name.into(),
            name_en: String::new(),
            summary: String::new(),
            summary_en: String::new(),
            description: String::new(),
            description_en: String::new(),
            category: "other".into(),
            basis: "local".into(),
            audience: "resident".into(),
            life_events: String::new(),
            attachments: "[]".into(),
            fee_yen: None,
            fee_note: String::new(),
            online: true,
            annual_volume: None,
            priority: false,
            keywords: keywords.into(),
            status: "published".into(),
            current_form_id: Some(1),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            guidance: "{}".into(),
            identity: "account".into(),
            retention_years: None,
        }
    }

    fn procedures() -> Vec<Procedure> {
        vec![
            proc(1, "三重おもいやり駐車場利用証 新規・更新交付申請", ""),
            proc(2, "三重県立高等学校入学願書", ""),
            proc(3, "男性育児休業取得促進補助金", ""),
            proc(4, "転入届", ""),
        ]
    }

    fn index() -> Index {
        Index::build(1, procedures(), None)
    }

    /// Readings from a fixed table: the index's use of them, not a dictionary.
    #[derive(Debug)]
    struct Table;

    impl Readings for Table {
        fn reading(&self, text: &str) -> Option<String> {
            Some(
                match text {
                    "三重おもいやり駐車場利用証 新規・更新交付申請" => {
                        "ミエオモイヤリチュウシャジョウリヨウショウシンキコウシンコウフシンセイ"
                    }
                    "三重県立高等学校入学願書" => {
                        "ミエケンリツコウトウガッコウニュウガクガンショ"
                    }
                    "ちゅうしゃじょう" => "チュウシャジョウ",
                    "にゅうがく" => "ニュウガク",
                    "てん" => "テン",
                    other => other,
                }
                .to_string(),
            )
        }
    }

    #[test]
    fn readings_match_names_written_otherwise() {
        let idx = Index::build(1, procedures(), Some(Arc::new(Table)));
        assert!(idx.has_readings());
        assert_eq!(ids(&idx, "ちゅうしゃじょう"), vec![1]);
        assert_eq!(ids(&idx, "にゅうがく"), vec![2]);
        assert!(
            ids(&idx, "てん").is_empty(),
            "two-kana readings match nothing"
        );
        assert!(
            ids(&index(), "ちゅうしゃじょう").is_empty(),
            "not without readings"
        );
    }

    fn ids(idx: &Index, q: &str) -> Vec<i64> {
        idx.search(q, &Filter::default())
            .iter()
            .map(|p| p.id)
            .collect()
    }

    #[test]
    fn japanese_queries_find_what_residents_mean() {
        let idx = index();
        assert_eq!(ids(&idx, "駐車"), vec![1]);
        assert_eq!(ids(&idx, "高校"), vec![2]);
        assert_eq!(ids(&idx, "高校 願書"), vec![2]);
        assert_eq!(
            ids(&idx, "ｵﾓｲﾔﾘ"),
            vec![1],
            "half-width katakana folds to the hiragana in the name"
        );
        assert_eq!(ids(&idx, "育休"), vec![3]);
        assert_eq!(ids(&idx, "引っ越し"), vec![4]);
        assert!(ids(&idx, "存在しない手続").is_empty());
        assert_eq!(ids(&idx, "").len(), 4);
        assert_eq!(ids(&idx, "   "), ids(&idx, ""));
    }

    #[test]
    fn the_synonyms_file_parses() {
        assert!(synonyms().contains_key(&normalize("高校")));
    }

    #[test]
    fn odd_queries_do_not_break_anything() {
        let idx = index();
        for q in [
            "😀",
            "\u{0}",
            &"あ".repeat(10_000),
            "%_'\"",
            "a b c d e f g h i j k l m",
        ] {
            let _ = idx.search(q, &Filter::default());
        }
    }
}
