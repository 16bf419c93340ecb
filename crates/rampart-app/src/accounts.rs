//! Organisations and users: creation, changes with their safety rules
//! (an organisation keeps at least one active admin), and the first start.

use std::sync::Arc;

use rampart_core::{Clock, OrgId, Organisation, Role, User, UserId};
use rampart_store::{NewUser, Store, UserUpdate};
use secrecy::SecretString;

use crate::auth::{password, tokens};
use crate::cache::Invalidator;
use rampart_core::Error;

/// What account changes need: the store and the clock, nothing of the
/// ingest path, so that `rampart user …` and `rampart apikey …` open the
/// database and nothing else.
#[derive(Clone)]
pub struct Accounts {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Drops cached API keys and sessions when an account changes.
    invalidator: Invalidator,
}

impl Accounts {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Accounts {
        Accounts {
            store,
            clock,
            invalidator: Invalidator::default(),
        }
    }

    /// As [`Accounts::new`], invalidating the node's authentication caches.
    pub fn with_invalidator(mut self, invalidator: Invalidator) -> Accounts {
        self.invalidator = invalidator;
        self
    }

    /// A user or key changed: what any node cached about credentials goes.
    pub(crate) fn credentials_changed(&self) {
        self.invalidator
            .invalidate(crate::cache::API_KEY_CACHE, None);
        self.invalidator
            .invalidate(crate::cache::SESSION_CACHE, None);
    }
}

/// An e-mail address as accounts are keyed by it.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A user to create, as the API or CLI receives it.
pub struct UserInput {
    pub email: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub password: SecretString,
}

/// A change to a user, as the API or CLI receives it.
#[derive(Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<SecretString>,
}

/// Who asks for a change to a user: the operator at the command line, or
/// an API caller whose standing decides what it may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// `rampart user …` on the server itself.
    Operator,
    /// A signed-in platform admin.
    PlatformAdmin,
    /// An organisation admin, or an API key with the admin scope.
    OrgAdmin,
}

impl ChangedBy {
    /// Only a platform admin (or the operator) may change a platform admin:
    /// otherwise an organisation admin of the platform admin's organisation
    /// could take over the account and reach every tenant.
    fn may_change(self, target: &User) -> Result<(), Error> {
        if target.platform_admin && self == ChangedBy::OrgAdmin {
            return Err(Error::forbidden(
                "only a platform admin may change or delete a platform admin",
            ));
        }
        Ok(())
    }
}

fn check_email(email: &str) -> Result<(), Error> {
    if rampart_core::tenancy::is_email_address(email) {
        Ok(())
    } else {
        Err(Error::invalid_field("email", "not a valid e-mail address"))
    }
}

fn check_display_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(Error::invalid_field(
            "display_name",
            "must be 1 to 200 characters",
        ));
    }
    Ok(())
}

/// What the first start created.
pub struct Bootstrap {
    pub email: String,
    /// Set when the password was generated: show it once.
    pub generated_password: Option<String>,
}

impl Accounts {
    async fn new_user(&self, input: UserInput, platform_admin: bool) -> Result<NewUser, Error> {
        let email = normalise_email(&input.email);
        check_email(&email)?;
        let display_name = input
            .display_name
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        check_display_name(&display_name)?;
        password::check_policy("password", &input.password)?;
        Ok(NewUser {
            id: UserId::new(),
            email,
            display_name,
            role: input.role,
            platform_admin,
            password_hash: password::hash(input.password).await?,
            created_at: self.clock.now(),
        })
    }

    pub async fn create_user(&self, org: OrgId, input: UserInput) -> Result<User, Error> {
        let user = self.new_user(input, false).await?;
        self.store.create_user(org, &user).await?;
        self.store
            .get_user(org, user.id)
            .await?
            .ok_or_else(|| Error::internal(&"user vanished after creation"))
    }

