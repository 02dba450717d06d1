//! Text analysis for retrieval: Japanese morphological analysis (IPADIC through
//! vibrato) keeping content words in their base form, character bigrams of the
//! normalised text, and bigrams of the words' readings (so that a question typed
//! in kana, or with a kanji of the same sound misspelt, still meets the entry);
//! a small English analyser for entries' English versions.
//!
//! The dictionary is IPADIC's source (`scripts/setup-dictionary` installs it);
//! it is compiled on first use (about 2 s) and the compiled form is kept next to
//! the source (`system.dic`) or, if that directory is read-only, in the cache
//! directory given. Without a dictionary the analyser still works, on character
//! bigrams only, and says so ([`Analyzer::mode`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use unicode_normalization::UnicodeNormalization;

/// At most this many characters of a text are analysed (a 10,000-character
/// question is answered from its beginning).
pub const MAX_ANALYSED_CHARS: usize = 2_000;

/// The IPADIC lexicon files, in the order MeCab's build reads them.
const LEXICON_FILES: &[&str] = &[
    "Adj.csv",
    "Adnominal.csv",
    "Adverb.csv",
    "Auxil.csv",
    "Conjunction.csv",
    "Filler.csv",
    "Interjection.csv",
    "Noun.adjv.csv",
    "Noun.adverbal.csv",
    "Noun.csv",
    "Noun.demonst.csv",
    "Noun.nai.csv",
    "Noun.name.csv",
    "Noun.number.csv",
    "Noun.org.csv",
    "Noun.others.csv",
    "Noun.place.csv",
    "Noun.proper.csv",
    "Noun.verbal.csv",
    "Others.csv",
    "Postp-col.csv",
    "Postp.csv",
    "Prefix.csv",
    "Suffix.csv",
    "Symbol.csv",
    "Verb.csv",
];

/// Verbs and adjectives that carry the grammar of a question, not its topic.
const STOP_WORDS: &[&str] = &[
    "する",
    "ある",
    "いる",
    "なる",
    "できる",
    "いう",
    "おる",
    "くる",
    "くださる",
    "いただく",
    "もらう",
    "くれる",
    "しまう",
    "ない",
    "よい",
    "いい",
    "思う",
    "知る",
    "教える",
    "わかる",
    "分かる",
    "れる",
    "られる",
    "せる",
    "させる",
    "ござる",
    "ほしい",
    "欲しい",
    "たい",
];

/// The analyser. Cheap to clone (the dictionary is shared).
#[derive(Clone)]
pub struct Analyzer {
    tokenizer: Option<Arc<vibrato::Tokenizer>>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("morphological", &self.tokenizer.is_some())
            .finish()
    }
}

/// What a text becomes for the Japanese index.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Analysis {
    /// Content words in base form.
    pub words: Vec<String>,
    /// Character bigrams of the normalised text (kana unified to hiragana).
    pub grams: Vec<String>,
    /// Bigrams of the readings (katakana) of the words that are not particles.
    pub reading_grams: Vec<String>,
}

impl Analyzer {
    /// An analyser without a dictionary: character bigrams only.
    pub fn bigrams_only() -> Analyzer {
        Analyzer { tokenizer: None }
    }

    /// Loads (compiling if needed) the dictionary at `source`: a directory of
    /// IPADIC's source files, or a compiled `system.dic`. The compiled form is
    /// written next to the source, or into `cache_dir` if that fails. Analysers
    /// are shared per path within the process.
    pub fn load(source: &Path, cache_dir: Option<&Path>) -> anyhow::Result<Analyzer> {
        static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<vibrato::Tokenizer>>>> = OnceLock::new();
        let key = source
            .canonicalize()
            .unwrap_or_else(|_| source.to_path_buf());
        let mut loaded = LOADED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(t) = loaded.get(&key) {
            return Ok(Analyzer {
                tokenizer: Some(t.clone()),
            });
        }
        let dict = load_dictionary(&key, cache_dir)?;
        let tokenizer = Arc::new(vibrato::Tokenizer::new(dict).ignore_space(true)?);
        loaded.insert(key, tokenizer.clone());
        Ok(Analyzer {
            tokenizer: Some(tokenizer),
        })
    }

