//! What the process tests share: a prepared installation (database with the
//! demo data, residents with API tokens, the environment every node gets)
//! and a submission load of phone-like clients over real TCP.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use platform::db::{Backend, Db, DbOptions};

use super::{Smtp, TestDb, repo_root};

/// One resident who submits, with an API token.
#[derive(Debug, Clone)]
pub struct Resident {
    pub id: i64,
    pub email: String,
    pub token: String,
}

/// An installation the `serve` processes run on.
pub struct Fleet {
    pub db: TestDb,
    /// `MADOGUCHI_*` variables every node gets (database, shared secret, SMTP, object store).
    pub env: Vec<(String, String)>,
    pub procedure: i64,
    pub residents: Vec<Resident>,
    /// A CKAN API token of the demo prefecture (240001).
    pub ckan_token: String,
}

/// An S3-compatible store's coordinates for the nodes.
pub struct ObjectStore {
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Fleet {
    /// A fresh database on `backend` with the demo data and `residents`
    /// residents holding API tokens; the nodes' environment.
    pub async fn prepare(
        backend: Backend,
        residents: usize,
        smtp: Option<&Smtp>,
        store: Option<&ObjectStore>,
    ) -> Fleet {
        Fleet::prepare_as(backend, residents, smtp, store, false).await
    }

    /// [`Fleet::prepare`]; with `default_layout`, as `serve` sets up a data
    /// directory by itself: SQLite in `madoguchi.db` and a generated
    /// `secret.key` there (nothing configured but the data directory).
    pub async fn prepare_as(
        backend: Backend,
        residents: usize,
        smtp: Option<&Smtp>,
        store: Option<&ObjectStore>,
        default_layout: bool,
    ) -> Fleet {
        let mut db = TestDb::new(backend).await;
        let secret = platform::crypto::hex(&platform::crypto::random_bytes::<32>());
        let mut config = db.config();
        if default_layout {
            assert_eq!(backend, Backend::Sqlite, "the default layout is SQLite's");
            config.database_url = None;
            db.url = platform::db::sqlite_url(&db.dir.join("madoguchi.db"));
        } else {
            config.secret_key = Some(platform::config::Secret::new(secret.clone()));
        }
        let app = madoguchi::app::build(config).await.expect("app builds");
        madoguchi::app::load_demo(&app).await.expect("demo loads");
        let pool = &app.platform.db;
        let procedure: i64 =
            sqlx::query_scalar("select id from procedures where code = 'mie-hs-entrance'")
                .fetch_one(pool.pool())
                .await
                .unwrap();
        let mut out = Vec::new();
        for i in 0..residents {
            let email = format!("node-test-{i}@example.jp");
            let r = platform::accounts::insert_resident(pool, &email, None, "")
                .await
                .unwrap();
            let token = platform::session::create(
                pool,
                platform::session::Principal::Resident(r.id),
                platform::session::SessionKind::Api,
            )
            .await
            .unwrap();
            out.push(Resident {
                id: r.id,
                email,
                token,
            });
        }
        let mie = platform::orgs::list_organisations(pool)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.code == "240001")
            .expect("the demo prefecture");
        let ckan_token = opendata::service::tokens::issue(pool, mie.id, "node tests", "test")
            .await
            .unwrap();
        pool.close().await;

        let mut env = vec![
            ("MADOGUCHI_FAQ_MODEL".to_string(), "off".to_string()),
            // A job held by a killed node is taken over after 3 s.
            ("MADOGUCHI_JOB_LOCK_SECS".to_string(), "3".to_string()),
        ];
        if !default_layout {
            env.push(("MADOGUCHI_DATABASE_URL".to_string(), db.url.clone()));
            env.push(("MADOGUCHI_SECRET_KEY".to_string(), secret));
        }
        let dictionary = repo_root().join("var/ipadic");
        if dictionary.exists() {
            env.push((
                "MADOGUCHI_FAQ_DICTIONARY".to_string(),
                dictionary.display().to_string(),
            ));
        }
        if let Some(smtp) = smtp {
            env.extend([
                ("MADOGUCHI_SMTP_HOST".to_string(), "127.0.0.1".to_string()),
                ("MADOGUCHI_SMTP_PORT".to_string(), smtp.port.to_string()),
                (
                    "MADOGUCHI_SMTP_FROM".to_string(),
                    "noreply@pref.mie.example.jp".to_string(),
                ),
            ]);
        }
        if let Some(s) = store {
            env.extend([
                ("MADOGUCHI_S3_ENDPOINT".to_string(), s.endpoint.clone()),
                ("MADOGUCHI_S3_BUCKET".to_string(), s.bucket.clone()),
                ("MADOGUCHI_S3_ACCESS_KEY".to_string(), s.access_key.clone()),
                ("MADOGUCHI_S3_SECRET_KEY".to_string(), s.secret_key.clone()),
            ]);
        }
        Fleet {
            db,
            env,
            procedure,
            residents: out,
            ckan_token,
        }
    }

    /// A connection to the installation's database, for checks.
    pub async fn connect(&self) -> Db {
        Db::connect(
            &self.db.url,
            &DbOptions {
                max_connections: 4,
                ..Default::default()
            },
        )
        .await
        .unwrap()
    }

