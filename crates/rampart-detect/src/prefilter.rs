//! Necessary literals. For a compiled rule this works out clauses of
//! needles (a string, and the field it must occur in, or any value for a
//! keyword) such that, for every clause, at least one of its needles
//! occurs in any event the rule matches. One Aho-Corasick pass over the
//! values of an event then tells which rules can possibly match (every
//! clause met); only those are evaluated.
//!
//! Soundness: the scan is ASCII case-insensitive (literals and text are
//! ASCII-lower-cased) over every scalar as written, and over the
//! lower-cased text of every non-ASCII scalar. Case-insensitive tests
//! compare lower-cased needles with the lower-cased value, so a needle
//! found by a test is found by the scan. A needle of a field is looked for
//! in every value sitting at one of the places the field may be read from
//! (see [`crate::locate`]), which includes the value the test reads.

use crate::event::FieldId;
use crate::matcher::{Expr, FieldTest, ValueTest};

/// A string that must occur in a field's value, or (`field: None`) in
/// some value of the event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Needle {
    pub field: Option<FieldId>,
    pub text: String,
}

/// Needles one of which must occur.
pub type Clause = Vec<Needle>;

/// At most this many clauses are kept per rule: the most selective few
/// decide; more only add literals to scan for.
pub const MAX_CLAUSES: usize = 4;

/// Keyword clauses with a literal shorter than this are met by almost any
/// event; they are dropped when the rule has other clauses.
const MIN_USEFUL_LITERAL: usize = 3;

/// A disjunction of conjunctions is distributed into clauses only while
/// this many clauses result; past it, each side contributes one clause.
const MAX_DISTRIBUTED: usize = 16;

/// The clauses an expression needs, all of which must be met, most
/// selective first; empty when nothing is known (evaluate always).
pub fn clauses(expr: &Expr) -> Vec<Clause> {
    let mut out = cnf(expr);
    out.sort_by_key(|c| std::cmp::Reverse(selectivity(c)));
    out.dedup();
    out.truncate(MAX_CLAUSES);
    if out.iter().any(useful) {
        out.retain(useful);
    }
    out
}

/// Whether a clause tells events apart: a short literal looked for in
/// every value is met by almost any event, in one field's values it is not
/// (a port, an event id).
fn useful(clause: &Clause) -> bool {
    selectivity(clause).0 >= MIN_USEFUL_LITERAL || clause.iter().all(|n| n.field.is_some())
}

/// A rough measure of how rarely a clause is met: longer shortest
/// literal first, then fewer literals.
fn selectivity(clause: &Clause) -> (usize, usize) {
    (
        clause
            .iter()
            .map(|n| n.text.len())
            .min()
            .unwrap_or(usize::MAX),
        usize::MAX - clause.len(),
    )
}

fn cnf(expr: &Expr) -> Vec<Clause> {
    match expr {
        Expr::Const(true) | Expr::Not(_) => Vec::new(),
        Expr::Const(false) => vec![Vec::new()],
        Expr::And(items) => items.iter().flat_map(cnf).collect(),
        Expr::AtLeast(min, items) if *min >= items.len() => items.iter().flat_map(cnf).collect(),
        Expr::Or(items) | Expr::AtLeast(_, items) => or_cnf(items.iter().map(cnf).collect()),
        Expr::Field(field, test) => test_cnf(test, Some(*field)),
        Expr::Keyword(test) => test_cnf(test, None),
    }
}

fn test_cnf(test: &FieldTest, field: Option<FieldId>) -> Vec<Clause> {
    match test {
        FieldTest::Null | FieldTest::Exists(_) => Vec::new(),
        FieldTest::Values { groups, all } => {
            let per_group: Vec<Vec<Clause>> = groups
                .iter()
                .map(|alternatives| {
                    union(alternatives.iter().map(|t| value_need(t, field)))
                        .into_iter()
                        .collect()
                })
                .collect();
            if *all {
                per_group.into_iter().flatten().collect()
            } else {
                or_cnf(per_group)
            }
        }
    }
}

