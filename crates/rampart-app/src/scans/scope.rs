//! An organisation's scope: which networks, host names and URL prefixes
//! it may scan, and on which ports. A target is checked before the scan
//! starts and every address again when it is connected to (redirects
//! included), so a name cannot resolve to an allowed address for the
//! check and to another for the connection. Loopback, private,
//! link-local and cloud-metadata addresses are refused unless a network
//! entry names them at least as narrowly as their special block (a
//! `0.0.0.0/0` entry does not open `169.254.169.254`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rampart_core::event::IpMatch;
use rampart_core::scan::ScopeEntry;

use crate::notifications::ssrf::non_public;

/// What a scope entry names.
#[derive(Clone, Debug, PartialEq)]
pub enum ScopeTarget {
    /// An address or a CIDR network.
    Network(IpMatch),
    /// A host name; `*.example.com` names the subdomains of example.com.
    Host { name: String, subdomains: bool },
    /// URLs starting with this (scheme, host, port and path prefix).
    UrlPrefix(url::Url),
}

impl ScopeTarget {
    /// Reads an entry's target, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<ScopeTarget, String> {
        let text = text.trim();
        if text.is_empty() || text.len() > 500 {
            return Err(
                "name a network, a host name or a URL prefix (up to 500 characters)".into(),
            );
        }
        if text.contains("://") {
            let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err("a URL prefix is http:// or https:// with a host".into());
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err("a URL prefix carries no credentials".into());
            }
            return Ok(ScopeTarget::UrlPrefix(url));
        }
        if let Ok(network) = text.parse::<IpMatch>() {
            if let IpMatch::Network { base, prefix } = network {
                let width = if base.is_ipv4() { 32 } else { 128 };
                if prefix > width {
                    return Err(format!("a /{prefix} network does not exist"));
                }
            }
            return Ok(ScopeTarget::Network(network));
        }
        let lower = text.to_ascii_lowercase();
        let (name, subdomains) = match lower.strip_prefix("*.") {
            Some(rest) => (rest.to_owned(), true),
            None => (lower, false),
        };
        let valid_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.len() > 253 || !name.split('.').all(valid_label) {
            return Err(format!(
                "{text:?} is neither a network (10.0.0.0/24), a host name (shop.example.com, \
                 *.example.com) nor a URL prefix (https://shop.example.com/app/)"
            ));
        }
        Ok(ScopeTarget::Host { name, subdomains })
    }

    fn names_host(&self, host: &str) -> bool {
        match self {
            ScopeTarget::Host { name, subdomains } => {
                if *subdomains {
                    host.strip_suffix(name.as_str())
                        .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
                } else {
                    host == name
                }
            }
            ScopeTarget::UrlPrefix(prefix) => prefix.host_str() == Some(host),
            ScopeTarget::Network(_) => false,
        }
    }
}

/// The special block an address belongs to, as a prefix length: an entry
/// must be at least this narrow to open it.
fn special_prefix(ip: IpAddr) -> u8 {
    match ip {
        IpAddr::V4(v4) => special_prefix_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => 96 + special_prefix_v4(v4),
            None => special_prefix_v6(v6),
        },
    }
}

fn special_prefix_v4(ip: Ipv4Addr) -> u8 {
    let [a, b, ..] = ip.octets();
    match (a, b) {
        (127 | 10 | 0, _) => 8,
        (172, 16..=31) => 12,
        (192, 168) | (169, 254) => 16,
        (100, 64..=127) => 10,
        (198, 18 | 19) => 15,
        (224..=255, _) => 4,
        _ => 24,
    }
}

fn special_prefix_v6(ip: Ipv6Addr) -> u8 {
    let first = ip.segments()[0];
    if ip.is_loopback() || ip.is_unspecified() {
        128
    } else if first & 0xfe00 == 0xfc00 {
        7
    } else if first & 0xffc0 == 0xfe80 {
        10
    } else if first & 0xff00 == 0xff00 {
        8
    } else {
        32
    }
}

/// One entry, ready to match.
#[derive(Clone, Debug)]
struct Rule {
    target: ScopeTarget,
    ports: Vec<u16>,
}

impl Rule {
    fn allows_port(&self, port: Option<u16>) -> bool {
        match port {
            Some(port) => self.ports.is_empty() || self.ports.contains(&port),
            None => true,
        }
    }
}

/// The scope of one organisation, ready to check targets against.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    rules: Vec<Rule>,
}

