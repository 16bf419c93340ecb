//! Feature flags: the organisation's and the platform's flags, changed by
//! admins (audited), and evaluated from a node-local cache that follows
//! the store's revision: a change on one node reaches every node within a
//! second (each polls the revision), and at once on the node that made it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rampart_core::flag::{valid_key, Evaluation, Flag, FlagContext, FlagDefinition};
use rampart_core::{Clock, Error, OrgId, Permission};
use rampart_store::{FlagScope, FlagWrite, Store, StoreError};

use crate::api::flags::{EvaluateInput, FlagInput, FlagView, NewFlag};
use crate::audit::{self, Audit};
use crate::principal::{Actor, Principal};

/// How often a node checks whether flags changed.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Flags {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    cache: Arc<RwLock<Cache>>,
}

/// Every flag of every scope, at a revision.
#[derive(Default)]
struct Cache {
    revision: Option<i64>,
    flags: HashMap<(Option<OrgId>, String), Arc<FlagDefinition>>,
}

impl Flags {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        Self {
            store,
            clock,
            audit,
            cache: Arc::default(),
        }
    }

    /// Reloads the flags when the store's revision moved; true if it did.
    pub async fn refresh(&self) -> Result<bool, Error> {
        let current = self.store.flags_revision().await?;
        let known = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .revision;
        if known == Some(current) {
            return Ok(false);
        }
        let (revision, flags) = self.store.all_flags().await?;
        let flags = flags
            .into_iter()
            .map(|f| ((f.org_id, f.key), Arc::new(f.definition)))
            .collect();
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = Cache {
            revision: Some(revision),
            flags,
        };
        Ok(true)
    }

    /// Keeps the cache current, every [`REFRESH_EVERY`], forever.
    pub async fn refresh_forever(self) {
        loop {
            if let Err(error) = self.refresh().await {
                tracing::error!(error = %error.detail, "refreshing feature flags failed");
            }
            tokio::time::sleep(REFRESH_EVERY).await;
        }
    }

    /// Evaluates `key` for an organisation from the cache: its own flag,
    /// else the platform's, else off (`not_found`).
    pub fn evaluate_in(&self, org: OrgId, key: &str, context: &FlagContext) -> Evaluation {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let own = cache.flags.get(&(Some(org), key.to_owned()));
        match own.or_else(|| cache.flags.get(&(None, key.to_owned()))) {
            Some(definition) => definition.evaluate(key, context),
            None => Evaluation {
                enabled: false,
                variant: None,
                reason: "not_found".into(),
            },
        }
    }

    /// Whether a capability gated by flag `key` is on for this caller
    /// (Rampart's own use of its flags).
    pub fn is_enabled(&self, principal: &Principal, key: &str) -> bool {
        self.evaluate_in(principal.org_id, key, &context_of(principal))
            .enabled
    }

    /// `POST /flags/evaluate`: the caller's organisation always; the rest
    /// of the context from the request, or the caller's own.
    pub fn evaluate(
        &self,
        principal: &Principal,
        input: EvaluateInput,
    ) -> Result<Evaluation, Error> {
        principal.require(Permission::Read)?;
        let own = context_of(principal);
        let given = input.context;
        let context = FlagContext {
            org_id: own.org_id,
            user_id: given.user_id.or(own.user_id),
            role: given.role.or(own.role),
            email: given.email.or(own.email),
            client_address: given.client_address,
            session_id: given.session_id,
            properties: given.properties,
        };
        Ok(self.evaluate_in(principal.org_id, &input.flag, &context))
    }

    fn scope(principal: &Principal, platform: bool, write: bool) -> Result<FlagScope, Error> {
        principal.require(if write {
            Permission::Admin
        } else {
            Permission::Read
        })?;
        if platform && write {
            principal.require_platform_admin()?;
        }
        Ok(if platform {
            FlagScope::Platform
        } else {
            FlagScope::Org(principal.org_id)
        })
    }

    pub async fn list(
        &self,
        principal: &Principal,
        platform: bool,
    ) -> Result<Vec<FlagView>, Error> {
        let scope = Self::scope(principal, platform, false)?;
        Ok(self
            .store
            .list_flags(scope)
            .await?
            .into_iter()
            .map(FlagView::from)
            .collect())
    }

    pub async fn get(
        &self,
        principal: &Principal,
        key: &str,
        platform: bool,
    ) -> Result<FlagView, Error> {
        let scope = Self::scope(principal, platform, false)?;
        self.store
            .get_flag(scope, key)
            .await?
            .map(FlagView::from)
            .ok_or_else(|| Error::not_found("flag"))
    }

    pub async fn create(&self, principal: &Principal, input: NewFlag) -> Result<FlagView, Error> {
        let (key, platform, definition) = input.into_parts();
        if !valid_key(&key) {
            return Err(Error::invalid_field(
                "key",
                "1 to 100 letters, digits, '.', '_' or '-'",
            ));
        }
        self.write(principal, &key, platform, definition, FlagWrite::Create)
            .await
    }

    pub async fn replace(
        &self,
        principal: &Principal,
        key: &str,
        platform: bool,
        input: FlagInput,
    ) -> Result<FlagView, Error> {
        let created_at = self.get(principal, key, platform).await?.created_at;
        let mut view = self
            .write(
                principal,
                key,
                platform,
                input.definition(),
                FlagWrite::Replace,
            )
            .await?;
        view.created_at = created_at;
        Ok(view)
    }

    async fn write(
        &self,
        principal: &Principal,
        key: &str,
        platform: bool,
        definition: FlagDefinition,
        write: FlagWrite,
    ) -> Result<FlagView, Error> {
        let scope = Self::scope(principal, platform, true)?;
        if let Some((field, reason)) = definition.problem() {
            return Err(Error::invalid_field(&field, reason));
        }
        let now = self.clock.now();
        let flag = Flag {
            key: key.to_owned(),
            org_id: match scope {
                FlagScope::Org(org) => Some(org),
                FlagScope::Platform => None,
            },
            definition,
            created_at: now,
            updated_at: now,
            updated_by: principal.audit_actor(),
        };
        let action = match write {
            FlagWrite::Create => "flag.create",
            FlagWrite::Replace => "flag.update",
        };
        let view = FlagView::from(flag.clone());
        let entry = self.audit.entry(
            principal,
            action,
            ("flag", key.to_owned()),
            None,
            audit::snapshot(&view),
        );
        match self
            .store
            .put_flag(&flag, write, principal.org_id, &entry)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(Error::not_found("flag")),
            Err(StoreError::Conflict { .. }) => {
                return Err(
                    Error::conflict("flag_exists", "a flag with this key exists").with_field("key"),
                )
            }
            Err(other) => return Err(other.into()),
        }
        self.refresh().await?;
        Ok(view)
    }

    pub async fn delete(
        &self,
        principal: &Principal,
        key: &str,
        platform: bool,
    ) -> Result<(), Error> {
        let scope = Self::scope(principal, platform, true)?;
        let entry = self.audit.entry(
            principal,
            "flag.delete",
            ("flag", key.to_owned()),
            None,
            None,
        );
        if !self
            .store
            .delete_flag(scope, key, principal.org_id, &entry)
            .await?
        {
            return Err(Error::not_found("flag"));
        }
        self.refresh().await?;
        Ok(())
    }
}

/// What a caller is, as a flag context.
fn context_of(principal: &Principal) -> FlagContext {
    let mut context = FlagContext {
        org_id: Some(principal.org_id.to_string()),
        ..FlagContext::default()
    };
    if let Actor::User { user, .. } = &principal.actor {
        context.user_id = Some(user.id.to_string());
        context.role = Some(user.role.as_str().to_owned());
        context.email = Some(user.email.clone());
    }
    context
}
