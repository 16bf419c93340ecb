//! The one pass over refanged text: URLs first (found by `://`), then
//! every other word that could be an indicator, classified by its shape
//! and checked (addresses parsed, domains against the Public Suffix List,
//! file names, anti-virus names and code identifiers left out).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{psl, IocKind};

/// An indicator in the refanged text.
pub(super) struct Found {
    pub kind: IocKind,
    pub value: String,
    pub start: usize,
    pub end: usize,
    pub in_url: bool,
}

/// Bytes that end a word: white space, quotes, brackets and the
/// punctuation that surrounds indicators in prose. Bytes above 127 too
/// (no internationalised names unless written in punycode).
const fn delimiters() -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = i <= 32 || i >= 127;
        i += 1;
    }
    let extra = b"\"'<>()[]{},;|\\`^*!?=&";
    let mut j = 0;
    while j < extra.len() {
        table[extra[j] as usize] = true;
        j += 1;
    }
    table
}
static DELIMITER: [bool; 256] = delimiters();

/// Bytes that end a URL.
fn ends_url(byte: u8) -> bool {
    byte <= 32
        || byte == 127
        || matches!(
            byte,
            b'"' | b'\'' | b'<' | b'>' | b'`' | b'^' | b'|' | b'\\'
        )
}

/// Top-level labels that are also common file extensions: a bare
/// `invoice.zip` or `setup.py` is a file, not a domain.
const FILE_EXTENSION_TLDS: &[&str] = &[
    "zip", "mov", "py", "sh", "md", "rs", "so", "pl", "pm", "ps", "cc", "ai", "do", "sc", "js",
    "cs", "sx", "ms", "mp", "cf", "bat", "cmd", "exe", "bin", "doc", "dll", "log", "sys", "tmp",
    "vbs", "jar", "tar", "rar", "msi", "iso", "img", "lnk", "scr", "hta", "csv", "xls", "ppt",
    "pdf", "txt", "htm", "html", "php", "asp", "aspx", "jsp", "json", "xml", "yml", "yaml", "conf",
    "ini", "cfg", "dat", "db", "gz", "bz2", "xz", "7z", "elf", "apk", "ipa",
];

/// First labels of anti-virus detection names (`Trojan.Win32.Agent.xyz`).
const DETECTION_PREFIXES: &[&str] = &[
    "trojan",
    "backdoor",
    "worm",
    "virus",
    "ransom",
    "ransomware",
    "exploit",
    "hacktool",
    "pua",
    "pup",
    "adware",
    "riskware",
    "heur",
    "gen",
    "generic",
    "trojandownloader",
    "trojandropper",
    "trojanspy",
    "trojan-downloader",
    "trojan-dropper",
    "trojan-spy",
    "trojan-ransom",
    "not-a-virus",
    "win32",
    "win64",
    "w32",
    "w64",
    "msil",
    "linux",
    "android",
    "osx",
    "macos",
    "js",
    "vbs",
    "html",
    "php",
    "java",
    "script",
    "unix",
    "multi",
    "spyware",
    "dropper",
    "downloader",
    "rootkit",
    "bot",
    "tool",
    "malware",
    "suspicious",
    "behavior",
];

/// First labels of code and object paths (`os.path.join`, `self.name`).
const CODE_OBJECTS: &[&str] = &[
    "self",
    "this",
    "window",
    "document",
    "os",
    "sys",
    "console",
    "math",
    "json",
    "system",
    "object",
    "string",
    "req",
    "res",
    "request",
    "response",
    "config",
    "args",
    "ctx",
    "module",
    "exports",
    "process",
    "util",
    "utils",
    "np",
    "pd",
    "tf",
    "torch",
    "navigator",
    "location",
    "element",
    "event",
    "err",
    "error",
    "e",
    "obj",
    "data",
    "result",
    "params",
    "props",
    "state",
    "super",
    "cls",
    "logger",
    "log",
    "app",
    "db",
    "user",
    "client",
    "server",
    "file",
    "path",
    "main",
    "test",
    "tests",
    "java",
    "javax",
    "org",
    "com",
    "net",
    "microsoft",
    "android",
];