/// The clauses of a disjunction: distributed while small, else one clause
/// uniting each side's most selective clause.
fn or_cnf(sides: Vec<Vec<Clause>>) -> Vec<Clause> {
    if sides.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    let product = sides.iter().try_fold(1usize, |acc, s| {
        acc.checked_mul(s.len()).filter(|p| *p <= MAX_DISTRIBUTED)
    });
    if product.is_some() {
        let mut out: Vec<Clause> = vec![Vec::new()];
        for side in &sides {
            out = out
                .iter()
                .flat_map(|acc| {
                    side.iter().map(move |clause| {
                        let mut merged = acc.clone();
                        merged.extend(clause.iter().cloned());
                        merged
                    })
                })
                .collect();
        }
        return out.into_iter().map(normalise).collect();
    }
    let mut merged = Vec::new();
    for side in sides {
        if let Some(best) = side.into_iter().max_by_key(selectivity) {
            merged.extend(best);
        }
    }
    vec![normalise(merged)]
}

fn normalise(mut clause: Clause) -> Clause {
    clause.sort();
    clause.dedup();
    clause
}

/// One of the literals, or `None` when any is unknown.
fn union(items: impl Iterator<Item = Option<Clause>>) -> Option<Clause> {
    let mut all = Vec::new();
    for item in items {
        all.extend(item?);
    }
    Some(normalise(all))
}

/// What one value test of `field` needs: `None` for nothing known.
fn value_need(test: &ValueTest, field: Option<FieldId>) -> Option<Clause> {
    let literal = |text: &str| {
        (!text.is_empty()).then(|| {
            vec![Needle {
                field,
                text: text.to_owned(),
            }]
        })
    };
    match test {
        ValueTest::Text { needle, .. } => literal(needle),
        ValueTest::Glob { glob, .. } => glob
            .runs
            .iter()
            .max_by_key(|r| r.len())
            .and_then(|r| literal(r)),
        ValueTest::Regex { need, .. } => need.as_ref().map(|texts| {
            texts
                .iter()
                .map(|text| Needle {
                    field,
                    text: text.clone(),
                })
                .collect()
        }),
        // An integer is written the same way in any JSON number equal to
        // it, short of exponent notation (which starts at 1e16).
        ValueTest::Number { text, value } if text.parse::<i64>().is_ok() && value.abs() < 1e15 => {
            literal(text)
        }
        ValueTest::Bool(b) => literal(if *b { "true" } else { "false" }),
        ValueTest::Nothing => Some(Vec::new()),
        ValueTest::Number { .. }
        | ValueTest::Cidr(_)
        | ValueTest::Compare(..)
        | ValueTest::FieldRef { .. } => None,
    }
}

