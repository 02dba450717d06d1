//! Notifications to residents by e-mail: on receipt, on a correction request,
//! on the decision. Jobs written in the same transaction as the change (the
//! outbox, see `platform::jobs`) are sent here by the background worker,
//! retried with backoff when the SMTP server fails.
//!
//! Each event has one job (its dedupe key names the event), and a job is
//! marked done right after the server accepted the message, so one event gives
//! one e-mail. (If the process died between the server's acceptance and that
//! mark, the job would run again; the Message-ID is the same each time, so
//! mail systems that deduplicate by it show one.) Nothing is sent unless an
//! operator configured an SMTP server; without one the jobs are completed and
//! the log says they were not sent.

use approvals::service as approvals_service;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use platform::Platform;
use platform::config::SmtpConfig;
use platform::i18n::Lang;
use platform::jobs::{Handler, Job, JobResult, Runner};
use serde_json::Value;

use crate::store::notify as store;

/// The notification kinds this module sends.
pub const KINDS: &[&str] = &[
    "notify.application_received",
    "notify.correction_requested",
    "notify.decision",
    "account.verify_email",
    "account.already_registered",
    "account.reset_password",
];

/// Every e-mail's message key (`….subject` and `….body` in the catalogue)
/// with the placeholders [`compose`] fills for it.
pub const TEMPLATES: &[(&str, &[&str])] = &[
    (
        "mail.received",
        &["name", "procedure", "receipt", "link", "site"],
    ),
    (
        "mail.returned",
        &["name", "procedure", "receipt", "link", "site", "message"],
    ),
    (
        "mail.granted",
        &["name", "procedure", "receipt", "link", "site", "reason"],
    ),
    (
        "mail.refused",
        &["name", "procedure", "receipt", "link", "site", "reason"],
    ),
    ("mail.verify_email", &["link", "site"]),
    ("mail.already_registered", &["signin", "reset", "site"]),
    ("mail.reset_password", &["link", "site"]),
];

/// An e-mail about the account itself (`account.*`, queued by
/// `platform::account_links`): the address is in the payload, the link's
/// token sealed.
fn compose_account(platform: &Platform, job: &Job) -> Result<Mail, String> {
    let payload = job.payload();
    let to = payload
        .get("to")
        .and_then(Value::as_str)
        .ok_or("payload without to")?
        .to_string();
    let lang = payload
        .get("lang")
        .and_then(Value::as_str)
        .and_then(Lang::parse)
        .unwrap_or_default();
    let tr = platform.tr(lang);
    let base = platform
        .config
        .base_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    let site = tr
        .pick(
            &platform.config.branding.site_name,
            &platform.config.branding.site_name_en,
        )
        .to_string();
    let link = |path: &str| -> Result<String, String> {
        let sealed = payload
            .get("token")
            .and_then(Value::as_str)
            .ok_or("payload without token")?;
        let token = platform
            .keys
            .open(sealed)
            .ok_or("the link's token does not open with this key")?;
        Ok(format!("{base}{path}?token={token}"))
    };
    let (key, args) = match job.kind.as_str() {
        "account.verify_email" => (
            "mail.verify_email",
            vec![("link", link("/account/verify")?), ("site", site)],
        ),
        "account.reset_password" => (
            "mail.reset_password",
            vec![("link", link("/signin/reset")?), ("site", site)],
        ),
        "account.already_registered" => (
            "mail.already_registered",
            vec![
                ("signin", format!("{base}/signin")),
                ("reset", format!("{base}/signin/forgot")),
                ("site", site),
            ],
        ),
        other => return Err(format!("not an account e-mail: {other}")),
    };
    Ok(Mail {
        to,
        subject: tr.f(&format!("{key}.subject"), &args),
        body: tr.f(&format!("{key}.body"), &args),
    })
}

