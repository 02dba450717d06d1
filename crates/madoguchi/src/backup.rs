//! `madoguchi backup` and `madoguchi restore`.
//!
//! A backup is a directory:
//!
//! ```text
//! MANIFEST.json        what is in it, with the database's SHA-256
//! madoguchi.db         the SQLite database (VACUUM INTO: one consistent snapshot)
//! files/ab/cd/<key>    the files, when they are kept in the data directory
//! config/              madoguchi.toml and locales/ overrides, if any
//! keys/secret.key      the generated master key (or in --keys-dir, kept apart)
//! ```
//!
//! It is taken online: the server may run and accept submissions meanwhile.
//! The database is snapshotted first, then the files are copied; a file is
//! written (and synced) before any row that names it commits, and files are
//! never deleted, so every file the snapshot names is there to copy.
//!
//! The master key decrypts My Number values and signs CSRF tokens. Whoever
//! holds a backup and its key holds the residents' data: `--keys-dir` writes
//! the key elsewhere (another medium, another custodian), and a key that is
//! configured rather than generated is not written at all (the operator
//! keeps it where it is configured).
//!
//! A restore goes into an empty data directory, checks the database's digest
//! and every file's (a file's name is its SHA-256), and verifies the audit
//! chain of the restored database before saying it is done.
//!
//! PostgreSQL installations back up their database with `pg_dump` and restore
//! it with `pg_restore` (README, Operations); `backup` then still copies the
//! files, configuration and key. Files in S3-compatible storage are kept by
//! the store's own versioning or replication.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use platform::config::Config;
use platform::db::Backend;
use serde::{Deserialize, Serialize};

/// The backup format this version writes and reads.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub madoguchi_version: String,
    /// `sqlite`, or `postgres` (database not included: pg_dump).
    pub backend: String,
    /// The database file and its SHA-256 (SQLite only).
    pub database: Option<FileEntry>,
    /// Files copied from the data directory (none when they are in an object store).
    pub files: FilesEntry,
    /// Where the master key is: `keys/secret.key`, `apart` (written to
    /// --keys-dir) or `configured` (not written: the operator keeps it).
    pub key: String,
    /// Configuration files copied, relative to `config/`.
    pub config: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FilesEntry {
    /// `local` (copied under files/) or `s3` (not copied).
    pub store: String,
    pub count: u64,
    pub bytes: u64,
}

/// Backs the installation of `config` up into `dir` (which must not exist or be empty).
pub async fn backup(
    config: &Config,
    dir: &Path,
    keys_dir: Option<&Path>,
) -> anyhow::Result<Manifest> {
    ensure_empty(dir).context("the backup directory")?;
    std::fs::create_dir_all(dir)?;
    let db = crate::app::open_database(config).await?;

    // 1. The database: one consistent snapshot.
    let database = match db.backend() {
        Backend::Sqlite => {
            let path = dir.join("madoguchi.db");
            db.snapshot_sqlite(&path)
                .await
                .context("snapshotting the database")?;
            let bytes = std::fs::read(&path)?;
            Some(FileEntry {
                path: "madoguchi.db".into(),
                sha256: platform::crypto::sha256_hex(&bytes),
                bytes: bytes.len() as u64,
            })
        }
        Backend::Postgres => None,
    };
    db.close().await;

    // 2. The files, after the snapshot (see the module's documentation).
    let files = if config.object_store.is_some() {
        FilesEntry {
            store: "s3".into(),
            count: 0,
            bytes: 0,
        }
    } else {
        let (count, bytes) = copy_tree(&config.data_dir.join("files"), &dir.join("files"))?;
        FilesEntry {
            store: "local".into(),
            count,
            bytes,
        }
    };

    // 3. Configuration the operator put in the data directory.
    let mut copied = Vec::new();
    let toml = config.data_dir.join("madoguchi.toml");
    if toml.is_file() {
        std::fs::create_dir_all(dir.join("config"))?;
        std::fs::copy(&toml, dir.join("config/madoguchi.toml"))?;
        copied.push("madoguchi.toml".to_string());
    }
    let locales = config.data_dir.join("locales");
    if locales.is_dir() {
        copy_tree(&locales, &dir.join("config/locales"))?;
        copied.push("locales/".to_string());
    }

    // 4. The key, apart if asked.
    let generated = config.key_file();
    let key = if config.secret_key.is_some() {
        "configured".to_string()
    } else if generated.is_file() {
        match keys_dir {
            Some(k) => {
                std::fs::create_dir_all(k)?;
                copy_private(&generated, &k.join("secret.key"))?;
                "apart".to_string()
            }
            None => {
                std::fs::create_dir_all(dir.join("keys"))?;
                copy_private(&generated, &dir.join("keys/secret.key"))?;
                "keys/secret.key".to_string()
            }
        }
    } else {
        bail!(
            "no master key: neither configured nor in {}",
            generated.display()
        );
    };

    let manifest = Manifest {
        format: FORMAT,
        created_at: platform::db::Timestamp::now().to_string(),
        madoguchi_version: env!("CARGO_PKG_VERSION").to_string(),
        backend: match config.effective_database_url().starts_with("postgres") {
            true => "postgres".into(),
            false => "sqlite".into(),
        },
        database,
        files,
        key,
        config: copied,
    };
    write_synced(
        &dir.join("MANIFEST.json"),
        &serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(manifest)
}

/// What a restore found and did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub files: u64,
    pub audit_records: i64,
}

