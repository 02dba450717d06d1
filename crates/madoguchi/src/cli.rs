//! The command line: `serve`, `migrate`, `demo`, `import procedures`,
//! `audit verify`. Every command that touches data takes the same
//! `--data-dir`, `--database-url` and `--config`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use platform::config::{Config, Overrides};

#[derive(Parser)]
#[command(
    name = "madoguchi",
    version,
    about = "madoguchi (窓口): online procedures for a prefecture and its municipalities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data is.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// The data directory: SQLite database (by default), uploaded files, secret key.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default: SQLite in the data directory). Also MADOGUCHI_DATABASE_URL.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// A configuration file (default: madoguchi.toml in the data directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl DataArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            addr: None,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// The address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "HOST:PORT")]
        addr: Option<std::net::SocketAddr>,
        /// Loads the demo data first and prints the demo accounts.
        #[arg(long)]
        demo: bool,
        /// Serves plain HTTP for local use: cookies without `Secure` and no
        /// HSTS (also `MADOGUCHI_INSECURE_HTTP=1`; `--demo` implies it).
        /// Never in production.
        #[arg(long)]
        insecure_http: bool,
    },
    /// Applies the database migrations and exits.
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Loads the demo data (organisations, procedures, forms, accounts).
    Demo {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Imports data from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// The FAQ chatbot's tools.
    Faq {
        #[command(subcommand)]
        what: FaqWhat,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// The installation's organisations (the prefecture and its municipalities).
    Org {
        #[command(subcommand)]
        what: OrgWhat,
    },
    /// Staff accounts: add, disable, enable, set roles, reset the password.
    Staff {
        #[command(subcommand)]
        what: StaffWhat,
    },
    /// Sign-in with the My Number card and gBizID.
    Identity {
        #[command(subcommand)]
        what: IdentityWhat,
    },
    /// API tokens for machines (the open-data catalogue's CKAN API).
    Token {
        #[command(subcommand)]
        what: TokenWhat,
    },
    /// Backs the installation up into a new directory, while it runs: the
    /// SQLite database (one consistent snapshot), the files, configuration
    /// and master key. PostgreSQL: use pg_dump for the database (README).
    Backup {
        /// The directory to write (new or empty).
        dir: PathBuf,
        /// Writes the master key here instead, to keep it apart from the backup.
        #[arg(long, value_name = "DIR")]
        keys_dir: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Restores a backup into an empty data directory and verifies it.
    Restore {
        /// The backup directory.
        dir: PathBuf,
        /// Where the master key was written apart (backup --keys-dir).
        #[arg(long, value_name = "DIR")]
        keys_dir: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum OrgWhat {
    /// Adds an organisation (a local government) to the installation.
    Add {
        /// Its 全国地方公共団体コード (6 digits with the check digit, e.g. 240001).
        #[arg(long)]
        code: String,
        /// Its name (三重県).
        #[arg(long)]
        name: String,
        /// Its English name (Mie Prefecture); its open-data publisher is named after it.
        #[arg(long)]
        name_en: String,
        /// The code of the prefecture a municipality belongs to.
        #[arg(long)]
        parent: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum StaffWhat {
    /// Adds a staff member with a one-time password (printed alone on the
    /// last line), to be changed at the first sign-in.
    Add {
        /// The organisation's 全国地方公共団体コード (e.g. 240001).
        #[arg(long)]
        organisation: String,
        /// The section's code within the organisation.
        #[arg(long)]
        section: String,
        #[arg(long)]
        email: String,
        /// The name colleagues know them by (三重 花子).
        #[arg(long)]
        name: String,
        /// Roles, comma-separated: section_staff, approver, org_admin, dx_office.
        #[arg(long, value_delimiter = ',', default_value = "section_staff")]
        roles: Vec<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Disables a staff account and ends its sessions.
    Disable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Enables a disabled staff account again.
    Enable {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Sets a staff member's roles (comma-separated).
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Gives a staff member a new one-time password (printed alone on the
    /// last line) and ends their sessions.
    Reset {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Removes a staff member's second factor (a lost phone) and ends their
    /// sessions: the next sign-in sets up a new one.
    ResetMfa {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum IdentityWhat {
    /// Writes a new EC P-256 key for `private_key_jwt` (デジタル認証アプリ) as
    /// PKCS#8 PEM (readable by its owner only) and prints its public JWK, to
    /// register with the service. Keep the file outside the data directory.
    Keygen {
        /// The key file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenWhat {
    /// Issues an API token with the rights of the organisation's administrator;
    /// prints the token alone on the last line.
    Create {
        /// The organisation's 全国地方公共団体コード.
        #[arg(long)]
        organisation: String,
        /// A name to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Imports a procedure bundle (TOML or JSON: organisation, sections, procedures with their forms).
    Procedures {
        /// The bundle file; form paths in it are relative to its directory.
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Imports a plan file (TOML: the plan, its projects, measures and KPIs).
    Plan {
        file: PathBuf,
        /// Replaces a plan of the same organisation and code, with everything under it.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Imports FAQ entries (CSV in UTF-8, UTF-8 with BOM or Shift_JIS with the
    /// columns id,question,answer,area,url and optionally organisation,section,
    /// procedure,keywords,question_en,answer_en,status,valid_from,valid_until).
    Faq {
        file: PathBuf,
        /// The organisation (地方公共団体コード) of rows that name none; without
        /// it they belong to the whole installation.
        #[arg(long)]
        organisation: Option<String>,
        /// Imports the rows without errors and reports the others (otherwise a file with errors changes nothing).
        #[arg(long)]
        valid_rows_only: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Imports an organisation's procedure inventory (手続棚卸: CSV in UTF-8 or Shift_JIS, or .xlsx).
    Inventory {
        file: PathBuf,
        /// The organisation's code (地方公共団体コード).
        #[arg(long)]
        organisation: String,
        /// Imports the rows without errors and reports the others (otherwise a file with errors changes nothing).
        #[arg(long)]
        valid_rows_only: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Subcommand)]
enum FaqWhat {
    /// Ranks test questions against an FAQ CSV and prints P@1, SR@5, SR@10,
    /// MRR, MAP, nDCG@10 and latency (no database involved).
    Evaluate {
        /// The FAQ entries (CSV: id,question,answer,area,url…).
        #[arg(long)]
        faq: PathBuf,
        /// The questions: TSV id<TAB>text, JSON Lines {"_id","text"} or a JSON object.
        #[arg(long)]
        queries: PathBuf,
        /// The relevance judgements: TREC qrels, BEIR TSV or JSON {qid: {id: grade}}.
        #[arg(long)]
        qrels: PathBuf,
        /// The dictionary (IPADIC source directory or system.dic); by default var/ipadic.
        #[arg(long)]
        dictionary: Option<PathBuf>,
        /// The semantic model directory; by default var/models/multilingual-e5-small if installed.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Ranks lexically only, even if a model is installed.
        #[arg(long)]
        lexical_only: bool,
        /// Prints the figures as JSON.
        #[arg(long)]
        json: bool,
        /// Overrides ranking knobs, e.g. `semantic_weight=1.5,rrf_k=30` (see faq::index::Tuning).
        #[arg(long)]
        tuning: Option<String>,
        /// Also prints one line per question: id, first relevant rank, top entry, lexical share, cosine.
        #[arg(long)]
        details: bool,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Checks the hash chain of the whole audit log and reports the first broken link.
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Runs the command line; the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn load_config(data: &DataArgs, addr: Option<std::net::SocketAddr>) -> anyhow::Result<Config> {
    let mut overrides = data.overrides();
    overrides.addr = addr;
    Config::load(&overrides)
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            data,
            addr,
            demo,
            insecure_http,
        } => {
            let mut config = load_config(&data, addr)?;
            // The demo is for a laptop: plain HTTP on 127.0.0.1.
            config.insecure_http |= insecure_http || demo;
            if config.insecure_http {
                tracing::warn!(
                    "serving plain HTTP (--insecure-http): session cookies are not Secure; for local use only"
                );
            }
            serve(config, demo).await
        }
        Command::Migrate { data } => {
            let config = load_config(&data, None)?;
            crate::app::open_database(&config).await?;
            println!(
                "migrations applied to {}",
                platform::db::redact_url(&config.effective_database_url())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { data } => {
            let config = load_config(&data, None)?;
            let app = crate::app::build(config).await?;
            let loaded = crate::app::load_demo(&app).await?;
            print_accounts(&loaded);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            what: ImportWhat::Procedures { file, data },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            let load =
                |path: &str| std::fs::read_to_string(dir.join(path)).map_err(|e| e.to_string());
            match procedures::service::import::import_bundle(&db, &text, load).await {
                Ok(report) => {
                    println!(
                        "imported {}: {} sections added, {} procedures added or updated, {} form versions published",
                        file.display(),
                        report.sections,
                        report.procedures,
                        report.forms
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    eprintln!(
                        "{} was not imported; nothing was changed. Problems:",
                        file.display()
                    );
                    for e in errors {
                        eprintln!("  {e}");
                    }
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Import {
            what:
                ImportWhat::Plan {
                    file,
                    replace,
                    data,
                },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let plan: plans::data::PlanFile = match toml::from_str(&text) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("{} was not imported: {e}", file.display());
                    return Ok(ExitCode::from(2));
                }
            };
            match plans::service::plans::load(&db, &plan, replace, platform::audit::Actor::Cli)
                .await
            {
                Ok(Some(id)) => {
                    println!("imported {} as plan {id}", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Ok(None) => {
                    eprintln!(
                        "{}: the organisation already has a plan {:?}; nothing was changed (--replace replaces it)",
                        file.display(),
                        plan.plan.code
                    );
                    Ok(ExitCode::from(2))
                }
                Err(plans::service::PlanFileError::Invalid(problems)) => {
                    eprintln!(
                        "{} was not imported; nothing was changed. Problems:",
                        file.display()
                    );
                    for p in problems {
                        eprintln!("  {p}");
                    }
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Import {
            what:
                ImportWhat::Inventory {
                    file,
                    organisation,
                    valid_rows_only,
                    data,
                },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let org = platform::orgs::organisation_by_code(&db, &organisation)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation with the code {organisation}"))?;
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let catalogue = platform::i18n::Catalogue::load(&crate::app::locales(), None)?;
            let tr =
                platform::i18n::Tr::new(std::sync::Arc::new(catalogue), platform::i18n::Lang::En);
            match plans::service::inventory::import(
                &db,
                org.id,
                &bytes,
                &name,
                valid_rows_only,
                platform::audit::Actor::Cli,
            )
            .await
            {
                Ok(report) => {
                    println!(
                        "imported {} procedures from {}",
                        report.imported,
                        file.display()
                    );
                    for e in &report.skipped {
                        println!("  skipped: {}", e.message(&tr));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(plans::service::ImportError::Rows(errors)) => {
                    eprintln!(
                        "{} was not imported; nothing was changed. Problems:",
                        file.display()
                    );
                    for e in &errors {
                        eprintln!("  {}", e.message(&tr));
                    }
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Import {
            what:
                ImportWhat::Faq {
                    file,
                    organisation,
                    valid_rows_only,
                    data,
                },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let default_org = match &organisation {
                Some(code) => Some(
                    platform::orgs::organisation_by_code(&db, code)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no organisation with the code {code}"))?
                        .id,
                ),
                None => None,
            };
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let catalogue = platform::i18n::Catalogue::load(&crate::app::locales(), None)?;
            let tr =
                platform::i18n::Tr::new(std::sync::Arc::new(catalogue), platform::i18n::Lang::En);
            let (rows, errors) = faq::entry::parse_csv(&bytes);
            match faq::service::entries::import(
                &db,
                rows,
                errors,
                default_org,
                None,
                valid_rows_only,
                platform::audit::Actor::Cli,
            )
            .await
            {
                Ok(report) => {
                    println!(
                        "imported FAQ entries from {}: {} added, {} updated, {} unchanged",
                        file.display(),
                        report.created,
                        report.updated,
                        report.unchanged
                    );
                    for e in &report.skipped {
                        println!("  skipped: {}", e.message(&tr));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(faq::service::EntryError::Invalid(errors)) => {
                    eprintln!(
                        "{} was not imported; nothing was changed. Problems:",
                        file.display()
                    );
                    for e in &errors {
                        eprintln!("  {}", e.message(&tr));
                    }
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Faq {
            what:
                FaqWhat::Evaluate {
                    faq: faq_file,
                    queries,
                    qrels,
                    dictionary,
                    model,
                    lexical_only,
                    json,
                    tuning,
                    details,
                },
        } => {
            let read = |p: &PathBuf| {
                std::fs::read(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
            };
            // Entries are ranked as the file has them: only rows without an
            // id, a question or an answer are left out.
            let (rows, errors) = faq::entry::parse_csv_lenient(&read(&faq_file)?);
            if let Some(first) = errors.first() {
                eprintln!(
                    "{}: {} problems an import would refuse (ranked anyway where usable), e.g. line {} {}: {}",
                    faq_file.display(),
                    errors.len(),
                    first.line,
                    first.column,
                    first.code
                );
            }
            let queries = faq::eval::parse_queries(&String::from_utf8_lossy(&read(&queries)?))?;
            let qrels = faq::eval::parse_qrels(&String::from_utf8_lossy(&read(&qrels)?))?;
            let analyzer = match dictionary.or_else(faq::install::default_dictionary) {
                Some(d) => faq::analysis::Analyzer::load(&d, None)?,
                None => {
                    eprintln!("no dictionary (scripts/setup-dictionary): character bigrams only");
                    faq::analysis::Analyzer::bigrams_only()
                }
            };
            let entries: Vec<faq::entry::Entry> = rows.into_iter().map(|(_, e)| e).collect();
            let semantic = match (lexical_only, model.or_else(faq::install::default_model)) {
                (false, Some(dir)) => {
                    let encoder = faq::semantic::load_encoder(&dir)?;
                    let started = std::time::Instant::now();
                    let texts: Vec<String> = entries.iter().map(faq::index::passage_text).collect();
                    let mut vectors = Vec::with_capacity(texts.len());
                    for chunk in texts.chunks(32) {
                        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
                        vectors.extend(encoder.passages(&refs)?);
                    }
                    eprintln!(
                        "embedded {} entries in {:.1} s",
                        entries.len(),
                        started.elapsed().as_secs_f64()
                    );
                    Some((encoder, vectors))
                }
                _ => None,
            };
            // Several tunings may be compared in one run, separated by `;`.
            let specs: Vec<&str> = tuning.as_deref().unwrap_or("").split(';').collect();
            for spec in specs {
                let tuning = faq::index::Tuning::parse_overrides(spec)?;
                let index = faq::index::Index::build(
                    entries.clone(),
                    analyzer.clone(),
                    semantic.clone(),
                    tuning,
                );
                if details {
                    for line in faq::eval::details(&index, &queries, &qrels) {
                        println!("{line}");
                    }
                }
                let report = faq::eval::evaluate(&index, &queries, &qrels);
                if !spec.is_empty() {
                    println!("tuning      {spec}");
                }
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    println!("{report}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Org {
            what:
                OrgWhat::Add {
                    code,
                    name,
                    name_en,
                    parent,
                    data,
                },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let parent_id = match parent {
                Some(p) => match platform::orgs::organisation_by_code(&db, &p).await? {
                    Some(o) => Some(o.id),
                    None => {
                        eprintln!("no organisation with the code {p}");
                        return Ok(ExitCode::from(2));
                    }
                },
                None => None,
            };
            if platform::orgs::organisation_by_code(&db, &code)
                .await?
                .is_some()
            {
                eprintln!("an organisation with the code {code} exists already");
                return Ok(ExitCode::from(2));
            }
            match platform::orgs::insert_organisation(&db, &code, &name, &name_en, parent_id).await
            {
                Ok(org) => {
                    let publisher =
                        opendata::service::publishers::default_publisher(&db, &org).await?;
                    println!(
                        "added {} {} (open-data publisher {})",
                        org.code, org.name, publisher.name
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(platform::StoreError::Conflict(m)) => {
                    eprintln!("{m}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Staff { what } => staff_command(what).await,
        Command::Identity {
            what: IdentityWhat::Keygen { out },
        } => {
            let pem = identity::jose::ClientKey::generate_pem()?;
            let key = identity::jose::ClientKey::from_pkcs8(pem.as_bytes())?;
            write_private(&out, pem.as_bytes())?;
            println!("{}", serde_json::to_string_pretty(&key.public_jwk())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token {
            what:
                TokenWhat::Create {
                    organisation,
                    name,
                    data,
                },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let Some(org) = platform::orgs::organisation_by_code(&db, &organisation).await? else {
                eprintln!("no organisation with the code {organisation}");
                return Ok(ExitCode::from(2));
            };
            opendata::service::publishers::default_publisher(&db, &org).await?;
            let token = opendata::service::tokens::issue(&db, org.id, &name, "cli").await?;
            println!(
                "token for {} {} (administrator's rights):",
                org.code, org.name
            );
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup {
            dir,
            keys_dir,
            data,
        } => {
            let config = load_config(&data, None)?;
            let m = crate::backup::backup(&config, &dir, keys_dir.as_deref()).await?;
            match &m.database {
                Some(db) => println!(
                    "database: {} ({} bytes, sha256 {})",
                    dir.join(&db.path).display(),
                    db.bytes,
                    db.sha256
                ),
                None => println!(
                    "database: PostgreSQL, not included: back it up with pg_dump (README, Operations)"
                ),
            }
            match m.files.store.as_str() {
                "local" => println!("files: {} ({} bytes)", m.files.count, m.files.bytes),
                _ => println!(
                    "files: in the object store, not included: keep them with the store's versioning or replication"
                ),
            }
            match m.key.as_str() {
                "configured" => println!(
                    "master key: configured (secret_key), not written: keep it where it is configured"
                ),
                "apart" => println!(
                    "master key: written apart to {}: store it separately from the backup",
                    keys_dir.as_deref().unwrap_or(Path::new("?")).display()
                ),
                k => println!(
                    "master key: {} (it decrypts My Number values: store it apart, e.g. with --keys-dir)",
                    dir.join(k).display()
                ),
            }
            println!("backup written to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore {
            dir,
            keys_dir,
            data,
        } => {
            let config = load_config(&data, None)?;
            let r = crate::backup::restore(&config, &dir, keys_dir.as_deref()).await?;
            println!(
                "restored the backup of {} into {}: {} files, audit log intact ({} records)",
                r.manifest.created_at,
                config.data_dir.display(),
                r.files,
                r.audit_records
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            what: AuditWhat::Verify { data },
        } => {
            let config = load_config(&data, None)?;
            let db = crate::app::open_database(&config).await?;
            let v = platform::audit::verify(&db).await?;
            match v.broken {
                None => {
                    println!(
                        "audit log intact: {} records, head {}",
                        v.records, v.head_hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!("audit log BROKEN at record {}: {}", b.id, b.reason);
                    println!("{} records before it verify", v.records);
                    Ok(ExitCode::from(3))
                }
            }
        }
    }
}

/// Roles named on the command line, or the names that are not roles.
fn parse_roles(names: &[String]) -> Result<Vec<platform::accounts::Role>, String> {
    let mut roles = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match platform::accounts::Role::parse(n) {
            Some(r) => roles.push(r),
            None => {
                let known: Vec<&str> = platform::accounts::Role::ALL
                    .iter()
                    .map(|r| r.code())
                    .collect();
                return Err(format!("{n} is not a role ({})", known.join(", ")));
            }
        }
    }
    if roles.is_empty() {
        return Err("give at least one role".into());
    }
    Ok(roles)
}

/// Records a change to a staff account made from the command line.
async fn audit_staff(
    db: &platform::Db,
    staff_id: i64,
    action: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: None,
            actor: platform::audit::Actor::Cli,
            action,
            subject_kind: "staff",
            subject_id: Some(staff_id),
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn staff_command(what: StaffWhat) -> anyhow::Result<ExitCode> {
    use platform::accounts::{self, StaffError};
    let data = match &what {
        StaffWhat::Add { data, .. }
        | StaffWhat::Disable { data, .. }
        | StaffWhat::Enable { data, .. }
        | StaffWhat::SetRole { data, .. }
        | StaffWhat::Reset { data, .. }
        | StaffWhat::ResetMfa { data, .. } => data,
    };
    let config = load_config(data, None)?;
    let db = crate::app::open_database(&config).await?;
    let unknown = |email: &str| {
        eprintln!("no staff account has the address {email}");
        Ok(ExitCode::from(2))
    };
    let disable = matches!(what, StaffWhat::Disable { .. });
    match what {
        StaffWhat::Add {
            organisation,
            section,
            email,
            name,
            roles,
            ..
        } => {
            let roles = match parse_roles(&roles) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let Some(org) = platform::orgs::organisation_by_code(&db, &organisation).await? else {
                eprintln!("no organisation with the code {organisation}");
                return Ok(ExitCode::from(2));
            };
            let Some(sec) = platform::orgs::sections_of(&db, org.id)
                .await?
                .into_iter()
                .find(|s| s.code == section)
            else {
                eprintln!("{} has no section with the code {section}", org.name);
                return Ok(ExitCode::from(2));
            };
            match accounts::add_staff(&db, org.id, sec.id, &email, &name, &roles).await {
                Ok((staff, password)) => {
                    audit_staff(
                        &db,
                        staff.id,
                        "staff.added",
                        serde_json::json!({"roles": accounts::roles_to_string(&roles), "section": sec.code}),
                    )
                    .await?;
                    println!(
                        "added {} ({}, {} {}); one-time password, to be changed at the first sign-in:",
                        staff.email,
                        accounts::roles_to_string(&roles),
                        org.name,
                        sec.name
                    );
                    println!("{password}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(platform::StoreError::Conflict(m)) => {
                    eprintln!("cannot add {email}: {m}");
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        StaffWhat::Disable { email, .. } | StaffWhat::Enable { email, .. } => {
            match accounts::set_staff_disabled(&db, &email, disable).await {
                Ok(id) => {
                    let action = if disable {
                        "staff.disabled"
                    } else {
                        "staff.enabled"
                    };
                    audit_staff(&db, id, action, serde_json::json!({})).await?;
                    println!(
                        "{email}: {}",
                        if disable {
                            "disabled, sessions ended"
                        } else {
                            "enabled"
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(StaffError::Unknown) => unknown(&email),
                Err(StaffError::Store(e)) => Err(e.into()),
            }
        }
        StaffWhat::SetRole { email, roles, .. } => {
            let roles = match parse_roles(&roles) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            match accounts::set_staff_roles(&db, &email, &roles).await {
                Ok(id) => {
                    let roles = accounts::roles_to_string(&roles);
                    audit_staff(
                        &db,
                        id,
                        "staff.roles_set",
                        serde_json::json!({"roles": roles}),
                    )
                    .await?;
                    println!("{email}: {roles}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(StaffError::Unknown) => unknown(&email),
                Err(StaffError::Store(e)) => Err(e.into()),
            }
        }
        StaffWhat::ResetMfa { email, .. } => {
            match platform::second_factor::reset(&db, &email).await {
                Ok(id) => {
                    audit_staff(&db, id, "staff.mfa_reset", serde_json::json!({})).await?;
                    println!(
                        "{email}: second factor removed and sessions ended; the next sign-in sets up a new one"
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(StaffError::Unknown) => unknown(&email),
                Err(StaffError::Store(e)) => Err(e.into()),
            }
        }
        StaffWhat::Reset { email, .. } => match accounts::reset_staff_password(&db, &email).await {
            Ok((id, password)) => {
                audit_staff(&db, id, "staff.password_reset", serde_json::json!({})).await?;
                println!(
                    "{email}: sessions ended; one-time password, to be changed at the next sign-in:"
                );
                println!("{password}");
                Ok(ExitCode::SUCCESS)
            }
            Err(StaffError::Unknown) => unknown(&email),
            Err(StaffError::Store(e)) => Err(e.into()),
        },
    }
}

fn print_accounts(loaded: &crate::demo::Loaded) {
    println!("demo accounts (password for all: {}):", loaded.password);
    println!(
        "  staff sign in with two factors: add the key {} to an authenticator app (TOTP, 30 s, 6 digits)",
        loaded.totp_key
    );
    for a in &loaded.accounts {
        println!("  {:<9} {:<34} {}", a.kind, a.email, a.detail);
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<ExitCode> {
    use crate::background;
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let app = crate::app::build(config).await?;
    if demo {
        let loaded = crate::app::load_demo(&app).await?;
        print_accounts(&loaded);
    }
    let platform = app.platform.clone();
    // The platform's own datasets (procedure catalogue, monthly counts) are kept current.
    let publisher = opendata::service::publishing::spawn(app.opendata.clone());
    // The FAQ index (dictionary, entries, then the semantic model) is prepared in the background.
    app.faq.engine.warm_up();
    app.opendata.warm_up();
    // Notifications and other background jobs run beside the server, supervised.
    let jobs = background::supervise_jobs(&platform, app.jobs.clone());
    let maintenance = background::spawn_maintenance(platform.clone());
    let local = listener.local_addr()?;
    println!("madoguchi is listening on http://{local}/ (staff: http://{local}/staff/signin)");
    tracing::info!(backend = ?platform.db.backend(), data_dir = %platform.config.data_dir.display(), node = platform::lease::node_id(), "serving");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(crate::app::serve(app, listener, async move {
        let _ = stopped.await;
    }));
    let ended_by_itself = tokio::select! {
        ended = &mut server => Some(ended),
        () = background::stop_signal() => None,
    };
    let outcome = match ended_by_itself {
        Some(ended) => ended.map_err(anyhow::Error::from).and_then(|r| r),
        None => {
            // No new connections; the requests under way get DRAIN to finish.
            let _ = stop.send(());
            match tokio::time::timeout(background::DRAIN, &mut server).await {
                Ok(ended) => ended.map_err(anyhow::Error::from).and_then(|r| r),
                Err(_) => {
                    tracing::warn!(
                        drain_secs = background::DRAIN.as_secs(),
                        "requests still under way after the drain; stopping them"
                    );
                    server.abort();
                    Ok(())
                }
            }
        }
    };
    jobs.abort();
    maintenance.abort();
    publisher.abort();
    for lease in [
        background::MAINTENANCE,
        opendata::service::publishing::LEASE,
    ] {
        if let Err(e) = platform::lease::release(&platform.db, lease).await {
            tracing::warn!(error = %e, lease, "a lease could not be released; it expires by itself");
        }
    }
    platform.db.close().await;
    tracing::info!("stopped");
    outcome?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a new file only its owner can read (a private key); refuses to
/// overwrite one.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}
