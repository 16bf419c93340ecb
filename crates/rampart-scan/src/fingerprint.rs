//! Stable identities of findings. A fingerprint is built only from what
//! names the same problem in the same place across runs (rule or plugin,
//! CVE, component and version, file and line, endpoint), never from text
//! that changes between runs (descriptions, plugin output, timestamps).
//! The version prefix changes whenever a format's recipe does.

use sha2::{Digest, Sha256};

/// The recipe version every fingerprint starts with.
pub const VERSION: &str = "v1";

/// `v1:` and 32 hex digits of SHA-256 over the format and the parts.
pub fn of(format: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format.as_bytes());
    for part in parts {
        hasher.update([0u8]);
        hasher.update(part.trim().as_bytes());
    }
    let digest = hasher.finalize();
    let mut out = String::with_capacity(3 + 32);
    out.push_str(VERSION);
    out.push(':');
    for byte in &digest[..16] {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_separated_and_trimmed() {
        assert_eq!(of("trivy", &["a", "bc"]), of("trivy", &[" a", "bc "]));
        assert_ne!(of("trivy", &["ab", "c"]), of("trivy", &["a", "bc"]));
        assert_ne!(of("trivy", &["a"]), of("grype", &["a"]));
        let print = of("sarif", &["x"]);
        assert!(print.starts_with("v1:"));
        assert_eq!(print.len(), 35);
    }
}
