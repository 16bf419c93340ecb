//! HTML fragments in reports (ZAP descriptions, Burp details) as plain
//! text: tags dropped, block elements as line breaks, entities decoded.
//! The result is shown escaped; this only makes it readable.

/// Plain text of an HTML fragment.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            // A lone `<` is text.
            out.push_str(&decode_entities(&rest[open..]));
            rest = "";
            break;
        };
        let tag = after[..close].trim_start_matches('/').trim();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "li" if after.starts_with('/') => {}
            "li" => out.push_str("\n- "),
            "p" | "br" | "div" | "tr" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
            | "pre" | "table" => out.push('\n'),
            _ => {}
        }
        rest = &after[close + 1..];
    }
    out.push_str(&decode_entities(rest));
    tidy(&out)
}

/// The targets of the fragment's links (`href="…"`), in order, once each.
pub fn links(html: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("href=") {
        rest = &rest[at + 5..];
        let quote = rest.chars().next();
        let Some(quote @ ('"' | '\'')) = quote else {
            continue;
        };
        let body = &rest[1..];
        let Some(end) = body.find(quote) else {
            break;
        };
        let link = decode_entities(body[..end].trim());
        if (link.starts_with("http://") || link.starts_with("https://")) && !found.contains(&link) {
            found.push(link);
        }
        rest = &body[end..];
    }
    found
}

/// Lines trimmed, runs of blank lines cut to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line.trim_start_matches(' '));
    }
    out
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &after[..end];
            let ch = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_become_readable_text() {
        assert_eq!(
            to_text("<p>Use <b>HSTS</b> &amp; CSP.</p><p>Second</p><ul><li>a</li><li>b &lt;c&gt;</li></ul>"),
            "Use HSTS & CSP.\n\nSecond\n\n- a\n- b <c>"
        );
        assert_eq!(
            to_text("1 < 2 and &#65;&#x42; &bogus; &"),
            "1 < 2 and AB &bogus; &"
        );
        assert_eq!(to_text(""), "");
    }

    #[test]
    fn links_are_http_targets_once_each() {
        let html = r#"<a href="https://cwe.mitre.org/data/definitions/79.html">CWE-79</a>
            <a href='https://owasp.org/x?a=1&amp;b=2'>x</a><a href="javascript:alert(1)">no</a>
            <a href="https://cwe.mitre.org/data/definitions/79.html">again</a>"#;
        assert_eq!(
            links(html),
            vec![
                "https://cwe.mitre.org/data/definitions/79.html",
                "https://owasp.org/x?a=1&b=2"
            ]
        );
    }
}
