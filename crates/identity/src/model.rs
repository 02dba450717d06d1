//! The identity module's domain: the providers, a sign-in in progress, an
//! identity linked to a resident, and the checks an ID token must pass.

use platform::config::{IdentityConfig, OidcProviderConfig};
use platform::db::Timestamp;
use platform::identity::{Method, Requirement};
use serde_json::Value;

use crate::jose::Alg;

/// An identity provider madoguchi can be registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// デジタル認証アプリ: the My Number card.
    MyNumberCard,
    /// gBizID.
    GBizId,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::MyNumberCard, Provider::GBizId];

    /// The path segment and stored code (`/signin/mynumber`, `/auth/callback/gbizid`).
    pub fn code(self) -> &'static str {
        match self {
            Provider::MyNumberCard => "mynumber",
            Provider::GBizId => "gbizid",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.code() == s)
    }

    pub fn method(self) -> Method {
        match self {
            Provider::MyNumberCard => Method::MyNumberCard,
            Provider::GBizId => Method::GBizId,
        }
    }

    /// The provider that satisfies `requirement`, if one is needed.
    pub fn for_requirement(requirement: Requirement) -> Option<Provider> {
        match requirement.method()? {
            Method::MyNumberCard => Some(Provider::MyNumberCard),
            Method::GBizId => Some(Provider::GBizId),
            Method::Password => None,
        }
    }

    pub fn config(self, identity: &IdentityConfig) -> Option<&OidcProviderConfig> {
        match self {
            Provider::MyNumberCard => identity.mynumber_card.as_ref(),
            Provider::GBizId => identity.gbizid.as_ref(),
        }
    }

    /// The scopes asked for when the operator configured none.
    pub fn default_scopes(self, basic_info: bool) -> Vec<&'static str> {
        match (self, basic_info) {
            // 基本4情報 only when the resident agreed to receive them.
            (Provider::MyNumberCard, true) => {
                vec!["openid", "name", "address", "birthdate", "gender"]
            }
            (Provider::MyNumberCard, false) => vec!["openid"],
            (Provider::GBizId, _) => vec!["openid", "profile", "email"],
        }
    }

    /// The signature algorithms accepted on its ID tokens.
    pub fn algorithms(self) -> &'static [Alg] {
        match self {
            Provider::MyNumberCard => &[Alg::Es256, Alg::Rs256],
            Provider::GBizId => &[Alg::Rs256, Alg::Es256],
        }
    }

    pub fn label_key(self) -> &'static str {
        self.method().label_key()
    }
}

/// A sign-in sent to a provider and not yet come back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Flow {
    pub provider: String,
    pub browser_hash: String,
    pub nonce_hash: String,
    /// The PKCE verifier, sealed with the installation's key.
    pub code_verifier: String,
    pub next: String,
    pub link_resident_id: Option<i64>,
    /// The [`Requirement`] the sign-in was started for, if any.
    pub requirement: Option<String>,
    pub expires_at: Timestamp,
}

/// A sign-in verified at the provider whose person has no account here yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    /// `platform::identity::Verified` as JSON.
    pub verified: String,
    pub display_name: String,
    pub next: String,
    pub browser_hash: String,
    pub expires_at: Timestamp,
}

/// An identity linked to a resident's account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedIdentity {
    pub provider: String,
    pub issuer: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
}

/// Why an ID token is refused (each is audited with its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Issuer,
    Audience,
    Expired,
    IssuedInFuture,
    Nonce,
    Subject,
}

impl TokenProblem {
    pub fn code(self) -> &'static str {
        match self {
            TokenProblem::Issuer => "issuer",
            TokenProblem::Audience => "audience",
            TokenProblem::Expired => "expired",
            TokenProblem::IssuedInFuture => "issued_in_future",
            TokenProblem::Nonce => "nonce",
            TokenProblem::Subject => "subject",
        }
    }
}

/// Clock skew tolerated between the provider and this node.
pub const LEEWAY_SECS: i64 = 60;

/// Checks the claims of a verified ID token (OpenID Connect Core 3.1.3.7):
/// the issuer exactly, this client among the audiences (and as `azp` when
/// there are several), not expired, not issued in the future, the nonce of
/// this sign-in (compared by hash), a subject. Returns the subject.
pub fn check_id_token(
    claims: &Value,
    issuer: &str,
    client_id: &str,
    nonce_hash: &str,
    now: i64,
) -> Result<String, TokenProblem> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(TokenProblem::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&client_id) {
        return Err(TokenProblem::Audience);
    }
    if audiences.len() > 1 && claims.get("azp").and_then(Value::as_str) != Some(client_id) {
        return Err(TokenProblem::Audience);
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(TokenProblem::Expired)?;
    if exp + LEEWAY_SECS <= now {
        return Err(TokenProblem::Expired);
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_none_or(|iat| iat > now + LEEWAY_SECS)
    {
        return Err(TokenProblem::IssuedInFuture);
    }
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .ok_or(TokenProblem::Nonce)?;
    if !platform::crypto::constant_time_eq(
        platform::crypto::sha256_hex(nonce).as_bytes(),
        nonce_hash.as_bytes(),
    ) {
        return Err(TokenProblem::Nonce);
    }
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(sub.to_string()),
        _ => Err(TokenProblem::Subject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_claims_are_checked_one_by_one() {
        let nonce_hash = platform::crypto::sha256_hex("n-1");
        let good = serde_json::json!({
            "iss": "https://op.example/realms/main", "aud": "RP1", "exp": 2000, "iat": 1000,
            "nonce": "n-1", "sub": "s-1",
        });
        let check = |c: &Value| {
            check_id_token(
                c,
                "https://op.example/realms/main",
                "RP1",
                &nonce_hash,
                1500,
            )
        };
        assert_eq!(check(&good), Ok("s-1".to_string()));
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        assert_eq!(
            check(&with("iss", "https://op.example/realms/maim".into())),
            Err(TokenProblem::Issuer)
        );
        assert_eq!(
            check(&with("aud", "RP2".into())),
            Err(TokenProblem::Audience)
        );
        assert_eq!(
            check(&with("aud", serde_json::json!(["RP1", "RP2"]))),
            Err(TokenProblem::Audience)
        );
        assert_eq!(check(&with("exp", 1000.into())), Err(TokenProblem::Expired));
        assert_eq!(
            check(&with("iat", 9000.into())),
            Err(TokenProblem::IssuedInFuture)
        );
        assert_eq!(
            check(&with("nonce", "n-2".into())),
            Err(TokenProblem::Nonce)
        );
        let mut no_nonce = good.clone();
        no_nonce.as_object_mut().unwrap().remove("nonce");
        assert_eq!(check(&no_nonce), Err(TokenProblem::Nonce));
        assert_eq!(check(&with("sub", "".into())), Err(TokenProblem::Subject));
    }
}
