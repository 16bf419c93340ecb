//! API keys: created with scopes and shown once, listed, revoked.

use rampart_core::{ApiKey, ApiKeyId, ApiKeyScope, CreatorState, OrgId, UserId};

use crate::auth::tokens;
use crate::error::ApiError;
use crate::service::accounts::Accounts;

/// A new key and its secret, which is never available again.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

pub async fn create(
    state: &Accounts,
    org: OrgId,
    name: &str,
    scopes: Vec<ApiKeyScope>,
    created_by: Option<UserId>,
) -> Result<CreatedKey, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    let mut scopes = scopes;
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiError::invalid_field(
            "scopes",
            "give at least one of: ingest, read, admin",
        ));
    }
    let secret = tokens::generate(tokens::API_KEY_PREFIX);
    let key = ApiKey {
        id: ApiKeyId::new(),
        org_id: org,
        name: name.to_string(),
        prefix: secret.chars().take(tokens::API_KEY_VISIBLE_CHARS).collect(),
        scopes,
        created_by,
        created_at: state.clock.now(),
        last_used_at: None,
        revoked_at: None,
        creator_state: created_by.map(|_| CreatorState::Active),
    };
    state
        .store
        .create_api_key(org, &key, &tokens::digest(&secret))
        .await?;
    tracing::info!(org_id = %org, key_id = %key.id, "API key created");
    Ok(CreatedKey { key, secret })
}

pub async fn revoke(state: &Accounts, org: OrgId, id: ApiKeyId) -> Result<ApiKey, ApiError> {
    let key = state
        .store
        .revoke_api_key(org, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    tracing::info!(org_id = %org, key_id = %id, "API key revoked");
    Ok(key)
}
