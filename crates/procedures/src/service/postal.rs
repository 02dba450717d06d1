//! Filling an address from a postal code: the directory (Japan Post's data,
//! `scripts/setup-postal-codes`), read once per process the first time a
//! code is looked up, and what a lookup answers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jp::postal::{PostalCode, PostalError};
use jp::postal_directory::PostalDirectory;
use tokio::sync::OnceCell;

/// Where the directory comes from, and the directory once read.
#[derive(Clone, Debug, Default)]
pub struct PostalCodes {
    source: Option<PathBuf>,
    loaded: Arc<OnceCell<Option<Arc<PostalDirectory>>>>,
}

/// An address a postal code fills: the prefecture and the city with its town
/// (市区町村 and 町域, as the address question's second line takes them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    pub prefecture: String,
    pub city: String,
    pub town: String,
}

impl Found {
    /// What goes into the address's 市区町村・町名 line.
    pub fn city_and_town(&self) -> String {
        format!("{}{}", self.city, self.town)
    }
}

/// Why a lookup gave no address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("{0}")]
    Invalid(PostalError),
    #[error("no place has this postal code")]
    Unknown,
    #[error("the postal-code directory is not installed")]
    Unavailable,
}

impl LookupError {
    pub fn key(&self) -> &'static str {
        match self {
            LookupError::Invalid(e) => e.key(),
            LookupError::Unknown => "postal_lookup.unknown",
            LookupError::Unavailable => "postal_lookup.unavailable",
        }
    }
}

/// Directories already read in this process, by file (tests start many apps).
fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<PostalDirectory>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<PostalDirectory>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

impl PostalCodes {
    /// The configured file, else `var/postal/postal-codes.tsv` where it is
    /// installed; `off` turns lookups off.
    pub fn new(configured: Option<&Path>) -> PostalCodes {
        let source = match configured {
            Some(p) if p.as_os_str() == "off" => None,
            Some(p) => Some(p.to_path_buf()),
            None => platform::config::installed("var/postal/postal-codes.tsv")
                .into_iter()
                .find(|p| p.is_file()),
        };
        PostalCodes {
            source,
            loaded: Arc::default(),
        }
    }

    /// Whether lookups can answer (a directory is configured or installed).
    pub fn available(&self) -> bool {
        self.source.is_some()
    }

    async fn directory(&self) -> Option<Arc<PostalDirectory>> {
        let source = self.source.clone()?;
        self.loaded
            .get_or_init(|| async move {
                if let Some(d) = cache().lock().ok().and_then(|c| c.get(&source).cloned()) {
                    return Some(d);
                }
                let path = source.clone();
                let read = tokio::task::spawn_blocking(move || {
                    let bytes = std::fs::read(&path)?;
                    PostalDirectory::parse(&platform::import::decode(&bytes))
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
                })
                .await;
                match read {
                    Ok(Ok(d)) => {
                        tracing::info!(file = %source.display(), places = d.len(), "postal-code directory read");
                        let d = Arc::new(d);
                        if let Ok(mut c) = cache().lock() {
                            c.insert(source, d.clone());
                        }
                        Some(d)
                    }
                    Ok(Err(e)) => {
                        tracing::error!(file = %source.display(), error = %e, "postal-code directory unreadable; addresses are not filled");
                        None
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "reading the postal-code directory failed");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// The places `code` stands for (several when a code covers several towns).
    pub async fn lookup(&self, code: &str) -> Result<(PostalCode, Vec<Found>), LookupError> {
        let code = PostalCode::parse(code).map_err(LookupError::Invalid)?;
        let directory = self.directory().await.ok_or(LookupError::Unavailable)?;
        let found: Vec<Found> = directory
            .lookup(&code)
            .into_iter()
            .map(|p| Found {
                prefecture: p.prefecture.to_string(),
                city: p.city.to_string(),
                town: p.town.to_string(),
            })
            .collect();
        if found.is_empty() {
            return Err(LookupError::Unknown);
        }
        Ok((code, found))
    }
}

/// A lookup that fills an address: the code as written, every place it
/// stands for, and what they share (what goes into the address).
#[derive(Debug, Clone)]
pub struct Filled {
    pub code: PostalCode,
    pub found: Vec<Found>,
    pub place: Found,
}

impl Filled {
    /// Whether the code covers several towns and the town was left to the resident.
    pub fn several_towns(&self) -> bool {
        self.found.len() > 1 && self.place.town.is_empty()
    }
}

impl PostalCodes {
    /// Looks `typed` up for filling an address (Unknown when the places
    /// share no prefecture).
    pub async fn fill(&self, typed: &str) -> Result<Filled, LookupError> {
        let (code, found) = self.lookup(typed).await?;
        let place = common(&found).ok_or(LookupError::Unknown)?;
        Ok(Filled { code, found, place })
    }
}

/// An address answer (`{prefecture, city, building}`) with the prefecture
/// and the city and town replaced by `place`; the building is kept.
pub fn fill_address(current: Option<&serde_json::Value>, place: &Found) -> serde_json::Value {
    let mut value = match current {
        Some(serde_json::Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    value.insert("prefecture".into(), place.prefecture.clone().into());
    value.insert("city".into(), place.city_and_town().into());
    serde_json::Value::Object(value)
}

/// What several places share: the prefecture, the city, and the town when
/// they all have the same one (a code covering several towns fills the city).
pub fn common(found: &[Found]) -> Option<Found> {
    let first = found.first()?;
    let same = |f: &dyn Fn(&Found) -> &str| found.iter().all(|x| f(x) == f(first));
    if !same(&|x| &x.prefecture) || !same(&|x| &x.city) {
        return Some(Found {
            prefecture: first.prefecture.clone(),
            city: String::new(),
            town: String::new(),
        })
        .filter(|_| same(&|x| &x.prefecture));
    }
    Some(Found {
        prefecture: first.prefecture.clone(),
        city: first.city.clone(),
        town: if same(&|x| &x.town) {
            first.town.clone()
        } else {
            String::new()
        },
    })
}
