//! The engine: keeps an [`Index`] of the answerable entries current on every
//! node, loads the dictionary and the optional semantic model, and answers.
//!
//! The index is rebuilt when the entries' generation (a counter every write
//! bumps, in the database) moves: at once after a write on this node, and
//! within [`FRESHNESS`] on the others. The semantic model and the entries'
//! vectors are prepared in the background: until they are ready the engine
//! answers lexically and says so (`mode`). It reads the entries and caches
//! the vectors through the store, so it is part of the service layer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use platform::db::{Db, Timestamp};

use crate::analysis::Analyzer;
use crate::entry::Entry;
use crate::index::{Encoder, Found, Index, Tuning, passage_text};
use crate::install::{default_dictionary, default_model};
use crate::semantic::load_encoder;
use crate::store;

/// How stale another node's writes may be seen.
pub const FRESHNESS: Duration = Duration::from_secs(2);

/// Where the engine finds its parts.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// IPADIC's source directory or a compiled `system.dic`; `None` looks in
    /// the usual places ([`crate::install::default_dictionary`]).
    pub dictionary: Option<PathBuf>,
    /// The semantic model's directory (`scripts/setup-model`); `None` looks in
    /// the usual place, and without one the engine is lexical only. `off`
    /// turns the re-ranker off even if a model is installed.
    pub model: Option<PathBuf>,
    /// Where to keep a compiled dictionary if its source directory is read-only.
    pub cache_dir: PathBuf,
}

struct Current {
    index: Arc<Index>,
    generation: i64,
    checked: Instant,
}

/// The engine. Shared by the handlers (`Arc<Engine>`).
pub struct Engine {
    db: Db,
    config: EngineConfig,
    analyzer: tokio::sync::OnceCell<Analyzer>,
    encoder: RwLock<Option<Arc<dyn Encoder>>>,
    semantic_started: Mutex<bool>,
    current: RwLock<Option<Current>>,
    build: tokio::sync::Mutex<()>,
    pub tuning: Tuning,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish()
    }
}

impl Engine {
    pub fn new(db: Db, config: EngineConfig) -> Arc<Engine> {
        Arc::new(Engine {
            db,
            config,
            analyzer: tokio::sync::OnceCell::new(),
            encoder: RwLock::new(None),
            semantic_started: Mutex::new(false),
            current: RwLock::new(None),
            build: tokio::sync::Mutex::new(()),
            tuning: Tuning::default(),
        })
    }

