//! `/api/v1/auth`: login (password or e-mailed code, then a second factor
//! when the user has one), refresh, logout, password reset; and the
//! caller's own second factor and password under `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ClientIp, Principal};
use crate::state::AppState;
use rampart_app::api::accounts::{
    CodeRequest, CodeVerify, EmailRequest, LoginReply, LoginRequest, MfaEnrolled, MfaRequest,
    MfaToken, PasswordChange, PasswordReset, RefreshRequest, TokenPair,
};
use rampart_app::factors::{RecoveryCodes, TotpSetup, TotpStatus};
use rampart_core::UserId;

use crate::extract::PathId;

/// Exchange e-mail and password for an access token and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginReply, description = "tokens; or `mfa_required` with a token for /auth/mfa; or `mfa_enrollment_required` with a token for /auth/mfa/enroll"),
              (status = 401, body = Problem),
              (status = 429, body = Problem, description = "too many failures or attempts from this address; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginReply>, ApiError> {
    Ok(Json(
        state.sessions.login(&body.email, body.password, ip).await?,
    ))
}

/// Rotate a refresh token: the old one stops working, a new pair is returned.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem),
              (status = 429, body = Problem, description = "too many attempts from this address; see Retry-After")))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.sessions.refresh(&body.refresh_token).await?))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem, description = "an API key has no session"), (status = 401, body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<StatusCode, ApiError> {
    state.sessions.logout(&principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The same answer whether or not the account exists.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub status: &'static str,
}

fn accepted() -> (StatusCode, Json<Accepted>) {
    (
        StatusCode::ACCEPTED,
        Json(Accepted {
            status: "if the account exists and allows it, an e-mail is on its way",
        }),
    )
}

/// E-mail a 6-digit sign-in code (10 minutes, single use, 5 tries) when the
/// account exists and its organisation has the `login.email_code` flag on.
#[utoipa::path(post, path = "/api/v1/auth/otp/request", tag = "auth", request_body = CodeRequest,
    responses((status = 202, body = Accepted), (status = 429, body = Problem)))]
pub async fn otp_request(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state.factors.request_email_code(&body.email).await?;
    Ok(accepted())
}

/// Sign in with an e-mailed code: tokens, or the second step.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth", request_body = CodeVerify,
    responses((status = 200, body = LoginReply), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn otp_verify(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CodeVerify>,
) -> Result<Json<LoginReply>, ApiError> {
    Ok(Json(
        state
            .factors
            .verify_email_code(&body.email, &body.code)
            .await?,
    ))
}

/// Finish a two-factor login with an authenticator or recovery code.
#[utoipa::path(post, path = "/api/v1/auth/mfa", tag = "auth", request_body = MfaRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn mfa(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MfaRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(
        state
            .factors
            .complete_mfa(&body.mfa_token, &body.code)
            .await?,
    ))
}

/// Start setting up an authenticator while signing in (the organisation
/// requires two factors and the user has none): its secret and URI.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enroll", tag = "auth", request_body = MfaToken,
    responses((status = 200, body = TotpSetup), (status = 401, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub async fn mfa_enroll(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MfaToken>,
) -> Result<Json<TotpSetup>, ApiError> {
    Ok(Json(state.factors.begin_enrollment(&body.mfa_token).await?))
}

/// Turn the new authenticator on with a code from it and finish signing
/// in: recovery codes (shown once) and tokens.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enroll/confirm", tag = "auth", request_body = MfaRequest,
    responses((status = 200, body = MfaEnrolled), (status = 400, body = Problem), (status = 401, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub async fn mfa_enroll_confirm(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MfaRequest>,
) -> Result<Json<MfaEnrolled>, ApiError> {
    Ok(Json(
        state
            .factors
            .confirm_enrollment(&body.mfa_token, &body.code)
            .await?,
    ))
}

/// E-mail a password reset link (30 minutes, single use).
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 429, body = Problem)))]
pub async fn password_forgot(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state.factors.forgot_password(&body.email).await?;
    Ok(accepted())
}

/// Set a new password with the e-mailed token; every session of the user ends.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = PasswordReset,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn password_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    state
        .factors
        .reset_password(&body.token, body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the caller's password; every session of the user ends, this one too.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204), (status = 400, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    state
        .factors
        .change_password(&principal, body.current_password, body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's authenticator: set up, pending or none.
#[utoipa::path(get, path = "/api/v1/me/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpStatus)))]
pub async fn totp_status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<TotpStatus>, ApiError> {
    Ok(Json(state.factors.totp_status(&principal).await?))
}

/// Start setting up an authenticator app: its secret and otpauth URI.
#[utoipa::path(post, path = "/api/v1/me/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 201, body = TotpSetup), (status = 409, body = Problem)))]
pub async fn totp_begin(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<(StatusCode, Json<TotpSetup>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.factors.begin_totp(&principal).await?),
    ))
}

/// Confirm the authenticator with a code: two factors are then required;
/// returns 10 recovery codes, shown once.
#[utoipa::path(post, path = "/api/v1/me/totp/confirm", tag = "auth", security(("bearer" = [])), request_body = rampart_app::api::accounts::CodeOnly,
    responses((status = 200, body = RecoveryCodes), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<rampart_app::api::accounts::CodeOnly>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    Ok(Json(
        state.factors.confirm_totp(&principal, &body.code).await?,
    ))
}

/// Remove the caller's authenticator, with a current or recovery code.
#[utoipa::path(delete, path = "/api/v1/me/totp", tag = "auth", security(("bearer" = [])), request_body = rampart_app::api::accounts::CodeOnly,
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn totp_disable(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<rampart_app::api::accounts::CodeOnly>,
) -> Result<StatusCode, ApiError> {
    state.factors.disable_totp(&principal, &body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user's authenticator (admins; audited), e.g. after a lost phone.
#[utoipa::path(delete, path = "/api/v1/users/{id}/totp", tag = "users", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn totp_reset(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<UserId>,
) -> Result<StatusCode, ApiError> {
    state.factors.reset_totp(&principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
