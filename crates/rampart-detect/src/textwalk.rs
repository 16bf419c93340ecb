//! A JSON reader made for the prescan: it walks an event's text once and
//! hands each key's place and each scalar to a [`PlaceVisitor`] (the prescan's
//! walk), building
//! nothing. Keys are looked up where they lie in the text; a string with
//! escapes is decoded into one reused buffer. It accepts exactly the JSON
//! grammar (RFC 8259); on anything else, including what it does not bother
//! with (lone surrogate escapes, nesting deeper than 128), it gives up and
//! the caller reads the text with serde_json instead, which then decides
//! and explains.

use serde_json::Number;

use crate::locate::PlaceId;

/// One value of the document, as the visitor sees it.
#[derive(Clone, Copy)]
pub(crate) enum Scalar<'v> {
    Str(&'v str),
    Number(&'v Number),
    Bool(bool),
    Null,
    /// An object or an array (for the slots only).
    Container,
}

/// What the reader hands places and values to.
pub(crate) trait PlaceVisitor {
    /// Entering an object or array at `place`; the place its members are under.
    fn enter(&mut self, place: Option<PlaceId>, array: bool) -> Option<PlaceId>;
    /// The place of member `key` under `place`, if anything is looked for there.
    fn child(&self, place: PlaceId, key: &str) -> Option<PlaceId>;
    /// A scalar at `place`.
    fn scalar(&mut self, place: Option<PlaceId>, value: Scalar<'_>);
}

/// The text was not read here (see the module documentation).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GaveUp;

type Read<T> = Result<T, GaveUp>;

/// Deepest nesting read here (serde_json's own limit).
const MAX_DEPTH: usize = 128;

/// Walks the JSON document `text`; `buffer` holds decoded strings.
pub(crate) fn walk_text(walk: &mut impl PlaceVisitor, text: &str, buffer: &mut String) -> Read<()> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        buffer,
    };
    reader.whitespace();
    reader.value(walk, Some(crate::locate::ROOT), 0)?;
    reader.whitespace();
    if reader.at != reader.bytes.len() {
        return Err(GaveUp);
    }
    Ok(())
}

struct Reader<'t, 'b> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    buffer: &'b mut String,
}

/// Where a string read lies: in the text, or decoded into the buffer.
enum Text {
    Span(usize, usize),
    Buffer,
}