/// Restores the backup in `dir` into the (empty) data directory of `config`.
pub async fn restore(
    config: &Config,
    dir: &Path,
    keys_dir: Option<&Path>,
) -> anyhow::Result<Restored> {
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(dir.join("MANIFEST.json"))
            .with_context(|| format!("{} is not a madoguchi backup", dir.display()))?,
    )
    .context("MANIFEST.json")?;
    if manifest.format != FORMAT {
        bail!(
            "backup format {} (this version reads {FORMAT})",
            manifest.format
        );
    }
    let Some(database) = &manifest.database else {
        bail!(
            "this backup has no database (PostgreSQL): restore it with pg_restore, then copy files/ and the key (README, Operations)"
        );
    };
    if config.database_url.is_some() {
        bail!(
            "restore writes a SQLite database into the data directory; no database_url may be configured"
        );
    }
    let target = &config.data_dir;
    for existing in ["madoguchi.db", "files", "secret.key"] {
        if target.join(existing).exists() {
            bail!(
                "{} already holds {existing}: restore only into an empty data directory",
                target.display()
            );
        }
    }
    let restored_key = config.key_file();
    if config.secret_key.is_none() && restored_key.exists() {
        bail!(
            "{} exists already: restore only where no master key is",
            restored_key.display()
        );
    }

    // Check everything before writing anything.
    let db_bytes = std::fs::read(dir.join(&database.path))?;
    if platform::crypto::sha256_hex(&db_bytes) != database.sha256 {
        bail!("the database in the backup does not match its digest: the backup is damaged");
    }
    let key = match manifest.key.as_str() {
        "configured" => None,
        "apart" => Some(
            keys_dir
                .context("the key was written apart: give its directory with --keys-dir")?
                .join("secret.key"),
        ),
        path => Some(keys_dir.map_or_else(|| dir.join(path), |k| k.join("secret.key"))),
    };
    if let Some(k) = &key
        && !k.is_file()
    {
        bail!("the master key {} is missing", k.display());
    }
    if manifest.key == "configured" && config.secret_key.is_none() {
        bail!(
            "the backup's master key was configured, not generated: configure the same secret_key first"
        );
    }

    // The files open with the backup's key and match their digests.
    let files_key = match &key {
        Some(k) => platform::crypto::Keys::load_or_create(None, k)?.files_key(),
        None => platform::crypto::Keys::load_or_create(
            config.secret_key.as_ref().map(|s| s.expose()),
            &restored_key,
        )?
        .files_key(),
    };
    let files_dir = dir.join("files");
    let files = check_files(&files_dir, &files_key)?;
    if manifest.files.store == "local" && files != manifest.files.count {
        bail!(
            "the backup should hold {} files and holds {files}",
            manifest.files.count
        );
    }
    std::fs::create_dir_all(target)?;
    write_synced(&target.join("madoguchi.db"), &db_bytes)?;
    if files_dir.is_dir() {
        copy_tree(&files_dir, &target.join("files"))?;
    }
    if let Some(k) = key {
        if let Some(folder) = restored_key.parent() {
            std::fs::create_dir_all(folder)?;
        }
        copy_private(&k, &restored_key)?;
    }
    if dir.join("config/madoguchi.toml").is_file() {
        std::fs::copy(
            dir.join("config/madoguchi.toml"),
            target.join("madoguchi.toml"),
        )?;
    }
    if dir.join("config/locales").is_dir() {
        copy_tree(&dir.join("config/locales"), &target.join("locales"))?;
    }

    // The restored database opens, is brought to this version's schema, and its audit chain verifies.
    let db = crate::app::open_database(config).await?;
    let verified = platform::audit::verify(&db).await?;
    db.close().await;
    if let Some(broken) = verified.broken {
        bail!("the restored audit chain is broken at record {}", broken.id);
    }
    Ok(Restored {
        manifest,
        files,
        audit_records: verified.records,
    })
}

fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    Ok(())
}

/// Copies a directory tree; (files, bytes) copied. A missing source copies nothing.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    if !from.is_dir() {
        return Ok((0, 0));
    }
    let (mut count, mut bytes) = (0, 0);
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        std::fs::create_dir_all(to.join(&rel))?;
        for entry in std::fs::read_dir(from.join(&rel))? {
            let entry = entry?;
            let name = entry.file_name();
            // Temporary files of a write in progress are not files yet.
            if name.to_string_lossy().starts_with(".tmp-") {
                continue;
            }
            let rel = rel.join(&name);
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(rel);
            } else if kind.is_file() {
                let data = std::fs::read(from.join(&rel))?;
                write_synced(&to.join(&rel), &data)?;
                count += 1;
                bytes += data.len() as u64;
            }
        }
    }
    Ok((count, bytes))
}

/// Checks that every file under `files/` opens with the installation's
/// files key and is named by its own SHA-256; how many there are.
fn check_files(dir: &Path, files_key: &[u8; 32]) -> anyhow::Result<u64> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let data = std::fs::read(&path)?;
            if platform::files::open_stored(Some(files_key), &name, data).is_err() {
                bail!(
                    "{} does not match its digest or does not open with the backup's key: the backup is damaged",
                    path.display()
                );
            }
            count += 1;
        }
    }
    Ok(count)
}

fn write_synced(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}

/// Copies a key file, readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let data = std::fs::read(from)?;
    write_synced(to, &data)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
