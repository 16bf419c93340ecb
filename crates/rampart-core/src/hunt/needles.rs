//! What a query requires of the message text, as needles a store can look
//! up in a block's message trigrams before reading the block: groups of
//! strings of which every matching message contains at least one per group,
//! ignoring case. Only requirements that certainly hold are given (free
//! text, quoted phrases, the ASCII literals every match of a regex holds);
//! anything else (negations, wildcards, case-insensitive regexes) requires
//! nothing.

use regex_syntax::hir::{Hir, HirKind};

use super::{Expr, Match};

/// The needle groups every message matching `expr` satisfies.
pub fn message_needles(expr: &Expr) -> Vec<Vec<String>> {
    match expr {
        Expr::And(parts) => parts.iter().flat_map(message_needles).collect(),
        Expr::Or(parts) => any_branch(parts.iter().map(message_needles)),
        Expr::Text(Match::Is(word) | Match::Phrase(word)) => vec![vec![word.clone()]],
        Expr::Field(field, Match::Phrase(word)) if field == "message" => {
            vec![vec![word.clone()]]
        }
        Expr::Text(Match::Regex(re)) => regex_needles(re.as_str()),
        Expr::Field(field, Match::Regex(re)) if field == "message" => regex_needles(re.as_str()),
        _ => Vec::new(),
    }
}

/// What one of several branches requires: each must give a group, and
/// then any needle of their best groups will do (none when one gives none).
fn any_branch(branches: impl Iterator<Item = Vec<Vec<String>>>) -> Vec<Vec<String>> {
    let mut any = Vec::new();
    for groups in branches {
        match best(groups) {
            Some(group) => any.extend(group),
            None => return Vec::new(),
        }
    }
    vec![any]
}

/// Of several groups, the one whose shortest needle is longest (the most
/// selective guess).
fn best(groups: Vec<Vec<String>>) -> Option<Vec<String>> {
    groups
        .into_iter()
        .max_by_key(|g| g.iter().map(String::len).min().unwrap_or(0))
}

/// The needle groups of a regex compiled with the default options (case
/// sensitive): the runs of ASCII its every match contains. ASCII is
/// lower-cased the same way wherever it stands, so a run the regex
/// requires is contained, ignoring case, in the message.
fn regex_needles(pattern: &str) -> Vec<Vec<String>> {
    match regex_syntax::Parser::new().parse(pattern) {
        Ok(hir) => required(&hir),
        Err(_) => Vec::new(),
    }
}

fn required(hir: &Hir) -> Vec<Vec<String>> {
    match hir.kind() {
        HirKind::Literal(literal) => ascii_runs(&literal.0)
            .into_iter()
            .map(|run| vec![run])
            .collect(),
        HirKind::Capture(capture) => required(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => required(&repetition.sub),
        HirKind::Concat(parts) => {
            // Adjacent literals (the parser merges most) join into one run.
            let mut groups = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            for part in parts {
                if let HirKind::Literal(literal) = part.kind() {
                    run.extend_from_slice(&literal.0);
                    continue;
                }
                groups.extend(ascii_runs(&run).into_iter().map(|r| vec![r]));
                run.clear();
                groups.extend(required(part));
            }
            groups.extend(ascii_runs(&run).into_iter().map(|r| vec![r]));
            groups
        }
        HirKind::Alternation(branches) => any_branch(branches.iter().map(required)),
        _ => Vec::new(),
    }
}

/// The maximal runs of ASCII of at least three bytes (shorter ones say
/// nothing to a trigram filter).
fn ascii_runs(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| !b.is_ascii())
        .filter(|run| run.len() >= 3)
        .map(|run| String::from_utf8_lossy(run).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::parse;

    fn needles(query: &str) -> Vec<Vec<String>> {
        let query = parse(query).unwrap();
        query
            .filter
            .as_ref()
            .map(message_needles)
            .unwrap_or_default()
    }

    fn groups(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|g| g.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn free_text_phrases_and_regex_literals_are_required() {
        assert_eq!(needles("mimikatz"), groups(&[&["mimikatz"]]));
        assert_eq!(
            needles("\"failed password\" AND host.name:web-1"),
            groups(&[&["failed password"]])
        );
        assert_eq!(
            needles("/port 4[0-9]{4} ssh2$/"),
            groups(&[&["port 4"], &[" ssh2"]])
        );
        assert_eq!(
            needles("message:/(evil|wicked)\\.example/"),
            groups(&[&["evil", "wicked"], &[".example"]])
        );
        assert_eq!(needles("alpha OR bravo"), groups(&[&["alpha", "bravo"]]));
        // Non-ASCII splits runs; short runs say nothing.
        assert_eq!(needles("/abcéxy/"), groups(&[&["abc"]]));
    }

    #[test]
    fn what_is_not_certain_requires_nothing() {
        for query in [
            "NOT mimikatz",
            "mimi*",
            "/(?i)mimikatz/",
            "/(mimikatz)?/",
            "alpha OR user.name:root",
            "/a.b/",
            "message:mimikatz",
            "user.name:mimikatz",
        ] {
            assert!(needles(query).is_empty(), "{query}: {:?}", needles(query));
        }
    }
}
