//! Character n-gram keys and their posting lists: the candidates a term's
//! bigrams (or single character) allow, before the substring check.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::text::SEP;

fn bigram(a: char, b: char) -> u64 {
    ((a as u64) << 21) | b as u64
}

fn unigram(a: char) -> u64 {
    // 0x1F_FFFF is above every scalar value, so it never collides with a bigram.
    ((a as u64) << 21) | 0x1F_FFFF
}

/// Every distinct unigram and bigram of normalised document text; bigrams
/// do not span [`SEP`].
pub(super) fn doc_grams(all: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(all.len());
    let mut prev: Option<char> = None;
    for c in all.chars() {
        if c == SEP {
            prev = None;
            continue;
        }
        out.push(unigram(c));
        if let Some(p) = prev {
            out.push(bigram(p, c));
        }
        prev = Some(c);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The keys whose postings must all contain a document that contains `term`.
pub(super) fn term_grams(term: &str) -> Vec<u64> {
    let chars: Vec<char> = term.chars().collect();
    let mut out: Vec<u64> = match chars.as_slice() {
        [] => Vec::new(),
        [c] => vec![unigram(*c)],
        _ => chars
            .iter()
            .zip(chars.iter().skip(1))
            .map(|(a, b)| bigram(*a, *b))
            .collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// A small multiplicative hasher for the integer gram keys.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct GramHasher(u64);

impl Hasher for GramHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub(super) type Postings = HashMap<u64, Vec<u32>, BuildHasherDefault<GramHasher>>;

/// Intersects ascending slot lists, smallest first.
pub(super) fn intersect(mut lists: Vec<&[u32]>) -> Vec<u32> {
    lists.sort_by_key(|l| l.len());
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    let mut acc = first.to_vec();
    for l in rest {
        if acc.is_empty() {
            break;
        }
        if l.len() / 16 > acc.len() {
            // Much longer: binary search it.
            acc.retain(|x| l.binary_search(x).is_ok());
        } else {
            // Similar lengths: merge.
            let mut j = 0;
            acc.retain(|&x| {
                while l.get(j).is_some_and(|&y| y < x) {
                    j += 1;
                }
                l.get(j) == Some(&x)
            });
        }
    }
    acc
}
