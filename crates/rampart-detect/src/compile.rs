//! Compiles a parsed Sigma rule into an [`Expr`] over interned fields, and
//! works out the literals at least one of which must occur in any event the
//! rule matches (the prefilter's key).

use std::collections::HashMap;

use base64::Engine as _;

use crate::event::{FieldId, FieldPaths};
use crate::mapping::FieldMapping;
use crate::matcher::{Comparison, Expr, FieldTest, Position, StarGlob, ValueTest};
use crate::prefilter::regex_needs;
use crate::sigma::{
    Condition, FieldSpec, Modifier, Pattern, Piece, RawValue, Selection, SigmaRule,
};

/// A regular expression as rules use it: only ever asked whether it
/// matches. The bounded backtracker is left out: on short values it was
/// chosen for large expressions (Unicode classes repeated, as in
/// `[^"]{0,64}`) and cleared a visited set of hundreds of kilobytes per
/// value; the lazy DFA, then the PikeVM, answer instead.
fn sigma_regex(
    pattern: &str,
    syntax: regex_automata::util::syntax::Config,
) -> Result<regex_automata::meta::Regex, String> {
    regex_automata::meta::Builder::new()
        .configure(
            regex_automata::meta::Regex::config()
                .backtrack(false)
                .nfa_size_limit(Some(1 << 22)),
        )
        .syntax(syntax)
        .build(pattern)
        .map_err(|e| match e.syntax_error() {
            // The parser's own message says what is not supported.
            Some(syntax) => syntax.to_string(),
            None => e.to_string(),
        })
}

/// Values for `%name%` placeholders of the `expand` modifier.
pub type Placeholders = HashMap<String, Vec<String>>;

/// Interns Sigma field names and records where each is looked up.
#[derive(Debug, Default)]
pub struct FieldTable {
    ids: HashMap<String, FieldId>,
    paths: Vec<FieldPaths>,
    mapping: FieldMapping,
}

impl FieldTable {
    pub fn new(mapping: FieldMapping) -> FieldTable {
        FieldTable {
            mapping,
            ..FieldTable::default()
        }
    }

    pub fn intern(&mut self, name: &str) -> FieldId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.paths.len() as FieldId;
        self.paths.push(self.mapping.paths(name));
        self.ids.insert(name.to_owned(), id);
        id
    }

    pub fn into_paths(self) -> Vec<FieldPaths> {
        self.paths
    }
}

/// Compiles the rule's condition; the error names the construct refused.
pub fn compile_rule(
    rule: &SigmaRule,
    fields: &mut FieldTable,
    placeholders: &Placeholders,
) -> Result<Expr, String> {
    let mut compiled = Vec::with_capacity(rule.detection.selections.len());
    for (name, selection) in rule.detection.names.iter().zip(&rule.detection.selections) {
        let expr = compile_selection(selection, fields, placeholders)
            .map_err(|e| format!("selection `{name}`: {e}"))?;
        compiled.push(expr);
    }
    Ok(compile_condition(&rule.detection.condition, &compiled))
}

fn compile_condition(condition: &Condition, selections: &[Expr]) -> Expr {
    match condition {
        Condition::Selection(i) => selections[*i].clone(),
        Condition::And(items) => Expr::And(
            items
                .iter()
                .map(|c| compile_condition(c, selections))
                .collect(),
        ),
        Condition::Or(items) => Expr::Or(
            items
                .iter()
                .map(|c| compile_condition(c, selections))
                .collect(),
        ),
        Condition::Not(inner) => Expr::Not(Box::new(compile_condition(inner, selections))),
        Condition::AtLeast { min, of } => {
            let items: Vec<Expr> = of.iter().map(|i| selections[*i].clone()).collect();
            if *min == 1 {
                Expr::Or(items)
            } else if *min == items.len() {
                Expr::And(items)
            } else {
                Expr::AtLeast(*min, items)
            }
        }
    }
}

