//! What the benchmarks share: scratch databases (a temporary SQLite file or
//! a new PostgreSQL database, removed afterwards), runtimes, URL encoding.

use platform::db::{Backend, Db, DbOptions};

/// Runs `f` on a scratch database of `backend`, then removes it.
pub fn with_scratch(
    backend: Backend,
    pg_admin: &str,
    f: impl FnOnce(&tokio::runtime::Runtime, &tokio::runtime::Runtime, &Scratch) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let server_rt = runtime(2)?;
    let client_rt = runtime(2)?;
    let dir = std::env::temp_dir().join(format!(
        "madoguchi-bench-{}",
        platform::crypto::hex(&platform::crypto::random_bytes::<4>())
    ));
    std::fs::create_dir_all(&dir)?;
    let scratch = server_rt.block_on(async {
        match backend {
            Backend::Sqlite => Ok::<_, anyhow::Error>(Scratch {
                url: platform::db::sqlite_url(&dir.join("bench.db")),
                dir: dir.clone(),
                pg: None,
            }),
            Backend::Postgres => {
                let name = format!(
                    "madoguchi_bench_{}",
                    platform::crypto::hex(&platform::crypto::random_bytes::<4>())
                );
                let admin = Db::connect(
                    pg_admin,
                    &DbOptions {
                        max_connections: 1,
                        ..Default::default()
                    },
                )
                .await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
                    .execute(admin.pool())
                    .await?;
                admin.close().await;
                let base = pg_admin
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(pg_admin);
                Ok(Scratch {
                    url: format!("{base}/{name}"),
                    dir: dir.clone(),
                    pg: Some((pg_admin.to_string(), name)),
                })
            }
        }
    })?;
    let result = f(&server_rt, &client_rt, &scratch);
    server_rt.block_on(async {
        if let Some((admin, name)) = &scratch.pg
            && let Ok(db) = Db::connect(
                admin,
                &DbOptions {
                    max_connections: 1,
                    ..Default::default()
                },
            )
            .await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(db.pool())
            .await;
            db.close().await;
        }
    });
    let _ = std::fs::remove_dir_all(&scratch.dir);
    result
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A scratch database: a file in a temporary directory, or a new PostgreSQL database.
pub struct Scratch {
    pub url: String,
    pub dir: std::path::PathBuf,
    pub pg: Option<(String, String)>,
}

pub fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?)
}
