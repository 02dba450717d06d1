//! Query latency and passage throughput of the embedder.
//!
//! `cargo run --release -p madoguchi-embed --example latency -- var/models/multilingual-e5-small`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use embed::Embedder;

const QUERIES: &[&str] = &[
    "自動車税の納付期限はいつですか",
    "住民票の写しが欲しい",
    "粗大ごみの出し方",
    "マイナンバーカードの暗証番号を忘れた",
    "児童手当の申請に必要な書類は何ですか",
    "引っ越したときの手続き",
    "How do I get a residence certificate?",
    "保育園の入園申し込みの締め切りと必要書類、第一希望に入れなかった場合はどうなりますか",
];

const PASSAGE: &str = "自動車税（種別割）の納期限は、原則として毎年5月31日です。納税通知書は5月上旬に送付されますので、\
    金融機関やコンビニエンスストア、スマートフォン決済アプリで納めてください。納期限を過ぎると延滞金がかかる場合があります。\
    住所や氏名が変わったときは、運輸支局で変更の手続きをしてください。";

/// CPU time of the whole process so far (Linux), to tell own work from
/// waiting on a busy machine.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "var/models/multilingual-e5-small".into()),
    );
    let t = Instant::now();
    let embedder = Embedder::load(&dir)?;
    println!("load: {:.2?}", t.elapsed());

    for q in QUERIES {
        embedder.embed_query(q)?;
    }
    let mut times = Vec::new();
    let cpu0 = process_cpu_time();
    for round in 0..25 {
        for q in QUERIES {
            let t = Instant::now();
            let v = embedder.embed_query(q)?;
            times.push(t.elapsed());
            if round == 0 && v.len() != 384 {
                anyhow::bail!("unexpected dimension {}", v.len());
            }
        }
    }
    let cpu = cpu0
        .zip(process_cpu_time())
        .map(|(a, b)| (b - a) / times.len() as u32);
    let wall: Duration = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort();
    let tokens = QUERIES
        .iter()
        .map(|q| {
            Ok(embedder
                .tokenizer()
                .encode(&format!("query: {q}"), 64)?
                .len())
        })
        .collect::<anyhow::Result<Vec<usize>>>()?;
    println!(
        "query ({} runs, {}–{} tokens): p50 {:.2?}  p90 {:.2?}  p99 {:.2?}  max {:.2?}",
        times.len(),
        tokens.iter().min().unwrap_or(&0),
        tokens.iter().max().unwrap_or(&0),
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or_default()
    );
    if let Some(cpu) = cpu {
        println!("query: mean wall {wall:.2?}, mean CPU time (all threads) {cpu:.2?}");
    }

    // Passages of mixed length, as an FAQ index would have.
    let passages: Vec<String> = (0..64)
        .map(|i| {
            let n = 20 + (i * 37) % 300;
            let mut s: String = PASSAGE.chars().cycle().skip(i * 7).take(n).collect();
            s.push_str(&format!("（{i}）"));
            s
        })
        .collect();
    let refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let mut tokens = 0;
    for p in &refs {
        tokens += embedder
            .tokenizer()
            .encode(&format!("passage: {p}"), 256)?
            .len();
    }
    embedder.embed_passages(refs.get(..8).unwrap_or(&refs))?;
    let t = Instant::now();
    let out = embedder.embed_passages(&refs)?;
    let el = t.elapsed();
    println!(
        "passages: {} texts, {} tokens in {:.2?}: {:.1} passages/s, {:.0} tokens/s",
        out.len(),
        tokens,
        el,
        out.len() as f64 / el.as_secs_f64(),
        tokens as f64 / el.as_secs_f64()
    );
    Ok(())
}