    /// `madoguchi audit verify` on the installation; panics unless it passes.
    pub fn audit_verify(&self) {
        let out = std::process::Command::new(super::node::binary())
            .args(["audit", "verify", "--data-dir"])
            .arg(&self.db.dir)
            .args(["--database-url", &self.db.url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "audit verify: {text}");
        assert!(text.contains("intact"), "{text}");
    }

    pub async fn cleanup(self) {
        self.db.cleanup().await;
    }
}

/// A complete high-school application's answers, the `n`th of a client.
pub fn submission(n: u64) -> serde_json::Value {
    serde_json::json!({
        "submit": true,
        "answers": {
            "name": {"family": "三重", "given": format!("太郎{n}"), "family_kana": "みえ", "given_kana": "たろう"},
            "birth_date": "平成22年4月1日",
            "address": {"prefecture": "三重県", "city": "津市広明町13番地", "building": ""},
            "phone": "059-224-3070",
            "junior_high": "津市立西橋内中学校",
            "school": "tsu",
            "department": "general",
            "selection": "early",
            "guardian_name": {"family": "三重", "given": "花子", "family_kana": "ミエ", "given_kana": "ハナコ"},
            "guardian_relationship": "mother",
            "agree": true
        }
    })
}

/// A submission the server acknowledged.
#[derive(Debug, Clone)]
pub struct Ack {
    pub resident_id: i64,
    pub email: String,
    pub key: String,
    pub id: i64,
    pub receipt: String,
    /// Sends of this key until it was answered (more than one: an answer was lost).
    pub attempts: usize,
}

/// Phone-like clients submitting applications until stopped: each
/// Idempotency-Key is sent again, to whichever node is listed now, until it
/// is answered 201 or 200.
pub struct Load {
    stop: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    acks: Arc<Mutex<Vec<Ack>>>,
    errors: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `think`: each client's pause between two submissions.
    pub fn start(
        rt: &tokio::runtime::Runtime,
        fleet: &Fleet,
        bases: Arc<RwLock<Vec<String>>>,
        think: Duration,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap();
        let mut tasks = Vec::new();
        for (c, resident) in fleet.residents.iter().cloned().enumerate() {
            let (stop, in_flight, acks, errors, http, bases) = (
                stop.clone(),
                in_flight.clone(),
                acks.clone(),
                errors.clone(),
                http.clone(),
                bases.clone(),
            );
            let procedure = fleet.procedure;
            tasks.push(rt.spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    if n > 0 {
                        tokio::time::sleep(think).await;
                    }
                    n += 1;
                    let key = format!("load-{c}-{n}");
                    let body = submission(n);
                    let mut attempts = 0usize;
                    loop {
                        attempts += 1;
                        let base = {
                            let b = bases.read().unwrap();
                            b[(c + attempts) % b.len()].clone()
                        };
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        let res = http
                            .post(format!("{base}/api/v1/procedures/{procedure}/applications"))
                            .bearer_auth(&resident.token)
                            .header("idempotency-key", &key)
                            .json(&body)
                            .send()
                            .await;
                        let answer = match res {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                Some((status, r.text().await.unwrap_or_default()))
                            }
                            Err(_) => None,
                        };
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        match answer {
                            Some((201 | 200, text)) => {
                                let v: serde_json::Value =
                                    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                                match (v["id"].as_i64(), v["receipt_number"].as_str()) {
                                    (Some(id), Some(receipt)) => acks.lock().unwrap().push(Ack {
                                        resident_id: resident.id,
                                        email: resident.email.clone(),
                                        key: key.clone(),
                                        id,
                                        receipt: receipt.to_string(),
                                        attempts,
                                    }),
                                    _ => errors.lock().unwrap().push(format!(
                                        "{key}: an answer without id or receipt: {text}"
                                    )),
                                }
                                break;
                            }
                            // No answer, or the node is starting or stopping: the phone tries again.
                            None | Some((502..=504, _)) => {
                                tokio::time::sleep(Duration::from_millis(40)).await;
                            }
                            Some((status, text)) => {
                                errors
                                    .lock()
                                    .unwrap()
                                    .push(format!("{key} (attempt {attempts}): {status} {text}"));
                                if status < 500 {
                                    break;
                                }
                                tokio::time::sleep(Duration::from_millis(40)).await;
                            }
                        }
                        if attempts > 2_000 {
                            errors
                                .lock()
                                .unwrap()
                                .push(format!("{key}: never answered"));
                            break;
                        }
                    }
                }
            }));
        }
        Load {
            stop,
            in_flight,
            acks,
            errors,
            tasks,
        }
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Acknowledgements so far.
    pub fn acknowledged(&self) -> Vec<Ack> {
        self.acks.lock().unwrap().clone()
    }

    /// Stops the clients once each has its current key answered; every
    /// acknowledgement. Panics if any answer was an error.
    pub fn finish(self, rt: &tokio::runtime::Runtime) -> Vec<Ack> {
        self.stop.store(true, Ordering::SeqCst);
        rt.block_on(async {
            for t in self.tasks {
                t.await.unwrap();
            }
        });
        let errors = self.errors.lock().unwrap().clone();
        assert!(errors.is_empty(), "answers that were errors: {errors:#?}");
        self.acks.lock().unwrap().clone()
    }
}
