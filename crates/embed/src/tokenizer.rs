//! The XLM-RoBERTa SentencePiece tokenizer of multilingual-e5-small, run by
//! Hugging Face's `tokenizers` from the model's `tokenizer.json`
//! (Precompiled `nmt_nfkc` normalizer, `Metaspace`, Unigram, `<s> … </s>`).
//!
//! `candle-core` already builds `tokenizers` (without default features, with
//! `fancy-regex`), so using it here costs no build time.

use std::path::Path;

use anyhow::{Context, Result, anyhow};

/// A tokenizer for one model: immutable once loaded and thread-safe.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    eos_id: u32,
    pad_id: u32,
}

impl Tokenizer {
    /// Reads a Hugging Face `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("loading {}", path.display()))?;
        let id = |token: &str| {
            inner
                .token_to_id(token)
                .with_context(|| format!("tokenizer has no {token}"))
        };
        let (eos_id, pad_id) = (id("</s>")?, id("<pad>")?);
        Ok(Self {
            inner,
            eos_id,
            pad_id,
        })
    }

    /// The id used to pad a batch.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Token ids of `text` framed by `<s>` and `</s>`, cut to at most
    /// `max_len` ids in all (the end of the text is dropped, `</s>` kept).
    pub fn encode(&self, text: &str, max_len: usize) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode_fast(text, true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        let mut ids = encoding.get_ids().to_vec();
        let max_len = max_len.max(2);
        if ids.len() > max_len {
            ids.truncate(max_len - 1);
            ids.push(self.eos_id);
        }
        Ok(ids)
    }
}
