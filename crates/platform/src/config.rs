//! Configuration: built-in defaults, then a TOML file, then `MADOGUCHI_*`
//! environment variables, then command-line flags (each layer overrides the
//! previous one). Secrets are [`Secret`]s: their `Debug` and `Display` print
//! `***`, so a logged or printed configuration never shows them.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value that must never be printed.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Outgoing e-mail. Nothing is sent unless an operator sets this.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// `none` (plain, for a relay on the same host or LGWAN segment), `starttls` or `tls`.
    #[serde(default = "default_smtp_security")]
    pub security: String,
    pub from: String,
}

fn default_smtp_port() -> u16 {
    25
}

fn default_smtp_security() -> String {
    "none".into()
}

/// S3-compatible object storage for files (attachments, open-data files).
/// Without it, files live in `data_dir/files`; with several nodes, set it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// `http(s)://host[:port]` of the store (path-style requests).
    pub endpoint: String,
    pub bucket: String,
    /// Keys are stored under this prefix in the bucket.
    #[serde(default = "default_object_prefix")]
    pub prefix: String,
    #[serde(default = "default_object_region")]
    pub region: String,
    pub access_key: String,
    pub secret_key: Secret,
}

fn default_object_prefix() -> String {
    "files/".into()
}

fn default_object_region() -> String {
    "us-east-1".into()
}

/// An OpenID provider people sign in with (identity crate). Nothing is
/// offered, and no call is made, unless an operator configures one.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// The issuer, exactly as the provider's discovery document and ID tokens
    /// give it (compared character by character), e.g.
    /// `https://auth-and-sign.go.jp/api/realms/main`.
    pub issuer: String,
    /// The discovery document; by default `{issuer}/.well-known/openid-configuration`.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// The client id the provider issued to this installation.
    pub client_id: String,
    /// `client_secret_basic` (gBizID): the client secret.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// `private_key_jwt` (デジタル認証アプリ): the client's EC P-256 private
    /// key, a PKCS#8 PEM file (`madoguchi identity keygen` writes one and
    /// prints the public JWK to register). Kept outside the data directory.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// The redirect URI registered with the provider; by default
    /// `{base_url}/auth/callback/{provider}`.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The `acr` values accepted as authentication strong enough for a
    /// procedure that requires this provider (for the My Number card: the
    /// value the provider asserts for card authentication). Empty: any.
    #[serde(default)]
    pub required_acr: Vec<String>,
    /// The scopes asked for; by default the provider's (the 基本4情報 for
    /// the My Number card; `openid profile email` for gBizID).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The userinfo claim holding the 法人番号 (gBizID); by default `corporate_number`.
    #[serde(default)]
    pub corporate_number_claim: Option<String>,
}

/// The identity providers configured (none by default).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// デジタル認証アプリ (sign-in with the My Number card).
    #[serde(default)]
    pub mynumber_card: Option<OidcProviderConfig>,
    /// gBizID (business sign-in).
    #[serde(default)]
    pub gbizid: Option<OidcProviderConfig>,
}

/// The operator's branding: shown in the header, page titles and e-mails.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Branding {
    #[serde(default = "default_site_name")]
    pub site_name: String,
    #[serde(default = "default_site_name_en")]
    pub site_name_en: String,
}

fn default_site_name() -> String {
    "まどぐち 電子申請".into()
}

fn default_site_name_en() -> String {
    "Madoguchi online services".into()
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            site_name: default_site_name(),
            site_name_en: default_site_name_en(),
        }
    }
}

