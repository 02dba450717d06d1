//! Demo data drawn from the seeds: the organisations, their procedures and
//! forms (`demo/*.toml`, see `demo/README.md`), and demo accounts. Loading is
//! idempotent: run it twice and nothing is duplicated.

use platform::accounts::{self, NewStaff, Role};
use platform::db::Db;
use platform::orgs;
use serde::Deserialize;

/// The demo files, embedded in the binary: (path relative to `demo/`, contents).
pub const FILES: &[(&str, &str)] = &[
    ("people.toml", include_str!("../demo/people.toml")),
    ("routes.toml", include_str!("../demo/routes.toml")),
    ("mie.toml", include_str!("../demo/mie.toml")),
    ("toyama.toml", include_str!("../demo/toyama.toml")),
    ("fukushima.toml", include_str!("../demo/fukushima.toml")),
    ("tsu.toml", include_str!("../demo/tsu.toml")),
    (
        "forms/mie-high-school.toml",
        include_str!("../demo/forms/mie-high-school.toml"),
    ),
    (
        "forms/mie-parking-permit.toml",
        include_str!("../demo/forms/mie-parking-permit.toml"),
    ),
    (
        "forms/mie-parking-reissue.toml",
        include_str!("../demo/forms/mie-parking-reissue.toml"),
    ),
    (
        "forms/mie-solar-guideline.toml",
        include_str!("../demo/forms/mie-solar-guideline.toml"),
    ),
    (
        "forms/toyama-childcare-leave-subsidy.toml",
        include_str!("../demo/forms/toyama-childcare-leave-subsidy.toml"),
    ),
    (
        "forms/toyama-iot-subsidy.toml",
        include_str!("../demo/forms/toyama-iot-subsidy.toml"),
    ),
    (
        "forms/tsu-bulky-waste.toml",
        include_str!("../demo/forms/tsu-bulky-waste.toml"),
    ),
    (
        "forms/fukushima-public-housing.toml",
        include_str!("../demo/forms/fukushima-public-housing.toml"),
    ),
];

/// The procedure bundles, in loading order (a municipality after its prefecture).
const BUNDLES: &[&str] = &["mie.toml", "toyama.toml", "fukushima.toml", "tsu.toml"];

/// The plans transcribed from the seeds (`demo/plans/`, see its README).
pub const PLANS: &[(&str, &str)] = &[
    (
        "plans/toyama.toml",
        include_str!("../demo/plans/toyama.toml"),
    ),
    ("plans/mie.toml", include_str!("../demo/plans/mie.toml")),
    (
        "plans/fukushima.toml",
        include_str!("../demo/plans/fukushima.toml"),
    ),
];

/// Procedure inventories (手続棚卸): (organisation code, file name, contents).
pub const INVENTORIES: &[(&str, &str, &[u8])] = &[(
    "240001",
    "mie-inventory.csv",
    include_bytes!("../demo/plans/mie-inventory.csv"),
)];

/// The demo FAQ: entries written for the demo organisations (自動車税, 移住,
/// 外国人観光, 子育て, 防災 and the demo procedures); also the development set
/// the evaluation harness measures (`crates/faq/devset`).
pub const FAQ: &[u8] = include_bytes!("../../faq/devset/faq.csv");

