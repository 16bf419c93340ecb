//! One-time codes: HOTP (RFC 4226) and TOTP (RFC 6238, HMAC-SHA1, 6
//! digits, 30-second steps, as authenticator apps use), base32 secrets
//! (RFC 4648) and the `otpauth://` URI apps scan; e-mail codes and
//! recovery codes. Time is a parameter.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Digits of every code.
pub const DIGITS: u32 = 6;
/// Steps either side of now a code may come from (clock drift).
pub const WINDOW: i64 = 1;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buffer = [0u8; 5];
        buffer[..chunk.len()].copy_from_slice(chunk);
        let bits = buffer
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            let index = (bits >> (35 - i * 5)) & 31;
            out.push(char::from(BASE32[index as usize]));
        }
    }
    out
}

/// Decodes base32 (either case, spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u64, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32
            .iter()
            .position(|b| char::from(*b) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The HOTP value of `counter` (RFC 4226 §5.3), `DIGITS` long.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code = (u32::from(digest[offset]) & 0x7f) << 24
        | u32::from(digest[offset + 1]) << 16
        | u32::from(digest[offset + 2]) << 8
        | u32::from(digest[offset + 3]);
    code % 10u32.pow(DIGITS)
}

/// The TOTP step of a time (unix seconds).
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of a step, as text with leading zeros.
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, u64::try_from(step).unwrap_or(0)),
        width = DIGITS as usize
    )
}

/// The step (within `WINDOW` of now) whose code `code` is, if any. The
/// caller refuses a step not after the last one used (no replay).
pub fn matching_step(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    (now - WINDOW..=now + WINDOW)
        .find(|&step| constant_time_eq(code_at(secret, step).as_bytes(), code.as_bytes()))
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new TOTP secret: 20 random bytes (160 bits, as RFC 4226 recommends).
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The URI authenticator apps read (from a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |t: &str| -> String { form_urlencoded_component(t) };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32_encode(secret),
        enc(issuer)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn form_urlencoded_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A random code of `DIGITS` digits (e-mailed one-time codes).
pub fn random_digits() -> String {
    let bound = 10u32.pow(DIGITS);
    // Rejection sampling keeps every code equally likely.
    let zone = u32::MAX - u32::MAX % bound;
    loop {
        let n = OsRng.next_u32();
        if n < zone {
            return format!("{:0width$}", n % bound, width = DIGITS as usize);
        }
    }
}

/// A recovery code: 10 base32 characters (50 bits) as `xxxxx-xxxxx`.
pub fn recovery_code() -> String {
    let mut bytes = [0u8; 7];
    OsRng.fill_bytes(&mut bytes);
    let text = base32_encode(&bytes).to_ascii_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

/// A recovery code as typed, normalised for comparison.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_base32_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZX1"), None);
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        // Appendix D: secret "12345678901234567890", counters 0–9.
        let secret = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64), *value, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_totp_sha1_vectors() {
        // Appendix B, SHA1 column, last six digits of the eight given.
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
            (20000000000, "353130"),
        ] {
            assert_eq!(code_at(secret, step_of(time)), code, "t={time}");
            assert_eq!(matching_step(secret, code, time), Some(step_of(time)));
        }
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_000;
        let previous = code_at(secret, step_of(now) - 1);
        let next = code_at(secret, step_of(now) + 1);
        let stale = code_at(secret, step_of(now) - 2);
        assert_eq!(
            matching_step(secret, &previous, now),
            Some(step_of(now) - 1)
        );
        assert_eq!(matching_step(secret, &next, now), Some(step_of(now) + 1));
        assert_eq!(matching_step(secret, &stale, now), None);
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn secrets_uris_and_codes_look_right() {
        let secret = new_secret();
        assert_eq!(secret.len(), 20);
        assert_eq!(base32_decode(&base32_encode(&secret)).unwrap(), secret);
        let uri = otpauth_uri("Rampart", "ana@example.com", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Rampart:ana@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Rampart&algorithm=SHA1&digits=6&period=30"
        );
        let code = random_digits();
        assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
        let recovery = recovery_code();
        assert_eq!(recovery.len(), 11);
        assert_eq!(normalise_recovery_code(&recovery.to_uppercase()).len(), 10);
    }
}
