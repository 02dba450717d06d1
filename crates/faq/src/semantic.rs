//! The semantic re-ranker's encoder: multilingual-e5-small through the
//! `embed` crate (candle, CPU), installed by `scripts/setup-model`.

use std::path::Path;
use std::sync::Arc;

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

/// Loads the model in `dir`.
pub fn load(dir: &Path) -> anyhow::Result<Arc<dyn Encoder>> {
    let embedder = embed::Embedder::load(dir)?;
    Ok(Arc::new(E5 {
        name: "multilingual-e5-small".to_string(),
        embedder,
    }))
}
