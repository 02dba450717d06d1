//! Signing in with a provider: starting (state, nonce and PKCE verifier in
//! the database, so the callback may land on any node), completing,
//! finishing a sign-in that has no account yet; the linked identities.

use platform::accounts;
use platform::audit::{self, Actor};
use platform::crypto;
use platform::db::{StoreError, Timestamp};
use platform::identity::{AccountType, Method, Requirement, Verified};
use serde_json::Value;

use crate::jose::{self, JoseError};
use crate::model::{self, LinkedIdentity, Provider};
use crate::service::client;
use crate::service::error::{FinishError, SignInError};
use crate::service::state::{Identity, ProviderState};
use crate::store::{self, NewFlow, NewPending};

/// How long a person has at the provider before the sign-in expires.
const FLOW_MINUTES: i64 = 10;
/// How long a verified sign-in waits for its account to be chosen.
const PENDING_MINUTES: i64 = 15;

/// What starting a sign-in asks for.
pub struct Begin<'a> {
    pub next: &'a str,
    /// A signed-in resident linking this provider to their account.
    pub link_resident_id: Option<i64>,
    /// The procedure's requirement the sign-in is for.
    pub requirement: Option<Requirement>,
    /// The resident agreed to receive the 基本4情報 (My Number card).
    pub basic_info: bool,
    /// The random value bound to the browser (its cookie).
    pub browser: &'a str,
}

