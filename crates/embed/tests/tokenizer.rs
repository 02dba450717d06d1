//! The tokenizer against Hugging Face `tokenizers` reading the same
//! `tokenizer.json`: the same ids for every question and entry of the FAQ
//! development set, for awkward text (special tokens, spaces, width
//! variants, combining marks, emoji sequences, characters outside the
//! vocabulary) and for generated text.
//!
//! Needs the model directory (`scripts/setup-model`); skipped without it
//! unless `MADOGUCHI_REQUIRE_MODEL=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn model_dir() -> Option<PathBuf> {
    let installed =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../var/models/multilingual-e5-small");
    let dir = std::env::var_os("MADOGUCHI_EMBED_MODEL")
        .map(PathBuf::from)
        .or_else(|| {
            installed
                .join("tokenizer.json")
                .is_file()
                .then_some(installed)
        });
    if dir.is_none() {
        assert!(
            std::env::var("MADOGUCHI_REQUIRE_MODEL").as_deref() != Ok("1"),
            "MADOGUCHI_REQUIRE_MODEL=1 but no model: run scripts/setup-model"
        );
        eprintln!("skipped: no model directory (scripts/setup-model)");
    }
    dir
}

struct Pair {
    ours: embed::Tokenizer,
    theirs: tokenizers::Tokenizer,
}

impl Pair {
    fn load() -> Option<Pair> {
        let path = model_dir()?.join("tokenizer.json");
        Some(Pair {
            ours: embed::Tokenizer::from_file(&path).unwrap(),
            theirs: tokenizers::Tokenizer::from_file(&path).unwrap(),
        })
    }

    fn check(&self, text: &str) -> Result<(), String> {
        let ours = self.ours.encode(text, usize::MAX).unwrap();
        let theirs = self
            .theirs
            .encode_fast(text, true)
            .unwrap()
            .get_ids()
            .to_vec();
        if ours == theirs {
            Ok(())
        } else {
            Err(format!("{text:?}: ours {ours:?}, tokenizers {theirs:?}"))
        }
    }
}

#[test]
fn the_same_ids_as_hugging_face_tokenizers() {
    let Some(pair) = Pair::load() else { return };
    let devset = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../faq/devset");
    let mut texts: Vec<String> = Vec::new();
    let queries = std::fs::read_to_string(devset.join("queries.tsv")).unwrap();
    for line in queries.lines() {
        if let Some((_, q)) = line.split_once('\t') {
            texts.push(format!("query: {q}"));
        }
    }
    let faq = std::fs::read_to_string(devset.join("faq.csv")).unwrap();
    for line in faq.lines() {
        texts.push(format!("passage: {line}"));
    }
    assert!(texts.len() > 500, "{}", texts.len());
    for awkward in [
        "",
        " ",
        "   ",
        "a",
        "  二つの  空白  ",
        "\t改行\nと\r\nタブ\t",
        "<s>",
        "</s>",
        "<pad><unk><mask>",
        "前<mask>後",
        "<s前",
        "ｼﾞﾄﾞｳｼｬｾﾞｲ",
        "ＡＢＣ　全角スペース　１２３",
        "①②③ ㈱ ㍻ ℡",
        "e\u{301} a\u{30a} が か\u{3099}",
        "👨\u{200d}👩\u{200d}👧 🇯🇵 👍🏽",
        "\u{200b}\u{200c}\u{feff}",
        "𠀋𡈽𩸽 𪚲",
        "한국어 ภาษาไทย العربية עברית",
        "\u{0}\u{1}\u{7f}\u{85}",
        "query: 自動車税の納付期限はいつですか",
        "https://www.pref.mie.lg.jp/ZEIMU/HP/000000.htm?a=1&b=2",
        "令和6年4月1日から令和7年3月31日まで",
    ] {
        texts.push(awkward.to_string());
    }
    let failures: Vec<String> = texts
        .iter()
        .filter_map(|t| pair.check(t).err())
        .take(10)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_same_ids_on_generated_text() {
    let Some(pair) = Pair::load() else { return };
    let text = prop_oneof![
        any::<String>(),
        "[ぁ-んァ-ヶ一-龥ｦ-ﾟ０-９Ａ-Ｚ　、。・ー]{0,40}",
        "[a-zA-Z0-9 .,!?<>/-]{0,40}",
        "[ \u{3000}\t\n]{0,5}[a-zあ-ん]{0,5}[ \u{3000}]{0,5}",
        prop::collection::vec(
            prop_oneof![
                Just("<s>".to_string()),
                Just("</s>".to_string()),
                Just("<mask>".to_string()),
                "[あ-んa-z ]{0,6}",
            ],
            0..6
        )
        .prop_map(|parts| parts.concat()),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&text, |t| {
            pair.check(&t)
                .map_err(proptest::test_runner::TestCaseError::fail)
        })
        .unwrap();
}
