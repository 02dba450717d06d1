//! `madoguchi-bench opendata`: CKAN's `package_search` over HTTP with 10,000
//! datasets, as a harvester or an app sends it: a Japanese free-text `q`, two
//! filters (`fq` by publisher and `fq_list` by format), five facet fields and
//! 10 rows. Sequential requests (latency, not throughput), on SQLite and
//! PostgreSQL; prints p50, p90, p99 and max per run, and the median of the runs.
//!
//! `cargo run --release -p madoguchi-bench -- opendata`

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opendata::model::{self, Dataset, Organization, Resource};
use platform::db::Backend;

use crate::support::{Scratch, urlencode};

const PLACES: &[&str] = &[
    "津市",
    "四日市市",
    "伊勢市",
    "松阪市",
    "桑名市",
    "鈴鹿市",
    "名張市",
    "尾鷲市",
    "亀山市",
    "鳥羽市",
    "熊野市",
    "いなべ市",
    "志摩市",
    "伊賀市",
    "富山市",
    "高岡市",
    "福島市",
    "郡山市",
];
const THEMES: &[&str] = &[
    "公園",
    "子育て支援施設",
    "AED設置箇所",
    "指定緊急避難場所",
    "観光施設",
    "図書館",
    "公衆トイレ",
    "文化財",
    "医療機関",
    "介護サービス事業所",
    "地域・年齢別人口",
    "ごみ収集日",
    "バス停留所",
    "投票所",
    "イベント",
    "給水拠点",
    "消防水利",
    "保育所",
    "学校",
    "公民館",
];
const SUFFIXES: &[&str] = &["一覧", "統計", "位置情報", "年報", "データ"];
const TAGS: &[&str] = &[
    "公園",
    "子育て",
    "防災",
    "観光",
    "福祉",
    "人口",
    "統計",
    "施設",
    "医療",
    "環境",
    "交通",
    "教育",
    "海",
    "山",
    "川",
    "自治体標準ODS",
    "位置情報",
    "イベント",
    "文化",
    "健康",
];
const FORMATS: &[&str] = &["CSV", "PDF", "XLSX", "JSON", "ZIP"];
const LICENCES: &[&str] = &["cc-by-4.0", "pdl-1.0", "gov-jp-2.0", "cc-zero"];
const SENTENCES: &[&str] = &[
    "このデータは市町村が保有する情報を機械判読に適した形式で公開するものです。",
    "施設の名称、所在地、緯度経度、電話番号、利用可能な曜日と時間を掲載しています。",
    "毎年4月1日時点の情報に更新します。",
    "内容に誤りを見つけた場合は担当課までご連絡ください。",
    "二次利用にあたっては出典を明記してください。",
    "地図アプリやナビゲーションサービスでの利用を想定しています。",
    "災害時の避難行動に役立つよう、バリアフリー情報も含めています。",
    "統計表は年度ごとに集計し、前年度との比較ができるようにしています。",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The benchmark's datasets: realistic Japanese titles, notes, tags and resources.
fn dataset(i: usize, rng: &mut Rng, publishers: &[Organization], groups: &[String]) -> Dataset {
    let place = rng.pick(PLACES);
    let theme = rng.pick(THEMES);
    let title = format!(
        "{place}{theme}{}（{}年度）",
        rng.pick(SUFFIXES),
        2015 + rng.below(11)
    );
    let mut notes = format!("{place}の{theme}に関するデータです。");
    while notes.chars().count() < 280 {
        notes.push_str(rng.pick(SENTENCES));
    }
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..3 + rng.below(4) {
        let t = rng.pick(TAGS).to_string();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let id = model::new_id();
    let now = chrono::Utc::now() - chrono::Duration::minutes(rng.below(5_000_000) as i64);
    let when = model::ckan_time(now);
    let resources = (0..1 + rng.below(5))
        .map(|k| {
            let format = rng.pick(FORMATS);
            Resource {
                id: model::new_id(),
                dataset_id: id.clone(),
                position: k as i64,
                name: format!("{title} {format}"),
                description: String::new(),
                format: format.into(),
                mimetype: String::new(),
                url: format!(
                    "https://opendata.example.jp/files/{i}-{k}.{}",
                    format.to_lowercase()
                ),
                url_type: String::new(),
                file_key: None,
                size: Some(rng.below(1_000_000) as i64),
                hash: String::new(),
                extras: Default::default(),
                created_at: when.clone(),
                modified_at: when.clone(),
            }
        })
        .collect();
    Dataset {
        id,
        name: format!("bench-{i:05}"),
        title,
        notes,
        owner_org: publishers[(rng.next() as usize) % publishers.len()]
            .id
            .clone(),
        license_id: rng.pick(LICENCES).into(),
        author: String::new(),
        author_email: String::new(),
        maintainer: format!("{place} 情報政策課"),
        maintainer_email: String::new(),
        url: String::new(),
        version: String::new(),
        private: false,
        state: "active".into(),
        tags,
        group_ids: vec![groups[(rng.next() as usize) % groups.len()].clone()],
        extras: vec![("update_frequency".into(), "年1回".into())],
        creator_user_id: String::new(),
        publisher_key: None,
        created_at: when.clone(),
        modified_at: when,
        resources,
    }
}

pub fn run(
    server_rt: &tokio::runtime::Runtime,
    client_rt: &tokio::runtime::Runtime,
    backend: Backend,
    scratch: &Scratch,
    datasets: usize,
    requests: usize,
    runs: usize,
) -> anyhow::Result<()> {
    println!("\n== {backend:?} ==");
    let config = platform::config::Config {
        data_dir: scratch.dir.clone(),
        database_url: Some(platform::config::Secret::new(scratch.url.clone())),
        db_max_connections: 16,
        ..Default::default()
    };
    let seeded = Instant::now();
    let (base, publisher_names) = server_rt.block_on(async {
        let app = madoguchi::app::build(config).await?;
        madoguchi::demo::load(&app.platform.db, &app.platform.keys).await?;
        let db = &app.platform.db;
        // Publishers under the demo's local governments, and groups.
        let mut publishers = Vec::new();
        for org in platform::orgs::list_organisations(db).await? {
            publishers.push(opendata::service::publishers::default_publisher(db, &org).await?);
            for section in ["kikaku", "toukei"] {
                let o = Organization {
                    id: model::new_id(),
                    name: format!("lg-{}-{section}", org.code),
                    title: format!("{} {section}", org.name),
                    description: String::new(),
                    image_url: String::new(),
                    organisation_id: org.id,
                    state: "active".into(),
                    created_at: model::now(),
                };
                let mut tx = db.begin().await?;
                opendata::store::insert_organization(&mut tx, &o).await?;
                tx.commit().await?;
                publishers.push(o);
            }
        }
        let mut groups = Vec::new();
        for (name, title) in [
            ("kosodate", "子育て"),
            ("bousai", "防災"),
            ("kanko", "観光"),
            ("shisetsu", "公共施設"),
            ("toukei", "統計"),
        ] {
            let g = model::Group {
                id: model::new_id(),
                name: name.into(),
                title: title.into(),
                description: String::new(),
                image_url: String::new(),
                state: "active".into(),
                created_at: model::now(),
            };
            let mut tx = db.begin().await?;
            opendata::store::insert_group(&mut tx, &g).await?;
            tx.commit().await?;
            groups.push(g.id);
        }
        let mut rng = Rng(20261122);
        let mut i = 0;
        while i < datasets {
            let mut tx = db.begin().await?;
            let seq = opendata::store::bump(&mut tx).await?;
            for _ in 0..500.min(datasets - i) {
                let d = dataset(i, &mut rng, &publishers, &groups);
                opendata::store::save_dataset(&mut tx, &d, seq, true).await?;
                i += 1;
            }
            tx.commit().await?;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        tokio::spawn(madoguchi::app::serve(
            app.clone(),
            listener,
            std::future::pending(),
        ));
        let names: Vec<String> = publishers.iter().map(|p| p.name.clone()).collect();
        Ok::<_, anyhow::Error>((base, names))
    })?;
    println!(
        "seeded {datasets} datasets in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |path: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let req = hyper::Request::get(format!("{base}{path}")).body(Full::new(Bytes::new()))?;
            let t = Instant::now();
            let res = client.request(req).await?;
            let status = res.status();
            let body = res.into_body().collect().await?.to_bytes();
            anyhow::ensure!(
                status == hyper::StatusCode::OK,
                "{status}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok::<_, anyhow::Error>((t.elapsed(), body))
        }
    };
    let queries = [
        "公園",
        "子育て 施設",
        "避難場所",
        "観光 一覧",
        "人口 統計",
        "図書館",
        "バス 位置情報",
        "保育所",
    ];
    let facets = urlencode(r#"["organization","groups","tags","res_format","license_id"]"#);
    let path = |n: usize| {
        format!(
            "/api/3/action/package_search?q={}&fq={}&fq_list={}&facet.field={facets}&rows=10",
            urlencode(queries[n % queries.len()]),
            urlencode(&format!(
                "organization:{}",
                publisher_names[n % publisher_names.len()]
            )),
            urlencode("res_format:CSV"),
        )
    };
    client_rt.block_on(async {
        // The first request loads the catalogue into memory.
        let (cold, body) = get(path(0)).await?;
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        println!(
            "first request (loads {} datasets into memory): {:.0} ms; it found {} datasets",
            datasets,
            cold.as_secs_f64() * 1000.0,
            v["result"]["count"]
        );
        // How many each query finds (so that the work is visible).
        let mut found = Vec::new();
        for n in 0..queries.len() {
            let (_, body) = get(path(n)).await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            found.push(v["result"]["count"].as_u64().unwrap_or(0));
        }
        println!("matches per query (q + 2 filters): {found:?}");
        let mut p99s = Vec::new();
        let mut p50s = Vec::new();
        for run in 1..=runs {
            let mut times: Vec<Duration> = Vec::with_capacity(requests);
            for n in 0..requests {
                let (t, _) = get(path(n)).await?;
                times.push(t);
            }
            times.sort();
            let pct = |p: f64| {
                times[((times.len() as f64 * p).ceil() as usize).saturating_sub(1).min(times.len() - 1)]
                    .as_secs_f64()
                    * 1000.0
            };
            println!(
                "run {run}: {requests} requests  p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
                pct(0.50),
                pct(0.90),
                pct(0.99),
                pct(1.0)
            );
            p50s.push(pct(0.5));
            p99s.push(pct(0.99));
        }
        p50s.sort_by(f64::total_cmp);
        p99s.sort_by(f64::total_cmp);
        println!(
            "median of {runs} runs: p50 {:.2} ms  p99 {:.2} ms  (bar: p99 < 50 ms)",
            p50s[p50s.len() / 2],
            p99s[p99s.len() / 2]
        );
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}
