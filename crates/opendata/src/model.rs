//! The catalogue's records and CKAN's dictionaries of them: licences, names,
//! timestamps and identifiers as CKAN clients expect them; who writes
//! ([`Actor`]), API tokens, uploaded files, and the rows the platform
//! publishes about itself (its procedures, monthly applications and the
//! paper counts sections record).
//!
//! Domain types: the store returns them, the service works on them, the web
//! layer shows them. CKAN's `package_show` dictionary ([`package_dict`]) is
//! the catalogue's canonical form: the in-memory catalogue keeps it, the
//! CKAN adapter answers with it and DCAT is written from it.

use serde_json::{Map, Value, json};

/// A licence of the catalogue (`license_list`).
#[derive(Debug, Clone, Copy)]
pub struct Licence {
    pub id: &'static str,
    pub title: &'static str,
    pub title_en: &'static str,
    pub url: &'static str,
    /// Whether it is an open licence (CKAN's `isopen`).
    pub open: bool,
}

/// The licences a dataset may carry. CC BY 4.0 is the default of Japan's
/// standard datasets; PDL1.0 and 政府標準利用規約 2.0 are compatible with it.
pub const LICENCES: &[Licence] = &[
    Licence {
        id: "cc-by-4.0",
        title: "クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)",
        title_en: "Creative Commons Attribution 4.0 International (CC BY 4.0)",
        url: "https://creativecommons.org/licenses/by/4.0/",
        open: true,
    },
    Licence {
        id: "cc-zero",
        title: "クリエイティブ・コモンズ CC0 1.0 全世界 (パブリック・ドメイン)",
        title_en: "Creative Commons CC0 1.0 Universal (public domain)",
        url: "https://creativecommons.org/publicdomain/zero/1.0/",
        open: true,
    },
    Licence {
        id: "pdl-1.0",
        title: "公共データ利用規約 第1.0版 (PDL1.0)",
        title_en: "Public Data License version 1.0 (PDL1.0)",
        url: "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0",
        open: true,
    },
    Licence {
        id: "gov-jp-2.0",
        title: "政府標準利用規約 (第2.0版)",
        title_en: "Government of Japan Standard Terms of Use (version 2.0)",
        url: "https://www.digital.go.jp/resources/open_data/",
        open: true,
    },
    Licence {
        id: "cc-by-sa-4.0",
        title: "クリエイティブ・コモンズ 表示-継承 4.0 国際 (CC BY-SA 4.0)",
        title_en: "Creative Commons Attribution-ShareAlike 4.0 International",
        url: "https://creativecommons.org/licenses/by-sa/4.0/",
        open: true,
    },
    Licence {
        id: "other-closed",
        title: "その他 (非オープン)",
        title_en: "Other (not open)",
        url: "",
        open: false,
    },
    Licence {
        id: "notspecified",
        title: "ライセンス未指定",
        title_en: "License not specified",
        url: "",
        open: false,
    },
];

/// The default licence of new datasets and of standard datasets.
pub const DEFAULT_LICENCE: &str = "cc-by-4.0";

pub fn licence(id: &str) -> Option<&'static Licence> {
    LICENCES.iter().find(|l| l.id == id)
}

/// `license_list`'s dictionary of a licence.
pub fn licence_dict(l: &Licence) -> Value {
    json!({
        "id": l.id,
        "title": l.title,
        "url": l.url,
        "status": "active",
        "maintainer": "",
        "family": "",
        "domain_content": false,
        "domain_data": l.open,
        "domain_software": false,
        "od_conformance": if l.open { "approved" } else { "not reviewed" },
        "osd_conformance": "not reviewed",
        "is_generic": false,
        "is_okd_compliant": l.open,
        "is_osi_compliant": false,
    })
}

/// Whether `name` is a valid CKAN name: 2–100 characters of `a-z`, `0-9`, `-`, `_`.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Missing value".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Some(
            "Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_".into(),
        );
    }
    let n = name.chars().count();
    if n < 2 {
        return Some(format!("Name \"{name}\" length is less than minimum 2"));
    }
    if n > 100 {
        return Some(format!("Name \"{name}\" length is more than maximum 100"));
    }
    None
}

/// A CKAN name made from free text (an organisation's English name): `Mie Prefecture` → `mie-prefecture`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(90);
    out
}

/// A new random UUID (version 4), as CKAN's ids.
pub fn new_id() -> String {
    let mut b: [u8; 16] = platform::crypto::random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_text(&b)
}

