//! Calls to an OpenID provider: its discovery document and key set (cached
//! per node), the token request with the client's authentication, userinfo.
//! Only providers the operator configured are ever called.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::Value;

use crate::jose::{Jwk, JwkSet};
use crate::service::error::SignInError;
use platform::config::OidcProviderConfig;
use tokio::sync::RwLock;

use crate::jose::ClientKey;

/// How long discovery and keys are kept before they are read again.
const CACHE_FOR: Duration = Duration::from_secs(3600);
/// The longest answer read from a provider.
const MAX_BODY: usize = 256 * 1024;

/// The parts of the discovery document used here.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
}

#[derive(Debug, Clone)]
pub struct Metadata {
    pub discovery: Discovery,
    pub keys: Vec<Jwk>,
    fetched: Instant,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_default()
}

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<Value, SignInError> {
    let mut req = http.get(url).header("accept", "application/json");
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let res = req
        .send()
        .await
        .map_err(|e| SignInError::Provider(format!("{url}: {e}")))?;
    read_json(res, url).await
}

async fn read_json(res: reqwest::Response, url: &str) -> Result<Value, SignInError> {
    let status = res.status();
    let body = res
        .bytes()
        .await
        .map_err(|e| SignInError::Provider(format!("{url}: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(SignInError::Provider(format!("{url}: answer too long")));
    }
    let json: Value = serde_json::from_slice(&body)
        .map_err(|_| SignInError::Provider(format!("{url}: {status}, not JSON")))?;
    if !status.is_success() {
        let error = json
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Err(SignInError::TokenRefused(format!("{status} {error}")));
    }
    Ok(json)
}

/// The provider's discovery document and keys, from this node's cache or
/// read again (`refresh`: the keys did not know a token's `kid`).
pub async fn metadata(
    http: &reqwest::Client,
    config: &OidcProviderConfig,
    cache: &RwLock<Option<Metadata>>,
    refresh: bool,
) -> Result<Metadata, SignInError> {
    {
        let cached = cache.read().await;
        if let Some(m) = cached.as_ref()
            && !refresh
            && m.fetched.elapsed() < CACHE_FOR
        {
            return Ok(m.clone());
        }
    }
    let url = config.discovery_url.clone().unwrap_or_else(|| {
        format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        )
    });
    let json = get_json(http, &url, None).await?;
    let discovery: Discovery =
        serde_json::from_value(json).map_err(|e| SignInError::Provider(format!("{url}: {e}")))?;
    // The issuer is compared exactly: a provider answering for another
    // issuer (even one character off) is not the one configured.
    if discovery.issuer != config.issuer {
        return Err(SignInError::IssuerMismatch);
    }
    let keys: JwkSet = serde_json::from_value(get_json(http, &discovery.jwks_uri, None).await?)
        .map_err(|e| SignInError::Provider(format!("{}: {e}", discovery.jwks_uri)))?;
    let m = Metadata {
        discovery,
        keys: keys.keys,
        fetched: Instant::now(),
    };
    *cache.write().await = Some(m.clone());
    Ok(m)
}

/// What the token endpoint answered.
pub struct Tokens {
    pub id_token: String,
    pub access_token: Option<String>,
}

/// Exchanges the code (with the PKCE verifier), authenticating as the
/// client: `private_key_jwt` when a key is configured, else `client_secret_basic`.
/// The client as registered with the provider.
pub struct ClientAuth<'a> {
    pub config: &'a OidcProviderConfig,
    pub key: Option<&'a ClientKey>,
    pub redirect_uri: &'a str,
}

pub async fn exchange(
    http: &reqwest::Client,
    client: ClientAuth<'_>,
    meta: &Metadata,
    code: &str,
    verifier: &str,
) -> Result<Tokens, SignInError> {
    let endpoint = &meta.discovery.token_endpoint;
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
        ("redirect_uri", client.redirect_uri.to_string()),
        ("code_verifier", verifier.to_string()),
    ];
    let mut req = http.post(endpoint).header("accept", "application/json");
    if let Some(key) = client.key {
        let now = chrono::Utc::now().timestamp();
        let assertion = key
            .sign(&serde_json::json!({
                "iss": client.config.client_id,
                "sub": client.config.client_id,
                "aud": endpoint,
                "jti": platform::crypto::random_token(),
                "iat": now,
                "exp": now + 60,
            }))
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        form.push(("client_id", client.config.client_id.clone()));
        form.push((
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
        ));
        form.push(("client_assertion", assertion));
    } else if let Some(secret) = &client.config.client_secret {
        // RFC 6749 2.3.1: both parts form-encoded before Basic.
        let user = url::form_urlencoded::byte_serialize(client.config.client_id.as_bytes())
            .collect::<String>();
        let pass =
            url::form_urlencoded::byte_serialize(secret.expose().as_bytes()).collect::<String>();
        req = req.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{user}:{pass}"))),
        );
    } else {
        return Err(SignInError::NotConfigured);
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let res = req
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| SignInError::Provider(format!("{endpoint}: {e}")))?;
    let json = read_json(res, endpoint).await?;
    let id_token = json
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| SignInError::TokenRefused("no id_token".into()))?
        .to_string();
    let access_token = json
        .get("access_token")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Tokens {
        id_token,
        access_token,
    })
}

/// The userinfo claims (an object), when the provider has the endpoint.
pub async fn userinfo(
    http: &reqwest::Client,
    meta: &Metadata,
    access_token: &str,
) -> Result<Option<Value>, SignInError> {
    let Some(url) = &meta.discovery.userinfo_endpoint else {
        return Ok(None);
    };
    let json = get_json(http, url, Some(access_token)).await?;
    Ok(json.is_object().then_some(json))
}

/// PKCE S256: the challenge of `verifier`.
pub fn challenge(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}
