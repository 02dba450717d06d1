//! The audit log: an append-only record of every state change and every staff
//! view of personal data, written in the same transaction as what it records.
//!
//! Records form a hash chain. Record `n` stores the hash of record `n − 1` and
//! its own hash, SHA-256 over its fields and that previous hash; ids are
//! assigned by the writer without gaps. Altering, deleting or reordering a
//! record breaks the chain at that record, which [`verify`] reports. (Someone
//! who can rewrite the whole table can also recompute the chain: publishing the
//! head hash elsewhere from time to time closes that gap.)
//!
//! The head of the chain is one row (`audit_head`) read with a row lock on
//! PostgreSQL, so concurrent writers from several nodes append one at a time.

use serde_json::Value;
use sqlx::AnyConnection;

use crate::crypto;
use crate::db::{Db, StoreResult, Timestamp, WriteTx};

/// Who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Resident(i64),
    Staff(i64),
    /// The server itself (a background job, a scheduled task).
    System,
    /// An operator at the command line.
    Cli,
    /// A machine holding an API token (the open-data catalogue's CKAN API).
    ApiToken(i64),
}

impl Actor {
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Actor::Resident(id) => ("resident", Some(id)),
            Actor::Staff(id) => ("staff", Some(id)),
            Actor::System => ("system", None),
            Actor::Cli => ("cli", None),
            Actor::ApiToken(id) => ("api_token", Some(id)),
        }
    }
}

/// One record to append.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub organisation_id: Option<i64>,
    pub actor: Actor,
    /// What happened, `subject.verb` (e.g. `application.submitted`).
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Option<i64>,
    /// Ids, codes and comments; never personal data such as a My Number.
    pub detail: Value,
}

/// A stored record.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Record {
    pub id: i64,
    pub at: String,
    pub organisation_id: Option<i64>,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Option<i64>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    /// The hash this record must carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        fn opt(v: Option<i64>) -> String {
            v.map(|v| v.to_string()).unwrap_or_default()
        }
        let canonical = format!(
            "madoguchi-audit-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.id,
            self.at,
            opt(self.organisation_id),
            self.actor_kind,
            opt(self.actor_id),
            self.action,
            self.subject_kind,
            opt(self.subject_id),
            self.detail,
            self.prev_hash,
        );
        crypto::sha256_hex(canonical)
    }
}

