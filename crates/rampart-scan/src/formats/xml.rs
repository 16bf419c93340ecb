//! XML reports read into a small element tree with quick-xml: bounded
//! depth, no external entities or DTD expansion (quick-xml resolves
//! neither), and errors that name the line and column.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ParseError;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// One element: its name (without namespace prefix), attributes, text
/// and children.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Direct children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn first(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child named `name`, when not blank.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.first(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    /// Every element named `name` below this one, in document order.
    pub fn descendants<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut found = Vec::new();
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(element) = stack.pop() {
            if element.name == name {
                found.push(element);
            }
            stack.extend(element.children.iter().rev());
        }
        found
    }
}

/// Line and column (1-based) of a byte offset.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, column)
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.into_owned(),
    }
}

/// Parses a whole document into its root element.
pub fn parse(format: &'static str, bytes: &[u8]) -> Result<Element, ParseError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let syntax = |offset: usize, message: String| {
        let (line, column) = position(bytes, offset);
        ParseError::Syntax {
            format,
            line,
            column,
            message,
        }
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut buf = Vec::new();
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| syntax(at, e.to_string()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(
                        at,
                        format!("nested deeper than {MAX_DEPTH} elements"),
                    ));
                }
                let mut element = Element {
                    name: local(start.name().as_ref()),
                    ..Element::default()
                };
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|e| syntax(at, e.to_string()))?;
                    let value = attribute
                        .unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_else(|_| String::from_utf8_lossy(&attribute.value).into_owned());
                    element
                        .attributes
                        .push((local(attribute.key.as_ref()), value));
                }
                if empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(syntax(at, "a closing tag without its opening tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let text = text
                        .unescape()
                        .map(|t| t.into_owned())
                        .unwrap_or_else(|_| String::from_utf8_lossy(&text).into_owned());
                    current.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(syntax(
            bytes.len(),
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| syntax(0, "no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_become_trees_and_errors_name_the_place() {
        let root = parse(
            "test",
            b"<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\"><b>t&lt;</b><c/></a>",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1 & 2"));
        assert_eq!(root.first("b").unwrap().text, "t<");
        assert!(root.first("c").is_some());
        let error = parse("test", b"<a>\n<b></c></a>").unwrap_err();
        assert!(
            matches!(error, ParseError::Syntax { line: 2, .. }),
            "{error:?}"
        );
        assert!(parse("test", b"<a><b>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse("test", deep.as_bytes()).is_err());
    }

    #[test]
    fn entities_are_not_expanded() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><x y=\"&b;\">&b;</x>";
        let root = parse("test", bomb).unwrap();
        assert_eq!(root.attr("y"), Some("&b;"));
        let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>";
        assert_eq!(parse("test", xxe).unwrap().text, "&e;");
    }
}