    /// The analyser (the dictionary is loaded, or compiled, on first use).
    pub async fn analyzer(&self) -> Analyzer {
        self.analyzer
            .get_or_init(|| async {
                let source = self.config.dictionary.clone().or_else(default_dictionary);
                let cache = self.config.cache_dir.clone();
                let Some(source) = source else {
                    tracing::warn!(
                        "no Japanese dictionary installed (scripts/setup-dictionary): the FAQ search runs on character bigrams only"
                    );
                    return Analyzer::bigrams_only();
                };
                let loaded = tokio::task::spawn_blocking(move || {
                    Analyzer::load(&source, Some(&cache)).map_err(|e| (source, e))
                })
                .await;
                match loaded {
                    Ok(Ok(a)) => a,
                    Ok(Err((source, e))) => {
                        tracing::warn!(path = %source.display(), error = %e, "the Japanese dictionary could not be loaded: character bigrams only");
                        Analyzer::bigrams_only()
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "loading the dictionary failed");
                        Analyzer::bigrams_only()
                    }
                }
            })
            .await
            .clone()
    }

    /// Starts preparing everything (dictionary, index, model) in the background.
    pub fn warm_up(self: &Arc<Self>) {
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.index().await {
                tracing::warn!(error = %e, "FAQ index not built");
            }
        });
    }

    /// The current index, rebuilt first if the entries changed.
    pub async fn index(self: &Arc<Self>) -> anyhow::Result<Arc<Index>> {
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = current.as_ref()
                && c.checked.elapsed() < FRESHNESS
            {
                return Ok(c.index.clone());
            }
        }
        let generation = store::generation(&self.db).await?;
        {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = current.as_mut()
                && c.generation == generation
            {
                c.checked = Instant::now();
                return Ok(c.index.clone());
            }
        }
        self.rebuild().await
    }

    /// Marks the index stale (after a write on this node).
    pub fn invalidate(&self) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = current.as_mut() {
            c.generation = -1;
            c.checked = Instant::now() - FRESHNESS * 2;
        }
    }

    /// Rebuilds the index from the database.
    pub async fn rebuild(self: &Arc<Self>) -> anyhow::Result<Arc<Index>> {
        let _guard = self.build.lock().await;
        let generation = store::generation(&self.db).await?;
        if let Some(c) = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && c.generation == generation
        {
            return Ok(c.index.clone());
        }
        let analyzer = self.analyzer().await;
        // The entries residents are answered from: published and valid today (JST).
        let today = Timestamp::now().jst().format("%Y-%m-%d").to_string();
        let entries: Vec<Entry> = store::entries(&self.db, None)
            .await?
            .into_iter()
            .map(|s| s.entry)
            .filter(|e| e.is_answerable_on(&today))
            .collect();
        let encoder = self
            .encoder
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut semantic = None;
        if let Some(encoder) = encoder {
            match self.vectors(&encoder, &entries).await {
                Ok(v) => semantic = Some((encoder, v)),
                Err(e) => {
                    tracing::warn!(error = %e, "entry vectors not ready: lexical ranking only")
                }
            }
        }
        let tuning = self.tuning;
        let index = tokio::task::spawn_blocking(move || {
            Arc::new(Index::build(entries, analyzer, semantic, tuning))
        })
        .await?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Current {
            index: index.clone(),
            generation,
            checked: Instant::now(),
        });
        drop(_guard);
        self.start_semantic();
        Ok(index)
    }

    /// Loads the model (once, in the background) and rebuilds with vectors.
    fn start_semantic(self: &Arc<Self>) {
        {
            let mut started = self
                .semantic_started
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if *started {
                return;
            }
            *started = true;
        }
        let configured = match &self.config.model {
            Some(p) if p.as_os_str() == "off" => {
                tracing::info!("semantic re-ranking turned off: the FAQ search is lexical only");
                return;
            }
            other => other.clone(),
        };
        let Some(dir) = configured.or_else(default_model) else {
            tracing::info!(
                "no semantic model installed (scripts/setup-model): the FAQ search is lexical only"
            );
            return;
        };
        let me = self.clone();
        tokio::spawn(async move {
            let loaded = tokio::task::spawn_blocking(move || load_encoder(&dir)).await;
            match loaded {
                Ok(Ok(encoder)) => {
                    *me.encoder.write().unwrap_or_else(|e| e.into_inner()) = Some(encoder);
                    me.invalidate();
                    if let Err(e) = me.rebuild().await {
                        tracing::warn!(error = %e, "FAQ index with vectors not built");
                    } else {
                        tracing::info!("FAQ search: lexical ranking with semantic re-ranking");
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the semantic model could not be loaded: lexical only")
                }
                Err(e) => tracing::warn!(error = %e, "loading the semantic model failed"),
            }
        });
    }

    /// The entries' vectors: cached ones from the database, the rest computed
    /// (and cached).
    async fn vectors(
        &self,
        encoder: &Arc<dyn Encoder>,
        entries: &[Entry],
    ) -> anyhow::Result<Vec<Vec<f32>>> {
        let model = encoder.name().to_string();
        let cached = store::vectors(&self.db, &model).await?;
        let texts: Vec<String> = entries.iter().map(passage_text).collect();
        let hashes: Vec<String> = texts.iter().map(|t| text_hash(t)).collect();
        let mut out: Vec<Option<Vec<f32>>> = hashes
            .iter()
            .map(|h| cached.get(h).and_then(|v| decode_vector(v)))
            .collect();
        let missing: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| i)
            .collect();
        for chunk in missing.chunks(32) {
            let batch: Vec<String> = chunk
                .iter()
                .filter_map(|&i| texts.get(i).cloned())
                .collect();
            let enc = encoder.clone();
            let vectors = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                enc.passages(&refs)
            })
            .await??;
            let mut to_store = Vec::new();
            for (&i, v) in chunk.iter().zip(vectors) {
                if let (Some(hash), Some(slot)) = (hashes.get(i), out.get_mut(i)) {
                    to_store.push((hash.clone(), encode_vector(&v)));
                    *slot = Some(v);
                }
            }
            let mut tx = self.db.begin().await?;
            store::put_vectors_in(&mut tx, &model, &to_store).await?;
            tx.commit().await?;
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Searches; the caller logs.
    pub async fn search(
        self: &Arc<Self>,
        question: &str,
        limit: usize,
        organisation: Option<&str>,
    ) -> anyhow::Result<(Found, bool)> {
        let index = self.index().await?;
        let question = question.to_string();
        let organisation = organisation.map(str::to_string);
        let found = tokio::task::spawn_blocking(move || {
            let filter = organisation
                .map(|org| move |e: &Entry| e.organisation.is_empty() || e.organisation == org);
            let found = match &filter {
                Some(f) => index.search(&question, limit, Some(f)),
                None => index.search(&question, limit, None),
            };
            let confident = crate::index::confident(&found);
            (found, confident)
        })
        .await?;
        Ok(found)
    }
}

fn text_hash(text: &str) -> String {
    // FNV-1a 64 twice (forward and over the reversed bytes): a cache key, not a security measure.
    let mut a: u64 = 0xcbf29ce484222325;
    let mut b: u64 = 0x84222325cbf29ce4;
    for (x, y) in text.bytes().zip(text.bytes().rev()) {
        a = (a ^ u64::from(x)).wrapping_mul(0x100000001b3);
        b = (b ^ u64::from(y)).wrapping_mul(0x100000001b3);
    }
    format!("{a:016x}{b:016x}{:x}", text.len())
}

fn encode_vector(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode_vector(s: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok())
            .map(f32::from_le_bytes)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(decode_vector(&encode_vector(&v)), Some(v));
        assert_ne!(text_hash("あい"), text_hash("いあ"));
    }
}
