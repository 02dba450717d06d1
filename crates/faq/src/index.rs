//! The search index: BM25 over the analyser's three term spaces (content words,
//! character bigrams, reading bigrams) with the question weighted above the
//! answer, an English index over the entries' English versions, and an
//! optional semantic re-ranker fused with the lexical ranking by reciprocal
//! rank fusion. Built in memory from the published entries (1,800 entries
//! take well under a second, embeddings aside) and swapped whole on change.

use std::collections::HashMap;
use std::sync::Arc;

use crate::analysis::{self, Analyzer};
use crate::entry::Entry;

/// Turns texts into unit vectors (the semantic re-ranker's encoder).
pub trait Encoder: Send + Sync {
    /// A name for the model, shown as part of the mode and kept with cached vectors.
    fn name(&self) -> &str;
    fn query(&self, text: &str) -> anyhow::Result<Vec<f32>>;
    fn passages(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>>;
}

/// An encoder with one vector per entry, in the entries' order.
pub type Semantic = (Arc<dyn Encoder>, Vec<Vec<f32>>);

/// The knobs of the ranking; the defaults were chosen on the development set
/// (`crates/faq/devset`), never on the evaluation benchmark.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    pub k1: f32,
    pub b: f32,
    /// Term-frequency weights of the fields.
    pub question_weight: f32,
    pub keywords_weight: f32,
    pub answer_weight: f32,
    /// Weights of the term spaces.
    pub words: f32,
    pub grams: f32,
    pub reading_grams: f32,
    /// Reciprocal rank fusion: the constant and the semantic list's weight.
    pub rrf_k: f32,
    pub semantic_weight: f32,
    /// How deep each list goes into the fusion.
    pub fusion_depth: usize,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            k1: 1.2,
            b: 0.75,
            question_weight: 3.0,
            keywords_weight: 2.0,
            answer_weight: 1.0,
            words: 1.0,
            grams: 0.3,
            reading_grams: 0.2,
            rrf_k: 60.0,
            semantic_weight: 1.0,
            fusion_depth: 100,
        }
    }
}

impl Tuning {
    /// The defaults with `name=value` overrides, comma-separated.
    pub fn parse_overrides(spec: &str) -> anyhow::Result<Tuning> {
        let mut t = Tuning::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("expected name=value: {part}"))?;
            let v: f32 = value
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            match name.trim() {
                "k1" => t.k1 = v,
                "b" => t.b = v,
                "question_weight" => t.question_weight = v,
                "keywords_weight" => t.keywords_weight = v,
                "answer_weight" => t.answer_weight = v,
                "words" => t.words = v,
                "grams" => t.grams = v,
                "reading_grams" => t.reading_grams = v,
                "rrf_k" => t.rrf_k = v,
                "semantic_weight" => t.semantic_weight = v,
                "fusion_depth" => t.fusion_depth = v as usize,
                other => anyhow::bail!("unknown tuning knob {other}"),
            }
        }
        Ok(t)
    }
}

/// One BM25 term space: postings with weighted term frequencies.
#[derive(Debug, Default)]
struct Space {
    postings: HashMap<String, Vec<(u32, f32)>>,
    lengths: Vec<f32>,
    average: f32,
}

impl Space {
    fn add(&mut self, doc: u32, fields: &[(&[String], f32)]) {
        let mut tf: HashMap<&str, f32> = HashMap::new();
        let mut length = 0.0;
        for (terms, weight) in fields {
            for t in terms.iter() {
                *tf.entry(t.as_str()).or_default() += weight;
                length += weight;
            }
        }
        for (t, f) in tf {
            self.postings
                .entry(t.to_string())
                .or_default()
                .push((doc, f));
        }
        self.lengths.push(length);
    }

    fn finish(&mut self) {
        let n = self.lengths.len().max(1) as f32;
        self.average = (self.lengths.iter().sum::<f32>() / n).max(1.0);
    }

    /// Adds `weight ×` BM25 of `query` to `scores`.
    #[expect(
        clippy::indexing_slicing,
        reason = "the scoring loop: a posting's doc is the position `add` was given, one per entry, so it indexes `lengths` (one per added doc) and `scores` (one per entry); checked access here would cost every query for nothing"
    )]
    fn score(&self, query: &[String], weight: f32, tuning: &Tuning, scores: &mut [f32]) {
        if weight == 0.0 {
            return;
        }
        let n = self.lengths.len() as f32;
        let mut qtf: HashMap<&str, f32> = HashMap::new();
        for t in query {
            *qtf.entry(t.as_str()).or_default() += 1.0;
        }
        for (term, count) in qtf {
            let Some(postings) = self.postings.get(term) else {
                continue;
            };
            let df = postings.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            // A repeated query term counts, with diminishing weight.
            let q = weight * idf * (1.0 + count.ln());
            for &(doc, f) in postings {
                let norm = tuning.k1
                    * (1.0 - tuning.b + tuning.b * self.lengths[doc as usize] / self.average);
                scores[doc as usize] += q * f * (tuning.k1 + 1.0) / (f + norm);
            }
        }
    }
}

