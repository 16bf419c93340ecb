//! The compiled watchlist of one organisation: hash maps per type, one
//! per network prefix length in use, and domains looked up with each of
//! their parent names (for entries that include subdomains). Values are
//! compared parsed and canonical, so `example.com` never matches
//! `example.commercial` and `10.0.0.0/8` matches `10.200.1.1`.
//!
//! Text (a message, a URL, a JSON object's text) is read as tokens, runs
//! of the bytes indicators are made of, each looked up by its shape;
//! nothing is looked up for a type the watchlist does not hold.

use std::collections::HashMap;
use std::net::IpAddr;

use rampart_core::watchlist::{IndicatorType, WatchedIndicator};

use super::canonical;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One organisation's live watchlist entries, ready to match.
#[derive(Default)]
pub struct WatchMatcher {
    entries: Vec<WatchedIndicator>,
    ips: Map<IpAddr, u32>,
    /// Per prefix length in use (longest first), networks by their bits.
    v4_networks: Vec<(u8, Map<u32, u32>)>,
    /// The /16 blocks holding a watched IPv4 network of /16 or longer:
    /// an address outside all of them needs only the shorter lengths'
    /// look-ups (one look-up here instead of one per length).
    v4_blocks: std::collections::HashSet<u16, foldhash::fast::RandomState>,
    v6_networks: Vec<(u8, Map<u128, u32>)>,
    /// Domain → (entry, names under it match too).
    domains: Map<Box<str>, (u32, bool)>,
    urls: Map<Box<str>, u32>,
    /// The hosts of the watched URLs: a URL whose host is none of them is
    /// not made canonical to be looked up.
    url_hosts: std::collections::HashSet<Box<str>, foldhash::fast::RandomState>,
    emails: Map<Box<str>, u32>,
    hashes: Map<Box<str>, u32>,
}

/// An entry seen in an event: which, in what field, as what value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    /// Index into [`WatchMatcher::entry`].
    pub entry: u32,
    pub field: String,
    pub value: String,
}

/// The sightings of one event, each entry once.
#[derive(Debug, Default)]
pub struct Sightings {
    pub found: Vec<Sighting>,
    /// Reused for lower-casing tokens.
    buffer: String,
}

impl Sightings {
    fn add(&mut self, entry: u32, field: &str, value: &str) {
        if !self.found.iter().any(|s| s.entry == entry) {
            self.found.push(Sighting {
                entry,
                field: field.to_owned(),
                value: value.to_owned(),
            });
        }
    }

    pub fn clear(&mut self) {
        self.found.clear();
    }
}

/// The host of a URL as written (`scheme://user@host:port/…` → `host`),
/// without reading it further; `None` when there is no `://`.
fn quick_host(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if host_port.starts_with('[') {
        return Some(host_port);
    }
    Some(host_port.split(':').next().unwrap_or(host_port))
}

/// Finds `://` (built once).
static URL_MARK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"://"));

/// The /16 block of an IPv4 address.
fn block_of(bits: u32) -> u16 {
    u16::try_from(bits >> 16).unwrap_or(u16::MAX)
}