    /// `"morphological"` with a dictionary, `"bigram"` without.
    pub fn mode(&self) -> &'static str {
        if self.tokenizer.is_some() {
            "morphological"
        } else {
            "bigram"
        }
    }

    /// The reading of a whole text in katakana (車椅子 → クルマイス), every
    /// word's reading in order; words the dictionary does not know keep their
    /// letters. None without a dictionary.
    pub fn reading(&self, text: &str) -> Option<String> {
        let tokenizer = self.tokenizer.as_ref()?;
        let text = normalise(text);
        let mut worker = tokenizer.new_worker();
        worker.reset_sentence(text.as_str());
        worker.tokenize();
        let mut out = String::new();
        for i in 0..worker.num_tokens() {
            let token = worker.token(i);
            let reading = token
                .feature()
                .split(',')
                .nth(7)
                .filter(|r| *r != "*" && !r.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| to_katakana(token.surface()));
            out.push_str(&reading);
        }
        Some(out)
    }

    /// Analyses a Japanese (or mixed) text.
    pub fn analyse(&self, text: &str) -> Analysis {
        let text = normalise(text);
        let mut out = Analysis {
            grams: char_bigrams(&text, true),
            ..Analysis::default()
        };
        let Some(tokenizer) = &self.tokenizer else {
            return out;
        };
        let mut worker = tokenizer.new_worker();
        worker.reset_sentence(text.as_str());
        worker.tokenize();
        let mut reading = String::new();
        for i in 0..worker.num_tokens() {
            let token = worker.token(i);
            let surface = token.surface();
            let feature: Vec<&str> = token.feature().split(',').collect();
            let pos = feature.first().copied().unwrap_or("");
            let pos2 = feature.get(1).copied().unwrap_or("");
            let base = feature
                .get(6)
                .copied()
                .filter(|b| *b != "*" && !b.is_empty())
                .unwrap_or(surface);
            let content = match pos {
                "名詞" => !matches!(pos2, "非自立" | "代名詞" | "特殊"),
                "動詞" | "形容詞" => pos2 == "自立" && !STOP_WORDS.contains(&base),
                "接頭詞" | "副詞" | "連体詞" | "接続詞" | "助詞" | "助動詞" | "記号"
                | "フィラー" | "感動詞" => false,
                _ => surface.chars().any(char::is_alphanumeric),
            };
            if content && surface.chars().any(char::is_alphanumeric) {
                out.words.push(base.to_string());
            }
            if matches!(pos, "助詞" | "助動詞" | "記号") {
                extend_bigrams(&mut out.reading_grams, &reading);
                reading.clear();
            } else {
                let r = feature
                    .get(7)
                    .copied()
                    .filter(|r| *r != "*" && !r.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| to_katakana(surface));
                reading.extend(r.chars().filter(|c| c.is_alphanumeric()));
            }
        }
        extend_bigrams(&mut out.reading_grams, &reading);
        out
    }
}