/// Starts a sign-in: records the state, nonce and PKCE verifier and returns
/// the provider's authorization URL to send the browser to.
pub async fn begin(id: &Identity, provider: Provider, b: Begin<'_>) -> Result<String, SignInError> {
    let state_cfg = id.provider(provider)?;
    let meta = client::metadata(id.http(), &state_cfg.config, &state_cfg.cache, false).await?;
    let state = crypto::random_token();
    let nonce = crypto::random_token();
    let verifier = crypto::random_token();
    store::insert_flow(
        &id.platform.db,
        NewFlow {
            state_hash: &crypto::sha256_hex(&state),
            provider: provider.code(),
            browser_hash: &crypto::sha256_hex(b.browser),
            nonce_hash: &crypto::sha256_hex(&nonce),
            code_verifier: &id.platform.keys.seal(&verifier),
            next: b.next,
            link_resident_id: b.link_resident_id,
            requirement: b.requirement.map(Requirement::code),
            expires_at: Timestamp::now().plus(chrono::Duration::minutes(FLOW_MINUTES)),
        },
    )
    .await?;
    let scopes = match &state_cfg.config.scopes {
        Some(s) => s.join(" "),
        None => provider.default_scopes(b.basic_info).join(" "),
    };
    let mut url = url::Url::parse(&meta.discovery.authorization_endpoint)
        .map_err(|e| SignInError::Provider(format!("authorization_endpoint: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &state_cfg.config.client_id)
            .append_pair("redirect_uri", &state_cfg.redirect_uri)
            .append_pair("scope", &scopes)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &client::challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if !state_cfg.config.required_acr.is_empty() && b.requirement.is_some() {
            q.append_pair("acr_values", &state_cfg.config.required_acr.join(" "));
        }
    }
    Ok(url.into())
}

/// What came back from the provider to the callback.
pub struct Callback<'a> {
    pub state: &'a str,
    pub code: Option<&'a str>,
    pub error: Option<&'a str>,
    pub browser: Option<&'a str>,
    /// The client address, for the audit log.
    pub client: &'a str,
}

/// How a completed sign-in ends.
#[derive(Debug)]
pub enum Completed {
    /// The identity is (now) linked to this resident: sign them in.
    SignedIn {
        resident_id: i64,
        verified: Verified,
        next: String,
        linked: bool,
    },
    /// Verified, but no account has this identity: the person chooses one
    /// (the token opens the page that finishes it).
    NeedsAccount { token: String },
}

/// Completes a sign-in: the state must be one this installation started in
/// this browser, not used and not expired; the code is exchanged with the
/// PKCE verifier; the ID token's signature and claims are checked (issuer
/// exactly, audience, expiry, nonce), then the `acr` against the procedure's
/// requirement; userinfo must be the same subject. Every refusal is audited.
pub async fn complete(
    id: &Identity,
    provider: Provider,
    cb: Callback<'_>,
) -> Result<Completed, SignInError> {
    let result = complete_inner(id, provider, &cb).await;
    match &result {
        Ok(Completed::SignedIn {
            resident_id,
            linked,
            ..
        }) => {
            audit_event(
                id,
                Actor::Resident(*resident_id),
                if *linked {
                    "identity.linked"
                } else {
                    "identity.signed_in"
                },
                Some(*resident_id),
                serde_json::json!({"provider": provider.code(), "client": cb.client}),
            )
            .await?;
        }
        Ok(Completed::NeedsAccount { .. }) => {}
        Err(e) => {
            tracing::warn!(provider = provider.code(), reason = e.code(), error = %e, "identity sign-in refused");
            audit_event(
                id,
                Actor::System,
                "identity.signin_failed",
                None,
                serde_json::json!({"provider": provider.code(), "reason": e.code(), "client": cb.client}),
            )
            .await?;
        }
    }
    result
}

async fn complete_inner(
    id: &Identity,
    provider: Provider,
    cb: &Callback<'_>,
) -> Result<Completed, SignInError> {
    let state_cfg = id.provider(provider)?;
    if cb.state.is_empty() || cb.state.len() > 255 {
        return Err(SignInError::State);
    }
    let flow = store::take_flow(&id.platform.db, &crypto::sha256_hex(cb.state))
        .await?
        .ok_or(SignInError::State)?;
    let same_browser = cb.browser.is_some_and(|b| {
        crypto::constant_time_eq(
            crypto::sha256_hex(b).as_bytes(),
            flow.browser_hash.as_bytes(),
        )
    });
    if flow.provider != provider.code() || flow.expires_at <= Timestamp::now() || !same_browser {
        return Err(SignInError::State);
    }
    if let Some(error) = cb.error {
        return Err(SignInError::Denied(error.chars().take(64).collect()));
    }
    let code = cb
        .code
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or(SignInError::State)?;
    let verifier = id
        .platform
        .keys
        .open(&flow.code_verifier)
        .ok_or(SignInError::State)?;
    let meta = client::metadata(id.http(), &state_cfg.config, &state_cfg.cache, false).await?;
    let tokens = client::exchange(
        id.http(),
        client::ClientAuth {
            config: &state_cfg.config,
            key: state_cfg.key.as_ref(),
            redirect_uri: &state_cfg.redirect_uri,
        },
        &meta,
        code,
        &verifier,
    )
    .await?;
    let algorithms = provider.algorithms();
    let claims = match jose::verify(&tokens.id_token, &meta.keys, algorithms) {
        Err(JoseError::UnknownKey) => {
            // The provider may have rotated its keys since they were cached.
            let fresh =
                client::metadata(id.http(), &state_cfg.config, &state_cfg.cache, true).await?;
            jose::verify(&tokens.id_token, &fresh.keys, algorithms)
        }
        other => other,
    }
    .map_err(SignInError::Signature)?;
    let subject = model::check_id_token(
        &claims,
        &meta.discovery.issuer,
        &state_cfg.config.client_id,
        &flow.nonce_hash,
        chrono::Utc::now().timestamp(),
    )
    .map_err(SignInError::Claims)?;
    let info = match &tokens.access_token {
        Some(at) => client::userinfo(id.http(), &meta, at).await?,
        None => None,
    };
    if let Some(info) = &info
        && info.get("sub").and_then(Value::as_str) != Some(subject.as_str())
    {
        return Err(SignInError::Userinfo);
    }
    let verified = verified_of(provider, &claims, info.as_ref(), state_cfg);
    if let Some(req) = flow.requirement.as_deref().and_then(Requirement::parse)
        && !req.satisfied_by(Some(&verified), &state_cfg.config.required_acr)
    {
        return Err(SignInError::Insufficient);
    }
    let issuer = meta.discovery.issuer.as_str();
    if let Some(resident_id) =
        store::use_identity(&id.platform.db, provider.code(), issuer, &subject).await?
    {
        if flow.link_resident_id.is_some_and(|r| r != resident_id) {
            return Err(SignInError::AlreadyLinked);
        }
        return Ok(Completed::SignedIn {
            resident_id,
            verified,
            next: flow.next,
            linked: false,
        });
    }
    if let Some(resident_id) = flow.link_resident_id {
        let mut tx = id.platform.db.begin().await?;
        store::link(&mut tx, resident_id, provider.code(), issuer, &subject)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => SignInError::AlreadyLinked,
                other => SignInError::Store(other),
            })?;
        tx.commit().await?;
        return Ok(Completed::SignedIn {
            resident_id,
            verified,
            next: flow.next,
            linked: true,
        });
    }
    let token = crypto::random_token();
    let display_name = info
        .as_ref()
        .and_then(|i| i.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(100)
        .collect::<String>();
    store::insert_pending(
        &id.platform.db,
        NewPending {
            token_hash: &crypto::sha256_hex(&token),
            provider: provider.code(),
            issuer,
            subject: &subject,
            verified: &serde_json::to_string(&verified).unwrap_or_default(),
            display_name: &display_name,
            next: &flow.next,
            browser_hash: &flow.browser_hash,
            expires_at: Timestamp::now().plus(chrono::Duration::minutes(PENDING_MINUTES)),
        },
    )
    .await?;
    Ok(Completed::NeedsAccount { token })
}

