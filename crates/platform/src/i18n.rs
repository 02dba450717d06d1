//! Message catalogues: every text the product shows lives in a catalogue, in
//! Japanese (the default) and English.
//!
//! Each crate ships `locales/ja.toml` and `locales/en.toml` (TOML tables are
//! flattened into dotted keys: `[nav] home = "…"` is `nav.home`; placeholders
//! are written `{name}`). The binary merges them, then applies the operator's
//! overrides from `data_dir/locales/{ja,en}.toml`, so any text can be changed
//! without recompiling. A missing English text falls back to Japanese, a missing
//! key shows the key itself (and a test keeps both catalogues complete).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" | "jp" => Some(Lang::Ja),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

/// One crate's catalogue sources.
#[derive(Debug, Clone, Copy)]
pub struct LocaleSource {
    pub ja: &'static str,
    pub en: &'static str,
}

/// The merged catalogue of every crate, plus operator overrides.
#[derive(Debug, Default)]
pub struct Catalogue {
    ja: HashMap<String, String>,
    en: HashMap<String, String>,
    /// Keys asked for that have no text in the language asked (a page would
    /// show the key, or Japanese on an English page): logged once each, and
    /// read by the tests, which fail on any.
    missing: std::sync::Mutex<std::collections::BTreeSet<(Lang, String)>>,
}

impl Catalogue {
    /// Merges `sources` in order (a later one may not redefine a key of an
    /// earlier one: that is a bug), then applies overrides from `overrides_dir`.
    pub fn load(
        sources: &[LocaleSource],
        overrides_dir: Option<&Path>,
    ) -> anyhow::Result<Catalogue> {
        let mut cat = Catalogue::default();
        for (i, src) in sources.iter().enumerate() {
            merge(&mut cat.ja, src.ja, false)
                .map_err(|e| anyhow::anyhow!("catalogue {i} (ja): {e}"))?;
            merge(&mut cat.en, src.en, false)
                .map_err(|e| anyhow::anyhow!("catalogue {i} (en): {e}"))?;
        }
        if let Some(dir) = overrides_dir {
            for (lang, map) in [("ja", &mut cat.ja), ("en", &mut cat.en)] {
                let path = dir.join(format!("{lang}.toml"));
                if let Ok(text) = std::fs::read_to_string(&path) {
                    merge(map, &text, true)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                }
            }
        }
        Ok(cat)
    }

    /// The text for `key`, falling back to Japanese, then to the key.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let primary = match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        };
        if let Some(text) = primary.get(key) {
            return text;
        }
        self.note_missing(lang, key);
        self.ja.get(key).map(String::as_str).unwrap_or(key)
    }

    fn note_missing(&self, lang: Lang, key: &str) {
        let mut missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: keys come from code, but a bug could build them from input.
        if missing.len() < 1000 && missing.insert((lang, key.to_string())) {
            tracing::warn!(lang = lang.code(), key, "no text for a message key");
        }
    }

    /// The keys asked for without a text in the language asked, since start.
    pub fn missing(&self) -> Vec<(Lang, String)> {
        let missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        missing.iter().cloned().collect()
    }

    /// The text for `key` with `{name}` placeholders replaced.
    pub fn format(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let mut text = self.get(lang, key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let map = match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        };
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    pub fn contains(&self, lang: Lang, key: &str) -> bool {
        match lang {
            Lang::Ja => self.ja.contains_key(key),
            Lang::En => self.en.contains_key(key),
        }
    }
}

fn merge(
    map: &mut HashMap<String, String>,
    text: &str,
    allow_override: bool,
) -> anyhow::Result<()> {
    let table: toml::Table = toml::from_str(text)?;
    let mut flat = Vec::new();
    flatten("", &toml::Value::Table(table), &mut flat)?;
    for (k, v) in flat {
        if !allow_override && map.contains_key(&k) {
            anyhow::bail!("key {k} is defined twice");
        }
        map.insert(k, v);
    }
    Ok(())
}

fn flatten(
    prefix: &str,
    value: &toml::Value,
    out: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out)?;
            }
            Ok(())
        }
        toml::Value::String(s) => {
            out.push((prefix.to_string(), s.clone()));
            Ok(())
        }
        other => anyhow::bail!("{prefix}: expected a string, found {}", other.type_str()),
    }
}

/// A catalogue and a language: what a page or a message needs to speak.
#[derive(Debug, Clone)]
pub struct Tr {
    catalogue: Arc<Catalogue>,
    lang: Lang,
}

impl Tr {
    pub fn new(catalogue: Arc<Catalogue>, lang: Lang) -> Tr {
        Tr { catalogue, lang }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// Whether `key` has a text (in this language or in Japanese).
    pub fn has(&self, key: &str) -> bool {
        self.catalogue.contains(self.lang, key) || self.catalogue.contains(Lang::Ja, key)
    }

    /// The text for `key`.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.catalogue.get(self.lang, key)
    }

    /// The text for `key` with placeholders replaced.
    pub fn f(&self, key: &str, args: &[(&str, String)]) -> String {
        self.catalogue.format(self.lang, key, args)
    }

    /// The text for `key` with its one placeholder `name` replaced (for templates).
    pub fn f1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.catalogue
            .format(self.lang, key, &[(name, value.to_string())])
    }

    /// The text for `key` with two placeholders replaced (for templates).
    pub fn f2(
        &self,
        key: &str,
        n1: &str,
        v1: impl std::fmt::Display,
        n2: &str,
        v2: impl std::fmt::Display,
    ) -> String {
        self.catalogue.format(
            self.lang,
            key,
            &[(n1, v1.to_string()), (n2, v2.to_string())],
        )
    }

    /// Picks the Japanese or the English of a bilingual value (English falls back to Japanese).
    pub fn pick<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::En if !en.is_empty() => en,
            _ => ja,
        }
    }

    /// The same catalogue in another language.
    pub fn with_lang(&self, lang: Lang) -> Tr {
        Tr {
            catalogue: self.catalogue.clone(),
            lang,
        }
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_flatten_and_english_falls_back_to_japanese() {
        let src = LocaleSource {
            ja: "[nav]\nhome = \"ホーム\"\n\"greet\" = \"{name}さん\"\nonly_ja = \"日本語だけ\"\n",
            en: "[nav]\nhome = \"Home\"\n\"greet\" = \"Hello {name}\"\n",
        };
        let cat = Catalogue::load(&[src], None).unwrap();
        assert_eq!(cat.get(Lang::Ja, "nav.home"), "ホーム");
        assert_eq!(cat.get(Lang::En, "nav.home"), "Home");
        assert_eq!(cat.get(Lang::En, "nav.only_ja"), "日本語だけ");
        assert_eq!(cat.get(Lang::En, "missing.key"), "missing.key");
        assert_eq!(
            cat.format(Lang::Ja, "nav.greet", &[("name", "山田".into())]),
            "山田さん"
        );
    }

    #[test]
    fn a_key_defined_by_two_crates_is_an_error_but_operators_may_override() {
        let a = LocaleSource {
            ja: "x = \"a\"",
            en: "x = \"a\"",
        };
        assert!(Catalogue::load(&[a, a], None).is_err());
        let dir = std::env::temp_dir().join(format!("madoguchi-i18n-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ja.toml"), "x = \"上書き\"").unwrap();
        let cat = Catalogue::load(&[a], Some(&dir)).unwrap();
        assert_eq!(cat.get(Lang::Ja, "x"), "上書き");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, ja;q=0.5, en;q=0.4"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }
}
