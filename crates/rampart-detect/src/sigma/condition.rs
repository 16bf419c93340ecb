//! Sigma conditions: `and`, `or`, `not`, parentheses, `1 of sel_*`,
//! `all of sel_*`, `1 of them`, `all of them`; `not` binds tightest, then
//! `and`, then `or`.

/// How deeply a condition may nest (parentheses and `not`s). Real rules
/// nest a few levels; the bound keeps a hostile condition from exhausting
/// the stack of the parser, the compiler or the evaluator.
pub const MAX_CONDITION_DEPTH: usize = 64;

/// A parsed condition over the rule's selections (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Selection(usize),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// At least `min` of the selections match (`1 of`); `min` equal to the
    /// number of selections is `all of`.
    AtLeast {
        min: usize,
        of: Vec<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    Number(usize),
    All,
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        match c {
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            c if is_word_char(c) => {
                let mut end = start;
                while let Some(&(i, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                let word = &text[start..end];
                tokens.push(match word.to_ascii_lowercase().as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "of" => Token::Of,
                    "all" => Token::All,
                    "any" => Token::Number(1),
                    _ => match word.parse::<usize>() {
                        Ok(n) => Token::Number(n),
                        Err(_) => Token::Word(word.to_owned()),
                    },
                });
            }
            other => return Err(format!("unexpected character `{other}` in condition")),
        }
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.')
}

/// Parses `text` against the rule's selection names (in rule order).
pub fn parse_condition(text: &str, names: &[String]) -> Result<Condition, String> {
    let tokens = tokenize(text.split('|').next().unwrap_or_default())?;
    if text.contains('|') {
        return Err(
            "aggregations in the condition (`| count() …`) are not supported; \
                    write a Sigma correlation rule instead"
                .into(),
        );
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        names,
    };
    let condition = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(format!(
            "unexpected {} in condition",
            describe(&parser.tokens[parser.at])
        ));
    }
    Ok(condition)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::And => "`and`".into(),
        Token::Or => "`or`".into(),
        Token::Not => "`not`".into(),
        Token::Of => "`of`".into(),
        Token::All => "`all`".into(),
        Token::Number(n) => format!("`{n}`"),
        Token::Word(w) => format!("`{w}`"),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    /// Open parentheses and `not`s around the token at `at`.
    depth: usize,
    names: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(flatten(items, Condition::Or))
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(flatten(items, Condition::And))
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            self.descend()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    /// One level deeper, refused past [`MAX_CONDITION_DEPTH`].
    fn descend(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(format!(
                "condition nests deeper than {MAX_CONDITION_DEPTH} levels of parentheses and `not`"
            ));
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Condition, String> {
        match self.next() {
            Some(Token::Open) => {
                self.descend()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing `)` in condition".into()),
                }
            }
            Some(Token::Word(name)) => self
                .names
                .iter()
                .position(|n| *n == name)
                .map(Condition::Selection)
                .ok_or_else(|| format!("condition names `{name}`, which is not a selection")),
            Some(Token::Number(min)) => self.quantified(Some(min)),
            Some(Token::All) => self.quantified(None),
            Some(other) => Err(format!("unexpected {} in condition", describe(&other))),
            None => Err("condition ends too early".into()),
        }
    }

    fn quantified(&mut self, min: Option<usize>) -> Result<Condition, String> {
        if self.next() != Some(Token::Of) {
            return Err("expected `of` after a quantifier in condition".into());
        }
        let target = match self.next() {
            Some(Token::Word(w)) => w,
            _ => return Err("expected a selection pattern or `them` after `of`".into()),
        };
        let of: Vec<usize> = if target == "them" {
            (0..self.names.len())
                .filter(|&i| !self.names[i].starts_with('_'))
                .collect()
        } else {
            (0..self.names.len())
                .filter(|&i| glob_matches(&target, &self.names[i]))
                .collect()
        };
        if of.is_empty() {
            return Err(format!("`of {target}` matches no selection"));
        }
        let min = min.unwrap_or(of.len());
        if min == 0 {
            return Err("`0 of` is not a valid quantifier".into());
        }
        Ok(Condition::AtLeast { min, of })
    }
}

fn flatten(mut items: Vec<Condition>, make: fn(Vec<Condition>) -> Condition) -> Condition {
    if items.len() == 1 {
        items.remove(0)
    } else {
        make(items)
    }
}

/// Matches selection names against a pattern where `*` is any run.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let n = names(&["a", "b", "c"]);
        let c = parse_condition("a or not b and c", &n).unwrap();
        assert_eq!(
            c,
            Condition::Or(vec![
                Condition::Selection(0),
                Condition::And(vec![
                    Condition::Not(Box::new(Condition::Selection(1))),
                    Condition::Selection(2)
                ])
            ])
        );
    }

    #[test]
    fn quantifiers() {
        let n = names(&["sel_a", "sel_b", "filter", "_hidden"]);
        assert_eq!(
            parse_condition("1 of sel_*", &n).unwrap(),
            Condition::AtLeast {
                min: 1,
                of: vec![0, 1]
            }
        );
        assert_eq!(
            parse_condition("all of them", &n).unwrap(),
            Condition::AtLeast {
                min: 3,
                of: vec![0, 1, 2]
            }
        );
        assert!(parse_condition("1 of nothing_*", &n).is_err());
        assert!(parse_condition("sel_a | count() > 5", &n)
            .unwrap_err()
            .contains("correlation"));
        assert!(parse_condition("(sel_a", &n).is_err());
        assert!(parse_condition("sel_c", &n).is_err());
    }

    #[test]
    fn nesting_is_bounded_without_exhausting_the_stack() {
        let n = names(&["a", "b"]);
        let ok = format!(
            "{}a{}",
            "(".repeat(MAX_CONDITION_DEPTH),
            ")".repeat(MAX_CONDITION_DEPTH)
        );
        assert!(parse_condition(&ok, &n).is_ok());
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_CONDITION_DEPTH + 1),
            ")".repeat(MAX_CONDITION_DEPTH + 1)
        );
        assert!(parse_condition(&deep, &n)
            .unwrap_err()
            .contains("nests deeper"));
        for hostile in [
            format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000)),
            format!("{}a", "not ".repeat(50_000)),
            format!("{}a", "( not ".repeat(30_000)),
        ] {
            assert!(parse_condition(&hostile, &n)
                .unwrap_err()
                .contains("nests deeper"));
        }
        // Many siblings are flat, not deep.
        let wide = vec!["a"; 10_000].join(" or ");
        assert!(parse_condition(&wide, &n).is_ok());
    }
}