/// What the session keeps of a verified sign-in.
fn verified_of(
    provider: Provider,
    claims: &Value,
    info: Option<&Value>,
    cfg: &ProviderState,
) -> Verified {
    let claim = |name: &str| -> Option<String> {
        info.and_then(|i| i.get(name))
            .or_else(|| claims.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut verified = Verified {
        method: provider.method(),
        acr: claims
            .get("acr")
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Verified::password()
    };
    if provider.method() == Method::GBizId {
        verified.account_type = claim("account_type")
            .as_deref()
            .and_then(AccountType::parse);
        let number_claim = cfg
            .config
            .corporate_number_claim
            .as_deref()
            .unwrap_or("corporate_number");
        // Only a 法人番号 whose check digit holds is kept.
        verified.corporate_number = claim(number_claim)
            .and_then(|n| jp::corporate_number::CorporateNumber::parse(&n).ok())
            .map(|n| n.as_str().to_string());
        verified.corporate_name = claim("corporate_name").map(|n| n.chars().take(200).collect());
    }
    verified
}

/// A sign-in waiting for its account, as the page shows it.
pub struct PendingView {
    pub provider: Provider,
    pub display_name: String,
}

/// The sign-in waiting under `token` in this browser, if it has not expired.
pub async fn pending(
    id: &Identity,
    token: &str,
    browser: Option<&str>,
) -> Result<PendingView, FinishError> {
    let p = load_pending(id, token, browser).await?;
    Ok(PendingView {
        provider: Provider::parse(&p.provider).ok_or(FinishError::Expired)?,
        display_name: p.display_name,
    })
}

async fn load_pending(
    id: &Identity,
    token: &str,
    browser: Option<&str>,
) -> Result<model::Pending, FinishError> {
    if token.is_empty() || token.len() > 128 {
        return Err(FinishError::Expired);
    }
    let p = store::pending(&id.platform.db, &crypto::sha256_hex(token))
        .await?
        .ok_or(FinishError::Expired)?;
    let same_browser = browser.is_some_and(|b| {
        crypto::constant_time_eq(crypto::sha256_hex(b).as_bytes(), p.browser_hash.as_bytes())
    });
    if p.expires_at <= Timestamp::now() || !same_browser {
        return Err(FinishError::Expired);
    }
    Ok(p)
}

/// What the person chose for a sign-in without an account.
pub struct Finish<'a> {
    pub token: &'a str,
    pub browser: Option<&'a str>,
    pub email: &'a str,
    /// The password of the existing account with this address, if it has one.
    pub password: &'a str,
    pub display_name: &'a str,
    pub client: &'a str,
}

/// Finishes a verified sign-in: a new account with the address (no
/// password: the provider is how it signs in), or the existing account of
/// the address when its password is given. Links the identity; returns who
/// to sign in, how they were identified, and where to go.
pub async fn finish(id: &Identity, f: Finish<'_>) -> Result<(i64, Verified, String), FinishError> {
    let p = load_pending(id, f.token, f.browser).await?;
    let email = accounts::normalize_email(f.email).ok_or(FinishError::InvalidEmail)?;
    let existing = store::resident_by_email(&id.platform.db, &email).await?;
    let resident_id = match existing {
        Some((resident_id, true)) => {
            let ok = accounts::verify_resident(&id.platform.db, &email, f.password)
                .await?
                .is_some_and(|r| r.id == resident_id);
            if !ok {
                return Err(FinishError::PasswordWrong);
            }
            Some(resident_id)
        }
        // An account without a password signs in only with its provider.
        Some((_, false)) => return Err(FinishError::PasswordWrong),
        None => None,
    };
    let mut tx = id.platform.db.begin().await?;
    if !store::take_pending(&mut tx, &crypto::sha256_hex(f.token)).await? {
        return Err(FinishError::Expired);
    }
    let name = if f.display_name.trim().is_empty() {
        p.display_name.as_str()
    } else {
        f.display_name.trim()
    };
    let resident_id = match resident_id {
        Some(r) => r,
        None => {
            store::insert_resident(&mut tx, &email, &name.chars().take(100).collect::<String>())
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => FinishError::PasswordWrong,
                    other => FinishError::Store(other),
                })?
        }
    };
    store::link(&mut tx, resident_id, &p.provider, &p.issuer, &p.subject)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => FinishError::AlreadyLinked,
            other => FinishError::Store(other),
        })?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: None,
            actor: Actor::Resident(resident_id),
            action: "identity.linked",
            subject_kind: "resident",
            subject_id: Some(resident_id),
            detail: serde_json::json!({"provider": p.provider, "new_account": existing.is_none(), "client": f.client}),
        },
    )
    .await?;
    tx.commit().await?;
    if existing.is_none() {
        // The provider proved who the person is, not that the address is theirs.
        platform::account_links::send(
            &id.platform.db,
            &id.platform.keys,
            platform::account_links::Link {
                purpose: platform::account_links::Purpose::VerifyEmail,
                kind: "account.verify_email",
                resident_id,
                to: &email,
                lang: "ja",
                next: &p.next,
            },
        )
        .await?;
    }
    let verified: Verified =
        serde_json::from_str(&p.verified).unwrap_or_else(|_| Verified::password());
    Ok((resident_id, verified, p.next))
}