impl Reader<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        if self.peek() != Some(byte) {
            return Err(GaveUp);
        }
        self.at += 1;
        Ok(())
    }

    fn value(
        &mut self,
        walk: &mut impl PlaceVisitor,
        place: Option<PlaceId>,
        depth: usize,
    ) -> Read<()> {
        match self.peek().ok_or(GaveUp)? {
            b'{' => self.object(walk, place, depth + 1),
            b'[' => self.array(walk, place, depth + 1),
            b'"' => {
                let text = self.string()?;
                walk.scalar(place, Scalar::Str(self.get(&text)));
                Ok(())
            }
            b't' => self.literal(walk, place, "true", Scalar::Bool(true)),
            b'f' => self.literal(walk, place, "false", Scalar::Bool(false)),
            b'n' => self.literal(walk, place, "null", Scalar::Null),
            b'-' | b'0'..=b'9' => {
                let number = self.number()?;
                walk.scalar(place, Scalar::Number(&number));
                Ok(())
            }
            _ => Err(GaveUp),
        }
    }

    fn literal(
        &mut self,
        walk: &mut impl PlaceVisitor,
        place: Option<PlaceId>,
        word: &str,
        value: Scalar<'_>,
    ) -> Read<()> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(GaveUp);
        }
        self.at += word.len();
        walk.scalar(place, value);
        Ok(())
    }

    fn object(
        &mut self,
        walk: &mut impl PlaceVisitor,
        place: Option<PlaceId>,
        depth: usize,
    ) -> Read<()> {
        let place = walk.enter(place, false);
        if self.open(depth, b'}')? {
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(GaveUp);
            }
            let key = self.string()?;
            let child = place.and_then(|p| walk.child(p, self.get(&key)));
            self.whitespace();
            self.expect(b':')?;
            self.whitespace();
            self.value(walk, child, depth)?;
            if self.closed(b'}')? {
                return Ok(());
            }
        }
    }

    fn array(
        &mut self,
        walk: &mut impl PlaceVisitor,
        place: Option<PlaceId>,
        depth: usize,
    ) -> Read<()> {
        let place = walk.enter(place, true);
        if self.open(depth, b']')? {
            return Ok(());
        }
        loop {
            self.value(walk, place, depth)?;
            if self.closed(b']')? {
                return Ok(());
            }
        }
    }

    /// Steps into an object or array (the reader is at its opening byte);
    /// true when it is empty (and has been stepped over).
    fn open(&mut self, depth: usize, close: u8) -> Read<bool> {
        if depth > MAX_DEPTH {
            return Err(GaveUp);
        }
        self.at += 1;
        self.whitespace();
        let empty = self.peek() == Some(close);
        if empty {
            self.at += 1;
        }
        Ok(empty)
    }

    /// After a member or item: true at the closing byte (stepped over),
    /// false after a comma (and the whitespace after it).
    fn closed(&mut self, close: u8) -> Read<bool> {
        self.whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.whitespace();
                Ok(false)
            }
            Some(byte) if byte == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(GaveUp),
        }
    }

    fn get(&self, text: &Text) -> &str {
        match *text {
            Text::Span(start, end) => self.text.get(start..end).unwrap_or_default(),
            Text::Buffer => self.buffer,
        }
    }

    /// A string (the reader is at its opening quote).
    fn string(&mut self) -> Read<Text> {
        self.at += 1;
        let start = self.at;
        self.at = start + special_at(&self.bytes[start..]).ok_or(GaveUp)?;
        if self.bytes[self.at] == b'"' {
            self.at += 1;
            return Ok(Text::Span(start, self.at - 1));
        }
        self.buffer.clear();
        self.buffer
            .push_str(self.text.get(start..self.at).ok_or(GaveUp)?);
        loop {
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(Text::Buffer);
                }
                b'\\' => self.escape()?,
                _ => return Err(GaveUp),
            }
            let from = self.at;
            self.at = from + special_at(&self.bytes[from..]).ok_or(GaveUp)?;
            self.buffer
                .push_str(self.text.get(from..self.at).ok_or(GaveUp)?);
        }
    }

    /// One escape sequence (the reader is at its backslash), decoded into
    /// the buffer.
    fn escape(&mut self) -> Read<()> {
        let kind = *self.bytes.get(self.at + 1).ok_or(GaveUp)?;
        self.at += 2;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        // A surrogate pair: the low half must follow.
                        if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                            return Err(GaveUp);
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(GaveUp);
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(GaveUp),
                    _ => unit,
                };
                char::from_u32(code).ok_or(GaveUp)?
            }
            _ => return Err(GaveUp),
        };
        self.buffer.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Read<u32> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(GaveUp)?;
        let mut value = 0u32;
        for &d in digits {
            value = value * 16 + char::from(d).to_digit(16).ok_or(GaveUp)?;
        }
        self.at += 4;
        Ok(value)
    }

    /// A number, as serde_json would give it: integers that fit as such,
    /// everything else as a float.
    fn number(&mut self) -> Read<Number> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(GaveUp),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        let raw = self.text.get(start..self.at).ok_or(GaveUp)?;
        if integer {
            if let Ok(n) = raw.parse::<u64>() {
                return Ok(n.into());
            }
            // serde_json reads "-0" as a float.
            if let Ok(n @ ..=-1) = raw.parse::<i64>() {
                return Ok(n.into());
            }
        }
        // Floats, and integers too large for 64 bits, as serde_json reads them.
        serde_json::from_str::<Number>(raw).map_err(|_| GaveUp)
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Read<()> {
        let start = self.at;
        self.digits();
        if self.at == start {
            return Err(GaveUp);
        }
        Ok(())
    }
}

/// Where the first byte a string cannot hold as it is (a quote, a
/// backslash or a control character) lies in `bytes`, eight bytes at a
/// time (as serde_json finds it).
fn special_at(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let found = found & HIGH;
        if found != 0 {
            // The lowest flagged byte is exact (higher ones may not be).
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn special_bytes_are_found_where_they_are(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, 0u8..0x20, proptest::strategy::Just(b'"'), proptest::strategy::Just(b'\\')],
                0..40,
            )
        ) {
            let naive = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            proptest::prop_assert_eq!(special_at(&bytes), naive);
        }
    }
}
