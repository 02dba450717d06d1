//! The identity module's domain errors.

use platform::db::StoreError;

use crate::jose::JoseError;
use crate::model::TokenProblem;

/// Why a sign-in with a provider did not complete. Each is shown as a page
/// in the resident's language and audited with its [`SignInError::code`];
/// nothing is linked.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the provider is not configured")]
    NotConfigured,
    #[error("the provider cannot be reached or answered wrongly: {0}")]
    Provider(String),
    #[error("the provider answers for another issuer than the one configured")]
    IssuerMismatch,
    #[error("unknown, used or expired state, or another browser")]
    State,
    #[error("the person cancelled or the provider refused: {0}")]
    Denied(String),
    #[error("the token request was refused: {0}")]
    TokenRefused(String),
    #[error("the ID token's signature: {0}")]
    Signature(JoseError),
    #[error("the ID token's claims: {}", .0.code())]
    Claims(TokenProblem),
    #[error("the sign-in is weaker than the procedure requires")]
    Insufficient,
    #[error("userinfo does not belong to the ID token's subject")]
    Userinfo,
    #[error("already linked to another account")]
    AlreadyLinked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SignInError {
    /// The reason recorded in the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::NotConfigured => "not_configured",
            SignInError::Provider(_) => "provider_unavailable",
            SignInError::IssuerMismatch => "issuer",
            SignInError::State => "state",
            SignInError::Denied(_) => "denied",
            SignInError::TokenRefused(_) => "token_refused",
            SignInError::Signature(_) => "signature",
            SignInError::Claims(p) => p.code(),
            SignInError::Insufficient => "acr",
            SignInError::Userinfo => "userinfo",
            SignInError::AlreadyLinked => "already_linked",
            SignInError::Store(_) => "store",
        }
    }

    /// The message key of what the person is told.
    pub fn key(&self) -> &'static str {
        match self {
            SignInError::NotConfigured => "identity.error.not_configured",
            SignInError::Provider(_) | SignInError::Store(_) => "identity.error.unavailable",
            SignInError::State => "identity.error.state",
            SignInError::Denied(_) => "identity.error.denied",
            SignInError::Insufficient => "identity.error.insufficient",
            SignInError::AlreadyLinked => "identity.error.already_linked",
            SignInError::IssuerMismatch
            | SignInError::TokenRefused(_)
            | SignInError::Signature(_)
            | SignInError::Claims(_)
            | SignInError::Userinfo => "identity.error.not_verified",
        }
    }
}

/// Why finishing a sign-in that has no account yet did not work.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("the sign-in expired or was finished already")]
    Expired,
    #[error("the address is not valid")]
    InvalidEmail,
    #[error("the address belongs to an account and the password does not match")]
    PasswordWrong,
    #[error("already linked")]
    AlreadyLinked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl FinishError {
    pub fn key(&self) -> &'static str {
        match self {
            FinishError::Expired => "identity.error.state",
            FinishError::InvalidEmail => "account.error.invalid_email",
            FinishError::PasswordWrong => "identity.error.password_wrong",
            FinishError::AlreadyLinked => "identity.error.already_linked",
            FinishError::Store(_) => "identity.error.unavailable",
        }
    }

    pub fn field(&self) -> &'static str {
        match self {
            FinishError::PasswordWrong => "password",
            _ => "email",
        }
    }
}
