//! A watchlist value read as its type says, in the one canonical form the
//! matcher compares: addresses as `std::net` writes them, networks with
//! their host bits cleared, domains lower case ASCII (internationalised
//! names as punycode), URLs with scheme and host lower case and no
//! fragment, e-mail addresses lower case, hashes lower case hex. Defanged
//! values (`1.2.3[.]4`, `hxxp://`) are refanged first.

use std::net::IpAddr;

use rampart_core::watchlist::IndicatorType;

use crate::ioc::fang;

/// Longest value accepted (URLs are the long ones).
pub const MAX_VALUE_LEN: usize = 2048;

/// `text` as an indicator of type `kind`, canonical; or why it is not one.
pub fn canonical(kind: IndicatorType, text: &str) -> Result<String, String> {
    let fanged = fang(text.trim());
    let value = fanged.trim();
    if value.is_empty() {
        return Err("is empty".into());
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(format!("is longer than {MAX_VALUE_LEN} bytes"));
    }
    match kind {
        IndicatorType::Ip => ip(value)
            .map(|ip| ip.to_string())
            .ok_or_else(|| "is not an IPv4 or IPv6 address".into()),
        IndicatorType::Cidr => network(value)
            .ok_or_else(|| "is not a network such as 10.0.0.0/8 or 2001:db8::/32".into()),
        IndicatorType::Domain => {
            domain(value.strip_prefix("*.").unwrap_or(value)).ok_or_else(|| {
                "is not a domain name (letters, digits and hyphens, at least two labels)".into()
            })
        }
        IndicatorType::Url => {
            url(value).ok_or_else(|| "is not a URL with a scheme and a host".into())
        }
        IndicatorType::Email => email(value).ok_or_else(|| "is not an e-mail address".into()),
        IndicatorType::Md5 => hash(value, 32).ok_or_else(|| "is not 32 hexadecimal digits".into()),
        IndicatorType::Sha1 => hash(value, 40).ok_or_else(|| "is not 40 hexadecimal digits".into()),
        IndicatorType::Sha256 => {
            hash(value, 64).ok_or_else(|| "is not 64 hexadecimal digits".into())
        }
    }
}

/// The type a bare value most likely has (for lists without a type
/// column): address, network, hash by length, URL, e-mail, domain.
pub fn infer_type(text: &str) -> Option<IndicatorType> {
    let fanged = fang(text.trim());
    let value = fanged.trim();
    if ip(value).is_some() {
        Some(IndicatorType::Ip)
    } else if value.contains('/') && network(value).is_some() {
        Some(IndicatorType::Cidr)
    } else if let Some(kind) = [
        (32, IndicatorType::Md5),
        (40, IndicatorType::Sha1),
        (64, IndicatorType::Sha256),
    ]
    .into_iter()
    .find_map(|(len, kind)| hash(value, len).map(|_| kind))
    {
        Some(kind)
    } else if value.contains("://") {
        url(value).map(|_| IndicatorType::Url)
    } else if value.contains('@') {
        email(value).map(|_| IndicatorType::Email)
    } else {
        domain(value.strip_prefix("*.").unwrap_or(value)).map(|_| IndicatorType::Domain)
    }
}

/// An address, also written in brackets (`[2001:db8::1]`).
pub fn ip(text: &str) -> Option<IpAddr> {
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    text.parse().ok()
}

/// A network `address/prefix` (a bare address is its own network),
/// host bits cleared.
pub fn network(text: &str) -> Option<String> {
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let address = ip(address)?;
    let width = if address.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = match prefix {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
            p.parse().ok()?
        }
        Some(_) => return None,
        None => width,
    };
    if prefix > width {
        return None;
    }
    Some(format!("{}/{prefix}", mask(address, prefix)))
}

/// `ip` with all but its first `prefix` bits cleared.
pub fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u32::MAX << (32 - u32::from(prefix)))
            };
            IpAddr::V4(kept.into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = if prefix == 0 {
                0
            } else {
                bits & (u128::MAX << (128 - u32::from(prefix)))
            };
            IpAddr::V6(kept.into())
        }
    }
}

/// A domain name: at least two labels of letters, digits, hyphens (and
/// underscores, as in service names), each at most 63 bytes, 253 in all;
/// a trailing dot dropped; other scripts as punycode.
pub fn domain(text: &str) -> Option<String> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let lower = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(text).ok()?
    };
    if lower.len() > 253 || !lower.contains('.') {
        return None;
    }
    let labels_ok = lower.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let tld_ok = lower
        .rsplit('.')
        .next()
        .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    (labels_ok && tld_ok).then_some(lower)
}

