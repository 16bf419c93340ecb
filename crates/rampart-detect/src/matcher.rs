//! Compiled value tests and the expression tree a rule compiles to.

use memchr::memmem;
use rampart_core::event::{IpMatch, Json};
use regex_automata::meta::Regex;

use crate::event::{EventContext, FieldId, Resolved, Scalar};

/// Where a literal must occur in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A glob with `*` only, matched piece by piece.
#[derive(Debug, Clone)]
pub struct StarGlob {
    /// Literal runs between stars; `anchored_start`/`anchored_end` say
    /// whether the first and last run touch the ends of the value.
    pub runs: Vec<String>,
    pub anchored_start: bool,
    pub anchored_end: bool,
}

impl StarGlob {
    fn matches(&self, text: &str) -> bool {
        let mut rest = text;
        let last = self.runs.len().saturating_sub(1);
        for (i, run) in self.runs.iter().enumerate() {
            if i == 0 && self.anchored_start {
                match rest.strip_prefix(run.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                }
                if i == last && self.anchored_end {
                    return rest.is_empty();
                }
                continue;
            }
            if i == last && self.anchored_end {
                return rest.ends_with(run.as_str());
            }
            match memmem::find(rest.as_bytes(), run.as_bytes()) {
                Some(at) => rest = &rest[at + run.len()..],
                None => return false,
            }
        }
        !self.anchored_end || rest.is_empty() || self.runs.is_empty()
    }
}

/// A test of one scalar value.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// A literal at a position; `cased` compares the original text, else
    /// `needle` is lower-case and compared with the lower-cased value.
    Text {
        needle: String,
        position: Position,
        cased: bool,
        finder: Option<Box<memmem::Finder<'static>>>,
    },
    Glob {
        glob: StarGlob,
        cased: bool,
    },
    /// A regular expression over the value as written; `need` holds
    /// strings one of which every match contains (for the prefilter).
    Regex {
        regex: Regex,
        need: Option<Vec<String>>,
    },
    Cidr(IpMatch),
    Compare(Comparison, f64),
    /// A number written in the rule: equal as a number, or as text.
    Number {
        value: f64,
        text: String,
    },
    Bool(bool),
    /// Another field's value (`fieldref`).
    FieldRef {
        field: FieldId,
        position: Position,
        cased: bool,
    },
    /// Matches nothing: a placeholder with no values.
    Nothing,
}

impl ValueTest {
    pub fn text(needle: String, position: Position, cased: bool) -> ValueTest {
        let finder = (position == Position::Contains)
            .then(|| Box::new(memmem::Finder::new(needle.as_bytes()).into_owned()));
        ValueTest::Text {
            needle,
            position,
            cased,
            finder,
        }
    }

    /// Tests one scalar; a referenced field is read from `ctx`, where it
    /// has been resolved before.
    fn matches(&self, value: &Scalar<'_>, ctx: &EventContext<'_, '_>) -> bool {
        if value.json.is_null() {
            return false;
        }
        match self {
            ValueTest::Text {
                needle,
                position,
                cased,
                finder,
            } => {
                let hay: &str = if *cased { &value.text } else { &value.lower };
                match position {
                    Position::Exact => hay == needle,
                    Position::Prefix => hay.starts_with(needle.as_str()),
                    Position::Suffix => hay.ends_with(needle.as_str()),
                    Position::Contains => match finder {
                        Some(f) => f.find(hay.as_bytes()).is_some(),
                        None => hay.contains(needle.as_str()),
                    },
                }
            }
            ValueTest::Glob { glob, cased } => {
                glob.matches(if *cased { &value.text } else { &value.lower })
            }
            ValueTest::Regex { regex, .. } => regex.is_match(value.text.as_bytes()),
            ValueTest::Cidr(net) => value.ip().is_some_and(|ip| net.matches(ip)),
            ValueTest::Compare(op, limit) => value.number().is_some_and(|n| match op {
                Comparison::Gt => n > *limit,
                Comparison::Gte => n >= *limit,
                Comparison::Lt => n < *limit,
                Comparison::Lte => n <= *limit,
            }),
            ValueTest::Number { value: want, text } => match value.json {
                Json::Number(n) => n.as_f64() == Some(*want),
                _ => value.text.trim() == text,
            },
            ValueTest::Bool(want) => match value.json {
                Json::Bool(b) => b == want,
                _ => value.lower.trim() == if *want { "true" } else { "false" },
            },
            ValueTest::FieldRef {
                field,
                position,
                cased,
            } => ctx
                .resolved(*field)
                .scalars()
                .iter()
                .filter(|other| !other.json.is_null())
                .any(|other| {
                    let (hay, needle): (&str, &str) = if *cased {
                        (&value.text, &other.text)
                    } else {
                        (&value.lower, &other.lower)
                    };
                    match position {
                        Position::Exact => hay == needle,
                        Position::Prefix => hay.starts_with(needle),
                        Position::Suffix => hay.ends_with(needle),
                        Position::Contains => hay.contains(needle),
                    }
                }),
            ValueTest::Nothing => false,
        }
    }
}

