//! Sigma string values: wildcards `*` and `?`, backslash escapes.

/// One piece of a Sigma string pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// `*`: any run of characters, possibly empty.
    AnyRun,
    /// `?`: exactly one character.
    AnyChar,
}

/// A Sigma string split into literal text and wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    pub pieces: Vec<Piece>,
}

impl Pattern {
    /// Parses Sigma's string syntax: `*` and `?` are wildcards, `\*`, `\?`
    /// and `\\` stand for the character itself, and a backslash before any
    /// other character is an ordinary backslash (`C:\Windows` is literal).
    pub fn parse(text: &str) -> Pattern {
        let mut pattern = Pattern::default();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => pattern.push_wildcard(Piece::AnyRun),
                '?' => pattern.push_wildcard(Piece::AnyChar),
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        pattern.push_char(next);
                    }
                    _ => pattern.push_char('\\'),
                },
                c => pattern.push_char(c),
            }
        }
        pattern
    }

    /// A pattern that is the text itself, with no wildcards.
    pub fn literal(text: impl Into<String>) -> Pattern {
        let text = text.into();
        let pieces = if text.is_empty() {
            Vec::new()
        } else {
            vec![Piece::Literal(text)]
        };
        Pattern { pieces }
    }

    fn push_char(&mut self, c: char) {
        if let Some(Piece::Literal(text)) = self.pieces.last_mut() {
            text.push(c);
        } else {
            self.pieces.push(Piece::Literal(c.to_string()));
        }
    }

    fn push_wildcard(&mut self, piece: Piece) {
        // `**` is the same as `*`.
        if piece == Piece::AnyRun && self.pieces.last() == Some(&Piece::AnyRun) {
            return;
        }
        self.pieces.push(piece);
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Literal(_)))
    }

    /// The text when the pattern has no wildcards.
    pub fn as_literal(&self) -> Option<String> {
        match self.pieces.as_slice() {
            [] => Some(String::new()),
            [Piece::Literal(text)] => Some(text.clone()),
            _ => None,
        }
    }

    pub fn with_leading_any(mut self) -> Pattern {
        if self.pieces.first() != Some(&Piece::AnyRun) {
            self.pieces.insert(0, Piece::AnyRun);
        }
        self
    }

    pub fn with_trailing_any(mut self) -> Pattern {
        if self.pieces.last() != Some(&Piece::AnyRun) {
            self.pieces.push(Piece::AnyRun);
        }
        self
    }

    /// The literal runs of the pattern.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Literal(text) => Some(text.as_str()),
            _ => None,
        })
    }

    /// Applies `f` to every literal run, keeping the wildcards.
    pub fn map_literals(&self, mut f: impl FnMut(&str) -> String) -> Pattern {
        let pieces = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Literal(text) => Piece::Literal(f(text)),
                other => other.clone(),
            })
            .collect();
        Pattern { pieces }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        let p = Pattern::parse(r"C:\Windows\\*.exe");
        assert_eq!(
            p.pieces,
            vec![
                Piece::Literal(r"C:\Windows\".into()),
                Piece::AnyRun,
                Piece::Literal(".exe".into())
            ]
        );
        let p = Pattern::parse(r"a\*b\?c\\d?");
        assert_eq!(
            p.pieces,
            vec![Piece::Literal(r"a*b?c\d".into()), Piece::AnyChar]
        );
        assert_eq!(Pattern::parse("**x").pieces.len(), 2);
        assert_eq!(Pattern::parse(r"a\*").as_literal().as_deref(), Some("a*"));
        assert_eq!(
            Pattern::parse(r"\\\\srv").as_literal().as_deref(),
            Some(r"\\srv")
        );
    }
}