/// Builds the SMTP transport from the configuration.
fn transport(cfg: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match cfg.security.as_str() {
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            .map_err(|e| e.to_string())?,
        "tls" => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host).map_err(|e| e.to_string())?
        }
        other => {
            return Err(format!(
                "unknown SMTP security {other:?} (none, starttls or tls)"
            ));
        }
    };
    let mut builder = builder
        .port(cfg.port)
        .timeout(Some(std::time::Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose().to_string(),
        ));
    }
    Ok(builder.build())
}

/// Registers the notification handlers on `runner`.
pub fn register(runner: &mut Runner, platform: Platform) {
    for kind in KINDS {
        let platform = platform.clone();
        let handler: Handler = std::sync::Arc::new(move |job: Job| {
            let platform = platform.clone();
            Box::pin(async move { send(&platform, &job).await })
        });
        runner.register(kind, handler);
    }
}

struct Mail {
    to: String,
    subject: String,
    body: String,
}

async fn compose(platform: &Platform, job: &Job) -> Result<Option<Mail>, String> {
    let payload = job.payload();
    let id = payload
        .get("application_id")
        .and_then(Value::as_i64)
        .ok_or("payload without application_id")?;
    let db = &platform.db;
    let Some(store::Recipient {
        email,
        display_name,
        locale,
        procedure,
        procedure_en,
        receipt_number: receipt,
        application_id: app_id,
    }) = store::recipient(db, id).await.map_err(|e| e.to_string())?
    else {
        // The application is gone (a deleted draft): nothing to tell.
        return Ok(None);
    };
    let lang = Lang::parse(&locale).unwrap_or_default();
    let tr = platform.tr(lang);
    let link = match &platform.config.base_url {
        Some(base) => format!("{}/applications/{app_id}", base.trim_end_matches('/')),
        None => tr.t("mail.link_unavailable").to_string(),
    };
    let name = if display_name.is_empty() {
        tr.t("mail.dear_resident").to_string()
    } else {
        display_name
    };
    let mut args = vec![
        ("name", name),
        ("procedure", tr.pick(&procedure, &procedure_en).to_string()),
        ("receipt", receipt.unwrap_or_default()),
        ("link", link),
        (
            "site",
            tr.pick(
                &platform.config.branding.site_name,
                &platform.config.branding.site_name_en,
            )
            .to_string(),
        ),
    ];
    let key = match job.kind.as_str() {
        "notify.application_received" => "mail.received",
        "notify.correction_requested" => {
            args.push((
                "message",
                payload
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ));
            "mail.returned"
        }
        "notify.decision" => {
            let case = payload.get("case").and_then(Value::as_i64).unwrap_or(0);
            let decided = approvals_service::case_of(db, case, app_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the decided case is gone")?;
            args.push(("reason", decided.reason));
            if decided.outcome == "grant" {
                "mail.granted"
            } else {
                "mail.refused"
            }
        }
        other => return Err(format!("not a notification: {other}")),
    };
    Ok(Some(Mail {
        to: email,
        subject: tr.f(&format!("{key}.subject"), &args),
        body: tr.f(&format!("{key}.body"), &args),
    }))
}

async fn send(platform: &Platform, job: &Job) -> JobResult {
    // Without an SMTP server there is nothing to compose a message for.
    let Some(cfg) = &platform.config.smtp else {
        tracing::info!(job = job.id, kind = %job.kind, "no SMTP server configured: notification not sent");
        return Ok(());
    };
    let mail = if job.kind.starts_with("account.") {
        compose_account(platform, job)?
    } else {
        let Some(mail) = compose(platform, job).await? else {
            return Ok(());
        };
        mail
    };
    let message = Message::builder()
        .from(
            cfg.from
                .parse()
                .map_err(|e| format!("invalid From address {:?}: {e}", cfg.from))?,
        )
        .to(mail
            .to
            .parse()
            .map_err(|e| format!("invalid recipient: {e}"))?)
        .subject(mail.subject)
        .message_id(Some(format!("<job-{}@madoguchi>", job.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
        .map_err(|e| e.to_string())?;
    transport(cfg)?
        .send(message)
        .await
        .map_err(|e| format!("SMTP: {e}"))?;
    Ok(())
}
