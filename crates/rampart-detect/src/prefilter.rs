//! Necessary literals: for a compiled rule, a set of strings at least one
//! of which occurs (ASCII case-insensitively) in the text of any event the
//! rule matches. One Aho-Corasick pass over an event then tells which rules
//! can possibly match; only those are evaluated.

use crate::matcher::{Expr, FieldTest, ValueTest};

/// What must be present for an expression to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Nothing known: the rule must always be evaluated.
    Anything,
    /// One of these literals (empty: the expression can never hold).
    OneOf(Vec<String>),
}

impl Need {
    fn union(items: impl Iterator<Item = Need>) -> Need {
        let mut all = Vec::new();
        for item in items {
            match item {
                Need::Anything => return Need::Anything,
                Need::OneOf(list) => all.extend(list),
            }
        }
        all.sort();
        all.dedup();
        Need::OneOf(all)
    }

    /// The most selective of several needs that all hold.
    fn best(items: impl Iterator<Item = Need>) -> Need {
        items
            .filter(|n| *n != Need::Anything)
            .max_by_key(|n| match n {
                Need::OneOf(list) => (
                    list.iter().map(String::len).min().unwrap_or(usize::MAX),
                    usize::MAX - list.len(),
                ),
                Need::Anything => (0, 0),
            })
            .unwrap_or(Need::Anything)
    }
}

/// The literals an expression needs.
pub fn need(expr: &Expr) -> Need {
    match expr {
        Expr::Const(true) | Expr::Not(_) => Need::Anything,
        Expr::Const(false) => Need::OneOf(Vec::new()),
        Expr::And(items) => Need::best(items.iter().map(need)),
        Expr::Or(items) => Need::union(items.iter().map(need)),
        Expr::AtLeast(min, items) if *min >= items.len() => Need::best(items.iter().map(need)),
        Expr::AtLeast(_, items) => Need::union(items.iter().map(need)),
        Expr::Field(_, test) | Expr::Keyword(test) => test_need(test),
    }
}

fn test_need(test: &FieldTest) -> Need {
    match test {
        FieldTest::Null | FieldTest::Exists(_) => Need::Anything,
        FieldTest::Values { groups, all } => {
            let per_group = groups
                .iter()
                .map(|alternatives| Need::union(alternatives.iter().map(value_need)));
            if *all {
                Need::best(per_group)
            } else {
                Need::union(per_group)
            }
        }
    }
}

fn value_need(test: &ValueTest) -> Need {
    match test {
        ValueTest::Text { needle, .. } => literal(needle),
        ValueTest::Glob { glob, .. } => Need::best(glob.runs.iter().map(|r| literal(r))),
        ValueTest::Number { text, .. } if text.parse::<i64>().is_ok() => literal(text),
        ValueTest::Bool(b) => literal(if *b { "true" } else { "false" }),
        ValueTest::Nothing => Need::OneOf(Vec::new()),
        ValueTest::Number { .. }
        | ValueTest::Regex(_)
        | ValueTest::Cidr(_)
        | ValueTest::Compare(..)
        | ValueTest::FieldRef { .. } => Need::Anything,
    }
}

/// The longest ASCII run of a needle, lower-cased: the scan is ASCII
/// case-insensitive, and non-ASCII case folding may change lengths.
fn literal(needle: &str) -> Need {
    let run = needle
        .split(|c: char| !c.is_ascii())
        .max_by_key(|s| s.len())
        .unwrap_or("");
    if run.is_empty() {
        Need::Anything
    } else {
        Need::OneOf(vec![run.to_ascii_lowercase()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Position;

    fn text(s: &str) -> Expr {
        Expr::Field(
            0,
            FieldTest::Values {
                groups: vec![vec![ValueTest::text(s.into(), Position::Contains, false)]],
                all: false,
            },
        )
    }

    #[test]
    fn and_picks_the_longest_or_unites() {
        let e = Expr::And(vec![text("ab"), text("abcdef")]);
        assert_eq!(need(&e), Need::OneOf(vec!["abcdef".into()]));
        let e = Expr::Or(vec![text("ab"), text("xyz")]);
        assert_eq!(need(&e), Need::OneOf(vec!["ab".into(), "xyz".into()]));
        let e = Expr::Or(vec![text("ab"), Expr::Not(Box::new(text("x")))]);
        assert_eq!(need(&e), Need::Anything);
        assert_eq!(need(&text("é")), Need::Anything);
        assert_eq!(need(&text("aéBcd")), Need::OneOf(vec!["bcd".into()]));
    }
}