fn compile_selection(
    selection: &Selection,
    fields: &mut FieldTable,
    placeholders: &Placeholders,
) -> Result<Expr, String> {
    Ok(match selection {
        Selection::AllOf(specs) => {
            let items = specs
                .iter()
                .map(|spec| compile_spec(spec, fields, placeholders))
                .collect::<Result<Vec<_>, _>>()?;
            if items.len() == 1 {
                items.into_iter().next().unwrap_or(Expr::Const(true))
            } else {
                Expr::And(items)
            }
        }
        Selection::AnyOf(groups) => Expr::Or(
            groups
                .iter()
                .map(|g| compile_selection(g, fields, placeholders))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Selection::Keywords(values) => {
            let spec = FieldSpec {
                field: None,
                modifiers: Default::default(),
                values: values.clone(),
            };
            compile_spec(&spec, fields, placeholders)?
        }
    })
}

/// One `Field|modifiers: values` entry.
fn compile_spec(
    spec: &FieldSpec,
    fields: &mut FieldTable,
    placeholders: &Placeholders,
) -> Result<Expr, String> {
    let m = &spec.modifiers;
    let wrap = |test: FieldTest, fields: &mut FieldTable| match &spec.field {
        Some(name) => Expr::Field(fields.intern(name), test),
        None => Expr::Keyword(test),
    };
    if m.has(Modifier::Exists) {
        if spec.field.is_none() {
            return Err("`exists` needs a field name".into());
        }
        return match spec.values.as_slice() {
            [RawValue::Bool(b)] => Ok(wrap(FieldTest::Exists(*b), fields)),
            _ => Err("`exists` takes one value, true or false".into()),
        };
    }
    if spec.values.is_empty() {
        return Err("a field needs at least one value".into());
    }
    let has_null = spec.values.contains(&RawValue::Null);
    if has_null && !m.0.is_empty() {
        return Err("a null value cannot take modifiers".into());
    }
    let mut groups = Vec::new();
    for value in spec.values.iter().filter(|v| **v != RawValue::Null) {
        groups.push(compile_value(value, spec, fields, placeholders)?);
    }
    let all = m.has(Modifier::All);
    let values_test = (!groups.is_empty()).then(|| FieldTest::Values { groups, all });
    Ok(match (has_null, values_test) {
        (false, Some(test)) => wrap(test, fields),
        (true, None) => wrap(FieldTest::Null, fields),
        (true, Some(test)) if !all => {
            Expr::Or(vec![wrap(FieldTest::Null, fields), wrap(test, fields)])
        }
        (true, Some(_)) => return Err("`all` with a null value can never match".into()),
        (false, None) => Expr::Const(false),
    })
}

/// The alternatives one written value compiles to.
fn compile_value(
    value: &RawValue,
    spec: &FieldSpec,
    fields: &mut FieldTable,
    placeholders: &Placeholders,
) -> Result<Vec<ValueTest>, String> {
    use Modifier::*;
    let m = &spec.modifiers;
    let cased = m.has(Cased);
    let position = if m.has(Contains) {
        Position::Contains
    } else if m.has(StartsWith) {
        Position::Prefix
    } else if m.has(EndsWith) {
        Position::Suffix
    } else if spec.field.is_none() {
        // Keywords are searched for anywhere in a value.
        Position::Contains
    } else {
        Position::Exact
    };
    if m.has(Re) {
        let RawValue::Str(pattern) = value else {
            return Err("`re` needs a text value".into());
        };
        let syntax = regex_automata::util::syntax::Config::new()
            .case_insensitive(m.has(ReIgnoreCase))
            .multi_line(m.has(ReMultiLine))
            .dot_matches_new_line(m.has(ReDotAll));
        let regex = sigma_regex(pattern, syntax).map_err(|e| {
            format!(
                "regular expression {pattern:?} is not supported: {}",
                first_line(&e)
            )
        })?;
        let need = regex_syntax::ParserBuilder::new()
            .case_insensitive(m.has(ReIgnoreCase))
            .multi_line(m.has(ReMultiLine))
            .dot_matches_new_line(m.has(ReDotAll))
            .build()
            .parse(pattern)
            .ok()
            .and_then(|hir| regex_needs(&hir));
        return Ok(vec![ValueTest::Regex { regex, need }]);
    }
    if m.has(Cidr) {
        let text = value.text();
        let net = text.parse().map_err(|e: String| format!("`cidr`: {e}"))?;
        return Ok(vec![ValueTest::Cidr(net)]);
    }
    for (modifier, op) in [
        (Gt, Comparison::Gt),
        (Gte, Comparison::Gte),
        (Lt, Comparison::Lt),
        (Lte, Comparison::Lte),
    ] {
        if m.has(modifier) {
            let limit = match value {
                RawValue::Int(n) => *n as f64,
                RawValue::Float(f) => *f,
                RawValue::Str(s) => s
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{modifier}` needs a number, not {s:?}"))?,
                _ => return Err(format!("`{modifier}` needs a number")),
            };
            return Ok(vec![ValueTest::Compare(op, limit)]);
        }
    }
    if m.has(FieldRef) {
        let RawValue::Str(other) = value else {
            return Err("`fieldref` needs a field name".into());
        };
        return Ok(vec![ValueTest::FieldRef {
            field: fields.intern(other),
            position,
            cased,
        }]);
    }
    let transforms = m.has(Base64)
        || m.has(Base64Offset)
        || m.has(Utf16Le)
        || m.has(Utf16Be)
        || m.has(Utf16)
        || m.has(Wide)
        || m.has(WinDash)
        || m.has(Expand);
    match value {
        RawValue::Int(n) if !transforms && position == Position::Exact => {
            return Ok(vec![ValueTest::Number {
                value: *n as f64,
                text: n.to_string(),
            }])
        }
        RawValue::Float(f) if !transforms && position == Position::Exact => {
            return Ok(vec![ValueTest::Number {
                value: *f,
                text: f.to_string(),
            }])
        }
        RawValue::Bool(b) if !transforms && position == Position::Exact => {
            return Ok(vec![ValueTest::Bool(*b)])
        }
        _ => {}
    }
    let mut texts = vec![value.text()];
    if m.has(Expand) {
        texts = expand_placeholders(&texts[0], placeholders);
        if texts.is_empty() {
            return Ok(vec![ValueTest::Nothing]);
        }
    }
    let mut patterns: Vec<Pattern> = texts.iter().map(|t| Pattern::parse(t)).collect();
    if m.has(WinDash) {
        patterns = patterns.iter().flat_map(windash_variants).collect();
    }
    let utf16 = [Utf16Le, Utf16Be, Utf16, Wide]
        .into_iter()
        .find(|x| m.has(*x));
    if utf16.is_some() || m.has(Base64) || m.has(Base64Offset) {
        let mut encoded = Vec::new();
        for pattern in &patterns {
            let text = pattern
                .as_literal()
                .ok_or("wildcards cannot be combined with base64 or utf16 modifiers")?;
            let bytes = match utf16 {
                Some(Utf16Le | Wide) => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                Some(Utf16Be) => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                Some(_) => [0xFF, 0xFE]
                    .into_iter()
                    .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                    .collect(),
                None => text.into_bytes(),
            };
            if m.has(Base64Offset) {
                encoded.extend(base64_offsets(&bytes));
            } else if m.has(Base64) {
                encoded.push(base64::engine::general_purpose::STANDARD.encode(&bytes));
            } else {
                encoded.push(bytes.iter().map(|&b| char::from(b)).collect());
            }
        }
        patterns = encoded.into_iter().map(Pattern::literal).collect();
    }
    patterns
        .into_iter()
        .map(|p| pattern_test(p, position, cased))
        .collect()
}

fn first_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(text))
}

/// `%name%` placeholders replaced by each configured value.
fn expand_placeholders(text: &str, placeholders: &Placeholders) -> Vec<String> {
    let Some(start) = text.find('%') else {
        return vec![text.to_owned()];
    };
    let Some(len) = text[start + 1..].find('%') else {
        return vec![text.to_owned()];
    };
    let name = &text[start + 1..start + 1 + len];
    let rest = &text[start + len + 2..];
    let tails = expand_placeholders(rest, placeholders);
    let values = placeholders.get(name).cloned().unwrap_or_default();
    values
        .iter()
        .flat_map(|v| {
            tails
                .iter()
                .map(move |t| format!("{}{v}{t}", &text[..start]))
        })
        .collect()
}

/// pySigma's `windash`: a `-` or `/` that starts a word may be written as
/// any of `-`, `/`, en dash, em dash or horizontal bar.
fn windash_variants(pattern: &Pattern) -> Vec<Pattern> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let mut out = vec![Pattern::default()];
    for piece in &pattern.pieces {
        let Piece::Literal(text) = piece else {
            for p in &mut out {
                p.pieces.push(piece.clone());
            }
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        let mut variants = vec![String::new()];
        for (i, &c) in chars.iter().enumerate() {
            let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
            let starts_word = (c == '-' || c == '/')
                && !word(i.checked_sub(1).and_then(|j| chars.get(j)))
                && word(chars.get(i + 1));
            if starts_word {
                variants = variants
                    .iter()
                    .flat_map(|v| DASHES.iter().map(move |d| format!("{v}{d}")))
                    .collect();
            } else {
                variants.iter_mut().for_each(|v| v.push(c));
            }
        }
        out = out
            .iter()
            .flat_map(|p| {
                variants.iter().map(move |v| {
                    let mut p = p.clone();
                    p.pieces.push(Piece::Literal(v.clone()));
                    p
                })
            })
            .collect();
    }
    out
}

/// pySigma's `base64offset`: the three encodings of the value at each byte
/// offset, trimmed to the characters that do not depend on its neighbours.
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let start = [0usize, 2, 3];
    let end_trim = [0usize, 3, 2];
    (0..3)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(bytes);
            let encoded = engine.encode(&padded);
            let trim = end_trim[(bytes.len() + i) % 3];
            let end = encoded.len().saturating_sub(trim);
            encoded.get(start[i]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

/// The test for a string pattern at a position.
fn pattern_test(pattern: Pattern, position: Position, cased: bool) -> Result<ValueTest, String> {
    let pattern = match position {
        Position::Exact => pattern,
        Position::Prefix => pattern.with_trailing_any(),
        Position::Suffix => pattern.with_leading_any(),
        Position::Contains => pattern.with_leading_any().with_trailing_any(),
    };
    let pattern = if cased {
        pattern
    } else {
        pattern.map_literals(|s| s.to_lowercase())
    };
    if pattern.pieces.contains(&Piece::AnyChar) {
        let mut source = String::from("(?s)^");
        if !cased {
            source.insert_str(0, "(?i)");
        }
        for piece in &pattern.pieces {
            match piece {
                Piece::Literal(text) => source.push_str(&regex::escape(text)),
                Piece::AnyRun => source.push_str(".*"),
                Piece::AnyChar => source.push('.'),
            }
        }
        source.push('$');
        let syntax = regex_automata::util::syntax::Config::new();
        let regex = sigma_regex(&source, syntax)?;
        let need = pattern
            .literals()
            .max_by_key(|l| l.len())
            .map(|l| vec![l.to_owned()]);
        return Ok(ValueTest::Regex { regex, need });
    }
    let lit = |p: &Piece| match p {
        Piece::Literal(t) => Some(t.clone()),
        _ => None,
    };
    Ok(match pattern.pieces.as_slice() {
        [] => ValueTest::text(String::new(), Position::Exact, cased),
        [Piece::Literal(t)] => ValueTest::text(t.clone(), Position::Exact, cased),
        [Piece::AnyRun, Piece::Literal(t)] => ValueTest::text(t.clone(), Position::Suffix, cased),
        [Piece::Literal(t), Piece::AnyRun] => ValueTest::text(t.clone(), Position::Prefix, cased),
        [Piece::AnyRun, Piece::Literal(t), Piece::AnyRun] => {
            ValueTest::text(t.clone(), Position::Contains, cased)
        }
        pieces => ValueTest::Glob {
            glob: StarGlob {
                runs: pieces.iter().filter_map(lit).collect(),
                anchored_start: pieces.first() != Some(&Piece::AnyRun),
                anchored_end: pieces.last() != Some(&Piece::AnyRun),
            },
            cased,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_matches_pysigma() {
        // pySigma's documented example: "/bin/bash" → three forms.
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn windash_expands_option_dashes_only() {
        let variants = windash_variants(&Pattern::parse(" -enc a-b"));
        assert_eq!(variants.len(), 5);
        assert!(variants
            .iter()
            .any(|p| p.as_literal().as_deref() == Some(" /enc a-b")));
    }

    #[test]
    fn placeholders_expand_to_each_value() {
        let mut p = Placeholders::new();
        p.insert("dcs".into(), vec!["dc1".into(), "dc2".into()]);
        assert_eq!(expand_placeholders("x%dcs%y", &p), vec!["xdc1y", "xdc2y"]);
        assert!(expand_placeholders("%unknown%", &p).is_empty());
    }
}