/// A ranked entry.
#[derive(Debug, Clone)]
pub struct Hit {
    pub entry: Arc<Entry>,
    /// The fused score (or the lexical score in lexical mode).
    pub score: f32,
    /// BM25, its share of the best possible for this question (0–1).
    pub lexical: f32,
    /// Cosine similarity with the question, when the re-ranker ran.
    pub semantic: Option<f32>,
    /// Whether the English version matched.
    pub english: bool,
}

/// The answer to a search.
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    /// `lexical` or `lexical+semantic`.
    pub mode: &'static str,
    pub english: bool,
}

/// The index.
pub struct Index {
    entries: Vec<Arc<Entry>>,
    analyzer: Analyzer,
    words: Space,
    grams: Space,
    readings: Space,
    english: Space,
    has_english: Vec<bool>,
    encoder: Option<Arc<dyn Encoder>>,
    vectors: Vec<Vec<f32>>,
    pub tuning: Tuning,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("entries", &self.entries.len())
            .field("semantic", &self.encoder.is_some())
            .finish()
    }
}

/// The text an entry's vector is computed from.
pub fn passage_text(e: &Entry) -> String {
    let answer: String = e.answer.chars().take(400).collect();
    format!("{}\n{}", e.question, answer)
}

impl Index {
    /// Builds the lexical index. `vectors`, when given with an encoder, holds
    /// one unit vector per entry ([`passage_text`]), in the entries' order.
    pub fn build(
        entries: Vec<Entry>,
        analyzer: Analyzer,
        semantic: Option<Semantic>,
        tuning: Tuning,
    ) -> Index {
        let mut index = Index {
            entries: Vec::with_capacity(entries.len()),
            analyzer,
            words: Space::default(),
            grams: Space::default(),
            readings: Space::default(),
            english: Space::default(),
            has_english: Vec::with_capacity(entries.len()),
            encoder: None,
            vectors: Vec::new(),
            tuning,
        };
        for (i, e) in entries.into_iter().enumerate() {
            let doc = i as u32;
            let q = index.analyzer.analyse(&e.question);
            let k = index.analyzer.analyse(&e.keywords);
            let a = index.analyzer.analyse(&e.answer);
            let (wq, wk, wa) = (
                tuning.question_weight,
                tuning.keywords_weight,
                tuning.answer_weight,
            );
            index
                .words
                .add(doc, &[(&q.words, wq), (&k.words, wk), (&a.words, wa)]);
            index
                .grams
                .add(doc, &[(&q.grams, wq), (&k.grams, wk), (&a.grams, wa)]);
            index.readings.add(
                doc,
                &[
                    (&q.reading_grams, wq),
                    (&k.reading_grams, wk),
                    (&a.reading_grams, wa),
                ],
            );
            let eq = analysis::analyse_english(&e.question_en);
            let ea = analysis::analyse_english(&e.answer_en);
            index.has_english.push(!eq.is_empty() || !ea.is_empty());
            index.english.add(doc, &[(&eq, wq), (&ea, wa)]);
            index.entries.push(Arc::new(e));
        }
        for space in [
            &mut index.words,
            &mut index.grams,
            &mut index.readings,
            &mut index.english,
        ] {
            space.finish();
        }
        if let Some((encoder, vectors)) = semantic
            && vectors.len() == index.entries.len()
        {
            index.encoder = Some(encoder);
            index.vectors = vectors;
        }
        index
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Arc<Entry>] {
        &self.entries
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// `lexical` or `lexical+semantic`.
    pub fn mode(&self) -> &'static str {
        if self.encoder.is_some() {
            "lexical+semantic"
        } else {
            "lexical"
        }
    }

    /// The lexical scores of every entry, and the best possible score for this
    /// question (what an entry matching every term would get, roughly).
    fn lexical_scores(&self, question: &str) -> (Vec<f32>, f32, bool) {
        let t = &self.tuning;
        let mut scores = vec![0.0f32; self.entries.len()];
        let english = analysis::is_english(question);
        let mut ceiling = 0.0;
        if english {
            let terms = analysis::analyse_english(question);
            self.english.score(&terms, 1.0, t, &mut scores);
            ceiling += self.ceiling(&self.english, &terms, 1.0);
        }
        if !english || scores.iter().all(|s| *s == 0.0) {
            let a = self.analyzer.analyse(question);
            self.words.score(&a.words, t.words, t, &mut scores);
            self.grams.score(&a.grams, t.grams, t, &mut scores);
            self.readings
                .score(&a.reading_grams, t.reading_grams, t, &mut scores);
            ceiling = self.ceiling(&self.words, &a.words, t.words)
                + self.ceiling(&self.grams, &a.grams, t.grams)
                + self.ceiling(&self.readings, &a.reading_grams, t.reading_grams);
            return (scores, ceiling, false);
        }
        (scores, ceiling, true)
    }

