//! API tokens: issuing one (shown once; only its hash is kept), listing and
//! revoking a local government's tokens, and who is calling with one.
//! Issuing and revoking are audited.

use platform::db::Db;

use super::error::TokenError;
use crate::model::{self, Actor, Token};
use crate::store;

/// Issues a token for a local government; returns it (shown once).
/// `created_by` names who asked (`<name> (staff:<id>)`, `cli`).
pub async fn issue(
    db: &Db,
    organisation_id: i64,
    name: &str,
    created_by: &str,
) -> Result<String, TokenError> {
    let token = format!("mdg_{}", platform::crypto::random_token());
    let mut tx = db.begin().await?;
    store::tokens::insert_token(
        &mut tx,
        organisation_id,
        name,
        &platform::crypto::sha256_hex(&token),
        created_by,
        &model::now(),
    )
    .await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: audit_actor(created_by),
            action: "api_token.issued",
            subject_kind: "api_token",
            subject_id: None,
            detail: serde_json::json!({"name": name}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Who the audit log names for a token's issuer.
fn audit_actor(label: &str) -> platform::audit::Actor {
    match label.split_once(':') {
        Some(("staff", id)) => id
            .parse()
            .map(platform::audit::Actor::Staff)
            .unwrap_or(platform::audit::Actor::System),
        _ if label == "cli" => platform::audit::Actor::Cli,
        _ => platform::audit::Actor::System,
    }
}

/// A local government's tokens, the newest first.
pub async fn list(db: &Db, organisation_id: i64) -> Result<Vec<Token>, TokenError> {
    Ok(store::tokens::tokens(db, organisation_id).await?)
}

/// Revokes one of a local government's active tokens.
pub async fn revoke(db: &Db, organisation_id: i64, id: i64) -> Result<(), TokenError> {
    let mut tx = db.begin().await?;
    let revoked = store::tokens::revoke_token(&mut tx, organisation_id, id, &model::now()).await?;
    if revoked {
        platform::audit::append(
            &mut tx,
            platform::audit::Entry {
                organisation_id: Some(organisation_id),
                actor: platform::audit::Actor::System,
                action: "api_token.revoked",
                subject_kind: "api_token",
                subject_id: Some(id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    if revoked {
        Ok(())
    } else {
        Err(TokenError::NotFound)
    }
}

/// Who calls with `token`: its local government, or nobody for an unknown or
/// revoked token. Notes the token's use.
pub async fn actor(db: &Db, token: &str) -> Result<Option<Actor>, TokenError> {
    let Some(t) = store::tokens::token_by_hash(db, &platform::crypto::sha256_hex(token)).await?
    else {
        return Ok(None);
    };
    note_use(db, &t).await;
    Ok(Some(Actor {
        organisation_id: t.organisation_id,
        label: format!("token:{}:{}", t.id, t.name),
    }))
}

/// Notes when a token was last used (at most once an hour, so reads stay
/// reads). A failure is logged: the request goes on.
async fn note_use(db: &Db, t: &Token) {
    let now = model::now();
    let stale = t
        .last_used_at
        .as_deref()
        .and_then(model::parse_ckan_time)
        .is_none_or(|at| chrono::Utc::now() - at > chrono::Duration::hours(1));
    if !stale {
        return;
    }
    let result = async {
        let mut tx = db.begin().await?;
        store::tokens::set_last_used(&mut tx, t.id, &now).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "noting a token's use failed");
    }
}
