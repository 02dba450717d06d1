//! The semantic re-ranker's encoder: multilingual-e5-small through the
//! `embed` crate (candle, CPU), installed by `scripts/setup-model`, loaded
//! once per directory and process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::index::Encoder;

struct E5 {
    name: String,
    embedder: embed::Embedder,
}

impl Encoder for E5 {
    fn name(&self) -> &str {
        &self.name
    }

    fn query(&self, text: &str) -> anyhow::Result<Vec<f32>> {
        self.embedder.embed_query(text)
    }

    fn passages(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.embedder.embed_passages(texts)
    }
}

/// Loads the semantic model from a directory (once per directory and process).
pub fn load_encoder(dir: &Path) -> anyhow::Result<Arc<dyn Encoder>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<dyn Encoder>>>> = OnceLock::new();
    let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(e) = loaded.get(&key) {
        return Ok(e.clone());
    }
    let encoder = load(&key)?;
    loaded.insert(key, encoder.clone());
    Ok(encoder)
}

/// Loads the model in `dir`.
fn load(dir: &Path) -> anyhow::Result<Arc<dyn Encoder>> {
    // Passages are embedded 512 padded tokens at a time (two of 256): a
    // server keeps its memory low, and the index is built once per change.
    let embedder = embed::Embedder::load_with(
        dir,
        embed::EmbedderConfig {
            batch_tokens: 512,
            ..embed::EmbedderConfig::default()
        },
    )?;
    Ok(Arc::new(E5 {
        name: "multilingual-e5-small".to_string(),
        embedder,
    }))
}
