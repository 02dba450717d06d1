//! The XLM-RoBERTa SentencePiece tokenizer of multilingual-e5-small, read
//! from the model's `tokenizer.json`: the precompiled `nmt_nfkc` normalizer
//! (run by `spm_precompiled`, which Hugging Face `tokenizers` also uses),
//! runs of spaces collapsed, `Metaspace` (`▁` for spaces, one in front),
//! Unigram segmentation by Viterbi, `<s> … </s>` around; special tokens in
//! the text (`<s>`, `</s>`, `<pad>`, `<unk>`, `<mask>`) are read as
//! themselves.
//!
//! Written here instead of loading Hugging Face `tokenizers`, which keeps a
//! trie of hash maps over the 250,002 pieces and left the server holding
//! about 250 MB more; here the pieces sit back to back in one string, with an
//! index sorted by their bytes (about 8 MB in all). The ids it gives are the
//! ones `tokenizers` gives: `tests/tokenizer.rs` compares both on the FAQ
//! development set and on generated text.

use std::path::Path;

use anyhow::{Context, Result, anyhow, ensure};
use serde::Deserialize;

/// What a Unigram model adds to the lowest piece score for an unknown character.
const UNKNOWN_PENALTY: f64 = 10.0;
/// Metaspace's stand-in for a space.
const SPACE: char = '\u{2581}';

/// A tokenizer for one model: immutable once loaded and thread-safe.
pub struct Tokenizer {
    normalizer: spm_precompiled::Precompiled,
    /// Every piece's bytes, back to back.
    arena: String,
    /// Per id: where its piece is in `arena`, and its score.
    pieces: Vec<Piece>,
    /// Ids in the byte order of their pieces (for prefix searches).
    sorted: Vec<u32>,
    /// The longest piece, in bytes.
    longest: usize,
    unk_id: u32,
    unk_score: f64,
    /// Special tokens matched in the raw text, longest first.
    special: Vec<(String, u32)>,
    bos_id: u32,
    eos_id: u32,
    pad_id: u32,
}

#[derive(Clone, Copy)]
struct Piece {
    start: u32,
    len: u16,
    score: f64,
}

#[derive(Deserialize)]
struct File {
    normalizer: Option<NormalizerFile>,
    model: ModelFile,
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

#[derive(Deserialize)]
struct NormalizerFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    normalizers: Vec<NormalizerFile>,
    #[serde(default)]
    precompiled_charsmap: Option<String>,
}

#[derive(Deserialize)]
struct ModelFile {
    #[serde(rename = "type")]
    kind: String,
    unk_id: Option<u32>,
    vocab: Vec<(String, f64)>,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
    #[serde(default)]
    special: bool,
}

fn charsmap(n: &NormalizerFile) -> Option<&str> {
    if n.kind == "Precompiled" {
        return n.precompiled_charsmap.as_deref();
    }
    n.normalizers.iter().find_map(charsmap)
}

impl Tokenizer {
    /// Reads a Hugging Face `tokenizer.json` of a SentencePiece Unigram model.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: File =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        drop(text);
        ensure!(
            file.model.kind == "Unigram",
            "{}: a {} model, not Unigram",
            path.display(),
            file.model.kind
        );
        let map = file
            .normalizer
            .as_ref()
            .and_then(charsmap)
            .context("tokenizer.json: no precompiled normalizer")?;
        use base64::Engine as _;
        let map = base64::engine::general_purpose::STANDARD
            .decode(map)
            .context("tokenizer.json: the precompiled charsmap is not base64")?;
        let normalizer = spm_precompiled::Precompiled::from(&map)
            .map_err(|e| anyhow!("tokenizer.json: precompiled charsmap: {e}"))?;

        let vocab = file.model.vocab;
        let mut arena = String::with_capacity(vocab.iter().map(|(p, _)| p.len()).sum());
        let mut pieces = Vec::with_capacity(vocab.len());
        let mut longest = 0;
        let mut min_score = f64::INFINITY;
        for (piece, score) in &vocab {
            let start = u32::try_from(arena.len()).context("tokenizer.json: pieces too long")?;
            let len = u16::try_from(piece.len()).context("tokenizer.json: a piece too long")?;
            arena.push_str(piece);
            pieces.push(Piece {
                start,
                len,
                score: *score,
            });
            longest = longest.max(piece.len());
            min_score = min_score.min(*score);
        }
        drop(vocab);
        let count = u32::try_from(pieces.len()).context("tokenizer.json: too many pieces")?;
        let mut sorted: Vec<u32> = (0..count).collect();
        let bytes_of = |id: u32| piece_bytes(&arena, &pieces, id);
        sorted.sort_by(|a, b| bytes_of(*a).cmp(bytes_of(*b)));

        let mut special: Vec<(String, u32)> = file
            .added_tokens
            .into_iter()
            .filter(|t| t.special && !t.content.is_empty())
            .map(|t| (t.content, t.id))
            .collect();
        special.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        let id = |token: &str| {
            special
                .iter()
                .find(|(c, _)| c == token)
                .map(|(_, id)| *id)
                .with_context(|| format!("tokenizer has no {token}"))
        };
        let (bos_id, eos_id, pad_id) = (id("<s>")?, id("</s>")?, id("<pad>")?);
        let unk_id = file.model.unk_id.context("tokenizer.json: no unk_id")?;
        Ok(Self {
            normalizer,
            arena,
            pieces,
            sorted,
            longest,
            unk_id,
            unk_score: min_score - UNKNOWN_PENALTY,
            special,
            bos_id,
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
        let mut ids = vec![self.bos_id];
        let mut rest = text;
        while !rest.is_empty() {
            match self.next_special(rest) {
                Some((at, content, id)) => {
                    let (before, after) = rest.split_at(at);
                    self.encode_section(before, &mut ids);
                    ids.push(id);
                    rest = after.get(content..).unwrap_or("");
                }
                None => {
                    self.encode_section(rest, &mut ids);
                    rest = "";
                }
            }
        }
        ids.push(self.eos_id);
        let max_len = max_len.max(2);
        if ids.len() > max_len {
            ids.truncate(max_len - 1);
            ids.push(self.eos_id);
        }
        Ok(ids)
    }

    /// The first special token in `text`: (byte offset, length, id); the
    /// longest where several start at the same place.
    fn next_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        self.special
            .iter()
            .filter_map(|(content, id)| {
                text.find(content.as_str())
                    .map(|at| (at, content.len(), *id))
            })
            .min_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
    }

