//! API keys: created with scopes and shown once, listed, revoked.

use rampart_core::{ApiKey, ApiKeyId, ApiKeyScope, CreatorState, OrgId, UserId};

use crate::accounts::Accounts;
use crate::auth::tokens;
use rampart_core::Error;

/// A new key and its secret, which is never available again.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

impl Accounts {
    pub async fn create_api_key(
        &self,
        org: OrgId,
        name: &str,
        scopes: Vec<ApiKeyScope>,
        created_by: Option<UserId>,
    ) -> Result<CreatedKey, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid_field("name", "must be 1 to 100 characters"));
        }
        let mut scopes = scopes;
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        if scopes.is_empty() {
            return Err(Error::invalid_field(
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
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
            creator_state: created_by.map(|_| CreatorState::Active),
        };
        self.store
            .create_api_key(org, &key, &tokens::digest(&secret))
            .await?;
        tracing::info!(org_id = %org, key_id = %key.id, "API key created");
        Ok(CreatedKey { key, secret })
    }

    pub async fn revoke_api_key(&self, org: OrgId, id: ApiKeyId) -> Result<ApiKey, Error> {
        let key = self
            .store
            .revoke_api_key(org, id, self.clock.now())
            .await?
            .ok_or_else(|| Error::not_found("API key"))?;
        tracing::info!(org_id = %org, key_id = %id, "API key revoked");
        Ok(key)
    }
}
