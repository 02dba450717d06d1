//! The OpenID provider the identity tests sign in at: npm `oidc-provider`
//! (tests/oidc/provider.mjs), a real process started here, playing
//! デジタル認証アプリ and gBizID; and a small "browser" that follows the
//! redirects between madoguchi (in-process) and the provider (over TCP),
//! keeping the provider's cookies.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use platform::config::{IdentityConfig, OidcProviderConfig, Secret};

use super::{Client, Res, repo_root};

pub const CARD_CLIENT: &str = "RP00000001";
pub const GBIZ_CLIENT: &str = "gbiz-madoguchi";
pub const GBIZ_SECRET: &str = "gbiz-test-secret-0123456789";
/// Where the provider sends the browser back; the test strips the origin
/// and hands the path to the in-process router.
pub const ORIGIN: &str = "http://madoguchi.test";

pub struct Provider {
    child: Child,
    pub base: String,
    /// Holds the client's private key and the provider's configuration.
    dir: std::path::PathBuf,
    /// Where redirect URIs point (madoguchi's origin as the browser sees it).
    origin: String,
}

impl Provider {
    pub fn start() -> Provider {
        Provider::start_for(ORIGIN)
    }

    /// A provider whose clients' redirect URIs are at `origin` (a real
    /// browser's walk against a listening server).
    pub fn start_for(origin: &str) -> Provider {
        let script = repo_root().join("tests/oidc/provider.mjs");
        assert!(
            repo_root()
                .join("tests/oidc/node_modules/oidc-provider")
                .exists(),
            "the test OpenID provider is not installed: run scripts/setup-test-deps"
        );
        let pem = identity::jose::ClientKey::generate_pem().unwrap();
        let key = identity::jose::ClientKey::from_pkcs8(pem.as_bytes()).unwrap();
        let dir = std::env::temp_dir().join(format!("madoguchi-oidc-{}", super::unique()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("client-key.pem"), &pem).unwrap();
        let config = serde_json::json!({
            "mynumber": {
                "client_id": CARD_CLIENT,
                "redirect_uris": [format!("{origin}/auth/callback/mynumber")],
                "jwks": {"keys": [key.public_jwk()]},
            },
            "gbizid": {
                "client_id": GBIZ_CLIENT,
                "client_secret": GBIZ_SECRET,
                "redirect_uris": [format!("{origin}/auth/callback/gbizid")],
            },
        });
        let config_file = dir.join("provider.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&config_file)
            // It exits when its stdin closes: when this test process ends.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the test OpenID provider");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the test OpenID provider did not start: {line:?}"))
            .to_string();
        Provider {
            child,
            base,
            dir,
            origin: origin.to_string(),
        }
    }

    pub fn card_issuer(&self) -> String {
        format!("{}/api/realms/main", self.base)
    }

    pub fn gbiz_issuer(&self) -> String {
        format!("{}/gbizid", self.base)
    }

    /// madoguchi's configuration for both providers.
    pub fn config(&self) -> IdentityConfig {
        IdentityConfig {
            mynumber_card: Some(OidcProviderConfig {
                issuer: self.card_issuer(),
                discovery_url: None,
                client_id: CARD_CLIENT.into(),
                client_secret: None,
                private_key_file: Some(self.dir.join("client-key.pem")),
                redirect_uri: Some(format!("{}/auth/callback/mynumber", self.origin)),
                required_acr: vec!["aal3".into()],
                scopes: None,
                corporate_number_claim: None,
            }),
            gbizid: Some(OidcProviderConfig {
                issuer: self.gbiz_issuer(),
                discovery_url: None,
                client_id: GBIZ_CLIENT.into(),
                client_secret: Some(Secret::new(GBIZ_SECRET)),
                private_key_file: None,
                redirect_uri: Some(format!("{}/auth/callback/gbizid", self.origin)),
                required_acr: Vec::new(),
                scopes: None,
                corporate_number_claim: None,
            }),
        }
    }

    /// The next successful token response's ID token is changed (`forged`,
    /// `expired`, `issuer`, `no_nonce`, `replay`): a test-only layer of the script.
    pub async fn tamper(&self, mode: &str) {
        let res = reqwest::Client::new()
            .post(format!("{}/__test/tamper", self.base))
            .json(&serde_json::json!({"mode": mode}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 204);
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Who signs in at the provider's login step.
pub struct Login<'a> {
    pub account: &'a str,
    pub acr: &'a str,
    pub claims: serde_json::Value,
}

/// A browser at the provider: its cookies, by name.
#[derive(Default)]
pub struct ProviderBrowser {
    cookies: Vec<(String, String)>,
}

impl ProviderBrowser {
    async fn send(
        &mut self,
        method: reqwest::Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> reqwest::Response {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = http.request(method, url);
        if !self.cookies.is_empty() {
            let c = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", c);
        }
        if let Some(f) = form {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(f)
                .finish();
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let res = req.send().await.unwrap();
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(ck, _)| ck != k);
            let gone =
                v.contains("expires=Thu, 01 Jan 1970") || v.to_lowercase().contains("max-age=0");
            if !gone && !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
        res
    }
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

/// Starts a sign-in at madoguchi's `/signin/{provider}` (the start page's
/// form, with `fields` such as next, require, link, basic_info), signs in at
/// the provider as `login`, and comes back through the callback. Returns
/// madoguchi's answer to the callback and the callback's path.
pub async fn sign_in(
    client: &mut Client,
    op: &Provider,
    provider: &str,
    fields: &[(&str, &str)],
    login: Login<'_>,
) -> (Res, String) {
    let path = to_callback(client, op, provider, fields, login).await;
    let back = client.get(&path).await;
    (back, path)
}

/// [`sign_in`] up to the provider's redirect back: the callback's path, not yet followed.
pub async fn to_callback(
    client: &mut Client,
    op: &Provider,
    provider: &str,
    fields: &[(&str, &str)],
    login: Login<'_>,
) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter().filter(|(k, _)| *k != "basic_info"))
        .finish();
    let page = client.get(&format!("/signin/{provider}?{query}")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text());
    let csrf = page.csrf();
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = client
        .post_form(&format!("/signin/{provider}"), &form)
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.text());
    let mut url = res.location();
    assert!(url.starts_with(&op.base), "{url}");
    let mut browser = ProviderBrowser::default();
    let claims = login.claims.to_string();
    for _ in 0..10 {
        if url.starts_with(ORIGIN) {
            return url.strip_prefix(ORIGIN).unwrap().to_string();
        }
        let res = browser.send(reqwest::Method::GET, &url, None).await;
        let status = res.status().as_u16();
        if status == 200 && url.contains("/interaction/") {
            let done = browser
                .send(
                    reqwest::Method::POST,
                    &url,
                    Some(&[
                        ("account", login.account),
                        ("acr", login.acr),
                        ("claims", &claims),
                    ]),
                )
                .await;
            assert!(done.status().is_redirection(), "login: {}", done.status());
            url = absolute(&op.base, done.headers()["location"].to_str().unwrap());
            continue;
        }
        assert!(
            res.status().is_redirection(),
            "{url}: {status} {}",
            res.text().await.unwrap_or_default()
        );
        url = absolute(&op.base, res.headers()["location"].to_str().unwrap());
    }
    panic!("too many redirects");
}
