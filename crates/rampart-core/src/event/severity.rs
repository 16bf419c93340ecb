//! Severity: a number 0–255, or a name mapped onto 1 (informational) … 5
//! (critical), accepting the usual syslog and Sigma spellings.

/// Parses a severity name or number; `None` when it is neither.
pub fn parse_severity(text: &str) -> Option<u8> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u8>() {
        return Some(n);
    }
    let level = match text.to_ascii_lowercase().as_str() {
        "debug" | "trace" => 0,
        "informational" | "info" | "information" | "notice" => 1,
        "low" => 2,
        "medium" | "warning" | "warn" | "moderate" => 3,
        "high" | "error" | "err" => 4,
        "critical" | "crit" | "alert" | "emergency" | "emerg" | "fatal" => 5,
        _ => return None,
    };
    Some(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_accepted() {
        assert_eq!(parse_severity("High"), Some(4));
        assert_eq!(parse_severity(" critical "), Some(5));
        assert_eq!(parse_severity("7"), Some(7));
        assert_eq!(parse_severity("256"), None);
        assert_eq!(parse_severity("loud"), None);
    }
}
