//! The identity module's state: the configured providers (their client
//! keys read at start) and what this node has cached of each.

use std::sync::Arc;

use platform::Platform;
use platform::config::OidcProviderConfig;
use tokio::sync::RwLock;

use crate::jose::ClientKey;
use crate::model::Provider;
use crate::service::client;
use crate::service::error::SignInError;

/// A configured provider and what this node has cached of it.
pub struct ProviderState {
    pub provider: Provider,
    pub config: OidcProviderConfig,
    /// The client's key for `private_key_jwt`, when configured.
    pub key: Option<ClientKey>,
    pub redirect_uri: String,
    pub(crate) cache: RwLock<Option<client::Metadata>>,
}

/// The identity module's state.
#[derive(Clone)]
pub struct Identity {
    pub platform: Platform,
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    providers: Vec<ProviderState>,
}

impl Identity {
    /// The HTTP client for calls to the providers.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }
}

impl Identity {
    /// Reads the configured providers (their keys must be readable: a node
    /// that cannot sign its assertions does not start).
    pub fn new(platform: Platform) -> anyhow::Result<Identity> {
        let mut providers = Vec::new();
        for provider in Provider::ALL {
            let Some(config) = provider.config(&platform.config.identity) else {
                continue;
            };
            let key = match &config.private_key_file {
                Some(path) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        anyhow::anyhow!(
                            "identity.{}: cannot read {}: {e}",
                            provider.code(),
                            path.display()
                        )
                    })?;
                    Some(ClientKey::from_pkcs8(&bytes).map_err(|e| {
                        anyhow::anyhow!("identity.{}: {}: {e}", provider.code(), path.display())
                    })?)
                }
                None => None,
            };
            if key.is_none() && config.client_secret.is_none() {
                anyhow::bail!(
                    "identity.{}: set private_key_file (private_key_jwt) or client_secret (client_secret_basic)",
                    provider.code()
                );
            }
            let redirect_uri = match (&config.redirect_uri, &platform.config.base_url) {
                (Some(uri), _) => uri.clone(),
                (None, Some(base)) => {
                    format!(
                        "{}/auth/callback/{}",
                        base.trim_end_matches('/'),
                        provider.code()
                    )
                }
                (None, None) => anyhow::bail!(
                    "identity.{}: set base_url or redirect_uri (the address registered with the provider)",
                    provider.code()
                ),
            };
            providers.push(ProviderState {
                provider,
                config: config.clone(),
                key,
                redirect_uri,
                cache: RwLock::new(None),
            });
        }
        Ok(Identity {
            platform,
            inner: Arc::new(Inner {
                http: client::http_client(),
                providers,
            }),
        })
    }

    pub(crate) fn provider(&self, provider: Provider) -> Result<&ProviderState, SignInError> {
        self.inner
            .providers
            .iter()
            .find(|p| p.provider == provider)
            .ok_or(SignInError::NotConfigured)
    }

    /// The providers people can sign in with here.
    pub fn configured(&self) -> Vec<Provider> {
        self.inner.providers.iter().map(|p| p.provider).collect()
    }

    /// The `acr` values accepted as card authentication.
    pub fn card_acr(&self) -> &[String] {
        self.provider(Provider::MyNumberCard)
            .map(|p| p.config.required_acr.as_slice())
            .unwrap_or(&[])
    }
}
