//! The hunting query language, close to what analysts know from Kibana
//! (KQL) and Lucene: `field:value`, quoted phrases, wildcards anywhere in
//! a term (`*`, `?`), `/regex/` (the linear-time `regex` engine, bounded),
//! `AND` / `OR` / `NOT` with parentheses (terms side by side are ANDed),
//! ranges (`event.severity >= 3`, `destination.port:<1024`), addresses
//! against CIDR networks (`source.ip:10.0.0.0/8`, IPv6 too),
//! `_exists_:field`, and free text on the message; then pipes:
//! `| stats count() by f1, f2`, `| sort -count`, `| head N`,
//! `| fields a, b`, `| timechart 5m [by f]`. Syntax errors name their
//! position. `eval` says whether an event matches (the reference every
//! execution must agree with); `pipes` turns matching events into rows.

mod count_key;
mod eval;
mod lex;
mod needles;
mod parse;
mod pipes;
pub mod saved;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use crate::event::IpMatch;

pub use count_key::KeyEncoder;
pub use eval::{decided_in_place, known_in_place, matches, may_match, EventFields, FieldSource};
pub use lex::MAX_QUERY_BYTES;
pub use needles::message_needles;
pub use parse::parse;
pub use pipes::{check_order, run_pipes, CountBy, Row, Rows};

/// Deepest nesting of parentheses and `NOT`s.
pub const MAX_DEPTH: usize = 32;
/// Most terms in one query.
pub const MAX_TERMS: usize = 256;

/// A syntax error: where (byte offset, 0-based) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntError {
    pub position: usize,
    pub message: String,
}

impl HuntError {
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        HuntError {
            position,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for HuntError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.position + 1, self.message)
    }
}

/// A parsed query: the condition (none: every event) and the pipes.
#[derive(Clone, Debug)]
pub struct Query {
    pub filter: Option<Expr>,
    pub pipes: Vec<Pipe>,
}

#[derive(Clone, Debug)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A field's value (any of its values, for lists).
    Field(String, Match),
    /// The field is present.
    Exists(String),
    /// Free text: the message.
    Text(Match),
}

/// How a value is compared.
#[derive(Clone, Debug)]
pub enum Match {
    /// Equal, ignoring case; for addresses, equal as addresses.
    Is(String),
    /// A quoted phrase: contained, ignoring case (free text), or equal.
    Phrase(String),
    /// `*` and `?` anywhere, ignoring case.
    Wildcard(regex::Regex),
    Regex(regex::Regex),
    /// `>=`, `<=`, `>`, `<` against a number (or text, in order).
    Compare(&'static str, String),
    /// An address within a network.
    Network(IpMatch),
}

impl Match {
    /// An address this match is about, exactly, if any.
    pub fn exact_address(&self) -> Option<IpAddr> {
        match self {
            Match::Is(text) => text.parse().ok(),
            Match::Network(IpMatch::Exact(ip)) => Some(*ip),
            _ => None,
        }
    }
}

/// What a pipe does with the rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Pipe {
    /// Counts per distinct combination of the fields (one row in all
    /// without them).
    Stats {
        by: Vec<String>,
    },
    /// By a column, ascending, or descending with `-`.
    Sort {
        column: String,
        descending: bool,
    },
    Head(usize),
    Fields(Vec<String>),
    /// Counts per time bucket (milliseconds), and per value of a field.
    Timechart {
        bucket_ms: i64,
        by: Option<String>,
    },
}