/// The resident's linked identities.
pub async fn identities(
    id: &Identity,
    resident_id: i64,
) -> Result<Vec<LinkedIdentity>, StoreError> {
    store::identities_of(&id.platform.db, resident_id).await
}

/// Why an identity cannot be unlinked.
#[derive(Debug, thiserror::Error)]
pub enum UnlinkError {
    #[error("the account has no other way to sign in")]
    LastWay,
    #[error("not linked")]
    NotLinked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Unlinks the resident's identity of `provider`, unless it is the only
/// way the account signs in.
pub async fn unlink(
    id: &Identity,
    resident_id: i64,
    provider: Provider,
) -> Result<(), UnlinkError> {
    let linked = store::identities_of(&id.platform.db, resident_id).await?;
    if !linked.iter().any(|l| l.provider == provider.code()) {
        return Err(UnlinkError::NotLinked);
    }
    if linked.len() == 1 && !store::has_password(&id.platform.db, resident_id).await? {
        return Err(UnlinkError::LastWay);
    }
    let mut tx = id.platform.db.begin().await?;
    store::unlink(&mut tx, resident_id, provider.code()).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: None,
            actor: Actor::Resident(resident_id),
            action: "identity.unlinked",
            subject_kind: "resident",
            subject_id: Some(resident_id),
            detail: serde_json::json!({"provider": provider.code()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn audit_event(
    id: &Identity,
    actor: Actor,
    action: &str,
    subject_id: Option<i64>,
    detail: Value,
) -> Result<(), SignInError> {
    let mut tx = id.platform.db.begin().await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: None,
            actor,
            action,
            subject_kind: "resident",
            subject_id,
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
