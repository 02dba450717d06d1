//! How a person was identified (本人確認), shared by sessions, procedures and
//! the identity module: the method a session was opened with, what the
//! identity provider asserted about it (`acr`, gBizID's account type and
//! 法人番号), and what a procedure requires before its first page.
//!
//! No I/O: the identity crate verifies the providers' tokens and fills a
//! [`Verified`]; the session keeps it; a procedure's [`Requirement`] is
//! checked against it.

use serde::{Deserialize, Serialize};

/// How the person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// E-mail address and password.
    Password,
    /// The My Number card through the Digital Agency's デジタル認証アプリ.
    #[serde(rename = "mynumber_card")]
    MyNumberCard,
    /// A business account of gBizID (GビズID).
    #[serde(rename = "gbizid")]
    GBizId,
}

impl Method {
    pub fn code(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::MyNumberCard => "mynumber_card",
            Method::GBizId => "gbizid",
        }
    }

    /// The message key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            Method::Password => "identity.method.password",
            Method::MyNumberCard => "identity.method.mynumber_card",
            Method::GBizId => "identity.method.gbizid",
        }
    }
}

/// gBizID's kinds of account: a prime account is the company's
/// representative's (identity proven with a seal certificate or the My
/// Number card); members are added by it; entry accounts are self-registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Prime,
    Member,
    Entry,
}

impl AccountType {
    pub fn parse(s: &str) -> Option<AccountType> {
        match s.trim().to_ascii_lowercase().as_str() {
            "prime" | "gbizid_prime" => Some(AccountType::Prime),
            "member" | "gbizid_member" => Some(AccountType::Member),
            "entry" | "gbizid_entry" => Some(AccountType::Entry),
            _ => None,
        }
    }
}

/// What is known of a session's sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub method: Method,
    /// The authentication context class the provider asserted (ID token `acr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// gBizID: the kind of account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// gBizID: the company's 法人番号 (13 digits, check digit verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
    /// gBizID: the company's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_name: Option<String>,
}

impl Verified {
    pub fn password() -> Verified {
        Verified {
            method: Method::Password,
            acr: None,
            account_type: None,
            corporate_number: None,
            corporate_name: None,
        }
    }
}

/// What a procedure requires of the person applying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Any signed-in resident account (e-mail and password will do).
    #[default]
    Account,
    /// Signed in with the My Number card, at an `acr` the operator accepts
    /// as card authentication (`identity.mynumber_card.required_acr`).
    #[serde(rename = "mynumber_card")]
    MyNumberCard,
    /// Signed in with any gBizID account.
    #[serde(rename = "gbizid")]
    GBizId,
    /// Signed in with a gBizID prime account.
    #[serde(rename = "gbizid_prime")]
    GBizIdPrime,
}

impl Requirement {
    pub fn code(self) -> &'static str {
        match self {
            Requirement::Account => "account",
            Requirement::MyNumberCard => "mynumber_card",
            Requirement::GBizId => "gbizid",
            Requirement::GBizIdPrime => "gbizid_prime",
        }
    }

    pub fn parse(s: &str) -> Option<Requirement> {
        match s {
            "account" => Some(Requirement::Account),
            "mynumber_card" => Some(Requirement::MyNumberCard),
            "gbizid" => Some(Requirement::GBizId),
            "gbizid_prime" => Some(Requirement::GBizIdPrime),
            _ => None,
        }
    }

    /// The method a person must sign in with, when a password is not enough.
    pub fn method(self) -> Option<Method> {
        match self {
            Requirement::Account => None,
            Requirement::MyNumberCard => Some(Method::MyNumberCard),
            Requirement::GBizId | Requirement::GBizIdPrime => Some(Method::GBizId),
        }
    }

    /// The message key saying how to sign in for it.
    pub fn label_key(self) -> &'static str {
        match self {
            Requirement::Account => "identity.requirement.account",
            Requirement::MyNumberCard => "identity.requirement.mynumber_card",
            Requirement::GBizId => "identity.requirement.gbizid",
            Requirement::GBizIdPrime => "identity.requirement.gbizid_prime",
        }
    }

    /// Whether a session identified as `verified` meets it. `card_acr` is the
    /// list of `acr` values the operator accepts as My Number card
    /// authentication (empty: any the provider asserts).
    pub fn satisfied_by(self, verified: Option<&Verified>, card_acr: &[String]) -> bool {
        match self {
            Requirement::Account => true,
            Requirement::MyNumberCard => verified.is_some_and(|v| {
                v.method == Method::MyNumberCard && acr_accepted(v.acr.as_deref(), card_acr)
            }),
            Requirement::GBizId => verified.is_some_and(|v| v.method == Method::GBizId),
            Requirement::GBizIdPrime => verified.is_some_and(|v| {
                v.method == Method::GBizId && v.account_type == Some(AccountType::Prime)
            }),
        }
    }
}

/// Whether `acr` is one of `accepted` (any, when none is configured).
pub fn acr_accepted(acr: Option<&str>, accepted: &[String]) -> bool {
    accepted.is_empty() || acr.is_some_and(|a| accepted.iter().any(|x| x == a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(acr: Option<&str>) -> Verified {
        Verified {
            method: Method::MyNumberCard,
            acr: acr.map(str::to_string),
            ..Verified::password()
        }
    }

    #[test]
    fn requirements_are_met_only_by_the_right_sign_in() {
        let accepted = vec!["aal3".to_string()];
        assert!(Requirement::Account.satisfied_by(None, &accepted));
        assert!(!Requirement::MyNumberCard.satisfied_by(Some(&Verified::password()), &accepted));
        assert!(!Requirement::MyNumberCard.satisfied_by(Some(&card(Some("aal1"))), &accepted));
        assert!(!Requirement::MyNumberCard.satisfied_by(Some(&card(None)), &accepted));
        assert!(Requirement::MyNumberCard.satisfied_by(Some(&card(Some("aal3"))), &accepted));
        let member = Verified {
            method: Method::GBizId,
            account_type: Some(AccountType::Member),
            ..Verified::password()
        };
        assert!(Requirement::GBizId.satisfied_by(Some(&member), &accepted));
        assert!(!Requirement::GBizIdPrime.satisfied_by(Some(&member), &accepted));
        let prime = Verified {
            account_type: Some(AccountType::Prime),
            ..member
        };
        assert!(Requirement::GBizIdPrime.satisfied_by(Some(&prime), &accepted));
        for r in [
            Requirement::Account,
            Requirement::MyNumberCard,
            Requirement::GBizId,
            Requirement::GBizIdPrime,
        ] {
            assert_eq!(Requirement::parse(r.code()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.code());
        }
        for m in [Method::Password, Method::MyNumberCard, Method::GBizId] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.code());
        }
    }
}