fn file(path: &str) -> Result<String, String> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, c)| c.to_string())
        .ok_or_else(|| format!("no demo file {path}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Routes {
    routes: Vec<RouteEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    organisation: String,
    procedure: String,
    steps: Vec<approvals::model::Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct People {
    /// The password of every demo account.
    password: String,
    organisations: Vec<OrganisationEntry>,
    staff: Vec<StaffEntry>,
    residents: Vec<ResidentEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationEntry {
    code: String,
    name: String,
    name_en: String,
    #[serde(default)]
    parent: Option<String>,
    /// The section demo staff of this organisation who are not in a procedure's section belong to.
    admin_section: SectionEntry,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionEntry {
    code: String,
    name: String,
    name_en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffEntry {
    organisation: String,
    section: String,
    email: String,
    name: String,
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResidentEntry {
    email: String,
    display_name: String,
}

/// A demo account, to print at start.
#[derive(Debug, Clone)]
pub struct Account {
    pub kind: &'static str,
    pub email: String,
    pub detail: String,
}

/// The second-factor key every demo staff account is enrolled with
/// (base32, RFC 6238): type it into an authenticator app to sign in as demo
/// staff. Printed at start with the demo password; a real installation's
/// staff enrol their own at their first sign-in.
pub const DEMO_TOTP_KEY: &str = "MADOGUCHIDEMOSTAFFTOTPKEYJAPANXX";

/// What loading the demo produced.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub password: String,
    /// The demo staff's second-factor key ([`DEMO_TOTP_KEY`]).
    pub totp_key: String,
    pub accounts: Vec<Account>,
}

/// Loads the demo data into `db` (idempotent).
pub async fn load(db: &Db, keys: &platform::crypto::Keys) -> anyhow::Result<Loaded> {
    let totp_secret = platform::totp::from_base32(DEMO_TOTP_KEY)
        .ok_or_else(|| anyhow::anyhow!("the demo TOTP key is not base32"))?;
    let people: People = toml::from_str(&file("people.toml").map_err(anyhow::Error::msg)?)?;
    for o in &people.organisations {
        let org = match orgs::organisation_by_code(db, &o.code).await? {
            Some(org) => org,
            None => {
                let parent = match &o.parent {
                    Some(code) => orgs::organisation_by_code(db, code).await?.map(|p| p.id),
                    None => None,
                };
                orgs::insert_organisation(db, &o.code, &o.name, &o.name_en, parent).await?
            }
        };
        if orgs::section_by_code(db, org.id, &o.admin_section.code)
            .await?
            .is_none()
        {
            orgs::insert_section(
                db,
                org.id,
                orgs::NewSection {
                    code: &o.admin_section.code,
                    name: &o.admin_section.name,
                    name_en: &o.admin_section.name_en,
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    for bundle in BUNDLES {
        let text = file(bundle).map_err(anyhow::Error::msg)?;
        procedures::service::import::import_bundle(db, &text, file)
            .await
            .map_err(|errors| {
                anyhow::anyhow!(
                    "demo bundle {bundle}:\n{}",
                    errors
                        .iter()
                        .map(|e| format!("  {e}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })?;
    }
    let routes: Routes = toml::from_str(&file("routes.toml").map_err(anyhow::Error::msg)?)?;
    for r in &routes.routes {
        let org = orgs::organisation_by_code(db, &r.organisation)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo route: no organisation {}", r.organisation))?;
        let p = procedures::service::catalogue::procedure_by_code(db, org.id, &r.procedure)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo route: no procedure {}", r.procedure))?;
        if approvals::service::route_for(db, p.id).await? != r.steps {
            approvals::service::set_route(db, org.id, p.id, &r.steps, None)
                .await
                .map_err(|e| anyhow::anyhow!("demo route {}: {e}", r.procedure))?;
        }
    }
    for (path, text) in PLANS {
        let plan: plans::data::PlanFile =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("demo plan {path}: {e}"))?;
        plans::service::plans::load(db, &plan, false, platform::audit::Actor::System)
            .await
            .map_err(|e| anyhow::anyhow!("demo plan {path}: {e}"))?;
    }
    for (code, name, bytes) in INVENTORIES {
        let org = orgs::organisation_by_code(db, code)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo inventory {name}: no organisation {code}"))?;
        if plans::service::inventory::items(db, org.id)
            .await?
            .is_empty()
        {
            plans::service::inventory::import(
                db,
                org.id,
                bytes,
                name,
                false,
                platform::audit::Actor::System,
            )
            .await
            .map_err(|plans::service::ImportError::Rows(errors)| {
                anyhow::anyhow!(
                    "demo inventory {name}: {}",
                    errors
                        .iter()
                        .map(|e| format!("line {} {}: {} {}", e.line, e.column, e.code, e.value))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
        }
    }
    if faq::service::entries::list(db, None).await?.is_empty() {
        let (rows, errors) = faq::entry::parse_csv(FAQ);
        faq::service::entries::import(
            db,
            rows,
            errors,
            None,
            None,
            false,
            platform::audit::Actor::System,
        )
        .await
        .map_err(|e| match e {
            faq::service::EntryError::Invalid(errors) => anyhow::anyhow!(
                "demo FAQ: {}",
                errors
                    .iter()
                    .map(|e| format!("line {} {}: {} {}", e.line, e.column, e.code, e.value))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("demo FAQ: {other}"),
        })?;
    }
    let password = people.password.clone();
    let hash = {
        let pw = password.clone();
        tokio::task::spawn_blocking(move || accounts::hash_password(&pw))
            .await?
            .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?
    };
    let mut out = Vec::new();
    for s in &people.staff {
        let org = orgs::organisation_by_code(db, &s.organisation)
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!("demo staff {}: no organisation {}", s.email, s.organisation)
            })?;
        let section = orgs::section_by_code(db, org.id, &s.section)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo staff {}: no section {}", s.email, s.section))?;
        let roles: Vec<Role> = s
            .roles
            .iter()
            .map(|r| {
                Role::parse(r)
                    .ok_or_else(|| anyhow::anyhow!("demo staff {}: unknown role {r}", s.email))
            })
            .collect::<anyhow::Result<_>>()?;
        let exists: Option<i64> = sqlx::query_scalar("select id from staff where email = $1")
            .bind(&s.email)
            .fetch_optional(db.pool())
            .await?;
        if exists.is_none() {
            let staff = accounts::insert_staff(
                db,
                NewStaff {
                    organisation_id: org.id,
                    section_id: section.id,
                    email: &s.email,
                    password_hash: Some(&hash),
                    name: &s.name,
                    roles: &roles,
                },
            )
            .await?;
            platform::second_factor::enrol_with(db, keys, staff.id, &totp_secret).await?;
        }
        out.push(Account {
            kind: "staff",
            email: s.email.clone(),
            detail: format!("{} {} ({})", org.name, section.name, s.roles.join(", ")),
        });
    }
    for r in &people.residents {
        let exists: Option<i64> = sqlx::query_scalar("select id from residents where email = $1")
            .bind(&r.email)
            .fetch_optional(db.pool())
            .await?;
        if exists.is_none() {
            accounts::insert_resident(db, &r.email, Some(&hash), &r.display_name).await?;
        }
        out.push(Account {
            kind: "resident",
            email: r.email.clone(),
            detail: r.display_name.clone(),
        });
    }
    Ok(Loaded {
        password,
        totp_key: DEMO_TOTP_KEY.to_string(),
        accounts: out,
    })
}