    /// The score a document of average length with each known term once in
    /// its question would reach.
    fn ceiling(&self, space: &Space, terms: &[String], weight: f32) -> f32 {
        let t = &self.tuning;
        let n = space.lengths.len() as f32;
        let mut seen = std::collections::HashSet::new();
        let mut total = 0.0;
        for term in terms {
            if !seen.insert(term.as_str()) {
                continue;
            }
            let Some(p) = space.postings.get(term) else {
                continue;
            };
            let df = p.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            let f = t.question_weight;
            total += weight * idf * f * (t.k1 + 1.0) / (f + t.k1);
        }
        total
    }

    /// Ranks the entries for a question, best first, at most `limit`.
    /// `filter` keeps only the entries it accepts (an organisation's, say).
    #[expect(
        clippy::indexing_slicing,
        reason = "ranking: every index is an entry's position (0..entries.len()), and `lexical`, `has_english` and, with an encoder, the cosines have one element per entry by construction (`build` keeps vectors only when there is one per entry)"
    )]
    pub fn search(
        &self,
        question: &str,
        limit: usize,
        filter: Option<&dyn Fn(&Entry) -> bool>,
    ) -> Found {
        let (lexical, ceiling, english) = self.lexical_scores(question);
        let keep = |i: usize| filter.is_none_or(|f| f(&self.entries[i]));
        let mut lexical_rank: Vec<usize> = (0..self.entries.len())
            .filter(|&i| lexical[i] > 0.0 && keep(i))
            .collect();
        lexical_rank.sort_by(|&a, &b| lexical[b].total_cmp(&lexical[a]).then(a.cmp(&b)));
        let share = |i: usize| {
            if ceiling > 0.0 {
                (lexical[i] / ceiling).min(1.0)
            } else {
                0.0
            }
        };

        let semantic = self.encoder.as_ref().and_then(|encoder| {
            let has_text = question.chars().any(char::is_alphanumeric);
            if !has_text {
                return None;
            }
            let text: String = question
                .chars()
                .take(analysis::MAX_ANALYSED_CHARS)
                .collect();
            match encoder.query(&text) {
                Ok(v) => Some(
                    self.vectors
                        .iter()
                        .map(|d| d.iter().zip(&v).map(|(a, b)| a * b).sum::<f32>())
                        .collect::<Vec<f32>>(),
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "semantic encoder failed; lexical ranking only");
                    None
                }
            }
        });

        let hit = |i: usize, score: f32, cos: Option<f32>| Hit {
            entry: self.entries[i].clone(),
            score,
            lexical: share(i),
            semantic: cos,
            english: english && self.has_english[i],
        };
        let hits = match &semantic {
            None => lexical_rank
                .iter()
                .take(limit)
                .map(|&i| hit(i, lexical[i], None))
                .collect(),
            Some(cos) => {
                let t = &self.tuning;
                let mut semantic_rank: Vec<usize> =
                    (0..self.entries.len()).filter(|&i| keep(i)).collect();
                semantic_rank.sort_by(|&a, &b| cos[b].total_cmp(&cos[a]).then(a.cmp(&b)));
                let mut fused: HashMap<usize, f32> = HashMap::new();
                for (rank, &i) in lexical_rank.iter().take(t.fusion_depth).enumerate() {
                    *fused.entry(i).or_default() += 1.0 / (t.rrf_k + rank as f32 + 1.0);
                }
                for (rank, &i) in semantic_rank.iter().take(t.fusion_depth).enumerate() {
                    *fused.entry(i).or_default() +=
                        t.semantic_weight / (t.rrf_k + rank as f32 + 1.0);
                }
                let mut ranked: Vec<(usize, f32)> = fused.into_iter().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                ranked
                    .into_iter()
                    .take(limit)
                    .map(|(i, s)| hit(i, s, Some(cos[i])))
                    .collect()
            }
        };
        Found {
            hits,
            mode: if semantic.is_some() {
                "lexical+semantic"
            } else {
                "lexical"
            },
            english,
        }
    }
}

/// Confidence: whether the best entry is likely to answer the question. The
/// thresholds were chosen on the development set's out-of-scope questions.
pub fn confident(found: &Found) -> bool {
    let Some(top) = found.hits.first() else {
        return false;
    };
    match top.semantic {
        Some(cos) => (cos >= 0.85 && top.lexical >= 0.4) || cos >= 0.89,
        None => top.lexical >= 0.6,
    }
}
