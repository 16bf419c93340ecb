//! Users of an organisation as API callers manage them: list, read,
//! create, change and delete, each change audited with the caller as
//! actor (never the password, only that it changed). The safety rules
//! (another active admin, platform admins) live in [`Accounts`].

use rampart_core::{Error, OrgId, User, UserId};
use serde_json::Value;

use crate::accounts::{Accounts, UserChange, UserInput};
use crate::audit::{snapshot, Audit};
use crate::notifications::Notifier;
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
use rampart_core::notification::{Notice, NoticeKind};

/// The user directory, audited.
#[derive(Clone)]
pub struct Users {
    accounts: Accounts,
    audit: Audit,
    notifier: Notifier,
}

impl Users {
    pub fn new(accounts: Accounts, audit: Audit, notifier: Notifier) -> Self {
        Self {
            accounts,
            audit,
            notifier,
        }
    }

    pub async fn list(&self, org: OrgId, page: &PageParams) -> Result<Page<User>, Error> {
        let limit = page.limit()?;
        let users = self
            .accounts
            .store
            .list_users(org, page.cursor()?, limit)
            .await?;
        Ok(Page::new(users, limit, |u| u.id.to_string()))
    }

    pub async fn get(&self, org: OrgId, id: UserId) -> Result<User, Error> {
        self.accounts
            .store
            .get_user(org, id)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }

    /// Creates a user in the caller's organisation.
    pub async fn create(&self, principal: &Principal, input: UserInput) -> Result<User, Error> {
        let user = self.accounts.create_user(principal.org_id, input).await?;
        self.audit
            .record(
                principal,
                "user.create",
                ("user", user.id.to_string()),
                None,
                snapshot(&user),
            )
            .await?;
        let welcome = Notice {
            user: Some(user.id),
            ..Notice::new(NoticeKind::UserWelcome)
        };
        self.notifier.notify(user.org_id, &welcome).await?;
        Ok(user)
    }

    /// Changes a user of the caller's organisation, as the caller's
    /// standing allows.
    pub async fn update(
        &self,
        principal: &Principal,
        id: UserId,
        change: UserChange,
    ) -> Result<User, Error> {
        let password_changed = change.password.is_some();
        let (before, user) = self
            .accounts
            .update_user(principal.changed_by(), principal.org_id, id, change)
            .await?;
        let mut after = snapshot(&user);
        if let (true, Some(Value::Object(map))) = (password_changed, after.as_mut()) {
            // Never the password; only that it changed.
            map.insert("password_changed".into(), Value::Bool(true));
        }
        self.audit
            .record(
                principal,
                "user.update",
                ("user", id.to_string()),
                snapshot(&before),
                after,
            )
            .await?;
        Ok(user)
    }

    /// Deletes a user of the caller's organisation.
    pub async fn delete(&self, principal: &Principal, id: UserId) -> Result<(), Error> {
        let before = self
            .accounts
            .delete_user(principal.changed_by(), principal.org_id, id)
            .await?;
        self.audit
            .record(
                principal,
                "user.delete",
                ("user", id.to_string()),
                snapshot(&before),
                None,
            )
            .await
    }
}