    /// Changes a user; returns the user as it was and as it is now.
    /// Demoting, disabling or deleting the last active admin is refused; a
    /// new password or disabling ends the user's sessions.
    pub async fn update_user(
        &self,
        by: ChangedBy,
        org: OrgId,
        id: UserId,
        change: UserChange,
    ) -> Result<(User, User), Error> {
        if let Some(name) = &change.display_name {
            check_display_name(name)?;
        }
        if let Some(pw) = &change.password {
            password::check_policy("password", pw)?;
        }
        let current = self.changeable(by, org, id).await?;
        let loses_admin = current.role == Role::Admin
            && !current.disabled
            && (change.role.is_some_and(|r| r != Role::Admin) || change.disabled == Some(true));
        if loses_admin {
            self.ensure_another_admin(org).await?;
        }
        let ends_sessions = change.password.is_some() || change.disabled == Some(true);
        let password_hash = match change.password {
            Some(pw) => Some(password::hash(pw).await?),
            None => None,
        };
        let update = UserUpdate {
            display_name: change.display_name,
            role: change.role,
            disabled: change.disabled,
            password_hash,
        };
        let now = self.clock.now();
        let user = self
            .store
            .update_user(org, id, &update, now)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        if ends_sessions {
            self.store.revoke_user_sessions(org, id, now).await?;
        }
        self.credentials_changed();
        Ok((current, user))
    }

    /// Deletes a user; returns the user as it was.
    pub async fn delete_user(&self, by: ChangedBy, org: OrgId, id: UserId) -> Result<User, Error> {
        let current = self.changeable(by, org, id).await?;
        if current.role == Role::Admin && !current.disabled {
            self.ensure_another_admin(org).await?;
        }
        if !self.store.delete_user(org, id, self.clock.now()).await? {
            return Err(Error::not_found("user"));
        }
        self.credentials_changed();
        Ok(current)
    }

    /// The user `by` is about to change: it exists in `org`, and `by` may
    /// change it.
    async fn changeable(&self, by: ChangedBy, org: OrgId, id: UserId) -> Result<User, Error> {
        let user = self
            .store
            .get_user(org, id)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        by.may_change(&user)?;
        Ok(user)
    }

    async fn ensure_another_admin(&self, org: OrgId) -> Result<(), Error> {
        if self.store.count_active_admins(org).await? <= 1 {
            return Err(Error::conflict(
                "last_admin",
                "an organisation must keep at least one active admin",
            ));
        }
        Ok(())
    }

    /// Creates an organisation with its first admin.
    pub async fn create_org(
        &self,
        name: &str,
        admin: UserInput,
        platform_admin: bool,
    ) -> Result<(Organisation, User), Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid_field("name", "must be 1 to 100 characters"));
        }
        let org = Organisation {
            id: OrgId::new(),
            name: name.to_string(),
            created_at: self.clock.now(),
        };
        let admin = self
            .new_user(
                UserInput {
                    role: Role::Admin,
                    ..admin
                },
                platform_admin,
            )
            .await?;
        self.store.create_org_with_admin(&org, &admin).await?;
        let user = self
            .store
            .get_user(org.id, admin.id)
            .await?
            .ok_or_else(|| Error::internal(&"admin vanished after creation"))?;
        Ok((org, user))
    }

    /// On first start (no organisation yet) creates the `default` organisation
    /// and its admin, who is also the platform admin.
    pub async fn bootstrap(
        &self,
        admin_email: &str,
        admin_password: Option<SecretString>,
    ) -> Result<Option<Bootstrap>, Error> {
        if self.store.count_orgs().await? > 0 {
            return Ok(None);
        }
        let (password, generated) = tokens::password_or_generated(admin_password);
        let input = UserInput {
            email: admin_email.to_owned(),
            display_name: Some("Administrator".into()),
            role: Role::Admin,
            password,
        };
        let (_, user) = self.create_org("default", input, true).await?;
        Ok(Some(Bootstrap {
            email: user.email,
            generated_password: generated,
        }))
    }

    /// The organisation with this name, if any.
    pub async fn find_org_by_name(&self, name: &str) -> Result<Option<OrgId>, Error> {
        let mut after = None;
        loop {
            let page = self.store.list_orgs(after, 1000).await?;
            if let Some(org) = page.iter().find(|o| o.name == name) {
                return Ok(Some(org.id));
            }
            match page.last() {
                Some(last) => after = Some(last.id),
                None => return Ok(None),
            }
        }
    }
}