/// The test of one `Field|modifiers: values` entry.
#[derive(Debug, Clone)]
pub enum FieldTest {
    /// Each group holds the alternatives one written value expands to
    /// (e.g. `base64offset` gives three); with `all`, every group must
    /// match, else any one.
    Values {
        groups: Vec<Vec<ValueTest>>,
        all: bool,
    },
    /// `null`: the field is absent or null.
    Null,
    /// `exists: true|false`.
    Exists(bool),
}

/// A compiled detection condition.
#[derive(Debug, Clone)]
pub enum Expr {
    Const(bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    AtLeast(usize, Vec<Expr>),
    Field(FieldId, FieldTest),
    /// A keyword test over every value of the event.
    Keyword(FieldTest),
}

impl Expr {
    pub fn eval(&self, ctx: &mut EventContext<'_, '_>) -> bool {
        match self {
            Expr::Const(b) => *b,
            Expr::And(items) => items.iter().all(|e| e.eval(ctx)),
            Expr::Or(items) => items.iter().any(|e| e.eval(ctx)),
            Expr::Not(inner) => !inner.eval(ctx),
            Expr::AtLeast(min, items) => {
                let mut hits = 0;
                for item in items {
                    if item.eval(ctx) {
                        hits += 1;
                        if hits >= *min {
                            return true;
                        }
                    }
                }
                false
            }
            Expr::Field(field, test) => {
                ctx.resolve(*field);
                for other in field_refs(test) {
                    ctx.resolve(other);
                }
                field_test(test, ctx.resolved(*field), ctx)
            }
            Expr::Keyword(test) => {
                ctx.resolve_all_scalars();
                match test {
                    FieldTest::Values { groups, all } => {
                        values_hit(groups, *all, ctx.all_scalars(), ctx)
                    }
                    FieldTest::Null | FieldTest::Exists(_) => false,
                }
            }
        }
    }
}

/// The fields a test's `fieldref` values read.
fn field_refs(test: &FieldTest) -> impl Iterator<Item = FieldId> + '_ {
    let groups = match test {
        FieldTest::Values { groups, .. } => groups.as_slice(),
        FieldTest::Null | FieldTest::Exists(_) => &[],
    };
    groups.iter().flatten().filter_map(|t| match t {
        ValueTest::FieldRef { field, .. } => Some(*field),
        _ => None,
    })
}

fn field_test(test: &FieldTest, resolved: &Resolved<'_>, ctx: &EventContext<'_, '_>) -> bool {
    match test {
        FieldTest::Null => resolved.is_null(),
        FieldTest::Exists(want) => resolved.is_null() != *want,
        FieldTest::Values { groups, all } => values_hit(groups, *all, resolved.scalars(), ctx),
    }
}

/// Whether any (or, with `all`, every) group has a test matching one of
/// the scalars.
fn values_hit(
    groups: &[Vec<ValueTest>],
    all: bool,
    scalars: &[Scalar<'_>],
    ctx: &EventContext<'_, '_>,
) -> bool {
    let group_hit =
        |g: &Vec<ValueTest>| scalars.iter().any(|s| g.iter().any(|t| t.matches(s, ctx)));
    if all {
        groups.iter().all(group_hit)
    } else {
        groups.iter().any(group_hit)
    }
}