impl WatchMatcher {
    /// Compiles entries (values canonical, as stored). A value that does
    /// not read as its type is skipped.
    pub fn new(entries: Vec<WatchedIndicator>) -> WatchMatcher {
        let mut matcher = WatchMatcher::default();
        let mut v4: Map<u8, Map<u32, u32>> = Map::default();
        let mut v6: Map<u8, Map<u128, u32>> = Map::default();
        for entry in &entries {
            let Ok(index) = u32::try_from(matcher.entries.len()) else {
                break;
            };
            let value = entry.value.as_str();
            let added = match entry.kind {
                IndicatorType::Ip => canonical::ip(value)
                    .map(|ip| matcher.ips.insert(ip, index))
                    .is_some(),
                IndicatorType::Cidr => value
                    .split_once('/')
                    .and_then(|(a, p)| Some((canonical::ip(a)?, p.parse::<u8>().ok()?)))
                    .map(|(base, prefix)| match canonical::mask(base, prefix) {
                        IpAddr::V4(b) => {
                            let bits = u32::from(b);
                            if prefix >= 16 {
                                matcher.v4_blocks.insert(block_of(bits));
                            }
                            v4.entry(prefix).or_default().insert(bits, index)
                        }
                        IpAddr::V6(b) => v6.entry(prefix).or_default().insert(u128::from(b), index),
                    })
                    .is_some(),
                IndicatorType::Domain => {
                    matcher
                        .domains
                        .insert(value.into(), (index, entry.include_subdomains));
                    true
                }
                IndicatorType::Url => {
                    if let Some(host) = quick_host(value) {
                        matcher.url_hosts.insert(host.into());
                    }
                    matcher.urls.insert(value.into(), index);
                    true
                }
                IndicatorType::Email => {
                    matcher.emails.insert(value.into(), index);
                    true
                }
                IndicatorType::Md5 | IndicatorType::Sha1 | IndicatorType::Sha256 => {
                    matcher.hashes.insert(value.into(), index);
                    true
                }
            };
            if added {
                matcher.entries.push(entry.clone());
            }
        }
        matcher.v4_networks = v4.into_iter().collect();
        matcher.v4_networks.sort_by_key(|n| std::cmp::Reverse(n.0));
        matcher.v6_networks = v6.into_iter().collect();
        matcher.v6_networks.sort_by_key(|n| std::cmp::Reverse(n.0));
        matcher
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, index: u32) -> Option<&WatchedIndicator> {
        self.entries.get(index as usize)
    }

    fn wants_addresses(&self) -> bool {
        !self.ips.is_empty() || !self.v4_networks.is_empty() || !self.v6_networks.is_empty()
    }

