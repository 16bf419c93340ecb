//! Ways in besides a password, and ways back: e-mailed sign-in codes (on
//! for an organisation by its `login.email_code` feature flag), authenticator
//! apps (TOTP) with recovery codes, the second step of a two-factor login,
//! setting one up while signing in where the organisation requires two
//! factors, password reset by e-mailed link and password change. Every answer to an
//! unauthenticated request is the same whether or not the account exists;
//! every challenge counts an attempt before it compares.

use std::sync::Arc;

use rampart_core::flag::FlagContext;
use rampart_core::notification::{Delivery, DeliveryStatus, Message, NoticeKind};
use rampart_core::{Clock, DeliveryId, Error, Permission, Timestamp, User, UserId};
use rampart_store::{Challenge, ChallengeKind, Store, TotpRecord};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::accounts::{normalise_email, Accounts, ChangedBy, UserChange};
use crate::api::accounts::{LoginReply, MfaEnrolled, TokenPair};
use crate::audit::Audit;
use crate::auth::{password, tokens, totp};
use crate::flags::Flags;
use crate::principal::Principal;
use crate::sessions::Sessions;

/// The feature flag that turns e-mailed sign-in codes on for an
/// organisation.
pub const EMAIL_CODE_FLAG: &str = "login.email_code";
const EMAIL_CODE_TTL_SECS: i64 = 600;
const EMAIL_CODE_TRIES: i32 = 5;
const RESET_TTL_SECS: i64 = 1800;
const RESET_TOKEN_PREFIX: &str = "pr_";
const RECOVERY_CODES: usize = 10;

/// Whether e-mail can be sent, and where links point.
#[derive(Clone, Debug, Default)]
pub struct MailSettings {
    pub available: bool,
    pub base_url: String,
}

/// A new authenticator, to show once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into an app.
    pub secret: String,
    /// For a QR code.
    pub otpauth_uri: String,
}

/// Where a user's second factor stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotpStatus {
    pub enabled: bool,
    /// Set up but not yet confirmed with a code.
    pub pending: bool,
    pub recovery_codes_left: i64,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

#[derive(Clone)]
pub struct Factors {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sessions: Arc<Sessions>,
    accounts: Accounts,
    flags: Flags,
    audit: Audit,
    mail: MailSettings,
}

fn code_digest(user: UserId, code: &str) -> String {
    tokens::digest(&format!("{user}:{}", code.trim()))
}

fn recovery_digest(user: UserId, code: &str) -> String {
    tokens::digest(&format!(
        "recovery:{user}:{}",
        totp::normalise_recovery_code(code)
    ))
}

fn wrong_code() -> Error {
    Error::unauthorized(
        "invalid_code",
        "the code is wrong, expired or used up; request a new one",
    )
}

fn user_of(principal: &Principal) -> Result<&User, Error> {
    principal
        .user()
        .ok_or_else(|| Error::forbidden("second factors belong to users, not API keys"))
}