fn is_label(label: &str, last: bool) -> bool {
    let bytes = label.as_bytes();
    if bytes.is_empty() || bytes.len() > 63 {
        return false;
    }
    if bytes[0] == b'-' || bytes[bytes.len() - 1] == b'-' {
        return false;
    }
    if last {
        // A top-level label: letters, or punycode.
        return label.starts_with("xn--") || bytes.iter().all(u8::is_ascii_alphabetic);
    }
    bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// A domain as written (any case, any script), when it is one: lower
/// case, internationalised names as their ASCII (punycode) form.
fn domain(host: &str) -> Option<String> {
    if host.len() > 253 || !host.contains('.') {
        return None;
    }
    let lower = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(host).ok()?
    };
    let mut labels = lower.split('.').peekable();
    while let Some(label) = labels.next() {
        if !is_label(label, labels.peek().is_none()) {
            return None;
        }
    }
    psl::has_registrable_part(&lower).then_some(lower)
}

/// A bare dotted word that is a file name, an anti-virus detection name
/// or a code identifier rather than a domain.
fn looks_like_something_else(written: &str, lower: &str) -> bool {
    let labels: Vec<&str> = lower.split('.').collect();
    let first = labels[0];
    let tld = labels[labels.len() - 1];
    if labels.len() == 2 && FILE_EXTENSION_TLDS.contains(&tld) {
        return true;
    }
    if DETECTION_PREFIXES.contains(&first)
        || labels
            .iter()
            .any(|l| matches!(*l, "win32" | "win64" | "msil" | "w32"))
    {
        return true;
    }
    if CODE_OBJECTS.contains(&first) && labels.len() <= 3 && !matches!(tld, "com" | "net" | "org") {
        return true;
    }
    // camelCase (`getElementById`) or Pascal.Case.Parts (`System.IO.File`).
    let camel = written.split('.').any(|label| {
        label
            .as_bytes()
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
    });
    let pascal = |label: &&&str| {
        label.starts_with(|c: char| c.is_ascii_uppercase())
            && label.bytes().any(|b| b.is_ascii_lowercase())
    };
    let all_lower = |label: &&str| !label.bytes().any(|b| b.is_ascii_uppercase());
    let labels_written: Vec<&str> = written.split('.').collect();
    camel
        || (labels_written.iter().filter(pascal).count() >= 2
            && !labels_written.iter().any(all_lower))
}

fn ipv4(host: &str) -> Option<String> {
    if host.bytes().filter(|b| *b == b'.').count() != 3 {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(|a| a.to_string())
}

fn ipv6(host: &str) -> Option<String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.split('%').next().unwrap_or(host);
    if host.bytes().filter(|b| *b == b':').count() < 2 {
        return None;
    }
    host.parse::<Ipv6Addr>().ok().map(|a| a.to_string())
}

/// A host of a URL or an address: the kind and canonical value.
fn host(host: &str) -> Option<(IocKind, String)> {
    if let Some(v4) = ipv4(host) {
        return Some((IocKind::Ipv4, v4));
    }
    if host.starts_with('[') || host.contains(':') {
        return ipv6(host).map(|v| (IocKind::Ipv6, v));
    }
    domain(host).map(|d| (IocKind::Domain, d))
}

fn hash_kind(word: &str) -> Option<IocKind> {
    let kind = match word.len() {
        32 => IocKind::Md5,
        40 => IocKind::Sha1,
        64 => IocKind::Sha256,
        _ => return None,
    };
    let bytes = word.as_bytes();
    let hex = bytes.iter().all(u8::is_ascii_hexdigit);
    let letters = bytes.iter().any(u8::is_ascii_alphabetic);
    let digits = bytes.iter().any(u8::is_ascii_digit);
    (hex && letters && digits).then_some(kind)
}

fn cve(word: &str) -> Option<String> {
    let upper = word.to_ascii_uppercase();
    let rest = upper.strip_prefix("CVE-")?;
    let (year, number) = rest.split_once('-')?;
    let ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=7).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(upper)
}