/// Strings one of which occurs in every match of a regex (lower-cased as
/// the scan reads text), or `None` when nothing is known: the more
/// selective of its literal prefixes and its required factors.
pub fn regex_needs(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    match (regex_prefixes(hir), required_factors(hir)) {
        (Some(a), Some(b)) => Some(if rank(&b) > rank(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// How selective a set of strings one of which must occur is: longer
/// shortest string first, then fewer strings.
fn rank(set: &[String]) -> (usize, usize) {
    (
        set.iter().map(|s| s.chars().count()).min().unwrap_or(0),
        usize::MAX - set.len(),
    )
}

/// Most alternatives a set of required factors may hold.
const MAX_FACTORS: usize = 64;

/// A piece of a regex that always matches one ASCII string, modulo case
/// (given lower-cased): an ASCII literal, or a class of one ASCII letter's
/// cases (`(?i)k` also holds the Kelvin sign, `(?i)s` the long s, both of
/// which the scan's lower-casing folds to ASCII; see [`scan_lowercase`]).
/// Pieces are ASCII so that a string joined from several is found in the
/// scanned text whatever case each piece matched in.
fn exact_ascii(hir: &regex_syntax::hir::Hir) -> Option<String> {
    use regex_syntax::hir::{Class, HirKind};
    let fold = |c: char| -> Option<char> {
        let mut lower = scan_lowercase_char(c);
        let first = lower.next()?;
        (lower.next().is_none() && first.is_ascii()).then_some(first)
    };
    let mut single: Option<char> = None;
    let mut add = |c: char| -> Option<()> {
        let folded = fold(c)?;
        match single {
            None => single = Some(folded),
            Some(seen) if seen == folded => {}
            Some(_) => return None,
        }
        Some(())
    };
    match hir.kind() {
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0).ok()?;
            text.is_ascii().then(|| text.to_ascii_lowercase())
        }
        HirKind::Class(Class::Unicode(class)) => {
            for range in class.ranges() {
                if u32::from(range.end()) - u32::from(range.start()) > 4 {
                    return None;
                }
                for c in range.start()..=range.end() {
                    add(c)?;
                }
            }
            single.map(String::from)
        }
        HirKind::Class(Class::Bytes(class)) => {
            for range in class.ranges() {
                for b in range.start()..=range.end() {
                    add(char::from(b).is_ascii().then_some(char::from(b))?)?;
                }
            }
            single.map(String::from)
        }
        HirKind::Capture(capture) => exact_ascii(&capture.sub),
        _ => None,
    }
}

/// One character as [`scan_lowercase`] lower-cases it.
fn scan_lowercase_char(c: char) -> impl Iterator<Item = char> {
    let long_s = c == '\u{17F}';
    c.to_lowercase().map(move |l| if long_s { 's' } else { l })
}

/// Strings one of which occurs in every match of `hir` (lower-cased as the
/// scan reads text), or `None` when nothing is known. A concatenation
/// gives its most selective part, adjacent ASCII pieces joined into one
/// string; an alternation the union of its branches'; a repetition of at
/// least one its body's; a literal that is not ASCII its own text.
fn required_factors(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    use regex_syntax::hir::HirKind;
    if let Some(text) = exact_ascii(hir) {
        return (!text.is_empty()).then(|| vec![text]);
    }
    let best = |sets: Vec<Vec<String>>| {
        sets.into_iter()
            .filter(|s| !s.is_empty() && s.iter().all(|t| !t.is_empty()))
            .max_by_key(|set| rank(set))
    };
    match hir.kind() {
        // Matched as written: found in the ASCII-lower-cased text.
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0).ok()?;
            Some(vec![text.to_ascii_lowercase()])
        }
        HirKind::Capture(capture) => required_factors(&capture.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => required_factors(&rep.sub),
        HirKind::Concat(items) => {
            let mut sets = Vec::new();
            let mut run = String::new();
            for item in items {
                match exact_ascii(item) {
                    Some(text) => run.push_str(&text),
                    None => {
                        sets.push(vec![std::mem::take(&mut run)]);
                        if let Some(set) = required_factors(item) {
                            sets.push(set);
                        }
                    }
                }
            }
            sets.push(vec![run]);
            best(sets)
        }
        HirKind::Alternation(branches) => {
            let mut all = Vec::new();
            for branch in branches {
                all.extend(required_factors(branch)?);
                if all.len() > MAX_FACTORS {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        _ => None,
    }
}

/// Strings one of which starts every match of a regex (its literal
/// prefixes), or `None` when they are unbounded or include the empty string.
pub fn regex_prefixes(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(hir);
    let literals = seq.literals()?;
    let mut out = Vec::with_capacity(literals.len());
    for lit in literals {
        let text = std::str::from_utf8(lit.as_bytes()).ok()?;
        if text.is_empty() {
            return None;
        }
        out.push(text.to_ascii_lowercase());
    }
    out.sort();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// Lower-cases non-ASCII text for the scan the way case-insensitive tests
/// compare it, also folding the two non-ASCII letters that fold to ASCII
/// (`ſ` to `s`; the Kelvin sign already lower-cases to `k`).
pub fn scan_lowercase(text: &str, out: &mut String) {
    out.clear();
    out.push_str(&text.to_lowercase());
    if out.contains('\u{17F}') {
        *out = out.replace('\u{17F}', "s");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Position;
    use proptest::prelude::*;

    fn text(s: &str) -> Expr {
        Expr::Field(
            0,
            FieldTest::Values {
                groups: vec![vec![ValueTest::text(s.into(), Position::Contains, false)]],
                all: false,
            },
        )
    }

    fn strings(list: &[&str]) -> Clause {
        list.iter()
            .map(|s| Needle {
                field: Some(0),
                text: s.to_string(),
            })
            .collect()
    }

    #[test]
    fn conjunctions_give_one_clause_each() {
        let e = Expr::And(vec![
            text("abc"),
            Expr::Or(vec![text("wxyz"), text("uvwx")]),
            Expr::Not(Box::new(text("q"))),
        ]);
        assert_eq!(
            clauses(&e),
            vec![strings(&["uvwx", "wxyz"]), strings(&["abc"])]
        );
        // A keyword clause of very short literals is dropped beside
        // better ones; in one field's values, a short literal is kept.
        let keyword = Expr::Keyword(FieldTest::Values {
            groups: vec![vec![ValueTest::text(
                "ab".into(),
                Position::Contains,
                false,
            )]],
            all: false,
        });
        let e = Expr::And(vec![keyword, text("abcd")]);
        assert_eq!(clauses(&e), vec![strings(&["abcd"])]);
        let e = Expr::And(vec![text("88"), text("abcd")]);
        assert_eq!(clauses(&e), vec![strings(&["abcd"]), strings(&["88"])]);
    }

    #[test]
    fn small_disjunctions_distribute() {
        // (a ∧ b) ∨ c = (a ∨ c) ∧ (b ∨ c)
        let e = Expr::Or(vec![
            Expr::And(vec![text("aaa"), text("bbbb")]),
            text("ccc"),
        ]);
        assert_eq!(
            clauses(&e),
            vec![strings(&["aaa", "ccc"]), strings(&["bbbb", "ccc"])]
        );
    }

    #[test]
    fn negation_and_unknowns_need_nothing() {
        let e = Expr::Or(vec![text("ab"), Expr::Not(Box::new(text("x")))]);
        assert!(clauses(&e).is_empty());
        assert_eq!(clauses(&Expr::Const(false)), vec![Clause::new()]);
    }

    #[test]
    fn regexes_give_their_required_factors() {
        let needs = |pattern: &str| regex_needs(&regex_syntax::parse(pattern).unwrap());
        assert_eq!(
            needs(r#"(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe"#),
            Some(vec!["werfaultsecure.exe".to_string()])
        );
        assert_eq!(
            needs(r"\w+`(?:\w+|-|.)`[\w+|\s]"),
            Some(vec!["`".to_string()])
        );
        // Here the prefixes (eight of them) say more than the factor "${".
        let env = needs(r"(?i)\$\{`?e`?n`?v").unwrap();
        assert!(env.len() == 8 && env.iter().all(|n| n.starts_with("${") && n.len() >= 5));
        assert_eq!(
            needs(r"[0-9]+(abc|de)"),
            Some(vec!["abc".to_string(), "de".to_string()])
        );
        assert_eq!(needs(r"\d+|x"), None);
    }

    fn scanned(text: &str) -> String {
        let mut out = text.to_ascii_lowercase();
        if !text.is_ascii() {
            let mut lowered = String::new();
            scan_lowercase(text, &mut lowered);
            out.push('\n');
            out.push_str(&lowered);
        }
        out
    }

    fn regex_text() -> impl Strategy<Value = String> {
        let atom = prop::sample::select(vec![
            "a", "B", "é", "É", "k", "K", "s", "S", "ſ", "Σ", "σ", "\\.", "[ab]", "[kK]", ".",
            "\\w", "\\s", " ", "(?i:k)", "(?i:s)", "(?i:é)", "(?i:σ)", "(?i:ab)", "(a|bk)",
        ]);
        let quantifier = prop::sample::select(vec!["", "", "", "?", "*", "+", "{2}"]);
        let piece = (atom, quantifier).prop_map(|(a, q)| format!("{a}{q}"));
        let branch = prop::collection::vec(piece, 1..5).prop_map(|p| p.concat());
        (prop::collection::vec(branch, 1..3), any::<bool>())
            .prop_map(|(b, i)| format!("{}{}", if i { "(?i)" } else { "" }, b.join("|")))
    }

    fn some_text() -> impl Strategy<Value = String> {
        let c = prop::sample::select(vec![
            'a', 'A', 'b', 'B', 'é', 'É', 'k', 'K', '\u{212A}', 's', 'S', 'ſ', 'Σ', 'σ', 'ς', '.',
            ' ', 'x',
        ]);
        prop::collection::vec(c, 0..10).prop_map(|v| v.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn a_regex_match_contains_one_of_its_needs(pattern in regex_text(), text in some_text()) {
            let Ok(hir) = regex_syntax::parse(&pattern) else { return Ok(()) };
            let regex = regex::Regex::new(&pattern).unwrap();
            if let (true, Some(needs)) = (regex.is_match(&text), regex_needs(&hir)) {
                let hay = scanned(&text);
                proptest::prop_assert!(
                    needs.iter().any(|n| hay.contains(n.to_ascii_lowercase().as_str())),
                    "{pattern:?} matches {text:?}, but none of {needs:?} is in {hay:?}"
                );
            }
        }
    }

    #[test]
    fn regex_prefixes_are_extracted() {
        let hir = regex_syntax::parse(r"ipconfig\s+/all|route\s+print").unwrap();
        assert_eq!(
            regex_prefixes(&hir),
            Some(vec!["ipconfig".to_string(), "route".to_string()])
        );
        let hir = regex_syntax::parse(r".*x").unwrap();
        assert_eq!(regex_prefixes(&hir), None);
    }
}
