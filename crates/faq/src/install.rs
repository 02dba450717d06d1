//! Where the optional parts of the search are installed: the Japanese
//! dictionary (`scripts/setup-dictionary`) and the semantic model
//! (`scripts/setup-model`), each looked for in an environment variable's
//! directory, under the working directory, and in the checkout the binary was
//! built from.

use std::path::PathBuf;

/// The usual places of a dictionary: `$MADOGUCHI_FAQ_DICTIONARY`, `var/ipadic`
/// under the working directory, and `var/ipadic` of the checkout the binary
/// was built from.
pub fn default_dictionary() -> Option<PathBuf> {
    candidates("MADOGUCHI_FAQ_DICTIONARY", "var/ipadic")
        .into_iter()
        .find(|p| p.join("matrix.def").is_file() || p.join("system.dic").is_file() || p.is_file())
}

/// The usual places of the semantic model (as [`default_dictionary`]).
pub fn default_model() -> Option<PathBuf> {
    candidates("MADOGUCHI_FAQ_MODEL", "var/models/multilingual-e5-small")
        .into_iter()
        .find(|p| p.join("model.safetensors").is_file())
}

fn candidates(var: &str, relative: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(v) = std::env::var(var)
        && !v.is_empty()
    {
        out.push(PathBuf::from(v));
    }
    out.extend(platform::config::installed(relative));
    out
}