/// `:` `//` and the URLs around them.
fn urls(text: &str, found: &mut Vec<Found>) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for at in memchr::memmem::find_iter(bytes, b"://") {
        if spans.last().is_some_and(|(_, end)| at < *end) {
            continue;
        }
        let mut start = at;
        while start > 0
            && (bytes[start - 1].is_ascii_alphanumeric()
                || matches!(bytes[start - 1], b'+' | b'-' | b'.'))
        {
            start -= 1;
        }
        // The scheme starts with a letter: `1http://` starts at `h`.
        while start < at && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        if !(2..=16).contains(&(at - start)) {
            continue;
        }
        let mut end = at + 3;
        while end < bytes.len() && !ends_url(bytes[end]) {
            end += 1;
        }
        // Punctuation that ends the sentence, and unbalanced closers.
        while let Some(&last) = bytes[at + 3..end].last() {
            let unbalanced = |open: u8, close: u8| {
                last == close
                    && bytes[start..end].iter().filter(|b| **b == open).count()
                        < bytes[start..end].iter().filter(|b| **b == close).count()
            };
            if matches!(last, b'.' | b',' | b';' | b':' | b'!' | b'?')
                || unbalanced(b'(', b')')
                || unbalanced(b'[', b']')
                || unbalanced(b'{', b'}')
            {
                end -= 1;
            } else {
                break;
            }
        }
        let authority_start = at + 3;
        let authority_end = bytes[authority_start..end]
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .map_or(end, |p| authority_start + p);
        let authority = &text[authority_start..authority_end];
        let (host_offset, host_port) = match authority.rfind('@') {
            Some(p) => (authority_start + p + 1, &authority[p + 1..]),
            None => (authority_start, authority),
        };
        let host_text = if host_port.starts_with('[') {
            host_port.split_inclusive(']').next().unwrap_or(host_port)
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        let Some((kind, value)) = host(host_text) else {
            continue;
        };
        let scheme = text[start..at].to_ascii_lowercase();
        let url = format!(
            "{scheme}://{}{}",
            &text[authority_start..host_offset],
            value_for_url(kind, &value, host_text)
                + &host_port[host_text.len()..]
                + &text[authority_end..end]
        );
        found.push(Found {
            kind: IocKind::Url,
            value: url,
            start,
            end,
            in_url: false,
        });
        found.push(Found {
            kind,
            value,
            start: host_offset,
            end: host_offset + host_text.len(),
            in_url: true,
        });
        // File hashes in the path or query (`/gui/file/<sha256>`).
        let mut part_start = authority_end;
        for (i, byte) in bytes[authority_end..end].iter().enumerate() {
            let at_end = authority_end + i + 1 == end;
            if matches!(byte, b'/' | b'?' | b'=' | b'&' | b'#') || at_end {
                let part_end = if at_end && !matches!(byte, b'/' | b'?' | b'=' | b'&' | b'#') {
                    end
                } else {
                    authority_end + i
                };
                let part = &text[part_start..part_end];
                if let Some(hash) = hash_kind(part) {
                    found.push(Found {
                        kind: hash,
                        value: part.to_ascii_lowercase(),
                        start: part_start,
                        end: part_end,
                        in_url: true,
                    });
                }
                part_start = authority_end + i + 1;
            }
        }
        encoded_hosts(text, authority_end, end, found);
        spans.push((start, end));
    }
    spans
}

/// Hosts of URLs percent-encoded inside a URL's path or query
/// (`?url=http%3A%2F%2Fevil.example%2Fx`): the host itself is written
/// plainly there, so it is reported where it stands.
fn encoded_hosts(text: &str, from: usize, to: usize, found: &mut Vec<Found>) {
    const MARK: &[u8] = b"%3a%2f%2f";
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b'%', &bytes[from..to]) else {
        return;
    };
    let mut at = from + first;
    while at + MARK.len() <= to {
        if !bytes[at..at + MARK.len()].eq_ignore_ascii_case(MARK) {
            at += 1;
            continue;
        }
        let host_start = at + MARK.len();
        let mut host_end = host_start;
        while host_end < to
            && (bytes[host_end].is_ascii_alphanumeric() || matches!(bytes[host_end], b'.' | b'-'))
        {
            host_end += 1;
        }
        if let Some((kind, value)) = host(&text[host_start..host_end]) {
            found.push(Found {
                kind,
                value,
                start: host_start,
                end: host_end,
                in_url: true,
            });
        }
        at = host_end.max(at + 1);
    }
}

fn value_for_url(kind: IocKind, value: &str, written: &str) -> String {
    match kind {
        IocKind::Ipv6 if written.starts_with('[') => format!("[{value}]"),
        _ => value.to_owned(),
    }
}

