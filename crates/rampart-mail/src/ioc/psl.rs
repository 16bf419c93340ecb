//! The Public Suffix List, compiled in: whether a name ends in a known
//! public suffix with a label of its own before it (`example.co.uk`, not
//! `co.uk`, not `example.invalidtld`).

use std::collections::HashSet;
use std::sync::LazyLock;

const LIST: &str = include_str!("../../data/public_suffix_list.dat");

struct Rules {
    exact: HashSet<&'static str>,
    /// `*.ck`: stored as `ck`.
    wildcard: HashSet<&'static str>,
    /// `!www.ck`: stored as `www.ck`.
    exception: HashSet<&'static str>,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let mut rules = Rules {
        exact: HashSet::new(),
        wildcard: HashSet::new(),
        exception: HashSet::new(),
    };
    for line in LIST.lines() {
        let rule = line.split_whitespace().next().unwrap_or("");
        if rule.is_empty() || rule.starts_with("//") {
            continue;
        }
        if let Some(rest) = rule.strip_prefix("*.") {
            rules.wildcard.insert(rest);
        } else if let Some(rest) = rule.strip_prefix('!') {
            rules.exception.insert(rest);
        } else {
            rules.exact.insert(rule);
        }
    }
    rules
});

/// How many trailing labels of `name` (lower case, dot-separated) form its
/// public suffix, when a rule of the list names it.
fn suffix_labels(name: &str) -> Option<usize> {
    let rules = &*RULES;
    let labels: Vec<&str> = name.split('.').collect();
    let count = labels.len();
    let mut best: Option<usize> = None;
    // Every suffix of the name, longest first: `a.b.c`, `b.c`, `c`.
    let mut start = 0;
    for (i, _) in labels.iter().enumerate() {
        let candidate = &name[start..];
        let len = count - i;
        if rules.exception.contains(candidate) {
            return Some(len - 1);
        }
        if rules.exact.contains(candidate) {
            best = best.max(Some(len));
        }
        if let Some((_, parent)) = candidate.split_once('.') {
            if rules.wildcard.contains(parent) {
                best = best.max(Some(len));
            }
        }
        start += labels[i].len() + 1;
    }
    best
}

/// Whether `name` (lower case) is a domain someone can register or run:
/// a known public suffix with at least one label before it.
pub fn has_registrable_part(name: &str) -> bool {
    let labels = name.split('.').count();
    suffix_labels(name).is_some_and(|suffix| suffix < labels)
}

/// The part of `name` (lower case) its owner registered: the public
/// suffix and one label before it (`mail.example.co.uk` → `example.co.uk`).
/// A name the list does not know keeps its last two labels.
pub fn registrable_domain(name: &str) -> &str {
    let name = name.trim_end_matches('.');
    let labels = name.split('.').count();
    let keep = suffix_labels(name).unwrap_or(1) + 1;
    if keep >= labels {
        return name;
    }
    let mut cut = name.len();
    for _ in 0..keep {
        cut = name[..cut].rfind('.').unwrap_or(0);
    }
    &name[cut + 1..]
}

/// The top-level label of a name, when the list knows it.
pub fn known_tld(name: &str) -> bool {
    let tld = name.rsplit('.').next().unwrap_or("");
    RULES.exact.contains(tld) || RULES.wildcard.contains(tld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_follow_the_list() {
        assert!(has_registrable_part("example.com"));
        assert!(has_registrable_part("www.example.co.uk"));
        assert!(!has_registrable_part("co.uk"));
        assert!(!has_registrable_part("com"));
        assert!(!has_registrable_part("example.notatld"));
        // Wildcard and exception rules (`*.ck`, `!www.ck`).
        assert!(!has_registrable_part("anything.ck"));
        assert!(has_registrable_part("shop.anything.ck"));
        assert!(has_registrable_part("www.ck"));
        assert!(has_registrable_part("xn--mnchen-3ya.de"));
        assert!(known_tld("example.zip"));
        assert!(!known_tld("report.pdf"));
    }
}
