//! The query text as tokens, each with its byte position: words (a field
//! and its value, `field:value`, stay one word until the parser splits
//! them), quoted phrases, `/regex/`, comparison operators, parentheses,
//! commas and pipes.

use super::HuntError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Word(String),
    Phrase(String),
    Regex(String),
    Op(&'static str),
    Open,
    Close,
    Comma,
    Pipe,
}

/// Longest query text read.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

pub fn tokens(text: &str) -> Result<Vec<(usize, Token)>, HuntError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(HuntError::new(
            0,
            format!("a query may have at most {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            b'(' => {
                out.push((start, Token::Open));
                i += 1;
            }
            b')' => {
                out.push((start, Token::Close));
                i += 1;
            }
            b',' => {
                out.push((start, Token::Comma));
                i += 1;
            }
            b'|' => {
                out.push((start, Token::Pipe));
                i += 1;
            }
            b'"' | b'/' => {
                let (content, end) = quoted(text, i, c)?;
                out.push((
                    start,
                    if c == b'"' {
                        Token::Phrase(content)
                    } else {
                        Token::Regex(content)
                    },
                ));
                i = end;
            }
            b'>' | b'<' | b'=' => {
                let op = operator(&text[i..]);
                out.push((start, Token::Op(op)));
                i += op.len();
            }
            _ => {
                // A word, up to a space or a token of its own; `field:"…"`
                // and `field:/…/` end the word after the colon.
                while i < bytes.len() {
                    let b = bytes[i];
                    if b.is_ascii_whitespace() || matches!(b, b'(' | b')' | b'|' | b',' | b'"') {
                        break;
                    }
                    // Only the colon after a field name (`2001:db8::/32`
                    // is an address, not a field and a regex).
                    if b == b':'
                        && matches!(bytes.get(i + 1), Some(b'"' | b'/'))
                        && !text[start..i].contains(':')
                        && !text[start..i].starts_with(|c: char| c.is_ascii_digit())
                    {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                out.push((start, Token::Word(text[start..i].to_owned())));
            }
        }
    }
    Ok(out)
}

fn operator(text: &str) -> &'static str {
    ["<=", ">=", "<", ">", "="]
        .into_iter()
        .find(|op| text.starts_with(op))
        .unwrap_or("=")
}

/// The text between `quote` at `at` and its closing twin (backslash
/// escapes it), and the position after it.
fn quoted(text: &str, at: usize, quote: u8) -> Result<(String, usize), HuntError> {
    let mut out = String::new();
    let mut chars = text[at + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // In a regex a backslash stays (`\d`), except before its quote.
                Some((_, next)) if next as u32 == u32::from(quote) => out.push(next),
                Some((_, next)) if quote == b'"' => out.push(next),
                Some((_, next)) => {
                    out.push('\\');
                    out.push(next);
                }
                None => break,
            },
            c if c as u32 == u32::from(quote) => return Ok((out, at + 1 + offset + 1)),
            c => out.push(c),
        }
    }
    let what = if quote == b'"' {
        "a quoted phrase"
    } else {
        "a /regex/"
    };
    Err(HuntError::new(at, format!("{what} is not closed")))
}