/// One word outside URLs; `defanged` says whether a span was written
/// defanged (then it is meant as an indicator, whatever it looks like).
fn word(
    text: &str,
    start: usize,
    end: usize,
    defanged: &dyn Fn(usize, usize) -> bool,
    found: &mut Vec<Found>,
) {
    let mut word = &text[start..end];
    let mut offset = start;
    // Sentence punctuation around it.
    let trimmed_start = word.trim_start_matches(['.', ':', '/', '-', '_', '@', '#', '%', '~', '+']);
    offset += word.len() - trimmed_start.len();
    word = trimmed_start.trim_end_matches(['.', ':', '/', '-', '_', '@', '#', '%', '~', '+']);
    if word.len() < 4 {
        return;
    }
    let push = |found: &mut Vec<Found>, kind, value, from: usize, len: usize| {
        found.push(Found {
            kind,
            value,
            start: from,
            end: from + len,
            in_url: false,
        });
    };
    let bytes = word.as_bytes();
    let has_dot = memchr::memchr(b'.', bytes).is_some();
    let has_at = memchr::memchr(b'@', bytes).is_some();
    let has_colon = memchr::memchr(b':', bytes).is_some();
    if !has_dot && !has_at && !has_colon {
        if let Some(kind) = hash_kind(word) {
            push(found, kind, word.to_ascii_lowercase(), offset, word.len());
        } else if let Some(id) = cve(word) {
            push(found, IocKind::Cve, id, offset, word.len());
        }
        return;
    }
    if has_at {
        let word = word.strip_prefix("mailto:").unwrap_or(word);
        let at = word.rfind('@').unwrap_or(0);
        let (local, domain_part) = (&word[..at], &word[at + 1..]);
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
            })
            && !local.starts_with('.')
            && !local.ends_with('.');
        if let (true, Some(domain)) = (local_ok, domain(domain_part)) {
            let from = offset
                + (text[offset..].len() - text[offset..].trim_start_matches("mailto:").len());
            push(
                found,
                IocKind::Email,
                format!("{local}@{domain}"),
                from,
                word.len(),
            );
        }
        return;
    }
    if let Some(id) = cve(word) {
        push(found, IocKind::Cve, id, offset, word.len());
        return;
    }
    // host[:port][/path]
    let host_end = word.find('/').unwrap_or(word.len());
    let host_port = &word[..host_end];
    if let Some(v6) = ipv6(host_port) {
        push(found, IocKind::Ipv6, v6, offset, host_port.len());
        return;
    }
    let host_text = match host_port.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host_port,
    };
    if let Some(v4) = ipv4(host_text) {
        // Not a part of a longer dotted number (a version, an OID).
        push(found, IocKind::Ipv4, v4, offset, host_text.len());
        return;
    }
    if let Some(lower) = domain(host_text) {
        if defanged(offset, offset + host_text.len())
            || !looks_like_something_else(host_text, &lower)
        {
            push(found, IocKind::Domain, lower, offset, host_text.len());
        }
    }
}

/// Every indicator of refanged text.
pub(super) fn scan(text: &str, defanged: &dyn Fn(usize, usize) -> bool) -> Vec<Found> {
    let mut found = Vec::new();
    let url_spans = urls(text, &mut found);
    let bytes = text.as_bytes();
    let mut spans = url_spans.iter().peekable();
    // A byte of a word, or the length of a letter or digit of another
    // script (internationalised names: `münchen.de`).
    let word_len = |i: usize| -> usize {
        let byte = bytes[i];
        if byte < 0x80 {
            return usize::from(!DELIMITER[byte as usize]);
        }
        text.get(i..)
            .and_then(|rest| rest.chars().next())
            .filter(|c| c.is_alphanumeric())
            .map_or(0, char::len_utf8)
    };
    let mut i = 0;
    while i < bytes.len() {
        let len = word_len(i);
        if len == 0 {
            // A delimiter; past a whole character when it is not ASCII.
            i += text
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
            continue;
        }
        let start = i;
        while i < bytes.len() {
            let len = word_len(i);
            if len == 0 {
                break;
            }
            i += len;
        }
        while spans.peek().is_some_and(|(_, end)| *end <= start) {
            spans.next();
        }
        if spans.peek().is_some_and(|(s, _)| *s < i) {
            continue;
        }
        word(text, start, i, defanged, &mut found);
    }
    found
}