impl Scope {
    /// The organisation's entries (those that no longer parse are left out).
    pub fn new(entries: &[ScopeEntry]) -> Scope {
        Scope {
            rules: entries
                .iter()
                .filter_map(|e| {
                    Some(Rule {
                        target: ScopeTarget::parse(&e.target).ok()?,
                        ports: e.ports.clone(),
                    })
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a host-name or URL-prefix entry names `host` (for `url`
    /// and `port`, when known).
    pub fn names(&self, host: &str, port: Option<u16>, url: Option<&url::Url>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.rules.iter().any(|rule| match &rule.target {
            ScopeTarget::UrlPrefix(prefix) => match url {
                Some(url) => {
                    url.scheme() == prefix.scheme()
                        && url.host_str() == prefix.host_str()
                        && url.port_or_known_default() == prefix.port_or_known_default()
                        && url.path().starts_with(prefix.path())
                }
                // A connection (no URL at hand) to the prefix's host and port.
                None => {
                    rule.target.names_host(&host)
                        && port.is_none_or(|p| Some(p) == prefix.port_or_known_default())
                }
            },
            other => other.names_host(&host) && rule.allows_port(port),
        })
    }

    /// Whether a connection to `ip` (on `port`, when known) is allowed;
    /// `named` says whether the host name it came from is in scope by
    /// name. The refusal says why.
    pub fn admits(&self, named: bool, ip: IpAddr, port: Option<u16>) -> Result<(), String> {
        let special = non_public(ip);
        let by_network = self.rules.iter().any(|rule| match rule.target {
            ScopeTarget::Network(network) => {
                network.matches(ip)
                    && rule.allows_port(port)
                    && (special.is_none()
                        || match network {
                            IpMatch::Exact(_) => true,
                            IpMatch::Network { prefix, .. } => prefix >= special_prefix(ip),
                        })
            }
            _ => false,
        });
        if by_network {
            return Ok(());
        }
        if let Some(why) = special {
            return Err(format!(
                "{ip} is {why}: it is scanned only when the scope names it explicitly \
                 (e.g. {ip}/{})",
                if ip.is_ipv4() { 32 } else { 128 }
            ));
        }
        if named {
            return Ok(());
        }
        Err(match port {
            Some(port) => format!("{ip} port {port} is outside the organisation's scope"),
            None => format!("{ip} is outside the organisation's scope"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::{OrgId, ScopeEntryId, Timestamp};

    fn scope(entries: &[(&str, &[u16])]) -> Scope {
        Scope::new(
            &entries
                .iter()
                .map(|(target, ports)| ScopeEntry {
                    id: ScopeEntryId::new(),
                    org_id: OrgId::new(),
                    target: (*target).into(),
                    ports: ports.to_vec(),
                    note: None,
                    created_by: "test".into(),
                    created_at: Timestamp(0),
                })
                .collect::<Vec<_>>(),
        )
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn targets_are_read_or_refused_with_a_reason() {
        assert!(matches!(
            ScopeTarget::parse("10.0.0.0/8"),
            Ok(ScopeTarget::Network(_))
        ));
        assert!(matches!(
            ScopeTarget::parse("2001:db8::/32"),
            Ok(ScopeTarget::Network(_))
        ));
        assert_eq!(
            ScopeTarget::parse("*.Example.com").unwrap(),
            ScopeTarget::Host {
                name: "example.com".into(),
                subdomains: true
            }
        );
        assert!(matches!(
            ScopeTarget::parse("https://shop.example.com/app/"),
            Ok(ScopeTarget::UrlPrefix(_))
        ));
        for bad in [
            "",
            "ftp://x.example/",
            "https://u:p@x.example/",
            "exa mple.com",
            "-x.example",
            "10.0.0.0/33",
        ] {
            assert!(ScopeTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_match_exactly_or_as_subdomains() {
        let s = scope(&[("shop.example.com", &[443]), ("*.corp.example", &[])]);
        assert!(s.names("shop.example.com", Some(443), None));
        assert!(s.names("SHOP.example.com.", Some(443), None));
        assert!(!s.names("shop.example.com", Some(8443), None));
        assert!(!s.names("www.shop.example.com", Some(443), None));
        assert!(s.names("a.b.corp.example", Some(22), None));
        assert!(
            !s.names("corp.example", Some(22), None),
            "the wildcard names subdomains only"
        );
        assert!(!s.names("evilcorp.example", Some(22), None));
    }

    #[test]
    fn url_prefixes_hold_scheme_port_and_path() {
        let s = scope(&[("https://shop.example.com/app/", &[])]);
        let url = |u: &str| url::Url::parse(u).unwrap();
        let check = |u: &str| {
            let u = url(u);
            s.names(u.host_str().unwrap(), u.port_or_known_default(), Some(&u))
        };
        assert!(check("https://shop.example.com/app/login"));
        assert!(check("https://shop.example.com:443/app/"));
        assert!(!check("http://shop.example.com/app/"));
        assert!(!check("https://shop.example.com/admin"));
        assert!(!check("https://shop.example.com:8443/app/"));
    }

    #[test]
    fn special_addresses_need_an_explicit_entry() {
        let wide = scope(&[("0.0.0.0/0", &[]), ("::/0", &[])]);
        assert!(wide.admits(false, ip("93.184.216.34"), Some(80)).is_ok());
        for special in [
            "127.0.0.1",
            "169.254.169.254",
            "10.1.2.3",
            "::1",
            "fe80::1",
            "::ffff:169.254.169.254",
        ] {
            let refused = wide.admits(true, ip(special), Some(80));
            assert!(refused.is_err(), "{special}");
        }
        let local = scope(&[
            ("127.0.0.1", &[]),
            ("10.0.0.0/8", &[22]),
            ("169.0.0.0/8", &[]),
        ]);
        assert!(local.admits(false, ip("127.0.0.1"), Some(8080)).is_ok());
        assert!(local.admits(false, ip("127.0.0.2"), Some(8080)).is_err());
        assert!(local.admits(false, ip("10.9.9.9"), Some(22)).is_ok());
        assert!(
            local.admits(false, ip("10.9.9.9"), Some(80)).is_err(),
            "port outside the entry"
        );
        let metadata = local
            .admits(true, ip("169.254.169.254"), Some(80))
            .unwrap_err();
        assert!(
            metadata.contains("link-local or cloud metadata"),
            "{metadata}"
        );
    }

    #[test]
    fn public_addresses_need_a_name_or_a_network() {
        let s = scope(&[("shop.example.com", &[]), ("203.0.113.0/24", &[])]);
        assert!(s.admits(true, ip("93.184.216.34"), Some(443)).is_ok());
        assert!(s.admits(false, ip("93.184.216.34"), Some(443)).is_err());
        assert!(s.admits(false, ip("8.8.8.8"), None).is_err());
        // 203.0.113.0/24 is documentation space: named as a /24, it is open.
        assert!(s.admits(false, ip("203.0.113.7"), Some(443)).is_ok());
        assert!(Scope::default()
            .admits(true, ip("127.0.0.1"), None)
            .is_err());
    }
}
