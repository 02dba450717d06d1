//! The module's state: the platform and the search engine every use case
//! answers from.

use std::sync::Arc;

use platform::Platform;

use super::engine::{Engine, EngineConfig};

/// The module's state.
#[derive(Clone, Debug)]
pub struct Faq {
    pub platform: Platform,
    pub engine: Arc<Engine>,
}

impl Faq {
    /// The module for a platform; the dictionary and model are found by
    /// `config` or in the usual places.
    pub fn new(platform: Platform, config: EngineConfig) -> Faq {
        let engine = Engine::new(platform.db.clone(), config);
        Faq { platform, engine }
    }
}
