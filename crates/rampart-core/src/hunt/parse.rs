//! Tokens into a [`Query`]: `OR` binds loosest, then `AND` (or terms side
//! by side), then `NOT`; then the pipes. Every error names its position.

use super::lex::{tokens, Token};
use super::{Expr, HuntError, Match, Pipe, Query, MAX_DEPTH, MAX_TERMS};
use crate::event::IpMatch;

/// Largest compiled regex (bytes of its program).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Most rows `head` may ask for.
const MAX_HEAD: usize = 100_000;

pub fn parse(text: &str) -> Result<Query, HuntError> {
    let tokens = tokens(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.len(),
        terms: 0,
    };
    let filter = if matches!(parser.peek(), None | Some(Token::Pipe)) {
        None
    } else {
        Some(parser.or(0)?)
    };
    let mut pipes = Vec::new();
    while let Some(token) = parser.next() {
        match token {
            (_, Token::Pipe) => pipes.push(parser.pipe()?),
            (position, token) => {
                return Err(HuntError::new(
                    position,
                    format!("unexpected {}", describe(&token)),
                ))
            }
        }
    }
    Ok(Query { filter, pipes })
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    terms: usize,
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => format!("`{w}`"),
        Token::Phrase(p) => format!("\"{p}\""),
        Token::Regex(r) => format!("/{r}/"),
        Token::Op(op) => format!("`{op}`"),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Comma => "`,`".into(),
        Token::Pipe => "`|`".into(),
    }
}

fn keyword(token: Option<&Token>, word: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
}