/// The whole configuration, after all layers are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Holds the SQLite database (by default), uploaded files, the generated
    /// secret key and operator overrides (`locales/`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; by default `madoguchi.db` in `data_dir`.
    pub database_url: Option<Secret>,
    /// The public URL (`https://…`), used in e-mails and to mark cookies Secure.
    pub base_url: Option<String>,
    /// Key material for CSRF tokens and encryption at rest (My Number values,
    /// attachments): given directly (`MADOGUCHI_SECRET_KEY`), or read from
    /// [`Config::secret_key_file`]. Every node of a scaled-out installation
    /// must share it.
    pub secret_key: Option<Secret>,
    /// The file holding the master key, kept apart from the data it protects
    /// (`MADOGUCHI_SECRET_KEY_FILE`). By default `secret.key` in a folder beside
    /// the data directory, `<data_dir>-keys/`, generated the first time.
    pub secret_key_file: Option<PathBuf>,
    /// The largest request body accepted (uploads), in bytes.
    pub max_upload_bytes: usize,
    /// The largest open-data file accepted (a resource upload), in bytes.
    pub data_upload_bytes: usize,
    pub smtp: Option<SmtpConfig>,
    /// Files in S3-compatible object storage instead of `data_dir/files`.
    pub object_store: Option<ObjectStoreConfig>,
    pub branding: Branding,
    /// Number of database connections.
    pub db_max_connections: u32,
    /// Trust `X-Forwarded-For` from a reverse proxy for the client address.
    pub trust_forwarded_for: bool,
    /// When not empty, `/staff` and the staff API answer only clients in these
    /// networks (the LGWAN segments), e.g. `["10.0.0.0/8"]`.
    pub staff_networks: Vec<ipnet::IpNet>,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`.
    pub metrics_token: Option<Secret>,
    /// Requests handled at once; more wait a little, then get 503 `busy`.
    pub max_concurrent_requests: usize,
    /// The longest a request may take (its body read and its answer made),
    /// in seconds; beyond, 503 `timeout`.
    pub request_timeout_secs: u64,
    /// How long a background job claimed by a node is reserved for it, in
    /// seconds: a node that dies while sending leaves the job to the others
    /// after this long (it must exceed the longest job).
    pub job_lock_secs: u64,
    /// The FAQ chatbot's Japanese dictionary (IPADIC's source directory or a
    /// compiled `system.dic`); by default `var/ipadic` (`scripts/setup-dictionary`).
    pub faq_dictionary: Option<PathBuf>,
    /// The FAQ chatbot's semantic model directory; by default
    /// `var/models/multilingual-e5-small` if present (`scripts/setup-model`).
    pub faq_model: Option<PathBuf>,
    /// The postal-code directory (the compact file `scripts/setup-postal-codes`
    /// writes, or Japan Post's `utf_ken_all.csv` / `KEN_ALL.CSV` as published);
    /// by default `var/postal/postal-codes.tsv` if present.
    pub postal_codes: Option<PathBuf>,
    /// Plain HTTP for local use: cookies without `Secure` (and without the
    /// `__Host-` prefix), no HSTS. `--insecure-http` or
    /// `MADOGUCHI_INSECURE_HTTP=1`; never in production.
    pub insecure_http: bool,
    /// OpenID providers residents and businesses sign in with.
    pub identity: IdentityConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("madoguchi-data"),
            database_url: None,
            base_url: None,
            secret_key: None,
            secret_key_file: None,
            max_upload_bytes: 20 * 1024 * 1024,
            data_upload_bytes: 100 * 1024 * 1024,
            smtp: None,
            object_store: None,
            branding: Branding::default(),
            db_max_connections: 16,
            trust_forwarded_for: false,
            staff_networks: Vec::new(),
            metrics_token: None,
            max_concurrent_requests: 256,
            request_timeout_secs: 120,
            job_lock_secs: 300,
            faq_dictionary: None,
            faq_model: None,
            postal_codes: None,
            insecure_http: false,
            identity: IdentityConfig::default(),
        }
    }
}

/// Where a part installed by a setup script (`scripts/setup-*`) may be:
/// `relative` under the working directory, then under the checkout the
/// binary was built from.
pub fn installed(relative: &str) -> Vec<PathBuf> {
    vec![
        PathBuf::from(relative),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(relative),
    ]
}

/// The configuration file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<Secret>,
    base_url: Option<String>,
    secret_key: Option<Secret>,
    secret_key_file: Option<PathBuf>,
    max_upload_mb: Option<usize>,
    data_upload_mb: Option<usize>,
    smtp: Option<SmtpConfig>,
    object_store: Option<ObjectStoreConfig>,
    branding: Option<Branding>,
    db_max_connections: Option<u32>,
    trust_forwarded_for: Option<bool>,
    staff_networks: Option<Vec<String>>,
    metrics_token: Option<Secret>,
    max_concurrent_requests: Option<usize>,
    request_timeout_secs: Option<u64>,
    job_lock_secs: Option<u64>,
    faq_dictionary: Option<PathBuf>,
    faq_model: Option<PathBuf>,
    postal_codes: Option<PathBuf>,
    insecure_http: Option<bool>,
    identity: Option<IdentityConfig>,
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Config {
    /// Loads the configuration: defaults, the file (`--config`, else
    /// `$MADOGUCHI_CONFIG`, else `madoguchi.toml` in the data directory if it
    /// exists), environment, flags.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        Self::load_from(overrides, |k| std::env::var(k).ok())
    }

    /// [`Config::load`] with an explicit environment, for tests.
    pub fn load_from(
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let mut config = Config::default();
        // The data directory decides where the default file is, so resolve it first.
        let data_dir = overrides
            .data_dir
            .clone()
            .or_else(|| env("MADOGUCHI_DATA_DIR").map(PathBuf::from));
        let file = overrides
            .config_file
            .clone()
            .or_else(|| env("MADOGUCHI_CONFIG").map(PathBuf::from))
            .or_else(|| {
                let dir = data_dir.clone().unwrap_or_else(|| config.data_dir.clone());
                let candidate = dir.join("madoguchi.toml");
                candidate.exists().then_some(candidate)
            });
        if let Some(path) = file {
            config.apply_file(&path)?;
        }
        config.apply_env(&env)?;
        if let Some(dir) = data_dir {
            config.data_dir = dir;
        }
        if let Some(addr) = overrides.addr {
            config.addr = addr;
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = Some(Secret::new(url.clone()));
        }
        Ok(config)
    }

    fn apply_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read configuration {}: {e}", path.display()))?;
        let file: FileConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("invalid configuration {}: {e}", path.display()))?;
        let FileConfig {
            addr,
            data_dir,
            database_url,
            base_url,
            secret_key,
            secret_key_file,
            max_upload_mb,
            data_upload_mb,
            smtp,
            object_store,
            branding,
            db_max_connections,
            trust_forwarded_for,
            staff_networks,
            metrics_token,
            max_concurrent_requests,
            request_timeout_secs,
            job_lock_secs,
            faq_dictionary,
            faq_model,
            postal_codes,
            insecure_http,
            identity,
        } = file;
        set(&mut self.identity, identity);
        set(&mut self.addr, addr);
        set(&mut self.data_dir, data_dir);
        set_opt(&mut self.database_url, database_url);
        set_opt(&mut self.base_url, base_url);
        set_opt(&mut self.secret_key, secret_key);
        set_opt(&mut self.secret_key_file, secret_key_file);
        set(
            &mut self.max_upload_bytes,
            max_upload_mb.map(|mb| mb * 1024 * 1024),
        );
        set(
            &mut self.data_upload_bytes,
            data_upload_mb.map(|mb| mb * 1024 * 1024),
        );
        set_opt(&mut self.smtp, smtp);
        set_opt(&mut self.object_store, object_store);
        set(&mut self.branding, branding);
        set(&mut self.db_max_connections, db_max_connections);
        set(&mut self.trust_forwarded_for, trust_forwarded_for);
        if let Some(nets) = staff_networks {
            self.staff_networks = parse_networks(nets.iter().map(String::as_str))?;
        }
        set_opt(&mut self.metrics_token, metrics_token);
        set(&mut self.max_concurrent_requests, max_concurrent_requests);
        set(&mut self.request_timeout_secs, request_timeout_secs);
        set(&mut self.job_lock_secs, job_lock_secs);
        set_opt(&mut self.faq_dictionary, faq_dictionary);
        set_opt(&mut self.faq_model, faq_model);
        set_opt(&mut self.postal_codes, postal_codes);
        set(&mut self.insecure_http, insecure_http);
        Ok(())
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = env("MADOGUCHI_ADDR") {
            self.addr = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_ADDR {v:?}: {e}"))?;
        }
        if let Some(v) = env("MADOGUCHI_STAFF_NETWORKS") {
            self.staff_networks = parse_networks(v.split(',').filter(|n| !n.trim().is_empty()))?;
        }
        if let Some(v) = env("MADOGUCHI_INSECURE_HTTP") {
            self.insecure_http = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("MADOGUCHI_POSTAL_CODES") {
            self.postal_codes = Some(PathBuf::from(v));
        }
        if let Some(v) = env("MADOGUCHI_FAQ_DICTIONARY") {
            self.faq_dictionary = Some(PathBuf::from(v));
        }
        if let Some(v) = env("MADOGUCHI_FAQ_MODEL") {
            self.faq_model = Some(PathBuf::from(v));
        }
        if let Some(v) = env("MADOGUCHI_DATABASE_URL") {
            self.database_url = Some(Secret::new(v));
        }
        if let Some(v) = env("MADOGUCHI_BASE_URL") {
            self.base_url = Some(v);
        }
        if let Some(v) = env("MADOGUCHI_SECRET_KEY_FILE") {
            self.secret_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("MADOGUCHI_SECRET_KEY") {
            self.secret_key = Some(Secret::new(v));
        }
        if let Some(v) = env("MADOGUCHI_MAX_UPLOAD_MB") {
            let mb: usize = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_MAX_UPLOAD_MB {v:?}: {e}"))?;
            self.max_upload_bytes = mb * 1024 * 1024;
        }
        if let Some(v) = env("MADOGUCHI_DATA_UPLOAD_MB") {
            let mb: usize = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_DATA_UPLOAD_MB {v:?}: {e}"))?;
            self.data_upload_bytes = mb * 1024 * 1024;
        }
        if let Some(v) = env("MADOGUCHI_METRICS_TOKEN") {
            self.metrics_token = Some(Secret::new(v));
        }
        if let Some(v) = env("MADOGUCHI_MAX_CONCURRENT_REQUESTS") {
            self.max_concurrent_requests = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_MAX_CONCURRENT_REQUESTS {v:?}: {e}"))?;
        }
        if let Some(v) = env("MADOGUCHI_REQUEST_TIMEOUT_SECS") {
            self.request_timeout_secs = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_REQUEST_TIMEOUT_SECS {v:?}: {e}"))?;
        }
        if let Some(v) = env("MADOGUCHI_JOB_LOCK_SECS") {
            self.job_lock_secs = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_JOB_LOCK_SECS {v:?}: {e}"))?;
        }
        if let Some(v) = env("MADOGUCHI_DB_MAX_CONNECTIONS") {
            self.db_max_connections = v
                .parse()
                .map_err(|e| anyhow::anyhow!("MADOGUCHI_DB_MAX_CONNECTIONS {v:?}: {e}"))?;
        }
        if let Some(endpoint) = env("MADOGUCHI_S3_ENDPOINT") {
            let required = |k: &str| {
                env(k).ok_or_else(|| {
                    anyhow::anyhow!("MADOGUCHI_S3_ENDPOINT is set, so {k} is needed")
                })
            };
            self.object_store = Some(ObjectStoreConfig {
                endpoint,
                bucket: required("MADOGUCHI_S3_BUCKET")?,
                prefix: env("MADOGUCHI_S3_PREFIX").unwrap_or_else(default_object_prefix),
                region: env("MADOGUCHI_S3_REGION").unwrap_or_else(default_object_region),
                access_key: required("MADOGUCHI_S3_ACCESS_KEY")?,
                secret_key: Secret::new(required("MADOGUCHI_S3_SECRET_KEY")?),
            });
        }
        if let Some(host) = env("MADOGUCHI_SMTP_HOST") {
            let port = match env("MADOGUCHI_SMTP_PORT") {
                Some(p) => p
                    .parse()
                    .map_err(|e| anyhow::anyhow!("MADOGUCHI_SMTP_PORT {p:?}: {e}"))?,
                None => default_smtp_port(),
            };
            self.smtp = Some(SmtpConfig {
                host,
                port,
                username: env("MADOGUCHI_SMTP_USERNAME"),
                password: env("MADOGUCHI_SMTP_PASSWORD").map(Secret::new),
                security: env("MADOGUCHI_SMTP_SECURITY").unwrap_or_else(default_smtp_security),
                from: env("MADOGUCHI_SMTP_FROM")
                    .unwrap_or_else(|| "madoguchi@localhost".to_string()),
            });
        }
        // The gBizID client secret may come from the environment rather than the file.
        if let (Some(g), Some(v)) = (
            &mut self.identity.gbizid,
            env("MADOGUCHI_GBIZID_CLIENT_SECRET"),
        ) {
            g.client_secret = Some(Secret::new(v));
        }
        Ok(())
    }

    /// The database URL to use: the configured one, else SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => crate::db::sqlite_url(&self.data_dir.join("madoguchi.db")),
        }
    }

    /// Whether cookies get the `Secure` attribute: when served over https.
    /// Whether cookies are `Secure` with `__Host-` names and HSTS is sent:
    /// always, unless the operator serves plain HTTP for local use
    /// (`--insecure-http`, as the demo does).
    pub fn secure_cookies(&self) -> bool {
        !self.insecure_http
    }

    /// The master key's file: `secret_key_file` if set; else `secret.key`
    /// in the data directory where an older installation generated it there;
    /// else `secret.key` in `<data_dir>-keys/`, beside the data directory and
    /// not in it, so a copy of the data is not a copy of its key.
    pub fn key_file(&self) -> PathBuf {
        if let Some(path) = &self.secret_key_file {
            return path.clone();
        }
        let legacy = self.data_dir.join("secret.key");
        if legacy.is_file() {
            return legacy;
        }
        key_folder(&self.data_dir).join("secret.key")
    }
}

/// `<data_dir>-keys`: where the key is generated by default.
pub fn key_folder(data_dir: &Path) -> PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "madoguchi-data".into());
    data_dir.with_file_name(format!("{name}-keys"))
}

/// Networks written as CIDR (`10.0.0.0/8`, `2001:db8::/32`) or single addresses.
fn parse_networks<'a>(nets: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<ipnet::IpNet>> {
    nets.map(|n| {
        let n = n.trim();
        n.parse::<ipnet::IpNet>()
            .or_else(|_| n.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                anyhow::anyhow!("staff_networks: {n:?} is not a network (e.g. 10.0.0.0/8)")
            })
    })
    .collect()
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn set_opt<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_not_printed() {
        let dir = std::env::temp_dir().join(format!("madoguchi-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("madoguchi.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9000\"\nsecret_key = \"file-secret\"\nmax_upload_mb = 5\n\
             database_url = \"postgres://u:hunter2@db/x\"\n",
        )
        .unwrap();
        let env = |k: &str| match k {
            "MADOGUCHI_ADDR" => Some("127.0.0.1:9100".to_string()),
            _ => None,
        };
        let overrides = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let config = Config::load_from(&overrides, env).unwrap();
        assert_eq!(config.addr.port(), 9100, "environment overrides the file");
        assert_eq!(config.max_upload_bytes, 5 * 1024 * 1024);
        let printed = format!("{config:?}");
        assert!(!printed.contains("file-secret"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");

        let flags = Overrides {
            config_file: overrides.config_file.clone(),
            addr: Some("127.0.0.1:9200".parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            Config::load_from(&flags, env).unwrap().addr.port(),
            9200,
            "flags win"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_key_file_is_beside_the_data_directory_unless_configured() {
        let dir = std::env::temp_dir().join(format!(
            "madoguchi-keyfile-{}",
            crate::crypto::random_token()
        ));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let mut config = Config {
            data_dir: data.clone(),
            ..Config::default()
        };
        assert_eq!(config.key_file(), dir.join("data-keys").join("secret.key"));
        assert!(!config.key_file().starts_with(&data));
        // An older installation's key inside the data directory is still found.
        std::fs::write(data.join("secret.key"), "k".repeat(64)).unwrap();
        assert_eq!(config.key_file(), data.join("secret.key"));
        // The operator's file wins; the environment can name it.
        let env = |k: &str| {
            (k == "MADOGUCHI_SECRET_KEY_FILE").then(|| "/etc/madoguchi/master.key".to_string())
        };
        config.apply_env(&env).unwrap();
        assert_eq!(
            config.key_file(),
            PathBuf::from("/etc/madoguchi/master.key")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = std::env::temp_dir().join(format!("madoguchi-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("madoguchi.toml");
        std::fs::write(&file, "adr = \"127.0.0.1:9000\"\n").unwrap();
        let overrides = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let err = Config::load_from(&overrides, |_| None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("adr"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
