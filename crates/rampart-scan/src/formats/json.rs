//! Small helpers for reading loosely typed report JSON without panics.

use serde_json::Value;

/// The string at a path of object keys.
pub fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    at(value, path)?.as_str()
}

/// The string at a path, owned, when present and not blank.
pub fn owned(value: &Value, path: &[&str]) -> Option<String> {
    text(value, path)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The value at a path of object keys.
pub fn at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// The array at a path (empty when absent or not an array).
pub fn array<'v>(value: &'v Value, path: &[&str]) -> &'v [Value] {
    at(value, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A whole number (or a string holding one) at a path.
pub fn number(value: &Value, path: &[&str]) -> Option<u32> {
    match at(value, path)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float (or a string holding one) at a path.
pub fn float(value: &Value, path: &[&str]) -> Option<f64> {
    match at(value, path)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// Every string of an array (other items skipped).
pub fn strings(value: &Value, path: &[&str]) -> Vec<String> {
    array(value, path)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The CWE number of `CWE-79`, `CWE-79: Improper …` or `79`.
pub fn cwe(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits = text
        .strip_prefix("CWE-")
        .or_else(|| text.strip_prefix("cwe-"))
        .unwrap_or(text);
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Whether an identifier is a CVE (`CVE-2021-44228`).
pub fn is_cve(id: &str) -> bool {
    let Some(rest) = id
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("CVE-"))
        .map(|_| &id[4..])
    else {
        return false;
    };
    let mut parts = rest.splitn(2, '-');
    let year = parts.next().unwrap_or("");
    let number = parts.next().unwrap_or("");
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Adds an advisory identifier once, in its canonical spelling.
pub fn push_id(ids: &mut Vec<String>, id: &str) {
    let id = canonical_advisory_id(id);
    if !id.is_empty() && !ids.iter().any(|known| known.eq_ignore_ascii_case(&id)) {
        ids.push(id);
    }
}

/// An advisory id as its publisher spells it: `CVE-2021-44228` upper
/// case, `GHSA-8v27-2fg9-7h62` with a lower-case body; others as given.
pub fn canonical_advisory_id(id: &str) -> String {
    let id = id.trim();
    match id.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("GHSA-") => {
            format!("GHSA-{}", id[5..].to_ascii_lowercase())
        }
        _ if id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-")) => id.to_ascii_uppercase(),
        _ => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cwe_forms() {
        assert_eq!(cwe("CWE-79"), Some(79));
        assert_eq!(cwe("CWE-89: Improper Neutralization"), Some(89));
        assert_eq!(cwe("22"), Some(22));
        assert_eq!(cwe("CWE-"), None);
    }

    #[test]
    fn advisory_ids_are_spelled_as_published_and_kept_once() {
        assert_eq!(canonical_advisory_id(" cve-2021-44228 "), "CVE-2021-44228");
        assert_eq!(
            canonical_advisory_id("ghsa-8V27-2FG9-7H62"),
            "GHSA-8v27-2fg9-7h62"
        );
        assert_eq!(
            canonical_advisory_id("RUSTSEC-2021-0001"),
            "RUSTSEC-2021-0001"
        );
        assert_eq!(canonical_advisory_id("é"), "é");
        let mut ids = Vec::new();
        for id in [
            "CVE-2021-1234",
            "cve-2021-1234",
            "GHSA-aaaa-bbbb-cccc",
            "",
            "GHSA-AAAA-bbbb-cccc",
        ] {
            push_id(&mut ids, id);
        }
        assert_eq!(ids, ["CVE-2021-1234", "GHSA-aaaa-bbbb-cccc"]);
    }

    #[test]
    fn cve_shapes() {
        assert!(is_cve("CVE-2021-44228"));
        assert!(is_cve("cve-2014-0160"));
        assert!(!is_cve("GHSA-xxxx-yyyy"));
        assert!(!is_cve("CVE-21-1"));
        assert!(!is_cve("CVé"));
    }
}