/// A UUID derived from a name (for tags, which have no row of their own).
pub fn id_for(kind: &str, name: &str) -> String {
    let digest = platform::crypto::sha256_hex(format!("{kind}\0{name}"));
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digest.get(i * 2..i * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    uuid_text(&b)
}

fn uuid_text(b: &[u8; 16]) -> String {
    // 32 hex digits (ASCII): every range below is inside them.
    let h = platform::crypto::hex(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// Whether `s` looks like a UUID (then `package_show` looks it up as an id).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// CKAN's timestamp: naive ISO-8601 UTC with microseconds.
pub fn now() -> String {
    ckan_time(chrono::Utc::now())
}

pub fn ckan_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Parses a CKAN timestamp (naive, meaning UTC).
pub fn parse_ckan_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// Who writes: a local government (through a token or a staff member).
#[derive(Debug, Clone)]
pub struct Actor {
    pub organisation_id: i64,
    /// For the audit trail: `token:<id>:<name>` or `staff:<id>`.
    pub label: String,
}

impl Actor {
    /// Who the audit log names: the staff member, the token, else the server.
    pub fn audit(&self) -> platform::audit::Actor {
        let mut parts = self.label.split(':');
        let kind = parts.next();
        let id = parts.next().and_then(|i| i.parse::<i64>().ok());
        match (kind, id) {
            (Some("staff"), Some(id)) => platform::audit::Actor::Staff(id),
            (Some("token"), Some(id)) => platform::audit::Actor::ApiToken(id),
            (Some("cli"), _) => platform::audit::Actor::Cli,
            _ => platform::audit::Actor::System,
        }
    }
}

/// A file given with a resource (an upload through the API or a form).
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The extra that marks a dataset as one of Japan's standard datasets.
pub const TEMPLATE_EXTRA: &str = "standard_template";

/// A publisher (CKAN organization).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub image_url: String,
    pub organisation_id: i64,
    pub state: String,
    pub created_at: String,
}

impl Organization {
    /// The dictionary of `organization_show` (without datasets) and of a package's `organization`.
    pub fn dict(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "display_name": self.title,
            "description": self.description,
            "image_url": self.image_url,
            "image_display_url": self.image_url,
            "created": self.created_at,
            "type": "organization",
            "is_organization": true,
            "approval_status": "approved",
            "state": self.state,
        })
    }
}

/// A CKAN group.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub image_url: String,
    pub state: String,
    pub created_at: String,
}

impl Group {
    pub fn dict(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "display_name": self.title,
            "description": self.description,
            "image_url": self.image_url,
            "image_display_url": self.image_url,
            "created": self.created_at,
            "type": "group",
            "is_organization": false,
            "approval_status": "approved",
            "state": self.state,
        })
    }

    /// A group as a package lists it.
    pub fn package_dict(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "display_name": self.title,
            "description": self.description,
            "image_display_url": self.image_url,
        })
    }
}

/// A dataset as stored.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub title: String,
    pub notes: String,
    pub owner_org: String,
    pub license_id: String,
    pub author: String,
    pub author_email: String,
    pub maintainer: String,
    pub maintainer_email: String,
    pub url: String,
    pub version: String,
    pub private: bool,
    pub state: String,
    pub tags: Vec<String>,
    pub group_ids: Vec<String>,
    pub extras: Vec<(String, String)>,
    /// CKAN's `creator_user_id`: a UUID derived from the token or staff member that created it.
    pub creator_user_id: String,
    pub publisher_key: Option<String>,
    pub created_at: String,
    pub modified_at: String,
    pub resources: Vec<Resource>,
}

