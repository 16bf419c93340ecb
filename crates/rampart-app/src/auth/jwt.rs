//! Short-lived access tokens: HS256 JWTs naming the user, organisation and
//! login session. Expiry is checked against the server's clock, not the
//! library's, so tests control time.

use std::io::Write as _;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rampart_core::{OrgId, SessionId, Timestamp, UserId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "rampart";
const KEY_FILE: &str = "jwt.key";

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: UserId,
    pub org: OrgId,
    pub sid: SessionId,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and verifies access tokens.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked against our clock in `verify`
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// The configured secret, or the one kept in `data_dir/jwt.key`
    /// (created with owner-only permissions on first run).
    pub fn load(configured: Option<&SecretString>, data_dir: &Path) -> std::io::Result<Self> {
        if let Some(secret) = configured {
            return Ok(Self::from_secret(secret.expose_secret().as_bytes()));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() >= 32 => return Ok(Self::from_secret(&bytes)),
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is shorter than 32 bytes",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(data_dir)?;
        let secret = super::tokens::random_bytes::<64>();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        file.write_all(&secret)?;
        file.sync_all()?;
        Ok(Self::from_secret(&secret))
    }

    pub fn issue(
        &self,
        user: UserId,
        org: OrgId,
        session: SessionId,
        now: Timestamp,
        ttl_secs: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user,
            org,
            sid: session,
            iss: ISSUER.to_string(),
            iat: now.0 / 1000,
            exp: now.0 / 1000 + ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a token signed by this key and not expired at `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.exp * 1000 > now.0).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_they_expire_and_only_with_the_right_key() {
        let keys = JwtKeys::from_secret(&[7u8; 32]);
        let (user, org, sid) = (UserId::new(), OrgId::new(), SessionId::new());
        let now = Timestamp(1_800_000_000_000);
        let token = keys.issue(user, org, sid, now, 900).unwrap();
        let claims = keys.verify(&token, now.plus_secs(899)).unwrap();
        assert_eq!((claims.sub, claims.org, claims.sid), (user, org, sid));
        assert!(keys.verify(&token, now.plus_secs(900)).is_none());
        let other = JwtKeys::from_secret(&[8u8; 32]);
        assert!(other.verify(&token, now).is_none());
        assert!(keys.verify("not.a.token", now).is_none());
    }

    #[test]
    fn a_generated_key_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = JwtKeys::load(None, dir.path()).unwrap();
        let now = Timestamp(1_800_000_000_000);
        let token = keys
            .issue(UserId::new(), OrgId::new(), SessionId::new(), now, 60)
            .unwrap();
        let again = JwtKeys::load(None, dir.path()).unwrap();
        assert!(again.verify(&token, now).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
