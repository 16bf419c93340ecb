//! Organisations: the caller's own and its settings (retention, required
//! second factors), and, for
//! platform admins, all organisations and new ones with their first admin.
//! Settings changes are audited.

use rampart_core::{Error, OrgId, Organisation, User};

use crate::accounts::{Accounts, UserInput};
use crate::api::accounts::{OrgSettings, OrgSettingsInput};
use crate::audit::{snapshot, Audit};
use crate::paging::{Page, PageParams};
use crate::principal::Principal;

/// The organisations service.
#[derive(Clone)]
pub struct Organisations {
    accounts: Accounts,
    audit: Audit,
    /// Days events are kept where an organisation has no value of its own.
    default_retention_days: i64,
}

impl Organisations {
    pub fn new(accounts: Accounts, audit: Audit, default_retention_days: i64) -> Self {
        Self {
            accounts,
            audit,
            default_retention_days,
        }
    }

    pub async fn get(&self, org: OrgId) -> Result<Organisation, Error> {
        self.accounts
            .store
            .get_org(org)
            .await?
            .ok_or_else(|| Error::not_found("organisation"))
    }

    /// Every organisation (for platform admins).
    pub async fn list(&self, page: &PageParams) -> Result<Page<Organisation>, Error> {
        let limit = page.limit()?;
        let orgs = self.accounts.store.list_orgs(page.cursor()?, limit).await?;
        Ok(Page::new(orgs, limit, |o| o.id.to_string()))
    }

    /// A new organisation with its first admin (for platform admins).
    pub async fn create(
        &self,
        name: &str,
        admin: UserInput,
    ) -> Result<(Organisation, User), Error> {
        self.accounts.create_org(name, admin, false).await
    }

    pub async fn settings(&self, org: OrgId) -> Result<OrgSettings, Error> {
        let own = self.accounts.store.retention_days(org).await?;
        Ok(OrgSettings {
            retention_days: own.unwrap_or(self.default_retention_days),
            retention_days_override: own,
            default_retention_days: self.default_retention_days,
            require_mfa: self.accounts.store.requires_mfa(org).await?,
        })
    }

    /// Changes the caller's organisation's settings.
    pub async fn update_settings(
        &self,
        principal: &Principal,
        input: OrgSettingsInput,
    ) -> Result<OrgSettings, Error> {
        if let Some(days) = input.retention_days {
            if !(1..=3650).contains(&days) {
                return Err(Error::invalid_field(
                    "retention_days",
                    "must be between 1 and 3650",
                ));
            }
        }
        let org = principal.org_id;
        let before = self.settings(org).await?;
        if input.require_mfa == Some(true) && !before.require_mfa {
            self.check_admin_has_authenticator(principal).await?;
        }
        let store = &self.accounts.store;
        store.set_retention_days(org, input.retention_days).await?;
        if let Some(required) = input.require_mfa {
            store.set_requires_mfa(org, required).await?;
        }
        let after = self.settings(org).await?;
        self.audit
            .record(
                principal,
                "settings.update",
                ("settings", org.to_string()),
                snapshot(&before),
                snapshot(&after),
            )
            .await?;
        Ok(after)
    }

    /// An admin who requires two factors of everyone has one: the first
    /// person it would stop is the one who turned it on.
    async fn check_admin_has_authenticator(&self, principal: &Principal) -> Result<(), Error> {
        let Some(user) = principal.user() else {
            return Ok(());
        };
        let enabled = self
            .accounts
            .store
            .get_totp(user.org_id, user.id)
            .await?
            .is_some_and(|r| r.enabled);
        if enabled {
            return Ok(());
        }
        Err(Error::conflict(
            "authenticator_needed",
            "set up your own authenticator app (Security, or POST /api/v1/me/totp) \
             before requiring two factors of everyone",
        ))
    }
}
