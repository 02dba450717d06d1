//! The database: one connection pool over SQLite or PostgreSQL, embedded
//! migrations, and write transactions.
//!
//! # One SQL, two databases
//! Queries are written once, through sqlx's `Any` driver, in the SQL that SQLite
//! and PostgreSQL share: `$1` parameters, `RETURNING`, `ON CONFLICT … DO UPDATE`,
//! CTEs, window functions. Column types are kept to what `Any` carries:
//! `BIGINT` (`INTEGER` on SQLite), `DOUBLE PRECISION`, `TEXT`, `BYTEA`/`BLOB`,
//! and booleans (`BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite, read through
//! [`DbBool`]). Timestamps are `TEXT` in RFC 3339 UTC with microseconds
//! ([`Timestamp`]): that sorts chronologically as text on both. Aggregates that
//! PostgreSQL widens to `NUMERIC` (`sum`, `avg`) must be cast back
//! (`cast(sum(x) as bigint)`). What really differs between the two (locking,
//! full-text search) branches on [`Db::backend`] inside the module that needs it.
//!
//! # Writes
//! SQLite has one writer. [`Db::begin`] serialises write transactions of this
//! process on an async mutex (so writers queue in tokio instead of spinning in
//! SQLite's busy handler) and opens them with `BEGIN IMMEDIATE` (so another
//! process, such as a CLI command, waits instead of failing half way). On
//! PostgreSQL it is a plain transaction. Durability: SQLite runs in WAL mode with
//! `synchronous=FULL`; PostgreSQL sessions set `synchronous_commit = on`. A commit
//! that returned is on disk.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyConnection, AnyPool, Decode, Encode, Executor, SqlSafeStr, Transaction, Type};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Which database a [`Db`] talks to; chosen once, from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, or an error for any other scheme.
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!(
                "unsupported database URL scheme in {}: use sqlite:… or postgres://…",
                redact_url(url)
            )
        }
    }
}

/// Errors of the storage layer, the same for both backends.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched (or the caller may not see it: callers answer 404 either way).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else; logged, never shown to a client.
    #[error(transparent)]
    Database(sqlx::Error),
    /// A failure around the storage that is not the database's (a worker
    /// task that did not finish); logged, never shown to a client.
    #[error("{0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or("unique").to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A migration: a version that orders it among every module's migrations
