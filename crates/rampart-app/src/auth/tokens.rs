//! Opaque secrets (API keys `rk_…`, refresh tokens `rt_…`, generated
//! passwords): random, shown once, stored as SHA-256 digests. They carry 256
//! bits of entropy, so a fast digest is enough (unlike passwords).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

pub const API_KEY_PREFIX: &str = "rk_";
pub const REFRESH_TOKEN_PREFIX: &str = "rt_";
/// Characters of an API key kept in clear to recognise it.
pub const API_KEY_VISIBLE_CHARS: usize = 11;

/// `prefix` followed by 32 random bytes, base64url.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random password for a generated account (24 characters).
pub fn generate_password() -> String {
    let mut bytes = [0u8; 18];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The given password, or a generated one that is also returned in clear so
/// the caller can show it once.
pub fn password_or_generated(
    given: Option<secrecy::SecretString>,
) -> (secrecy::SecretString, Option<String>) {
    match given {
        Some(password) => (password, None),
        None => {
            let password = generate_password();
            (
                secrecy::SecretString::from(password.clone()),
                Some(password),
            )
        }
    }
}

/// Random bytes for a signing key.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The digest under which a secret is stored and looked up.
pub fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_distinct_and_prefixed() {
        let a = generate(API_KEY_PREFIX);
        let b = generate(API_KEY_PREFIX);
        assert!(a.starts_with("rk_") && a.len() == 46);
        assert_ne!(a, b);
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(generate_password().len(), 24);
    }
}
