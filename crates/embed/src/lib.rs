//! Sentence embeddings with multilingual-e5-small, on the CPU, in pure Rust.
//!
//! An optional semantic re-ranker for the FAQ search: embed the query and the
//! candidate passages, then order by cosine similarity (a plain dot product,
//! since every embedding is L2-normalised).
//!
//! The model directory is made by `scripts/setup-model`; it holds
//! `model.safetensors` (BERT weights under Hugging Face names),
//! `config.json` and `tokenizer.json`.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! let embedder = embed::Embedder::load(std::path::Path::new("var/models/multilingual-e5-small"))?;
//! let q = embedder.embed_query("自動車税の納付期限はいつですか")?;
//! let p = embedder.embed_passages(&["自動車税の納期限は5月31日です。"])?;
//! let score = embed::cosine(&q, &p[0]);
//! # let _ = score; Ok(()) }
//! ```

mod model;
mod tokenizer;

use std::path::Path;

use anyhow::Result;

pub use tokenizer::Tokenizer;

/// Limits applied when embedding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderConfig {
    /// Tokens kept of a query, `<s>` and `</s>` included (default 64).
    pub max_query_tokens: usize,
    /// Tokens kept of a passage, `<s>` and `</s>` included (default 256).
    pub max_passage_tokens: usize,
    /// Upper bound on padded tokens (texts × longest text) in one forward
    /// pass when embedding passages (default 2048).
    pub batch_tokens: usize,
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        Self {
            max_query_tokens: 64,
            max_passage_tokens: 256,
            batch_tokens: 2048,
        }
    }
}

/// A loaded multilingual-e5-small: cheap to share between threads
/// (`Send + Sync`, every method takes `&self`).
pub struct Embedder {
    model: model::Bert,
    tokenizer: Tokenizer,
    config: EmbedderConfig,
    /// Queries run on one thread: a short sequence gains little from two
    /// cores, and concurrent requests each keep one (measured: p99 lower).
    query_pool: rayon::ThreadPool,
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Embedder>();
};

impl Embedder {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_with(dir, EmbedderConfig::default())
    }

    /// [`Embedder::load`] with explicit limits.
    pub fn load_with(dir: &Path, config: EmbedderConfig) -> Result<Self> {
        let tokenizer = Tokenizer::from_file(&dir.join("tokenizer.json"))?;
        let model = model::Bert::load(dir)?;
        let mut config = config;
        let max = model.max_positions();
        config.max_query_tokens = config.max_query_tokens.clamp(2, max);
        config.max_passage_tokens = config.max_passage_tokens.clamp(2, max);
        config.batch_tokens = config.batch_tokens.max(1);
        let query_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "embed-query".into())
            .build()?;
        Ok(Self {
            model,
            tokenizer,
            config,
            query_pool,
        })
    }

    /// The limits in force (clamped to what the model allows).
    pub fn config(&self) -> &EmbedderConfig {
        &self.config
    }

    /// The tokenizer, e.g. to count tokens.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Embedding of a search query (`"query: "` is prefixed).
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        let ids = self
            .tokenizer
            .encode(&format!("query: {text}"), self.config.max_query_tokens)?;
        let mask = vec![1.0; ids.len()];
        self.query_pool.install(|| {
            let out = self.model.embed(&ids, &mask, 1, ids.len())?;
            Ok(out.squeeze(0)?.to_vec1()?)
        })
    }

    /// Embeddings of passages (`"passage: "` is prefixed), in input order.
    /// Texts of similar length are batched together.
    pub fn embed_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encoded = texts
            .iter()
            .map(|t| {
                self.tokenizer
                    .encode(&format!("passage: {t}"), self.config.max_passage_tokens)
            })
            .collect::<Result<Vec<_>>>()?;
        self.embed_encoded(&encoded)
    }

    /// Embeddings of already tokenized sequences (each framed by `<s>`, `</s>`).
    pub fn embed_encoded(&self, encoded: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        anyhow::ensure!(
            encoded.iter().all(|s| !s.is_empty()),
            "empty token sequence"
        );
        let mut order: Vec<(usize, &[u32])> =
            encoded.iter().map(Vec::as_slice).enumerate().collect();
        order.sort_by_key(|(_, seq)| std::cmp::Reverse(seq.len()));
        let mut out = vec![Vec::new(); encoded.len()];
        let mut rest = order.as_slice();
        // Longest first, so the first text of a batch sets its width.
        while let Some(&(_, longest)) = rest.first() {
            let len = longest.len().max(1);
            let count = (self.config.batch_tokens / len).clamp(1, rest.len());
            let (batch, tail) = rest.split_at(count);
            let mut ids = Vec::with_capacity(count * len);
            let mut mask = Vec::with_capacity(count * len);
            for &(_, seq) in batch {
                ids.extend_from_slice(seq);
                mask.extend(std::iter::repeat_n(1.0f32, seq.len()));
                ids.extend(std::iter::repeat_n(
                    self.tokenizer.pad_id(),
                    len - seq.len(),
                ));
                mask.extend(std::iter::repeat_n(0.0f32, len - seq.len()));
            }
            let embs: Vec<Vec<f32>> = self.model.embed(&ids, &mask, count, len)?.to_vec2()?;
            for (&(i, _), e) in batch.iter().zip(embs) {
                if let Some(slot) = out.get_mut(i) {
                    *slot = e;
                }
            }
            rest = tail;
        }
        Ok(out)
    }
}

/// Cosine similarity of two embeddings (their dot product once normalised;
/// computed in full so it is also right for vectors that are not).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