    /// An address: itself, then every network holding it.
    pub fn match_ip(&self, ip: IpAddr, field: &str, out: &mut Sightings) {
        if let Some(&entry) = self.ips.get(&ip) {
            out.add(entry, field, &ip.to_string());
        }
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let in_block = self.v4_blocks.contains(&block_of(bits));
                for (prefix, networks) in &self.v4_networks {
                    if *prefix >= 16 && !in_block {
                        continue;
                    }
                    let key = if *prefix == 0 {
                        0
                    } else {
                        bits & (u32::MAX << (32 - u32::from(*prefix)))
                    };
                    if let Some(&entry) = networks.get(&key) {
                        out.add(entry, field, &ip.to_string());
                    }
                }
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                for (prefix, networks) in &self.v6_networks {
                    let key = if *prefix == 0 {
                        0
                    } else {
                        bits & (u128::MAX << (128 - u32::from(*prefix)))
                    };
                    if let Some(&entry) = networks.get(&key) {
                        out.add(entry, field, &ip.to_string());
                    }
                }
            }
        }
    }

    /// A host name (lower case ASCII): itself, then each parent name
    /// whose entry includes subdomains.
    fn match_lower_domain(&self, name: &str, field: &str, out: &mut Sightings) {
        if let Some(&(entry, _)) = self.domains.get(name) {
            out.add(entry, field, name);
        }
        let mut rest = name;
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            if !rest.contains('.') {
                // Entries have two labels at least.
                break;
            }
            if let Some(&(entry, true)) = self.domains.get(rest) {
                out.add(entry, field, name);
            }
        }
    }

    /// A URL (any form; made canonical here), and its host.
    pub fn match_url(&self, text: &str, field: &str, out: &mut Sightings) {
        if !self.urls.is_empty() {
            if let Some(host) = quick_host(text) {
                if host.is_ascii() && !host.starts_with('[') {
                    let mut buffer = std::mem::take(&mut out.buffer);
                    buffer.clear();
                    buffer.extend(host.chars().map(|c| c.to_ascii_lowercase()));
                    let watched = self.url_hosts.contains(buffer.as_str());
                    out.buffer = buffer;
                    if !watched {
                        return;
                    }
                }
            }
            if let Some(url) = canonical::url(text) {
                if let Some(&entry) = self.urls.get(url.as_str()) {
                    out.add(entry, field, text);
                }
            }
        }
    }

    /// Every indicator in free text: URLs by their `://`, then each token
    /// by its shape.
    pub fn match_text(&self, text: &str, field: &str, out: &mut Sightings) {
        if self.is_empty() {
            return;
        }
        if !self.urls.is_empty() {
            for at in URL_MARK.find_iter(text.as_bytes()) {
                let bytes = text.as_bytes();
                let start = bytes[..at]
                    .iter()
                    .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
                    .map_or(0, |p| p + 1);
                let end = bytes[at..]
                    .iter()
                    .position(|b| {
                        b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\')
                    })
                    .map_or(bytes.len(), |p| at + p);
                if start < at {
                    self.match_url(&text[start..end], field, out);
                }
            }
        }
        let bytes = text.as_bytes();
        let mut start = None;
        for (i, &b) in bytes.iter().enumerate() {
            let inside = b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'-' | b'_' | b':' | b'@')
                || b >= 0x80;
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    self.match_token(&text[s..i], field, out);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            self.match_token(&text[s..], field, out);
        }
    }

    fn match_token(&self, token: &str, field: &str, out: &mut Sightings) {
        let token = token.trim_matches(|c| matches!(c, '.' | '-' | '_' | ':'));
        if token.len() < 3 {
            return;
        }
        // One pass over the token says what it may be.
        let (mut at, mut colon, mut dot, mut hex) = (None, false, false, true);
        for (i, b) in token.bytes().enumerate() {
            match b {
                b'@' => {
                    at.get_or_insert(i);
                }
                b':' => colon = true,
                b'.' => dot = true,
                _ => {}
            }
            hex &= b.is_ascii_hexdigit();
        }
        if let Some(at) = at {
            if !self.emails.is_empty() {
                if let Some(email) = canonical::email(token) {
                    if let Some(&entry) = self.emails.get(email.as_str()) {
                        out.add(entry, field, token);
                    }
                }
            }
            self.match_token(&token[at + 1..], field, out);
            return;
        }
        if colon {
            if self.wants_addresses() {
                if let Ok(ip) = token.parse::<IpAddr>() {
                    self.match_ip(ip, field, out);
                    return;
                }
            }
            for piece in token.split(':') {
                self.match_token(piece, field, out);
            }
            return;
        }
        if dot {
            if token.as_bytes()[0].is_ascii_digit() && self.wants_addresses() {
                if let Ok(ip) = token.parse::<IpAddr>() {
                    self.match_ip(ip, field, out);
                    return;
                }
            }
            if !self.domains.is_empty() {
                self.match_name(token, field, out);
            }
            return;
        }
        if hex && !self.hashes.is_empty() && matches!(token.len(), 32 | 40 | 64) {
            let mut buffer = std::mem::take(&mut out.buffer);
            buffer.clear();
            buffer.extend(token.chars().map(|c| c.to_ascii_lowercase()));
            if let Some(&entry) = self.hashes.get(buffer.as_str()) {
                out.add(entry, field, token);
            }
            out.buffer = buffer;
        }
    }

    /// A host name as written: lower-cased (internationalised names as
    /// punycode) and looked up with its parents.
    fn match_name(&self, token: &str, field: &str, out: &mut Sightings) {
        let mut buffer = std::mem::take(&mut out.buffer);
        buffer.clear();
        if token.is_ascii() {
            buffer.extend(token.chars().map(|c| c.to_ascii_lowercase()));
        } else if let Ok(ascii) = idna::domain_to_ascii(token) {
            buffer.push_str(&ascii);
        }
        let name = buffer.strip_suffix('.').unwrap_or(&buffer);
        self.match_lower_domain(name, field, out);
        out.buffer = buffer;
    }

    /// One value that is a host name or an address (a `host.name`).
    pub fn match_host(&self, text: &str, field: &str, out: &mut Sightings) {
        if let Ok(ip) = text.parse::<IpAddr>() {
            self.match_ip(ip, field, out);
        } else if !self.domains.is_empty() {
            self.match_name(text, field, out);
        }
    }

    /// One value that is a hash of any supported length.
    pub fn match_hash(&self, text: &str, field: &str, out: &mut Sightings) {
        if !self.hashes.is_empty() {
            let lower = text.trim().to_ascii_lowercase();
            if let Some(&entry) = self.hashes.get(lower.as_str()) {
                out.add(entry, field, text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::WatchlistEntryId;

    fn entry(kind: IndicatorType, value: &str, subdomains: bool) -> WatchedIndicator {
        WatchedIndicator {
            id: WatchlistEntryId::new(),
            kind,
            value: canonical::canonical(kind, value).unwrap_or_default(),
            include_subdomains: subdomains,
            severity: 3,
        }
    }

    fn matcher() -> WatchMatcher {
        use IndicatorType::*;
        WatchMatcher::new(vec![
            entry(Ip, "198.51.100.7", false),
            entry(Cidr, "10.0.0.0/8", false),
            entry(Cidr, "2001:db8::/32", false),
            entry(Cidr, "203.0.113.64/27", false),
            entry(Domain, "example.com", false),
            entry(Domain, "evil.example", true),
            entry(Domain, "münchen.de", false),
            entry(Url, "https://phish.example.net/login", false),
            entry(Email, "bad.actor@mail.example.org", false),
            entry(
                Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                false,
            ),
        ])
    }

    fn values_in(text: &str) -> Vec<String> {
        let m = matcher();
        let mut out = Sightings::default();
        m.match_text(text, "message", &mut out);
        out.found
            .iter()
            .filter_map(|s| m.entry(s.entry).map(|e| e.value.clone()))
            .collect()
    }

    #[test]
    fn parsed_values_match_and_near_misses_do_not() {
        assert_eq!(
            values_in("connect from 198.51.100.7 port 22"),
            ["198.51.100.7"]
        );
        assert!(values_in("connect from 198.51.100.70").is_empty());
        assert_eq!(values_in("peer=10.200.1.1:443"), ["10.0.0.0/8"]);
        assert_eq!(
            values_in("v6 2001:db8:1::5 and 2001:db9::1"),
            ["2001:db8::/32"]
        );
        assert_eq!(values_in("203.0.113.70 203.0.113.100"), ["203.0.113.64/27"]);
        assert_eq!(values_in("visited Example.COM today"), ["example.com"]);
        assert!(values_in("visited example.commercial and www.example.com").is_empty());
        assert_eq!(
            values_in("a.b.evil.example and evil.example"),
            ["evil.example"]
        );
        assert!(values_in("notevil.example").is_empty());
        assert_eq!(values_in("https://münchen.de/"), ["xn--mnchen-3ya.de"]);
        assert_eq!(
            values_in("GET HTTPS://Phish.Example.net/login#x \"ok\""),
            ["https://phish.example.net/login"]
        );
        assert!(values_in("GET https://phish.example.net/login2").is_empty());
        assert_eq!(
            values_in("from=<Bad.Actor@mail.example.org>"),
            ["bad.actor@mail.example.org"]
        );
        assert_eq!(
            values_in("sha256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
            ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
        );
    }

    #[test]
    fn each_entry_is_reported_once_per_text() {
        assert_eq!(values_in("198.51.100.7 198.51.100.7"), ["198.51.100.7"]);
    }

    #[test]
    fn an_empty_watchlist_matches_nothing() {
        let mut out = Sightings::default();
        WatchMatcher::new(Vec::new()).match_text("198.51.100.7 example.com", "m", &mut out);
        assert!(out.found.is_empty());
    }
}
