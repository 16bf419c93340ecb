//! Password hashing with argon2id (PHC strings), off the async runtime.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

use rampart_core::Error;

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Checks a new password against the policy.
pub fn check_policy(field: &str, password: &SecretString) -> Result<(), Error> {
    let len = password.expose_secret().chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(Error::invalid_field(
            field,
            format!("password must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(Error::invalid_field(
            field,
            format!("password must be at most {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt.
pub async fn hash(password: SecretString) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::internal(&e))?
}

pub fn hash_blocking(password: &SecretString) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(&e))
}

/// True if `password` matches the PHC string `phc`. An unreadable hash never matches.
pub async fn verify(password: SecretString, phc: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .map_err(|e| Error::internal(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let phc = hash(SecretString::from("correct horse battery"))
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify(SecretString::from("correct horse battery"), phc.clone())
                .await
                .unwrap()
        );
        assert!(!verify(SecretString::from("wrong horse battery"), phc)
            .await
            .unwrap());
        assert!(!verify(SecretString::from("x"), "not a hash".into())
            .await
            .unwrap());
    }

    #[test]
    fn short_passwords_are_refused_with_the_field() {
        let err = check_policy("password", &SecretString::from("short")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("password"));
        assert!(check_policy("password", &SecretString::from("long enough pass")).is_ok());
    }
}
