//! The evaluation harness: ranks every test question against an FAQ CSV and
//! prints P@1, SR@5, SR@10, MRR, MAP and nDCG@10, with p50/p99 latency.
//!
//! Inputs in the common IR formats:
//! - queries: TSV `id<TAB>text` (a header line `query-id…`/`_id…` is skipped),
//!   JSON Lines `{"_id": …, "text": …}` (BEIR), or a JSON object `{id: text}`;
//! - relevance: TREC qrels `qid 0 docid grade`, BEIR TSV `query-id<TAB>corpus-id<TAB>score`
//!   (with or without its header), or JSON `{qid: {docid: grade}}`.
//!
//! Grades above zero count as relevant for the binary measures (P@1, SR@k,
//! MRR, MAP); nDCG uses the grades as gains. Questions with no relevant entry
//! are not ranked in the measures; the report says how many were judged
//! confident (they should not be).

use std::collections::HashMap;
use std::time::Instant;

use crate::index::{self, Index};

pub type Qrels = HashMap<String, HashMap<String, u32>>;

/// Reads a queries file.
pub fn parse_queries(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{')
        && !trimmed
            .lines()
            .nth(1)
            .is_some_and(|l| l.trim_start().starts_with('{'))
        && let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(trimmed)
    {
        {
            let mut out: Vec<(String, String)> = map
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect();
            out.sort();
            return Ok(out);
        }
    }
    let mut out = Vec::new();
    for (n, line) in trimmed.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| anyhow::anyhow!("queries line {}: {e}", n + 1))?;
            let id = v
                .get("_id")
                .or_else(|| v.get("id"))
                .or_else(|| v.get("qid"))
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .ok_or_else(|| anyhow::anyhow!("queries line {}: no _id", n + 1))?;
            let text = v
                .get("text")
                .or_else(|| v.get("query"))
                .and_then(|x| x.as_str())
                .ok_or_else(|| anyhow::anyhow!("queries line {}: no text", n + 1))?;
            out.push((id, text.to_string()));
            continue;
        }
        let Some((id, text)) = line.split_once('\t') else {
            anyhow::bail!("queries line {}: expected id<TAB>text", n + 1);
        };
        if n == 0 && matches!(id, "query-id" | "_id" | "id" | "qid" | "query_id") {
            continue;
        }
        out.push((id.trim().to_string(), text.trim().to_string()));
    }
    Ok(out)
}

/// Reads a relevance file.
pub fn parse_qrels(text: &str) -> anyhow::Result<Qrels> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let mut out: Qrels = HashMap::new();
    if trimmed.starts_with('{') {
        let map: HashMap<String, HashMap<String, serde_json::Value>> =
            serde_json::from_str(trimmed)?;
        for (q, docs) in map {
            for (d, g) in docs {
                let grade = g
                    .as_f64()
                    .or_else(|| g.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(0.0);
                out.entry(q.clone())
                    .or_default()
                    .insert(d, grade.max(0.0) as u32);
            }
        }
        return Ok(out);
    }
    for (n, line) in trimmed.lines().enumerate() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (q, d, g) = match cols.as_slice() {
            [] => continue,
            [q, d, g] => (*q, *d, *g),
            [q, _, d, g] => (*q, *d, *g),
            _ => anyhow::bail!("relevance line {}: expected 3 or 4 columns", n + 1),
        };
        // Numbers, or letters as graded by hand: A contains the answer, B is relevant.
        let grade = match g {
            "A" | "a" => 2.0,
            "B" | "b" => 1.0,
            "C" | "c" | "D" | "d" => 0.0,
            _ => match g.parse::<f64>() {
                Ok(v) => v,
                Err(_) if n == 0 => continue, // a header
                Err(_) => {
                    anyhow::bail!("relevance line {}: the grade {g:?} is not a number", n + 1)
                }
            },
        };
        out.entry(q.to_string())
            .or_default()
            .insert(d.to_string(), grade.max(0.0) as u32);
    }
    Ok(out)
}

/// The figures.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub mode: String,
    pub analyzer: String,
    pub entries: usize,
    pub questions: usize,
    pub judged: usize,
    pub p_at_1: f64,
    pub sr_at_5: f64,
    pub sr_at_10: f64,
    pub mrr: f64,
    pub map: f64,
    pub ndcg_at_10: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Of the questions with an answer, the share judged confident.
    pub confident_answerable: f64,
    /// Of the questions without an answer, the share (wrongly) judged confident.
    pub confident_unanswerable: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "mode        {} (analyser: {})", self.mode, self.analyzer)?;
        writeln!(
            f,
            "entries     {}   questions {} ({} with a relevant entry)",
            self.entries, self.questions, self.judged
        )?;
        writeln!(f, "P@1         {:.3}", self.p_at_1)?;
        writeln!(f, "SR@5        {:.3}", self.sr_at_5)?;
        writeln!(f, "SR@10       {:.3}", self.sr_at_10)?;
        writeln!(f, "MRR         {:.3}", self.mrr)?;
        writeln!(f, "MAP         {:.3}", self.map)?;
        writeln!(f, "nDCG@10     {:.3}", self.ndcg_at_10)?;
        writeln!(
            f,
            "latency     p50 {:.2} ms   p99 {:.2} ms",
            self.p50_ms, self.p99_ms
        )?;
        write!(
            f,
            "confident   {:.2} of answerable, {:.2} of unanswerable",
            self.confident_answerable, self.confident_unanswerable
        )
    }
}