/// A field name: letters, digits, `_`, `.`, `@`, `-`, starting with a
/// letter, `_` or `@`.
fn is_field(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '@')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn next(&mut self) -> Option<(usize, Token)> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self, depth: usize) -> Result<Expr, HuntError> {
        let mut parts = vec![self.and(depth)?];
        while keyword(self.peek(), "OR") {
            self.at += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, HuntError> {
        let mut parts = vec![self.not(depth)?];
        loop {
            match self.peek() {
                None | Some(Token::Pipe | Token::Close) => break,
                Some(t) if keyword(Some(t), "OR") => break,
                Some(t) if keyword(Some(t), "AND") => {
                    self.at += 1;
                    parts.push(self.not(depth)?);
                }
                Some(_) => parts.push(self.not(depth)?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn not(&mut self, depth: usize) -> Result<Expr, HuntError> {
        if depth > MAX_DEPTH {
            return Err(HuntError::new(
                self.position(),
                format!("nested deeper than {MAX_DEPTH}"),
            ));
        }
        if keyword(self.peek(), "NOT") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, HuntError> {
        let position = self.position();
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(HuntError::new(
                position,
                format!("more than {MAX_TERMS} terms"),
            ));
        }
        match self.next() {
            None => Err(HuntError::new(position, "a term is missing")),
            Some((_, Token::Open)) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some((_, Token::Close)) => Ok(inner),
                    _ => Err(HuntError::new(position, "`(` is not closed")),
                }
            }
            Some((_, Token::Phrase(p))) => Ok(Expr::Text(Match::Phrase(p))),
            Some((at, Token::Regex(r))) => Ok(Expr::Text(Match::Regex(regex(at, &r)?))),
            Some((at, Token::Word(word))) => self.word(at, word),
            Some((at, token)) => Err(HuntError::new(
                at,
                format!("unexpected {}", describe(&token)),
            )),
        }
    }

    /// A word: `field:value`, `field >= value`, `_exists_:field`, or
    /// free text.
    fn word(&mut self, at: usize, word: String) -> Result<Expr, HuntError> {
        if word == "*" {
            // Everything.
            return Ok(Expr::And(Vec::new()));
        }
        if let Some((field, value)) = word.split_once(':') {
            if is_field(field) {
                if field == "_exists_" {
                    if !is_field(value) {
                        return Err(HuntError::new(
                            at + field.len() + 1,
                            "_exists_ needs a field name",
                        ));
                    }
                    return Ok(Expr::Exists(value.to_owned()));
                }
                let value_at = at + field.len() + 1;
                let value = if value.is_empty() {
                    match self.next() {
                        Some((_, Token::Phrase(p))) => {
                            return Ok(Expr::Field(field.to_owned(), Match::Phrase(p)))
                        }
                        Some((at, Token::Regex(r))) => {
                            return Ok(Expr::Field(field.to_owned(), Match::Regex(regex(at, &r)?)))
                        }
                        Some((_, Token::Op(op))) => return self.compare(field, op, value_at),
                        _ => {
                            return Err(HuntError::new(
                                value_at,
                                format!("`{field}:` has no value"),
                            ))
                        }
                    }
                } else {
                    value
                };
                for op in [">=", "<=", ">", "<"] {
                    if let Some(rest) = value.strip_prefix(op) {
                        if rest.is_empty() {
                            return Err(HuntError::new(value_at, format!("`{op}` has no value")));
                        }
                        return Ok(Expr::Field(
                            field.to_owned(),
                            Match::Compare(op, rest.to_owned()),
                        ));
                    }
                }
                return Ok(Expr::Field(field.to_owned(), value_match(value_at, value)?));
            }
        }
        if is_field(&word) {
            if let Some(Token::Op(op)) = self.peek() {
                let op = *op;
                self.at += 1;
                return self.compare(&word, op, at);
            }
        }
        Ok(Expr::Text(value_match(at, &word)?))
    }

    /// `field OP value`, the operator read.
    fn compare(&mut self, field: &str, op: &'static str, at: usize) -> Result<Expr, HuntError> {
        match self.next() {
            Some((value_at, Token::Word(value))) => Ok(Expr::Field(
                field.to_owned(),
                if op == "=" {
                    value_match(value_at, &value)?
                } else {
                    Match::Compare(op, value)
                },
            )),
            Some((_, Token::Phrase(value))) if op == "=" => {
                Ok(Expr::Field(field.to_owned(), Match::Phrase(value)))
            }
            _ => Err(HuntError::new(at, format!("`{field} {op}` has no value"))),
        }
    }

    fn pipe(&mut self) -> Result<Pipe, HuntError> {
        let position = self.position();
        let Some((_, Token::Word(name))) = self.next() else {
            return Err(HuntError::new(
                position,
                "a pipe needs a command: stats, sort, head, fields or timechart",
            ));
        };
        match name.to_ascii_lowercase().as_str() {
            "stats" => {
                let count_at = self.position();
                match self.next() {
                    Some((_, Token::Word(w)))
                        if w.eq_ignore_ascii_case("count") || w.eq_ignore_ascii_case("count()") =>
                    {
                        if w.eq_ignore_ascii_case("count") {
                            self.expect_call(count_at)?;
                        }
                    }
                    _ => {
                        return Err(HuntError::new(
                            count_at,
                            "stats counts: `stats count() by field, …`",
                        ))
                    }
                }
                Ok(Pipe::Stats {
                    by: self.by_fields()?,
                })
            }
            "sort" => {
                let at = self.position();
                match self.next() {
                    Some((_, Token::Word(w))) => {
                        let (column, descending) = match w.strip_prefix('-') {
                            Some(c) => (c.to_owned(), true),
                            None => (w, false),
                        };
                        if column.is_empty() {
                            return Err(HuntError::new(at, "sort needs a column"));
                        }
                        Ok(Pipe::Sort { column, descending })
                    }
                    _ => Err(HuntError::new(
                        at,
                        "sort needs a column (`-count` for descending)",
                    )),
                }
            }
            "head" => {
                let at = self.position();
                match self.next() {
                    Some((_, Token::Word(n))) => match n.parse::<usize>() {
                        Ok(n) if (1..=MAX_HEAD).contains(&n) => Ok(Pipe::Head(n)),
                        _ => Err(HuntError::new(at, format!("head takes 1 to {MAX_HEAD}"))),
                    },
                    _ => Err(HuntError::new(at, "head needs a number")),
                }
            }
            "fields" => Ok(Pipe::Fields(self.field_list(position)?)),
            "timechart" => {
                let at = self.position();
                let bucket_ms = match self.next() {
                    Some((_, Token::Word(w))) => duration_ms(&w).ok_or_else(|| {
                        HuntError::new(
                            at,
                            "timechart needs a bucket width such as 30s, 5m, 1h or 1d",
                        )
                    })?,
                    _ => {
                        return Err(HuntError::new(
                            at,
                            "timechart needs a bucket width such as 5m",
                        ))
                    }
                };
                // An optional `count()` before `by`.
                if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case("count()") || w.eq_ignore_ascii_case("count"))
                {
                    let count_at = self.position();
                    if let Some((_, Token::Word(w))) = self.next() {
                        if w.eq_ignore_ascii_case("count") {
                            self.expect_call(count_at)?;
                        }
                    }
                }
                let mut by = self.by_fields()?;
                if by.len() > 1 {
                    return Err(HuntError::new(at, "timechart counts by one field at most"));
                }
                Ok(Pipe::Timechart {
                    bucket_ms,
                    by: by.pop(),
                })
            }
            other => Err(HuntError::new(
                position,
                format!("`{other}` is not a pipe command: stats, sort, head, fields or timechart"),
            )),
        }
    }

    fn expect_call(&mut self, at: usize) -> Result<(), HuntError> {
        match (self.next(), self.next()) {
            (Some((_, Token::Open)), Some((_, Token::Close))) => Ok(()),
            _ => Err(HuntError::new(at, "write `count()`")),
        }
    }

    /// `by f1, f2` (none when `by` is absent).
    fn by_fields(&mut self) -> Result<Vec<String>, HuntError> {
        if !keyword(self.peek(), "by") {
            return Ok(Vec::new());
        }
        let at = self.position();
        self.at += 1;
        self.field_list(at)
    }

    fn field_list(&mut self, at: usize) -> Result<Vec<String>, HuntError> {
        let mut fields = Vec::new();
        loop {
            match self.next() {
                Some((_, Token::Word(f))) if is_field(&f) => fields.push(f),
                Some((p, _)) => return Err(HuntError::new(p, "a field name is expected")),
                None => return Err(HuntError::new(at, "a field name is expected")),
            }
            if matches!(self.peek(), Some(Token::Comma)) {
                self.at += 1;
            } else {
                return Ok(fields);
            }
        }
    }
}

/// How a bare value is compared: a network, a wildcard pattern, or equal.
fn value_match(at: usize, value: &str) -> Result<Match, HuntError> {
    if value.contains('/') {
        if let Ok(network) = value.parse::<IpMatch>() {
            return Ok(Match::Network(network));
        }
    }
    if value.contains(['*', '?']) {
        let mut pattern = String::from("(?is)^");
        for c in value.chars() {
            match c {
                '*' => pattern.push_str(".*"),
                '?' => pattern.push('.'),
                c => pattern.push_str(&regex::escape(&c.to_string())),
            }
        }
        pattern.push('$');
        return Ok(Match::Wildcard(regex(at, &pattern)?));
    }
    Ok(Match::Is(value.to_owned()))
}

fn regex(at: usize, pattern: &str) -> Result<regex::Regex, HuntError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| HuntError::new(at, format!("not a valid regex: {e}")))
}

/// `30s`, `5m`, `1h`, `1d` in milliseconds.
fn duration_ms(text: &str) -> Option<i64> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}
