//! The little of JOSE an OpenID relying party needs, on `ring`: reading a
//! compact JWS and checking its signature against a provider's JWKS (RS256,
//! ES256), and signing the client's own assertion (ES256) for
//! `private_key_jwt`. No I/O.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Why a token or key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("the token is not a compact JWS")]
    Malformed,
    #[error("the algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("no key of the provider's set matches the token")]
    UnknownKey,
    #[error("the signature does not verify")]
    Signature,
    #[error("the private key cannot be read: {0}")]
    Key(String),
}

/// A signature algorithm the relying party accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }
}

/// One key of a provider's JWKS (only the members used here).
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

fn b64(part: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JoseError::Malformed)
}

/// The `kid` of a token's header, without checking anything (to know
/// whether the provider's key set must be fetched again).
pub fn key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Header = serde_json::from_slice(&b64(header).ok()?).ok()?;
    header.kid
}

/// Checks the signature of the compact JWS `token` with `keys` and returns
/// its payload. Only `accepted` algorithms pass (never `none`, never HMAC).
pub fn verify(token: &str, keys: &[Jwk], accepted: &[Alg]) -> Result<Value, JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed);
    };
    let header: Header = serde_json::from_slice(&b64(h)?).map_err(|_| JoseError::Malformed)?;
    if header.crit.is_some() {
        // No extension is understood, so none may be critical.
        return Err(JoseError::Malformed);
    }
    let alg = Alg::parse(&header.alg)
        .filter(|a| accepted.contains(a))
        .ok_or_else(|| JoseError::Algorithm(header.alg.clone()))?;
    let signature = b64(s)?;
    let message = format!("{h}.{p}");
    let candidates = keys.iter().filter(|k| {
        let kid_ok = match (&header.kid, &k.kid) {
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
            (None, _) => true,
        };
        let use_ok = k.use_.as_deref().is_none_or(|u| u == "sig");
        let alg_ok = k.alg.as_deref().is_none_or(|a| a == header.alg);
        let kty_ok = match alg {
            Alg::Rs256 => k.kty == "RSA",
            Alg::Es256 => k.kty == "EC" && k.crv.as_deref() == Some("P-256"),
        };
        kid_ok && use_ok && alg_ok && kty_ok
    });
    let mut any = false;
    for key in candidates {
        any = true;
        if verify_with(key, alg, message.as_bytes(), &signature).is_ok() {
            let payload: Value =
                serde_json::from_slice(&b64(p)?).map_err(|_| JoseError::Malformed)?;
            return if payload.is_object() {
                Ok(payload)
            } else {
                Err(JoseError::Malformed)
            };
        }
    }
    Err(if any {
        JoseError::Signature
    } else {
        JoseError::UnknownKey
    })
}

fn verify_with(key: &Jwk, alg: Alg, message: &[u8], sig: &[u8]) -> Result<(), JoseError> {
    match alg {
        Alg::Rs256 => {
            let n = b64(key.n.as_deref().ok_or(JoseError::UnknownKey)?)?;
            let e = b64(key.e.as_deref().ok_or(JoseError::UnknownKey)?)?;
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .map_err(|_| JoseError::Signature)
        }
        Alg::Es256 => {
            let x = b64(key.x.as_deref().ok_or(JoseError::UnknownKey)?)?;
            let y = b64(key.y.as_deref().ok_or(JoseError::UnknownKey)?)?;
            if x.len() != 32 || y.len() != 32 {
                return Err(JoseError::UnknownKey);
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, sig)
                .map_err(|_| JoseError::Signature)
        }
    }
}

/// The client's EC P-256 key for `private_key_jwt`.
pub struct ClientKey {
    pair: EcdsaKeyPair,
    /// The RFC 7638 thumbprint of the public key, used as `kid`.
    pub kid: String,
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// Reads a PKCS#8 key, PEM (`-----BEGIN PRIVATE KEY-----`) or DER.
    pub fn from_pkcs8(bytes: &[u8]) -> Result<ClientKey, JoseError> {
        let der = match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => {
                let body: String = text
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .map(str::trim)
                    .collect();
                STANDARD
                    .decode(body)
                    .map_err(|e| JoseError::Key(e.to_string()))?
            }
            _ => bytes.to_vec(),
        };
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
            &SystemRandom::new(),
        )
        .map_err(|e| JoseError::Key(e.to_string()))?;
        let mut key = ClientKey {
            pair,
            kid: String::new(),
        };
        key.kid = key.thumbprint();
        Ok(key)
    }

    /// A new key as PKCS#8 PEM.
    pub fn generate_pem() -> Result<String, JoseError> {
        let doc = EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .map_err(|e| JoseError::Key(e.to_string()))?;
        let body = STANDARD.encode(doc.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in body.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(chunk));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    fn coordinates(&self) -> (String, String) {
        let point = self.pair.public_key().as_ref();
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y))
    }

    fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        // RFC 7638: the required members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The public key as a JWK, to register with the provider.
    pub fn public_jwk(&self) -> Value {
        let (x, y) = self.coordinates();
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": self.kid, "use": "sig", "alg": "ES256",
        })
    }

    /// Signs `claims` as a compact JWS (ES256, with this key's `kid`).
    pub fn sign(&self, claims: &Value) -> Result<String, JoseError> {
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{h}.{p}");
        let sig = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .map_err(|e| JoseError::Key(e.to_string()))?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks_of(key: &ClientKey) -> Vec<Jwk> {
        serde_json::from_value::<JwkSet>(serde_json::json!({"keys": [key.public_jwk()]}))
            .unwrap()
            .keys
    }

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let key = ClientKey::from_pkcs8(ClientKey::generate_pem().unwrap().as_bytes()).unwrap();
        let token = key.sign(&serde_json::json!({"sub": "abc"})).unwrap();
        let keys = jwks_of(&key);
        assert_eq!(verify(&token, &keys, &[Alg::Es256]).unwrap()["sub"], "abc");
        // Another algorithm than the accepted ones.
        assert!(matches!(
            verify(&token, &keys, &[Alg::Rs256]),
            Err(JoseError::Algorithm(_))
        ));
        // The payload changed after signing.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"abd"}"#);
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &keys, &[Alg::Es256]),
            Err(JoseError::Signature)
        );
        // Signed by another key with the same kid.
        let other = ClientKey::from_pkcs8(ClientKey::generate_pem().unwrap().as_bytes()).unwrap();
        let mut other_jwks = jwks_of(&other);
        other_jwks[0].kid = Some(key.kid.clone());
        assert_eq!(
            verify(&token, &other_jwks, &[Alg::Es256]),
            Err(JoseError::Signature)
        );
        // alg none and garbage.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"abc"}"#)
        );
        assert!(matches!(
            verify(&none, &keys, &[Alg::Es256, Alg::Rs256]),
            Err(JoseError::Algorithm(_))
        ));
        assert_eq!(
            verify("a.b", &keys, &[Alg::Es256]),
            Err(JoseError::Malformed)
        );
        assert_eq!(
            verify("…….x.y", &keys, &[Alg::Es256]),
            Err(JoseError::Malformed)
        );
    }
}