fn load_dictionary(source: &Path, cache_dir: Option<&Path>) -> anyhow::Result<vibrato::Dictionary> {
    use anyhow::Context;
    if source.is_file() {
        let file =
            std::fs::File::open(source).with_context(|| format!("opening {}", source.display()))?;
        return Ok(vibrato::Dictionary::read(std::io::BufReader::new(file))?);
    }
    let compiled_next = source.join("system.dic");
    let compiled_cache = cache_dir.map(|d| d.join("ipadic-system.dic"));
    for candidate in std::iter::once(&compiled_next).chain(compiled_cache.as_ref()) {
        if candidate.is_file() {
            let file = std::fs::File::open(candidate)?;
            match vibrato::Dictionary::read(std::io::BufReader::new(file)) {
                Ok(d) => return Ok(d),
                Err(e) => {
                    tracing::warn!(path = %candidate.display(), error = %e, "compiled dictionary unreadable, recompiling")
                }
            }
        }
    }
    let started = std::time::Instant::now();
    let mut lexicon = Vec::new();
    for name in LEXICON_FILES {
        let path = source.join(name);
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (install the dictionary with scripts/setup-dictionary)",
                path.display()
            )
        })?;
        lexicon.extend_from_slice(&bytes);
        if !lexicon.ends_with(b"\n") {
            lexicon.push(b'\n');
        }
    }
    let open = |name: &str| {
        std::fs::File::open(source.join(name))
            .with_context(|| format!("opening {}", source.join(name).display()))
    };
    let dict = vibrato::SystemDictionaryBuilder::from_readers(
        lexicon.as_slice(),
        std::io::BufReader::new(open("matrix.def")?),
        std::io::BufReader::new(open("char.def")?),
        std::io::BufReader::new(open("unk.def")?),
    )?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "compiled the IPADIC dictionary"
    );
    // Keep the compiled form: next to the source if we may, else in the cache.
    let write = |path: &Path| -> anyhow::Result<()> {
        let tmp = path.with_extension(format!("dic.{}.tmp", std::process::id()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        dict.write(&mut file)?;
        use std::io::Write;
        file.flush()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        Ok(())
    };
    if write(&compiled_next).is_err()
        && let Some(cache) = &compiled_cache
    {
        if let Some(parent) = cache.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = write(cache) {
            tracing::warn!(error = %e, "could not keep the compiled dictionary");
        }
    }
    Ok(dict)
}

/// NFKC, lower case, at most [`MAX_ANALYSED_CHARS`] characters, control
/// characters dropped.
pub fn normalise(text: &str) -> String {
    text.chars()
        .take(MAX_ANALYSED_CHARS)
        .collect::<String>()
        .nfkc()
        .map(|c| if c.is_control() { ' ' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Katakana to hiragana (other characters unchanged).
pub fn to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// Hiragana to katakana.
pub fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Bigrams of each run of letters and digits (a run of one gives itself).
fn char_bigrams(text: &str, unify_kana: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            run.push(if unify_kana { to_hiragana(c) } else { c });
        } else {
            extend_bigrams(&mut out, &run);
            run.clear();
        }
    }
    extend_bigrams(&mut out, &run);
    out
}

fn extend_bigrams(out: &mut Vec<String>, run: &str) {
    let chars: Vec<char> = run.chars().collect();
    match chars.as_slice() {
        [] => {}
        [c] => out.push(c.to_string()),
        _ => out.extend(chars.windows(2).map(|w| w.iter().collect())),
    }
}

const ENGLISH_STOP: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "by", "with", "from", "is",
    "are", "was", "be", "can", "could", "do", "does", "did", "i", "my", "me", "we", "you", "your",
    "it", "its", "this", "that", "there", "what", "how", "where", "when", "which", "who", "if",
    "will", "would", "should", "please", "any", "about", "as", "have", "has", "get", "need",
    "want", "am", "not", "no", "so", "than", "then", "them", "they",
];

/// English words: lower case, stop words dropped, a plural `s` stripped.
pub fn analyse_english(text: &str) -> Vec<String> {
    normalise(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !ENGLISH_STOP.contains(w))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if w.len() > 3 && !w.ends_with("ss") => stem.to_string(),
            _ => w.to_string(),
        })
        .collect()
}

/// Whether a question is written in English (mostly Latin letters).
pub fn is_english(text: &str) -> bool {
    let (mut latin, mut other) = (0usize, 0usize);
    for c in text.chars().take(MAX_ANALYSED_CHARS) {
        if c.is_ascii_alphabetic() {
            latin += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    latin > 0 && latin >= other * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_unify_kana_and_split_runs() {
        assert_eq!(char_bigrams("ゴミ出し", true), vec!["ごみ", "み出", "出し"]);
        assert_eq!(char_bigrams("税 a", true), vec!["税", "a"]);
    }

    #[test]
    fn english_detection() {
        assert!(is_english("Where can I use free Wi-Fi?"));
        assert!(!is_english("Wi-Fiはどこで使えますか"));
        assert!(!is_english("🚗🚗"));
    }

    #[test]
    fn english_words() {
        assert_eq!(analyse_english("Where are the lockers?"), vec!["locker"]);
    }
}