impl Factors {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sessions: Arc<Sessions>,
        accounts: Accounts,
        flags: Flags,
        audit: Audit,
        mail: MailSettings,
    ) -> Self {
        Factors {
            store,
            clock,
            sessions,
            accounts,
            flags,
            audit,
            mail,
        }
    }

    /// The active account of an e-mail address, if any.
    async fn account(&self, email: &str) -> Result<Option<User>, Error> {
        if email.chars().count() > 254 {
            return Err(Error::invalid_field("email", "at most 254 characters"));
        }
        Ok(self
            .store
            .find_credentials(&normalise_email(email))
            .await?
            .map(|c| c.user)
            .filter(|u| !u.disabled))
    }

    /// Whether the organisation has e-mailed sign-in codes on.
    pub fn email_codes_enabled(&self, user: &User) -> bool {
        let context = FlagContext {
            org_id: Some(user.org_id.to_string()),
            user_id: Some(user.id.to_string()),
            role: Some(user.role.as_str().to_owned()),
            email: Some(user.email.clone()),
            ..FlagContext::default()
        };
        self.flags
            .evaluate_in(user.org_id, EMAIL_CODE_FLAG, &context)
            .enabled
    }

    /// E-mails a message to a user through the delivery queue; its text is
    /// dropped from the log once sent (it holds a secret).
    async fn email(&self, user: &User, notice: NoticeKind, message: Message) -> Result<(), Error> {
        let now = self.clock.now();
        let id = DeliveryId::new();
        let delivery = Delivery {
            id,
            org_id: user.org_id,
            notice,
            channel_id: None,
            recipient: Some(user.email.clone()),
            subject_ref: Some(format!("user:{}", user.id)),
            message,
            status: DeliveryStatus::Pending,
            attempts: 0,
            last_error: None,
            dedupe_key: format!("{}:{id}", notice.as_str()),
            created_at: now,
            updated_at: now,
            delivered_at: None,
        };
        self.store
            .record_deliveries(user.org_id, &[delivery], now)
            .await?;
        Ok(())
    }

    /// `POST /auth/otp/request`: e-mails a 6-digit code (10 minutes, 5
    /// tries) when the account exists and its organisation allows codes.
    /// The answer is the same either way.
    pub async fn request_email_code(&self, email: &str) -> Result<(), Error> {
        let Some(user) = self.account(email).await? else {
            return Ok(());
        };
        if !self.mail.available || !self.email_codes_enabled(&user) {
            tracing::debug!(user_id = %user.id, "sign-in code not sent: e-mail or the flag is off");
            return Ok(());
        }
        let now = self.clock.now();
        let code = totp::random_digits();
        let challenge = Challenge {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: user.org_id,
            user_id: user.id,
            kind: ChallengeKind::EmailCode,
            secret_hash: code_digest(user.id, &code),
            attempts: 0,
            max_attempts: EMAIL_CODE_TRIES,
            expires_at: now.plus_secs(EMAIL_CODE_TTL_SECS),
            used_at: None,
            created_at: now,
        };
        self.store.create_challenge(&challenge).await?;
        let text = format!(
            "Your Rampart sign-in code is {code}\n\nIt works once, for 10 minutes. \
             If you did not ask for it, ignore this e-mail.\n"
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><p>Your Rampart sign-in code is</p>\
             <p style=\"font-size:2em;letter-spacing:.2em\"><strong>{code}</strong></p>\
             <p>It works once, for 10 minutes. If you did not ask for it, ignore this e-mail.</p></body></html>"
        );
        let message = Message {
            subject: "Your Rampart sign-in code".into(),
            text,
            html: Some(html),
            json: None,
        };
        self.email(&user, NoticeKind::UserLoginCode, message).await
    }

    /// `POST /auth/otp/verify`: the code signs the user in (or asks for
    /// the second factor, as a password would).
    pub async fn verify_email_code(&self, email: &str, code: &str) -> Result<LoginReply, Error> {
        let Some(user) = self.account(email).await? else {
            return Err(wrong_code());
        };
        let now = self.clock.now();
        let challenge = self
            .store
            .latest_challenge(user.org_id, user.id, ChallengeKind::EmailCode, now)
            .await?
            .ok_or_else(wrong_code)?;
        if !self
            .store
            .spend_challenge_attempt(challenge.org_id, &challenge.id, now)
            .await?
        {
            return Err(wrong_code());
        }
        let given = code_digest(user.id, code);
        if !totp::constant_time_eq(given.as_bytes(), challenge.secret_hash.as_bytes())
            || !self
                .store
                .consume_challenge(challenge.org_id, &challenge.id, now)
                .await?
        {
            return Err(wrong_code());
        }
        tracing::info!(user_id = %user.id, "signed in with an e-mailed code");
        self.sessions.after_first_factor(&user, now).await
    }

    /// The sign-in waiting for its second step, with an attempt counted.
    async fn second_step(
        &self,
        mfa_token: &str,
        now: Timestamp,
    ) -> Result<(Challenge, User), Error> {
        let challenge = self
            .store
            .find_challenge(ChallengeKind::Mfa, &tokens::digest(mfa_token), now)
            .await?
            .ok_or_else(|| {
                Error::unauthorized(
                    "invalid_mfa_token",
                    "the sign-in has expired or is unknown; sign in again",
                )
            })?;
        if !self
            .store
            .spend_challenge_attempt(challenge.org_id, &challenge.id, now)
            .await?
        {
            return Err(Error::unauthorized(
                "invalid_mfa_token",
                "too many wrong codes; sign in again",
            ));
        }
        let user = self
            .store
            .get_user(challenge.org_id, challenge.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or_else(wrong_code)?;
        Ok((challenge, user))
    }

    /// `POST /auth/mfa`: the second step of a two-factor login, with a
    /// code from the authenticator or a recovery code.
    pub async fn complete_mfa(&self, mfa_token: &str, code: &str) -> Result<TokenPair, Error> {
        let now = self.clock.now();
        let (challenge, user) = self.second_step(mfa_token, now).await?;
        let how = self.check_second_factor(&user, code, now).await?;
        if !self
            .store
            .consume_challenge(challenge.org_id, &challenge.id, now)
            .await?
        {
            return Err(wrong_code());
        }
        if how == "recovery code" {
            let entry = self.audit.entry_in(
                user.org_id,
                format!("user:{}", user.id),
                "user.recovery_code_used",
                ("user", user.id.to_string()),
                None,
                None,
            );
            self.store.append_audit(user.org_id, &entry).await?;
        }
        tracing::info!(user_id = %user.id, second_factor = how, "two-factor login");
        self.sessions.issue(&user, now).await
    }

    /// `POST /auth/mfa/enroll`: a new authenticator secret for a user
    /// whose organisation requires two factors and who has none yet.
    pub async fn begin_enrollment(&self, mfa_token: &str) -> Result<TotpSetup, Error> {
        let (_, user) = self.second_step(mfa_token, self.clock.now()).await?;
        self.begin_totp_for(&user).await
    }

    /// `POST /auth/mfa/enroll/confirm`: a code from the new authenticator
    /// turns it on and finishes the sign-in.
    pub async fn confirm_enrollment(
        &self,
        mfa_token: &str,
        code: &str,
    ) -> Result<MfaEnrolled, Error> {
        let now = self.clock.now();
        let (challenge, user) = self.second_step(mfa_token, now).await?;
        let entry = self.audit.entry_in(
            user.org_id,
            format!("user:{}", user.id),
            "user.totp_enable",
            ("user", user.id.to_string()),
            None,
            None,
        );
        let codes = self.confirm_totp_for(&user, code, &entry).await?;
        if !self
            .store
            .consume_challenge(challenge.org_id, &challenge.id, now)
            .await?
        {
            return Err(Error::unauthorized(
                "invalid_mfa_token",
                "the authenticator is on, but this sign-in was finished elsewhere; sign in again",
            ));
        }
        tracing::info!(user_id = %user.id, "authenticator set up while signing in");
        Ok(MfaEnrolled {
            recovery_codes: codes.recovery_codes,
            tokens: self.sessions.issue(&user, now).await?,
        })
    }

    /// Checks an authenticator code (a step not used before) or a recovery
    /// code (used up); says which it was.
    async fn check_second_factor(
        &self,
        user: &User,
        code: &str,
        now: Timestamp,
    ) -> Result<&'static str, Error> {
        let record = self
            .store
            .get_totp(user.org_id, user.id)
            .await?
            .filter(|r| r.enabled)
            .ok_or_else(wrong_code)?;
        let secret = totp::base32_decode(&record.secret)
            .ok_or_else(|| Error::internal(&"stored TOTP secret is not base32"))?;
        let digits = code.trim();
        if digits.len() == totp::DIGITS as usize {
            let step = totp::matching_step(&secret, digits, now.0.div_euclid(1000))
                .ok_or_else(wrong_code)?;
            if !self
                .store
                .advance_totp_step(user.org_id, user.id, step)
                .await?
            {
                return Err(Error::unauthorized(
                    "code_reused",
                    "this code was used already; wait for the next one",
                ));
            }
            return Ok("authenticator");
        }
        if self
            .store
            .use_recovery_code(user.org_id, user.id, &recovery_digest(user.id, code), now)
            .await?
        {
            return Ok("recovery code");
        }
        Err(wrong_code())
    }

    pub async fn totp_status(&self, principal: &Principal) -> Result<TotpStatus, Error> {
        let user = user_of(principal)?;
        let record = self.store.get_totp(user.org_id, user.id).await?;
        Ok(TotpStatus {
            enabled: record.as_ref().is_some_and(|r| r.enabled),
            pending: record.as_ref().is_some_and(|r| !r.enabled),
            recovery_codes_left: self.store.recovery_codes_left(user.org_id, user.id).await?,
        })
    }

    /// `POST /me/totp`: a new secret, not in force until confirmed.
    pub async fn begin_totp(&self, principal: &Principal) -> Result<TotpSetup, Error> {
        principal.require(Permission::Read)?;
        self.begin_totp_for(user_of(principal)?).await
    }

    async fn begin_totp_for(&self, user: &User) -> Result<TotpSetup, Error> {
        if self
            .store
            .get_totp(user.org_id, user.id)
            .await?
            .is_some_and(|r| r.enabled)
        {
            return Err(Error::conflict(
                "totp_enabled",
                "an authenticator is already set up; remove it first",
            ));
        }
        let secret = totp::new_secret();
        let record = TotpRecord {
            secret: totp::base32_encode(&secret),
            enabled: false,
            last_step: 0,
            created_at: self.clock.now(),
            confirmed_at: None,
        };
        self.store.put_totp(user.org_id, user.id, &record).await?;
        Ok(TotpSetup {
            otpauth_uri: totp::otpauth_uri("Rampart", &user.email, &secret),
            secret: record.secret,
        })
    }

    /// `POST /me/totp/confirm`: a code proves the app has the secret;
    /// two factors are then required and 10 recovery codes are returned
    /// (stored as digests).
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<RecoveryCodes, Error> {
        principal.require(Permission::Read)?;
        let user = user_of(principal)?;
        let entry = self.audit.entry(
            principal,
            "user.totp_enable",
            ("user", user.id.to_string()),
            None,
            None,
        );
        self.confirm_totp_for(user, code, &entry).await
    }

    async fn confirm_totp_for(
        &self,
        user: &User,
        code: &str,
        entry: &rampart_core::AuditEntry,
    ) -> Result<RecoveryCodes, Error> {
        let record = self
            .store
            .get_totp(user.org_id, user.id)
            .await?
            .filter(|r| !r.enabled)
            .ok_or_else(|| Error::conflict("no_pending_totp", "start with POST /api/v1/me/totp"))?;
        let secret = totp::base32_decode(&record.secret)
            .ok_or_else(|| Error::internal(&"stored TOTP secret is not base32"))?;
        let now = self.clock.now();
        let step = totp::matching_step(&secret, code, now.0.div_euclid(1000)).ok_or_else(|| {
            Error::invalid_field("code", "the code does not match; check the app's clock")
        })?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| totp::recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_digest(user.id, c)).collect();
        if !self
            .store
            .enable_totp(user.org_id, user.id, step, &hashes, now, entry)
            .await?
        {
            return Err(Error::conflict(
                "no_pending_totp",
                "start with POST /api/v1/me/totp",
            ));
        }
        Ok(RecoveryCodes {
            recovery_codes: codes,
        })
    }

    /// `DELETE /me/totp`: with a current code (or a recovery code).
    pub async fn disable_totp(&self, principal: &Principal, code: &str) -> Result<(), Error> {
        principal.require(Permission::Read)?;
        let user = user_of(principal)?;
        let now = self.clock.now();
        self.check_second_factor(user, code, now)
            .await
            .map_err(|_| Error::invalid_field("code", "the code does not match"))?;
        let entry = self.audit.entry(
            principal,
            "user.totp_disable",
            ("user", user.id.to_string()),
            None,
            None,
        );
        if !self.store.delete_totp(user.org_id, user.id, &entry).await? {
            return Err(Error::not_found("authenticator"));
        }
        Ok(())
    }

    /// An admin removes a user's authenticator (a lost phone); the user
    /// signs in with the password alone and sets up a new one.
    pub async fn reset_totp(&self, principal: &Principal, user: UserId) -> Result<(), Error> {
        principal.require(Permission::Admin)?;
        let target = self
            .store
            .get_user(principal.org_id, user)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        if target.platform_admin && principal.require_platform_admin().is_err() {
            return Err(Error::forbidden(
                "only a platform admin may reset a platform admin's second factor",
            ));
        }
        let entry = self.audit.entry(
            principal,
            "user.totp_reset",
            ("user", user.to_string()),
            None,
            None,
        );
        if !self
            .store
            .delete_totp(principal.org_id, user, &entry)
            .await?
        {
            return Err(Error::not_found("authenticator"));
        }
        Ok(())
    }

    /// `POST /auth/password/forgot`: e-mails a single-use link (30
    /// minutes). The answer is the same whether or not the account exists.
    pub async fn forgot_password(&self, email: &str) -> Result<(), Error> {
        let Some(user) = self.account(email).await? else {
            return Ok(());
        };
        if !self.mail.available {
            tracing::debug!(user_id = %user.id, "password reset not sent: no e-mail");
            return Ok(());
        }
        let now = self.clock.now();
        let token = tokens::generate(RESET_TOKEN_PREFIX);
        let challenge = Challenge {
            id: uuid::Uuid::now_v7().to_string(),
            org_id: user.org_id,
            user_id: user.id,
            kind: ChallengeKind::PasswordReset,
            secret_hash: tokens::digest(&token),
            attempts: 0,
            max_attempts: 5,
            expires_at: now.plus_secs(RESET_TTL_SECS),
            used_at: None,
            created_at: now,
        };
        self.store.create_challenge(&challenge).await?;
        let link = format!(
            "{}/reset-password?token={token}",
            self.mail.base_url.trim_end_matches('/')
        );
        let message = Message {
            subject: "Reset your Rampart password".into(),
            text: format!(
                "Someone (we hope you) asked to reset the password of {}.\n\n\
                 Set a new one here within 30 minutes:\n{link}\n\n\
                 The link works once. Every signed-in session ends when the password changes. \
                 If you did not ask for this, ignore this e-mail.\n",
                user.email
            ),
            html: Some(format!(
                "<!doctype html><html><body style=\"font-family:sans-serif\">\
                 <p>Someone (we hope you) asked to reset the password of {}.</p>\
                 <p><a href=\"{}\">Set a new password</a> within 30 minutes. The link works once.</p>\
                 <p>If you did not ask for this, ignore this e-mail.</p></body></html>",
                crate::notifications::render::escape_html(&user.email),
                crate::notifications::render::escape_html(&link)
            )),
            json: None,
        };
        self.email(&user, NoticeKind::UserPasswordReset, message)
            .await
    }

    /// `POST /auth/password/reset`: sets the new password and ends every
    /// session of the user.
    pub async fn reset_password(&self, token: &str, new: SecretString) -> Result<(), Error> {
        password::check_policy("password", &new)?;
        let now = self.clock.now();
        let invalid = || {
            Error::unauthorized(
                "invalid_reset_token",
                "the link is unknown, used or expired; ask for a new one",
            )
        };
        let challenge = self
            .store
            .find_challenge(ChallengeKind::PasswordReset, &tokens::digest(token), now)
            .await?
            .ok_or_else(invalid)?;
        if !self
            .store
            .consume_challenge(challenge.org_id, &challenge.id, now)
            .await?
        {
            return Err(invalid());
        }
        let change = UserChange {
            password: Some(new),
            ..UserChange::default()
        };
        self.accounts
            .update_user(
                ChangedBy::Operator,
                challenge.org_id,
                challenge.user_id,
                change,
            )
            .await?;
        let entry = self.audit.entry_in(
            challenge.org_id,
            format!("user:{}", challenge.user_id),
            "user.password_reset",
            ("user", challenge.user_id.to_string()),
            None,
            None,
        );
        self.store.append_audit(challenge.org_id, &entry).await?;
        Ok(())
    }

    /// `POST /me/password`: with the current password; every session of
    /// the user ends, this one too.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), Error> {
        let user = user_of(principal)?;
        password::check_policy("new_password", &new)?;
        let credentials = self
            .store
            .find_credentials(&user.email)
            .await?
            .ok_or_else(|| Error::not_found("user"))?;
        if !password::verify(current, credentials.password_hash).await? {
            return Err(Error::invalid_field(
                "current_password",
                "the current password is wrong",
            ));
        }
        if new.expose_secret().is_empty() {
            return Err(Error::invalid_field("new_password", "must not be empty"));
        }
        let by = if user.platform_admin {
            ChangedBy::PlatformAdmin
        } else {
            ChangedBy::OrgAdmin
        };
        let change = UserChange {
            password: Some(new),
            ..UserChange::default()
        };
        self.accounts
            .update_user(by, user.org_id, user.id, change)
            .await?;
        self.audit
            .record(
                principal,
                "user.password_change",
                ("user", user.id.to_string()),
                None,
                None,
            )
            .await
    }
}
