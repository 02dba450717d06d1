//! Resident memory of the embedder's parts, for keeping the server small:
//! `cargo run -p madoguchi-embed --example memory [model dir]`.

#![allow(clippy::unwrap_used, reason = "a developer's measuring tool")]

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let dir = std::env::args().nth(1).map_or_else(
        || std::path::PathBuf::from("var/models/multilingual-e5-small"),
        Into::into,
    );
    println!("start: {:.0} MB", rss_mb());
    let tokenizer = embed::Tokenizer::from_file(&dir.join("tokenizer.json")).unwrap();
    println!("tokenizer loaded: {:.0} MB", rss_mb());
    drop(tokenizer);
    println!("tokenizer dropped: {:.0} MB", rss_mb());
    let e = embed::Embedder::load(&dir).unwrap();
    println!("embedder loaded: {:.0} MB", rss_mb());
    for i in 0..50 {
        e.embed_query(&format!("自動車税の納付期限はいつですか {i}"))
            .unwrap();
    }
    println!("after 50 queries: {:.0} MB", rss_mb());
}