/// (`YYYYMMDDNN`), a description, and the SQL for each backend.
#[derive(Debug, Clone, Copy)]
pub struct MigrationSource {
    pub version: i64,
    pub description: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Options for [`Db::connect`].
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The shared database handle. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

struct DbInner {
    pool: AnyPool,
    backend: Backend,
    write_gate: Option<Arc<Mutex<()>>>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

/// The URL of the SQLite file `path`, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    let raw = path.to_string_lossy();
    let mut out = String::with_capacity(raw.len() + 20);
    for c in raw.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    format!("sqlite://{out}?mode=rwc")
}

/// `url` with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/…
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, options: &DbOptions) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let connect_options: AnyConnectOptions = url
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid database URL {}: {e}", redact_url(url)))?;
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            sqlx::raw_sql(
                                "pragma journal_mode = wal; pragma synchronous = full; \
                                 pragma foreign_keys = on; pragma busy_timeout = 10000;",
                            )
                            .execute(&mut *conn)
                            .await?;
                        }
                        Backend::Postgres => {
                            sqlx::raw_sql(
                                "set synchronous_commit = on; set application_name = 'madoguchi'; \
                                 set timezone = 'UTC';",
                            )
                            .execute(&mut *conn)
                            .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", redact_url(url)))?;
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            inner: Arc::new(DbInner {
                pool,
                backend,
                write_gate,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The pool, for reads. Writes go through [`Db::begin`].
    pub fn pool(&self) -> &AnyPool {
        &self.inner.pool
    }

    /// Opens a write transaction (see the module docs).
    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let gate = match &self.inner.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.inner.backend {
            Backend::Sqlite => self.inner.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.inner.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            backend: self.inner.backend,
            _gate: gate,
        })
    }

    /// A connection of the pool, for reads that several store calls share
    /// (returned to the pool when dropped). Writes go through [`Db::begin`].
    pub async fn connection(&self) -> StoreResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.inner.pool.acquire().await?)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1")
            .execute(&self.inner.pool)
            .await
            .is_ok()
    }

    /// Applies every migration of `sources` (from all modules) not yet applied,
    /// in version order. Safe to run from several nodes at once on PostgreSQL
    /// (sqlx takes an advisory lock). Refuses to run if an applied migration was
    /// edited (checksum mismatch).
    pub async fn migrate(&self, sources: &[&[MigrationSource]]) -> anyhow::Result<()> {
        let mut all: Vec<&MigrationSource> = sources.iter().flat_map(|s| s.iter()).collect();
        all.sort_by_key(|m| m.version);
        for pair in all.windows(2) {
            if let [a, b] = pair
                && a.version == b.version
            {
                anyhow::bail!("two migrations share version {}", a.version);
            }
        }
        let migrations = all
            .into_iter()
            .map(|m| {
                let sql = match self.inner.backend {
                    Backend::Sqlite => m.sqlite,
                    Backend::Postgres => m.postgres,
                };
                Migration::new(
                    m.version,
                    Cow::Borrowed(m.description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        let migrator = Migrator::with_migrations(migrations);
        let _gate = match &self.inner.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        migrator.run(&self.inner.pool).await?;
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `to` (a new file),
    /// while others go on reading and writing: `VACUUM INTO` reads one
    /// snapshot and writes a compact database from it. PostgreSQL is backed
    /// up with `pg_dump` instead (Conflict).
    pub async fn snapshot_sqlite(&self, to: &Path) -> StoreResult<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "a PostgreSQL database is backed up with pg_dump".into(),
            ));
        }
        let to = to
            .to_str()
            .ok_or_else(|| StoreError::Conflict("the backup path is not UTF-8".into()))?;
        sqlx::query("vacuum into $1")
            .bind(to)
            .execute(&self.inner.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }
}

/// A write transaction. Dereferences to the connection, so queries run with
/// `.execute(&mut *tx)`. Dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    // Declared after `tx`, so the transaction is dropped (rolled back) before
    // the next writer may start.
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Picks the query for this backend: typically the PostgreSQL one adds
    /// `for update` (a row lock until commit), which SQLite does not need (its
    /// write transaction locks the whole database) and does not accept.
    pub fn pick(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A boolean column: `BOOLEAN` on PostgreSQL, `INTEGER` 0/1 on SQLite. Use in
/// `FromRow` structs as `#[sqlx(try_from = "DbBool")] field: bool`.
#[derive(Debug, Clone, Copy)]
pub struct DbBool(pub bool);

impl From<DbBool> for bool {
    fn from(b: DbBool) -> bool {
        b.0
    }
}

impl Type<Any> for DbBool {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        matches!(
            ty.kind(),
            AnyTypeInfoKind::Bool
                | AnyTypeInfoKind::SmallInt
                | AnyTypeInfoKind::Integer
                | AnyTypeInfoKind::BigInt
        )
    }
}

impl<'r> Decode<'r, Any> for DbBool {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::ValueRef;
        if matches!(value.type_info().kind(), AnyTypeInfoKind::Bool) {
            Ok(DbBool(<bool as Decode<Any>>::decode(value)?))
        } else {
            Ok(DbBool(<i64 as Decode<Any>>::decode(value)? != 0))
        }
    }
}

/// Japan Standard Time: UTC+9, no daylight saving.
const JST: chrono::FixedOffset = match chrono::FixedOffset::east_opt(9 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+9 is a valid offset"),
};

/// A point in time, stored as RFC 3339 UTC text with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Timestamp {
        // Truncate to what the text form keeps, so a value read back compares equal.
        let now = Utc::now();
        let micros = now.timestamp_micros();
        Timestamp(DateTime::from_timestamp_micros(micros).unwrap_or(now))
    }

    /// The stored text form (`2026-11-21T09:30:00.000000Z`).
    pub fn to_db_string(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    pub fn parse(s: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| Timestamp(d.with_timezone(&Utc)))
    }

    /// The time in Japan (JST, UTC+9, no daylight saving).
    pub fn jst(&self) -> chrono::DateTime<chrono::FixedOffset> {
        self.0.with_timezone(&JST)
    }

    pub fn plus(&self, d: chrono::Duration) -> Timestamp {
        Timestamp(self.0 + d)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_db_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_db_string())
    }
}

impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(self.to_db_string(), buf)
    }
}

impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <String as Decode<Any>>::decode(value)?;
        Timestamp::parse(&s).ok_or_else(|| format!("invalid timestamp {s:?}").into())
    }
}

/// Runs `sql` (a `;`-separated script) outside any transaction; for tests and tools.
pub async fn execute_script(db: &Db, sql: &'static str) -> StoreResult<()> {
    db.pool().execute(sqlx::raw_sql(sql)).await?;
    Ok(())
}