    /// Normalises, splits into words at spaces and segments each word.
    fn encode_section(&self, section: &str, out: &mut Vec<u32>) {
        if section.is_empty() {
            return;
        }
        let normalized = self.normalizer.normalize_string(section);
        // Runs of spaces become one.
        let mut text = String::with_capacity(normalized.len() + 3);
        text.push(SPACE);
        let mut last_space = false;
        for c in normalized.chars() {
            if c == ' ' {
                if !last_space {
                    text.push(SPACE);
                }
                last_space = true;
            } else {
                text.push(c);
                last_space = false;
            }
        }
        // One ▁ is put in front unless the text already starts with one.
        let text = if text
            .get(SPACE.len_utf8()..)
            .is_some_and(|t| t.starts_with(SPACE))
        {
            text.get(SPACE.len_utf8()..).unwrap_or_default().to_string()
        } else {
            text
        };
        // Each word starts at a ▁ and runs to the next one.
        let mut start = 0;
        for (i, c) in text.char_indices().skip(1) {
            if c == SPACE {
                self.segment(text.get(start..i).unwrap_or_default(), out);
                start = i;
            }
        }
        self.segment(text.get(start..).unwrap_or_default(), out);
    }

    /// The best segmentation of one word (Viterbi over the pieces that match
    /// at each character); characters no piece covers are `<unk>`, one for a
    /// run of them.
    fn segment(&self, word: &str, out: &mut Vec<u32>) {
        if word.is_empty() {
            return;
        }
        let n = word.len();
        // best[end]: (score, start, id) of the best path ending at byte `end`.
        let mut best: Vec<Option<(f64, usize, u32)>> = vec![None; n + 1];
        let mut starts = word.char_indices().map(|(i, _)| i).peekable();
        while let Some(start) = starts.next() {
            let here = if start == 0 {
                0.0
            } else {
                match best.get(start).copied().flatten() {
                    Some((score, _, _)) => score,
                    None => continue,
                }
            };
            let next_char = starts.peek().copied().unwrap_or(n);
            let mut single = false;
            self.pieces_at(word, start, |end, id, score| {
                if end == next_char {
                    single = true;
                }
                let candidate = here + score;
                if let Some(slot) = best.get_mut(end)
                    && slot.is_none_or(|(s, _, _)| candidate > s)
                {
                    *slot = Some((candidate, start, id));
                }
            });
            if !single {
                let candidate = here + self.unk_score;
                if let Some(slot) = best.get_mut(next_char)
                    && slot.is_none_or(|(s, _, _)| candidate > s)
                {
                    *slot = Some((candidate, start, self.unk_id));
                }
            }
        }
        let mut path = Vec::new();
        let mut end = n;
        while end > 0 {
            let Some((_, start, id)) = best.get(end).copied().flatten() else {
                return;
            };
            path.push(id);
            end = start;
        }
        path.reverse();
        // Unknown characters in a row are one <unk>.
        let mut previous_unknown = false;
        for id in path {
            let unknown = id == self.unk_id;
            if !(unknown && previous_unknown) {
                out.push(id);
            }
            previous_unknown = unknown;
        }
    }

    /// Calls `found(end, id, score)` for every piece that `word[start..]`
    /// begins with, shortest first.
    fn pieces_at(&self, word: &str, start: usize, mut found: impl FnMut(usize, u32, f64)) {
        let Some(rest) = word.get(start..) else {
            return;
        };
        let (mut lo, mut hi) = (0, self.sorted.len());
        for (offset, c) in rest.char_indices() {
            let end = offset + c.len_utf8();
            if end > self.longest {
                break;
            }
            let Some(prefix) = rest.get(..end) else { break };
            let prefix = prefix.as_bytes();
            // The ids whose pieces begin with `prefix` (a sub-range of the last one).
            let window = self.sorted.get(lo..hi).unwrap_or_default();
            let first = window.partition_point(|id| self.bytes(*id) < prefix);
            let after = window.partition_point(|id| {
                let piece = self.bytes(*id);
                piece
                    .get(..prefix.len())
                    .map_or(piece < prefix, |head| head <= prefix)
            });
            hi = lo + after;
            lo += first;
            if lo >= hi {
                break;
            }
            if let Some(&id) = self.sorted.get(lo)
                && self.bytes(id) == prefix
                && let Some(piece) = self.pieces.get(id as usize)
            {
                found(start + end, id, piece.score);
            }
        }
    }

    fn bytes(&self, id: u32) -> &[u8] {
        piece_bytes(&self.arena, &self.pieces, id)
    }
}

fn piece_bytes<'a>(arena: &'a str, pieces: &[Piece], id: u32) -> &'a [u8] {
    pieces
        .get(id as usize)
        .and_then(|p| {
            arena
                .as_bytes()
                .get(p.start as usize..p.start as usize + usize::from(p.len))
        })
        .unwrap_or_default()
}