/// A URL `scheme://host…`: scheme and host lower case (the host as a
/// domain or an address), the fragment dropped, an empty path written `/`.
pub fn url(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        || rest.contains(char::is_whitespace)
    {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or_default();
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = url_host(host_port)?;
    let port = &host_port[host_port.len() - port_len(host_port)..];
    let tail = if tail.is_empty() { "/" } else { tail };
    Some(format!(
        "{}://{host}{port}{tail}",
        scheme.to_ascii_lowercase()
    ))
}

/// The length of a `:port` suffix of an authority's host part (0 without).
fn port_len(host_port: &str) -> usize {
    match host_port.rfind(':') {
        Some(at)
            if !host_port[at + 1..].is_empty()
                && host_port[at + 1..].bytes().all(|b| b.is_ascii_digit())
                && (!host_port.starts_with('[') || host_port[..at].ends_with(']')) =>
        {
            host_port.len() - at
        }
        _ => 0,
    }
}

/// The host of a URL authority (`host:port` or `[v6]:port`), canonical.
pub fn url_host(host_port: &str) -> Option<String> {
    let host = &host_port[..host_port.len() - port_len(host_port)];
    if let Some(address) = ip(host) {
        return Some(match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    domain(host).or_else(|| {
        // Single-label hosts (`localhost`, intranet names) are hosts too.
        (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| host.to_ascii_lowercase())
    })
}

/// `local@domain`, lower case, the domain canonical.
pub fn email(text: &str) -> Option<String> {
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    let (local, host) = text.rsplit_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || local.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '@')
        })
    {
        return None;
    }
    Some(format!("{}@{}", local.to_lowercase(), domain(host)?))
}

/// `len` hexadecimal digits, lower case.
pub fn hash(text: &str, len: usize) -> Option<String> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use IndicatorType::*;

    proptest! {
        /// Any text: no panic, and a canonical value reads back as itself.
        #[test]
        fn canonical_values_are_fixed_points(text in "\\PC{0,80}|[a-zA-Z0-9.:/\\[\\]@*_-]{0,60}") {
            for kind in IndicatorType::ALL {
                if let Ok(value) = canonical(kind, &text) {
                    prop_assert_eq!(canonical(kind, &value), Ok(value.clone()));
                }
            }
        }
    }

    #[test]
    fn values_become_canonical() {
        let cases = [
            (Ip, "198.51.100.7", "198.51.100.7"),
            (Ip, "198.51.100[.]7", "198.51.100.7"),
            (Ip, "[2001:DB8::0:1]", "2001:db8::1"),
            (Cidr, "10.1.2.3/8", "10.0.0.0/8"),
            (Cidr, "2001:db8:ffff::/32", "2001:db8::/32"),
            (Cidr, "192.0.2.1", "192.0.2.1/32"),
            (Cidr, "0.0.0.0/0", "0.0.0.0/0"),
            (Domain, "Example.COM.", "example.com"),
            (Domain, "*.evil.example", "evil.example"),
            (Domain, "evil[.]example", "evil.example"),
            (Domain, "münchen.de", "xn--mnchen-3ya.de"),
            (
                Url,
                "HXXPS://Evil.Example/Path?q=1#frag",
                "https://evil.example/Path?q=1",
            ),
            (Url, "http://evil.example", "http://evil.example/"),
            (Url, "tcp://198.51.100.7:4444", "tcp://198.51.100.7:4444/"),
            (
                Url,
                "http://[2001:db8::1]:8080/x",
                "http://[2001:db8::1]:8080/x",
            ),
            (Email, "Bad.Actor[@]Evil.Example", "bad.actor@evil.example"),
            (
                Md5,
                "D41D8CD98F00B204E9800998ECF8427E",
                "d41d8cd98f00b204e9800998ecf8427e",
            ),
        ];
        for (kind, text, want) in cases {
            assert_eq!(
                canonical(kind, text).as_deref(),
                Ok(want),
                "{kind:?} {text}"
            );
        }
    }

    #[test]
    fn wrong_values_are_refused_with_a_reason() {
        let cases = [
            (Ip, "10.0.0.0/8"),
            (Ip, "999.1.1.1"),
            (Cidr, "10.0.0.0/33"),
            (Cidr, "10.0.0.0/x"),
            (Domain, "localhost"),
            (Domain, "bad_-.example..com"),
            (Domain, "1.2.3.4"),
            (Url, "evil.example/path"),
            (Email, "no-at-sign.example"),
            (Sha1, "d41d8cd98f00b204e9800998ecf8427e"),
            (Sha256, "zz"),
            (Domain, "   "),
        ];
        for (kind, text) in cases {
            assert!(canonical(kind, text).is_err(), "{kind:?} {text}");
        }
    }

    #[test]
    fn types_are_inferred_from_bare_values() {
        let cases = [
            ("203.0.113.9", Some(Ip)),
            ("203.0.113.0/24", Some(Cidr)),
            ("evil.example", Some(Domain)),
            ("https://evil.example/a", Some(Url)),
            ("x@evil.example", Some(Email)),
            ("d41d8cd98f00b204e9800998ecf8427e", Some(Md5)),
            ("da39a3ee5e6b4b0d3255bfef95601890afd80709", Some(Sha1)),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Some(Sha256),
            ),
            ("not a value", None),
        ];
        for (text, want) in cases {
            assert_eq!(infer_type(text), want, "{text}");
        }
    }
}
