//! Sign-in, users, API keys and organisations.

use rampart_core::{ApiKey, ApiKeyScope, Organisation, Role, User};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The tokens a login or refresh hands out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// A password (or e-mailed code) was right but the user has an
/// authenticator: finish with `POST /api/v1/auth/mfa`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaRequired {
    /// Always true.
    pub mfa_required: bool,
    pub mfa_token: String,
    /// Seconds the token stays valid.
    pub expires_in: i64,
}

/// A first factor was right, the organisation requires two and the user
/// has no authenticator yet: set one up with `POST
/// /api/v1/auth/mfa/enroll` and `/enroll/confirm`, which then sign in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaEnrollmentRequired {
    /// Always true.
    pub mfa_enrollment_required: bool,
    pub mfa_token: String,
    /// Seconds the token stays valid.
    pub expires_in: i64,
}

/// What signing in returns: tokens, the second step, or setting up a
/// second factor first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LoginReply {
    Tokens(TokenPair),
    MfaRequired(MfaRequired),
    MfaEnrollmentRequired(MfaEnrollmentRequired),
}

/// The token of a sign-in that must set up a second factor.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaToken {
    #[schema(max_length = 200)]
    pub mfa_token: String,
}

/// A second factor set up while signing in: its recovery codes (shown
/// once) and the session's tokens.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MfaEnrolled {
    pub recovery_codes: Vec<String>,
    pub tokens: TokenPair,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// An e-mail address that may have an account.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(max_length = 254)]
    pub email: String,
}

/// Asks for an e-mailed sign-in code.
pub type CodeRequest = EmailRequest;

/// An e-mailed sign-in code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeVerify {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 32)]
    pub code: String,
}

/// The second step of a two-factor login.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    #[schema(max_length = 200)]
    pub mfa_token: String,
    /// A 6-digit authenticator code or a recovery code.
    #[schema(max_length = 32)]
    pub code: String,
}

/// A code alone (authenticator or recovery).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeOnly {
    #[schema(max_length = 32)]
    pub code: String,
}

/// A new password with the e-mailed token.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    #[schema(max_length = 200)]
    pub token: String,
    #[schema(value_type = String, format = Password, min_length = 12, max_length = 1024)]
    pub password: SecretString,
}

/// The caller's password change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    #[schema(value_type = String, format = Password, min_length = 12, max_length = 1024)]
    pub new_password: SecretString,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = "[^\\s\\u0085]")]
    pub display_name: Option<String>,
    pub role: Role,
    #[schema(value_type = String, format = Password, min_length = 12, max_length = 1024)]
    pub password: SecretString,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(min_length = 1, max_length = 200, pattern = "[^\\s\\u0085]")]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    #[schema(value_type = Option<String>, format = Password, min_length = 12, max_length = 1024)]
    pub password: Option<SecretString>,
}

/// The caller: a user, or an API key.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Me {
    User { user: User },
    ApiKey { api_key: ApiKey },
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<ApiKeyScope>,
}

/// A new key with its secret, shown only in this answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key to send as `Authorization: Bearer rk_…`; it is not stored and cannot be shown again.
    pub key: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub admin: NewOrgAdmin,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrgAdmin {
    #[schema(format = Email)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = "[^\\s\\u0085]")]
    pub display_name: Option<String>,
    #[schema(value_type = String, format = Password, min_length = 12, max_length = 1024)]
    pub password: SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedOrg {
    pub organisation: Organisation,
    pub admin: User,
}

/// The organisation's settings.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgSettings {
    /// Days events are kept (the organisation's own value or the default).
    pub retention_days: i64,
    /// The organisation's own value; absent when the default applies.
    pub retention_days_override: Option<i64>,
    pub default_retention_days: i64,
    /// Every user must sign in with two factors; users without an
    /// authenticator set one up when they next sign in.
    pub require_mfa: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsInput {
    /// Days to keep events (1–3650); null for the server default.
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub retention_days: Option<i64>,
    /// Require two factors of every user; absent leaves it as it is. Only
    /// an admin who has an authenticator may turn it on.
    #[serde(default)]
    pub require_mfa: Option<bool>,
}
