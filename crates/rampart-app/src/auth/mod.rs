//! Authentication primitives: password hashing, opaque tokens, access tokens.

pub mod jwt;
pub mod password;
pub mod tokens;
pub mod totp;