/// Ranks every question and computes the figures. Rankings go 100 deep.
pub fn evaluate(index: &Index, queries: &[(String, String)], qrels: &Qrels) -> Report {
    const DEPTH: usize = 100;
    let mut latencies = Vec::with_capacity(queries.len());
    let (mut p1, mut sr5, mut sr10, mut mrr, mut map, mut ndcg) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut judged, mut conf_yes, mut unanswerable, mut conf_no) =
        (0usize, 0usize, 0usize, 0usize);
    for (id, text) in queries {
        let started = Instant::now();
        let found = index.search(text, DEPTH, None);
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        let confident = index::confident(&found);
        let empty = HashMap::new();
        let rel = qrels.get(id).unwrap_or(&empty);
        let relevant = rel.values().filter(|g| **g > 0).count();
        if relevant == 0 {
            unanswerable += 1;
            conf_no += usize::from(confident);
            continue;
        }
        judged += 1;
        conf_yes += usize::from(confident);
        let grades: Vec<u32> = found
            .hits
            .iter()
            .map(|h| rel.get(&h.entry.id).copied().unwrap_or(0))
            .collect();
        let first = grades.iter().position(|g| *g > 0);
        if first == Some(0) {
            p1 += 1.0;
        }
        if first.is_some_and(|r| r < 5) {
            sr5 += 1.0;
        }
        if first.is_some_and(|r| r < 10) {
            sr10 += 1.0;
        }
        if let Some(r) = first {
            mrr += 1.0 / (r as f64 + 1.0);
        }
        let mut hits = 0.0;
        let mut ap = 0.0;
        for (r, g) in grades.iter().enumerate() {
            if *g > 0 {
                hits += 1.0;
                ap += hits / (r as f64 + 1.0);
            }
        }
        map += ap / relevant as f64;
        let dcg = |gs: &[u32]| -> f64 {
            gs.iter()
                .take(10)
                .enumerate()
                .map(|(r, g)| (2f64.powi(*g as i32) - 1.0) / (r as f64 + 2.0).log2())
                .sum()
        };
        let mut ideal: Vec<u32> = rel.values().copied().collect();
        ideal.sort_unstable_by(|a, b| b.cmp(a));
        let best = dcg(&ideal);
        if best > 0.0 {
            ndcg += dcg(&grades) / best;
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            let at = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(at).copied().unwrap_or(0.0)
        }
    };
    let n = judged.max(1) as f64;
    Report {
        mode: index.mode().to_string(),
        analyzer: index.analyzer().mode().to_string(),
        entries: index.len(),
        questions: queries.len(),
        judged,
        p_at_1: p1 / n,
        sr_at_5: sr5 / n,
        sr_at_10: sr10 / n,
        mrr: mrr / n,
        map: map / n,
        ndcg_at_10: ndcg / n,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        confident_answerable: conf_yes as f64 / n,
        confident_unanswerable: conf_no as f64 / unanswerable.max(1) as f64,
    }
}

/// One line per question, tab-separated: id, rank of the first relevant
/// entry (or `-`), the top entry, its lexical share and cosine, whether the
/// engine was confident, the question.
pub fn details(index: &Index, queries: &[(String, String)], qrels: &Qrels) -> Vec<String> {
    let empty = HashMap::new();
    queries
        .iter()
        .map(|(id, text)| {
            let found = index.search(text, 100, None);
            let rel = qrels.get(id).unwrap_or(&empty);
            let first = found
                .hits
                .iter()
                .position(|h| rel.get(&h.entry.id).is_some_and(|g| *g > 0))
                .map(|r| (r + 1).to_string())
                .unwrap_or_else(|| {
                    if rel.is_empty() {
                        "none".into()
                    } else {
                        "-".into()
                    }
                });
            let top = found.hits.first();
            format!(
                "{id}\t{first}\t{}\t{:.3}\t{}\t{}\t{text}",
                top.map(|h| h.entry.id.as_str()).unwrap_or(""),
                top.map(|h| h.lexical).unwrap_or(0.0),
                top.and_then(|h| h.semantic)
                    .map(|c| format!("{c:.3}"))
                    .unwrap_or_default(),
                index::confident(&found),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_formats() {
        let tsv = parse_queries("query-id\ttext\nq1\t税金\nq2\tごみ\n").unwrap();
        assert_eq!(
            tsv,
            vec![("q1".into(), "税金".into()), ("q2".into(), "ごみ".into())]
        );
        let jsonl = parse_queries(
            "{\"_id\": \"q1\", \"text\": \"税金\"}\n{\"_id\": 2, \"text\": \"ごみ\"}\n",
        )
        .unwrap();
        assert_eq!(jsonl[1], ("2".into(), "ごみ".into()));
        let json = parse_queries("{\"q1\": \"税金\"}").unwrap();
        assert_eq!(json, vec![("q1".into(), "税金".into())]);

        let trec = parse_qrels("q1 0 d1 2\nq1 0 d2 1\n").unwrap();
        assert_eq!(trec["q1"]["d2"], 1);
        let beir = parse_qrels("query-id\tcorpus-id\tscore\nq1\td1\t2\n").unwrap();
        assert_eq!(beir["q1"]["d1"], 2);
        let json = parse_qrels("{\"q1\": {\"d1\": 2}}").unwrap();
        let letters = parse_qrels("q1 0 d1 A\nq1 0 d2 B\n").unwrap();
        assert_eq!((letters["q1"]["d1"], letters["q1"]["d2"]), (2, 1));
        assert_eq!(json["q1"]["d1"], 2);
    }
}