impl Dataset {
    pub fn extra(&self, key: &str) -> Option<&str> {
        self.extras
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A resource as stored.
#[derive(Debug, Clone)]
pub struct Resource {
    pub id: String,
    pub dataset_id: String,
    pub position: i64,
    pub name: String,
    pub description: String,
    pub format: String,
    pub mimetype: String,
    /// For uploads: the file name (the download URL is built from it); else the link.
    pub url: String,
    pub url_type: String,
    pub file_key: Option<String>,
    pub size: Option<i64>,
    pub hash: String,
    pub extras: Map<String, Value>,
    pub created_at: String,
    pub modified_at: String,
}

impl Resource {
    /// Whether the bytes are stored here (an upload with a file).
    pub fn is_stored_upload(&self) -> bool {
        self.url_type == "upload" && self.file_key.is_some()
    }

    /// The URL clients fetch: for an upload, its download URL here (as CKAN
    /// does, even when the file came with a dump and is not stored here).
    pub fn public_url(&self, site_url: &str) -> String {
        if self.url_type == "upload" {
            format!(
                "{site_url}/dataset/{}/resource/{}/download/{}",
                self.dataset_id,
                self.id,
                download_name(&self.url)
            )
        } else {
            self.url.clone()
        }
    }

    pub fn dict(&self, site_url: &str) -> Value {
        let mut m = Map::new();
        // The resource's other keys first, so that the fixed keys win.
        for (k, v) in &self.extras {
            m.insert(k.clone(), v.clone());
        }
        let fixed = json!({
            "id": self.id,
            "package_id": self.dataset_id,
            "position": self.position,
            "name": self.name,
            "description": self.description,
            "format": self.format,
            "mimetype": null_if_empty(&self.mimetype),
            "mimetype_inner": null,
            "url": self.public_url(site_url),
            "url_type": null_if_empty(&self.url_type),
            "size": self.size,
            "hash": self.hash,
            "state": "active",
            "created": self.created_at,
            "last_modified": self.extras.get("last_modified").cloned().unwrap_or(Value::Null),
            "metadata_modified": self.modified_at,
            "cache_url": null,
            "cache_last_updated": null,
            "datastore_active": false,
            "resource_type": null,
        });
        if let Value::Object(fixed) = fixed {
            m.extend(fixed);
        }
        Value::Object(m)
    }
}

/// The file name a download URL ends in: the last path segment, made safe.
pub fn download_name(url: &str) -> String {
    let last = url.rsplit('/').next().unwrap_or("").trim();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "data".to_string()
    } else {
        cleaned
    }
}

fn null_if_empty(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// A dataset that is not in the public catalogue (deleted or draft), as the
/// staff's list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HiddenDataset {
    pub id: String,
    pub name: String,
    pub title: String,
    pub state: String,
    pub modified_at: String,
    pub owner_org: String,
}

/// An API token's holder: a local government, with its administrator's rights.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A procedure the platform publishes (from the procedures catalogue).
#[derive(Debug, Clone)]
pub struct PublishedProcedure {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub category: String,
    pub online: bool,
    pub fee_yen: Option<i64>,
    pub annual_volume: Option<i64>,
    pub section: String,
    pub department: String,
}

/// Applications received online for one procedure in one month (UTC, as stored).
#[derive(Debug, Clone)]
pub struct MonthlyApplications {
    pub code: String,
    pub name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
}

/// Applications a section received on paper for one procedure in one month
/// (紙の申請件数), as it recorded them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaperCount {
    pub procedure_code: String,
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// CKAN's `package_show` dictionary.
pub fn package_dict(
    d: &Dataset,
    org: Option<&Organization>,
    groups: &[&Group],
    site_url: &str,
) -> Value {
    let lic = licence(&d.license_id);
    let tags: Vec<Value> = d
        .tags
        .iter()
        .map(|t| {
            json!({"id": id_for("tag", t), "name": t, "display_name": t, "state": "active", "vocabulary_id": null})
        })
        .collect();
    let extras: Vec<Value> = d
        .extras
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    let resources: Vec<Value> = d.resources.iter().map(|r| r.dict(site_url)).collect();
    json!({
        "id": d.id,
        "name": d.name,
        "title": d.title,
        "notes": null_if_empty(&d.notes),
        "type": "dataset",
        "state": d.state,
        "private": d.private,
        "owner_org": d.owner_org,
        "organization": org.map(Organization::dict),
        "author": null_if_empty(&d.author),
        "author_email": null_if_empty(&d.author_email),
        "maintainer": null_if_empty(&d.maintainer),
        "maintainer_email": null_if_empty(&d.maintainer_email),
        "url": null_if_empty(&d.url),
        "version": null_if_empty(&d.version),
        "license_id": null_if_empty(&d.license_id),
        "license_title": lic.map(|l| l.title).unwrap_or(d.license_id.as_str()),
        "license_url": lic.map(|l| l.url).filter(|u| !u.is_empty()),
        "isopen": lic.is_some_and(|l| l.open),
        "metadata_created": d.created_at,
        "metadata_modified": d.modified_at,
        "creator_user_id": null_if_empty(&d.creator_user_id),
        "num_resources": d.resources.len(),
        "num_tags": d.tags.len(),
        "tags": tags,
        "groups": groups.iter().map(|g| g.package_dict()).collect::<Vec<_>>(),
        "extras": extras,
        "resources": resources,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_ckan_rules() {
        assert!(name_problem("koen-ichiran_2024").is_none());
        assert!(name_problem("a").is_some());
        assert!(name_problem("Koen").is_some());
        assert!(name_problem("公園").is_some());
        assert!(name_problem(&"a".repeat(101)).is_some());
        assert_eq!(slug("Mie Prefecture"), "mie-prefecture");
        assert_eq!(slug("  Tsu City!! "), "tsu-city");
    }

    #[test]
    fn ids_are_uuids() {
        let id = new_id();
        assert!(is_uuid(&id), "{id}");
        assert_ne!(id, new_id());
        assert!(is_uuid(&id_for("tag", "公園")));
        assert_eq!(id_for("tag", "公園"), id_for("tag", "公園"));
        assert!(!is_uuid("mie-parks"));
    }

    #[test]
    fn timestamps_are_naive_with_microseconds() {
        let t = now();
        assert_eq!(t.len(), 26, "{t}");
        assert!(parse_ckan_time(&t).is_some());
        assert!(parse_ckan_time("2024-01-01T00:00:00").is_some());
    }

    #[test]
    fn download_names_are_safe() {
        assert_eq!(download_name("a/b/公園 一覧.csv"), "公園_一覧.csv");
        assert_eq!(download_name(".."), "data");
        assert_eq!(download_name(""), "data");
    }
}