/// Appends `entry` inside `tx`; returns its id.
pub async fn append(tx: &mut WriteTx, entry: Entry<'_>) -> StoreResult<i64> {
    let head_query = tx.pick(
        "select last_id, hash from audit_head where id = 1",
        "select last_id, hash from audit_head where id = 1 for update",
    );
    let (last_id, prev_hash): (i64, String) =
        sqlx::query_as(head_query).fetch_one(&mut **tx).await?;
    let (actor_kind, actor_id) = entry.actor.parts();
    let mut record = Record {
        id: last_id + 1,
        at: Timestamp::now().to_db_string(),
        organisation_id: entry.organisation_id,
        actor_kind: actor_kind.to_string(),
        actor_id,
        action: entry.action.to_string(),
        subject_kind: entry.subject_kind.to_string(),
        subject_id: entry.subject_id,
        detail: entry.detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    record.hash = record.compute_hash();
    insert(tx, &record).await?;
    sqlx::query("update audit_head set last_id = $1, hash = $2 where id = 1")
        .bind(record.id)
        .bind(&record.hash)
        .execute(&mut **tx)
        .await?;
    Ok(record.id)
}

/// Appends several records inside `tx` with one head lock and one insert
/// (the submission writer's batches).
pub async fn append_many(tx: &mut WriteTx, entries: &[Entry<'_>]) -> StoreResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let head_query = tx.pick(
        "select last_id, hash from audit_head where id = 1",
        "select last_id, hash from audit_head where id = 1 for update",
    );
    let (mut last_id, mut prev_hash): (i64, String) =
        sqlx::query_as(head_query).fetch_one(&mut **tx).await?;
    let at = Timestamp::now().to_db_string();
    let mut records = Vec::with_capacity(entries.len());
    for entry in entries {
        let (actor_kind, actor_id) = entry.actor.parts();
        let mut record = Record {
            id: last_id + 1,
            at: at.clone(),
            organisation_id: entry.organisation_id,
            actor_kind: actor_kind.to_string(),
            actor_id,
            action: entry.action.to_string(),
            subject_kind: entry.subject_kind.to_string(),
            subject_id: entry.subject_id,
            detail: entry.detail.to_string(),
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        last_id = record.id;
        prev_hash = record.hash.clone();
        records.push(record);
    }
    // Several rows per statement, within both databases' parameter limits.
    for chunk in records.chunks(500) {
        let mut sql = String::from(
            "insert into audit_log (id, at, organisation_id, actor_kind, actor_id, action, subject_kind, subject_id, \
             detail, prev_hash, hash) values ",
        );
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 11;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id)
                .bind(r.at.as_str())
                .bind(r.organisation_id)
                .bind(r.actor_kind.as_str())
                .bind(r.actor_id)
                .bind(r.action.as_str())
                .bind(r.subject_kind.as_str())
                .bind(r.subject_id)
                .bind(r.detail.as_str())
                .bind(r.prev_hash.as_str())
                .bind(r.hash.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("update audit_head set last_id = $1, hash = $2 where id = 1")
        .bind(last_id)
        .bind(&prev_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert(conn: &mut AnyConnection, r: &Record) -> StoreResult<()> {
    sqlx::query(
        "insert into audit_log (id, at, organisation_id, actor_kind, actor_id, action, subject_kind, \
         subject_id, detail, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.id)
    .bind(&r.at)
    .bind(r.organisation_id)
    .bind(&r.actor_kind)
    .bind(r.actor_id)
    .bind(&r.action)
    .bind(&r.subject_kind)
    .bind(r.subject_id)
    .bind(&r.detail)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The id of the first record that does not verify (or that is missing).
    pub id: i64,
    pub reason: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub records: i64,
    pub head_hash: String,
    pub broken: Option<BrokenLink>,
}

/// Walks the whole chain from the first record and reports the first broken link.
pub async fn verify(db: &Db) -> StoreResult<Verification> {
    let mut expected_id = 1i64;
    let mut prev_hash = "0".repeat(64);
    let mut checked = 0i64;
    loop {
        let page: Vec<Record> = sqlx::query_as(
            "select id, at, organisation_id, actor_kind, actor_id, action, subject_kind, subject_id, \
             detail, prev_hash, hash from audit_log where id >= $1 order by id limit 1000",
        )
        .bind(expected_id)
        .fetch_all(db.pool())
        .await?;
        if page.is_empty() {
            break;
        }
        for r in page {
            let broken = |reason: String| Verification {
                records: checked,
                head_hash: prev_hash.clone(),
                broken: Some(BrokenLink {
                    id: expected_id.min(r.id),
                    reason,
                }),
            };
            if r.id != expected_id {
                return Ok(broken(format!(
                    "record {expected_id} is missing (next is {})",
                    r.id
                )));
            }
            if r.prev_hash != prev_hash {
                return Ok(broken(format!(
                    "record {} does not follow record {}: its previous-hash field was changed, or record {} was",
                    r.id,
                    r.id - 1,
                    r.id - 1
                )));
            }
            if r.compute_hash() != r.hash {
                return Ok(broken(format!(
                    "record {} was altered: its contents do not match its hash",
                    r.id
                )));
            }
            prev_hash = r.hash;
            expected_id += 1;
            checked += 1;
        }
    }
    let (head_id, head_hash): (i64, String) =
        sqlx::query_as("select last_id, hash from audit_head where id = 1")
            .fetch_one(db.pool())
            .await?;
    if head_id != checked || head_hash != prev_hash {
        return Ok(Verification {
            records: checked,
            head_hash: prev_hash,
            broken: Some(BrokenLink {
                id: checked + 1,
                reason: format!(
                    "the chain ends at record {checked} but its head says record {head_id}: records were removed from the end"
                ),
            }),
        });
    }
    Ok(Verification {
        records: checked,
        head_hash: prev_hash,
        broken: None,
    })
}

/// The records about one subject, oldest first (for history pages).
pub async fn for_subject(db: &Db, subject_kind: &str, subject_id: i64) -> StoreResult<Vec<Record>> {
    Ok(sqlx::query_as(
        "select id, at, organisation_id, actor_kind, actor_id, action, subject_kind, subject_id, \
         detail, prev_hash, hash from audit_log where subject_kind = $1 and subject_id = $2 order by id",
    )
    .bind(subject_kind)
    .bind(subject_id)
    .fetch_all(db.pool())
    .await?)
}
