//! API keys: created with scopes and shown once, listed, revoked. The
//! CLI uses [`Accounts`] directly; API callers go through [`ApiKeys`],
//! which audits each change.

use rampart_core::{ApiKey, ApiKeyId, ApiKeyScope, CreatorState, OrgId, UserId};

use crate::accounts::Accounts;
use crate::audit::{snapshot, Audit};
use crate::auth::tokens;
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
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
        self.credentials_changed();
        Ok(key)
    }
}

/// API keys as API callers manage them: listed, read, created (by the
/// calling user) and revoked, each change audited.
#[derive(Clone)]
pub struct ApiKeys {
    accounts: Accounts,
    audit: Audit,
}

impl ApiKeys {
    pub fn new(accounts: Accounts, audit: Audit) -> Self {
        Self { accounts, audit }
    }

    pub async fn list(&self, org: OrgId, page: &PageParams) -> Result<Page<ApiKey>, Error> {
        let limit = page.limit()?;
        let keys = self
            .accounts
            .store
            .list_api_keys(org, page.cursor()?, limit)
            .await?;
        Ok(Page::new(keys, limit, |k| k.id.to_string()))
    }

    pub async fn get(&self, org: OrgId, id: ApiKeyId) -> Result<ApiKey, Error> {
        self.accounts
            .store
            .get_api_key(org, id)
            .await?
            .ok_or_else(|| Error::not_found("API key"))
    }

    /// A key of the caller's organisation, made by the calling user (a
    /// key made by a key has no creator).
    pub async fn create(
        &self,
        principal: &Principal,
        name: &str,
        scopes: Vec<ApiKeyScope>,
    ) -> Result<CreatedKey, Error> {
        let created_by = principal.user().map(|u| u.id);
        let created = self
            .accounts
            .create_api_key(principal.org_id, name, scopes, created_by)
            .await?;
        let target = ("api_key", created.key.id.to_string());
        let after = snapshot(&created.key);
        self.audit
            .record(principal, "api_key.create", target, None, after)
            .await?;
        Ok(created)
    }

    /// Revokes a key of the caller's organisation; it stops working at once.
    pub async fn revoke(&self, principal: &Principal, id: ApiKeyId) -> Result<ApiKey, Error> {
        let key = self.accounts.revoke_api_key(principal.org_id, id).await?;
        let target = ("api_key", key.id.to_string());
        self.audit
            .record(principal, "api_key.revoke", target, None, snapshot(&key))
            .await?;
        Ok(key)
    }
}
