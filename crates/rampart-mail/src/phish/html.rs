//! HTML read as text, never rendered: the words a reader would see (scripts,
//! styles and comments dropped, entities decoded) and every link with the
//! text shown for it. One linear pass; bounded output.

/// A link of an HTML body: what the reader sees and where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub text: String,
    pub href: String,
}

/// The visible text and links of an HTML document.
#[derive(Debug, Default)]
pub struct HtmlText {
    pub text: String,
    pub anchors: Vec<Anchor>,
    /// A `<form>` or a password field: the message asks for input itself.
    pub has_form: bool,
}

/// Longest text kept from one document.
const MAX_TEXT: usize = 2 << 20;
/// Most links kept from one document.
const MAX_ANCHORS: usize = 2_000;

/// Reads `html` as a browser would show it, without running or fetching
/// anything.
pub fn read(html: &str) -> HtmlText {
    let mut out = HtmlText::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    // The anchor being read: its href and where its text starts in `out.text`.
    let mut open_anchor: Option<(String, usize)> = None;
    while i < bytes.len() && out.text.len() < MAX_TEXT {
        if bytes[i] != b'<' {
            let end = memchr::memchr(b'<', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            push_text(&mut out.text, &html[i..end]);
            i = end;
            continue;
        }
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i += rest.find("-->").map_or(rest.len(), |n| n + 3);
            continue;
        }
        let Some(tag_end) = tag_end(rest) else {
            // A lone `<`: text.
            push_text(&mut out.text, "<");
            i += 1;
            continue;
        };
        let tag = &rest[1..tag_end];
        i += tag_end + 1;
        let closing = tag.starts_with('/');
        let name = tag_name(tag.trim_start_matches('/'));
        match (name.as_str(), closing) {
            ("script" | "style" | "head" | "title" | "noscript", false) if !tag.ends_with('/') => {
                let close = format!("</{name}");
                i += find_ignore_case(&html[i..], &close).unwrap_or(html.len() - i);
            }
            ("a", false) => {
                close_anchor(&mut out, &mut open_anchor);
                if let Some(href) = attribute(tag, "href") {
                    open_anchor = Some((href, out.text.len()));
                }
            }
            ("a", true) => close_anchor(&mut out, &mut open_anchor),
            ("form", false) => out.has_form = true,
            ("input", false)
                if attribute(tag, "type").is_some_and(|t| t.eq_ignore_ascii_case("password")) =>
            {
                out.has_form = true;
            }
            ("br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "table", _)
                if !out.text.ends_with('\n') && !out.text.is_empty() =>
            {
                out.text.push('\n');
            }
            ("td" | "th", _) if !out.text.ends_with([' ', '\n']) && !out.text.is_empty() => {
                out.text.push(' ');
            }
            ("img", false) => {
                // A picture in a link says what it is through its alt text.
                if let Some(alt) = attribute(tag, "alt") {
                    push_text(&mut out.text, &alt);
                }
            }
            _ => {}
        }
    }
    close_anchor(&mut out, &mut open_anchor);
    out
}

fn close_anchor(out: &mut HtmlText, open: &mut Option<(String, usize)>) {
    if let Some((href, start)) = open.take() {
        if out.anchors.len() < MAX_ANCHORS {
            let text = out.text.get(start..).unwrap_or("").trim().to_owned();
            out.anchors.push(Anchor { text, href });
        }
    }
}

/// Where the tag that `rest` starts with ends (its `>`), honouring quoted
/// attribute values; `None` when `<` does not start a tag.
fn tag_end(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    match bytes.get(1) {
        Some(c) if c.is_ascii_alphabetic() || *c == b'/' || *c == b'!' || *c == b'?' => {}
        _ => return None,
    }
    let mut quote = None;
    for (n, &c) in bytes.iter().enumerate().skip(1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some(n),
            None => {}
        }
    }
    None
}

fn tag_name(tag: &str) -> String {
    tag.split(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The decoded value of attribute `name` in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let mut i = tag_name(tag).len();
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let key_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let key = &tag[key_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if let Some(&q) = bytes.get(i).filter(|c| **c == b'"' || **c == b'\'') {
                let end = memchr::memchr(q, &bytes[i + 1..]).map_or(bytes.len(), |n| i + 1 + n);
                value = &tag[i + 1..end];
                i = end + 1;
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = &tag[start..i];
            }
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value).trim().to_owned());
        }
        if key.is_empty() {
            i += 1;
        }
    }
    None
}

/// Appends text as shown: entities decoded, runs of white space as one.
fn push_text(out: &mut String, raw: &str) {
    let decoded = decode_entities(raw);
    for word in decoded.split(|c: char| c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}') {
        if word.is_empty() {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
            continue;
        }
        if out.len() + word.len() > MAX_TEXT {
            return;
        }
        out.push_str(word);
        out.push(' ');
    }
    if !decoded.ends_with(char::is_whitespace) && out.ends_with(' ') {
        out.pop();
    }
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Named entities mail uses, and every numeric one.
pub fn decode_entities(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..].find(';').map(|n| n + 1).filter(|&n| n <= 10);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" | "lsquo" => '\'',
        "rdquo" | "ldquo" => '"',
        "zwj" | "zwnj" => '\u{200b}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_links_and_forms() {
        let html = r#"<html><head><title>t</title><style>p{}</style></head><body>
            <p>Dear&nbsp;customer,</p><!-- hidden --><script>alert(1)</script>
            <a href="http://evil.example/login" class=x>https://www.paypal.com</a>
            <A HREF='https://ok.example'><img alt="Sign in" src=x></A>
            <form action=x><input type="password" name=p></form> 3 &lt; 4</body></html>"#;
        let read = read(html);
        assert!(read.text.contains("Dear customer,"), "{}", read.text);
        assert!(!read.text.contains("alert"));
        assert!(!read.text.contains("hidden"));
        assert!(read.text.contains("3 < 4"));
        assert_eq!(
            read.anchors,
            vec![
                Anchor {
                    text: "https://www.paypal.com".into(),
                    href: "http://evil.example/login".into()
                },
                Anchor {
                    text: "Sign in".into(),
                    href: "https://ok.example".into()
                },
            ]
        );
        assert!(read.has_form);
    }

    #[test]
    fn broken_html_is_text() {
        let read = read("a < b <a href=\"x");
        assert_eq!(read.text, "a < b <a href=\"x");
        assert!(read.anchors.is_empty());
        assert_eq!(decode_entities("&#x41;&#66;&bogus;&"), "AB&bogus;&");
    }
}
