//! What an event query asks for, and whether one event satisfies it.
//! The SQL backends translate the same filter; this is the reference.

use std::net::IpAddr;
use std::str::FromStr;

use super::Event;
use crate::Timestamp;

/// An IP address to match exactly, or a CIDR network to match within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpMatch {
    Exact(IpAddr),
    Network { base: IpAddr, prefix: u8 },
}

impl IpMatch {
    pub fn matches(&self, ip: IpAddr) -> bool {
        match *self {
            IpMatch::Exact(want) => want == ip,
            IpMatch::Network { base, prefix } => match (base, ip) {
                (IpAddr::V4(b), IpAddr::V4(i)) => {
                    masked(u128::from(u32::from(b)), prefix, 32)
                        == masked(u128::from(u32::from(i)), prefix, 32)
                }
                (IpAddr::V6(b), IpAddr::V6(i)) => {
                    masked(u128::from(b), prefix, 128) == masked(u128::from(i), prefix, 128)
                }
                _ => false,
            },
        }
    }

    /// The text PostgreSQL's `inet` accepts for this match.
    pub fn to_inet(&self) -> String {
        match self {
            IpMatch::Exact(ip) => ip.to_string(),
            IpMatch::Network { base, prefix } => format!("{base}/{prefix}"),
        }
    }
}

/// The prefix lengths at which block summaries record each address's
/// network (IPv4, IPv6), so CIDR searches can rule blocks out too.
const SUMMARY_PREFIXES_V4: [u8; 3] = [8, 16, 24];
const SUMMARY_PREFIXES_V6: [u8; 3] = [32, 48, 64];

/// The summary terms of an address's networks: `(prefix, network)` at each
/// of the recorded prefix lengths of its family.
pub fn summary_networks(ip: IpAddr) -> impl Iterator<Item = (u8, IpAddr)> {
    let prefixes = match ip {
        IpAddr::V4(_) => SUMMARY_PREFIXES_V4,
        IpAddr::V6(_) => SUMMARY_PREFIXES_V6,
    };
    prefixes.into_iter().map(move |p| (p, network_of(ip, p)))
}

/// `ip` with all but its first `prefix` bits cleared.
fn network_of(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = masked(u128::from(u32::from(v4)), prefix, 32);
            IpAddr::V4(u32::try_from(bits).unwrap_or_default().into())
        }
        IpAddr::V6(v6) => IpAddr::V6(masked(u128::from(v6), prefix, 128).into()),
    }
}

/// The name a summary gives the networks of `field` at `prefix` bits.
pub fn network_field(field: &'static str, prefix: u8) -> Option<&'static str> {
    Some(match (field, prefix) {
        ("source.ip", 8) => "source.ip/8",
        ("source.ip", 16) => "source.ip/16",
        ("source.ip", 24) => "source.ip/24",
        ("source.ip", 32) => "source.ip/32",
        ("source.ip", 48) => "source.ip/48",
        ("source.ip", 64) => "source.ip/64",
        ("destination.ip", 8) => "destination.ip/8",
        ("destination.ip", 16) => "destination.ip/16",
        ("destination.ip", 24) => "destination.ip/24",
        ("destination.ip", 32) => "destination.ip/32",
        ("destination.ip", 48) => "destination.ip/48",
        ("destination.ip", 64) => "destination.ip/64",
        _ => return None,
    })
}

/// Most networks a CIDR search asks summaries for, one of which must be
/// present (a /15 is two recorded /16s; a /12, sixteen).
const MAX_ALTERNATIVES: u32 = 256;

impl IpMatch {
    /// Summary terms one of which every address this matches carries: the
    /// address itself; for a network, the recorded networks that make it
    /// up (at the next recorded prefix length, up to [`MAX_ALTERNATIVES`]),
    /// else its narrowest recorded enclosing network. Empty: none.
    fn summary_alternatives(&self, field: &'static str) -> Vec<(&'static str, String)> {
        let IpMatch::Network { base, prefix } = *self else {
            return match self {
                IpMatch::Exact(ip) => vec![(field, ip.to_string())],
                IpMatch::Network { .. } => Vec::new(),
            };
        };
        let (recorded, width) = match base {
            IpAddr::V4(_) => (SUMMARY_PREFIXES_V4, 32u8),
            IpAddr::V6(_) => (SUMMARY_PREFIXES_V6, 128u8),
        };
        let inside = recorded.into_iter().find(|level| {
            *level >= prefix && u32::from(*level - prefix) <= MAX_ALTERNATIVES.ilog2()
        });
        if let (Some(level), true) = (inside, prefix > 0) {
            let Some(name) = network_field(field, level) else {
                return Vec::new();
            };
            let start = masked(ip_bits(base), prefix, width);
            let step = 1u128 << (width - level);
            return (0..1u128 << (level - prefix))
                .map(|i| (name, bits_ip(base, start + i * step).to_string()))
                .collect();
        }
        summary_networks(base)
            .filter(|(p, _)| *p <= prefix)
            .last()
            .and_then(|(level, network)| Some((network_field(field, level)?, network.to_string())))
            .into_iter()
            .collect()
    }
}

fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// `bits` as an address of `like`'s family.
fn bits_ip(like: IpAddr, bits: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(u32::try_from(bits).unwrap_or_default().into()),
        IpAddr::V6(_) => IpAddr::V6(bits.into()),
    }
}

fn masked(value: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let shift = u32::from(width - prefix.min(width));
    (value >> shift) << shift
}

impl FromStr for IpMatch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let Some((base, prefix)) = s.split_once('/') else {
            return s
                .parse()
                .map(IpMatch::Exact)
                .map_err(|_| format!("{s:?} is not an IP address or CIDR network"));
        };
        let base: IpAddr = base
            .parse()
            .map_err(|_| format!("{s:?} is not a CIDR network"))?;
        let width = if base.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= width)
            .ok_or_else(|| format!("{s:?}: the prefix length must be 0–{width}"))?;
        Ok(IpMatch::Network { base, prefix })
    }
}

/// The well-known fields of an event, read without copying: implemented by
/// [`Event`] and by views that borrow from an encoded block, so filters and
/// counts allocate nothing for events they pass over.
pub trait Filterable {
    fn timestamp(&self) -> Timestamp;
    fn source(&self) -> &str;
    fn severity(&self) -> Option<u8>;
    fn category(&self) -> Option<&str>;
    fn action(&self) -> Option<&str>;
    fn outcome(&self) -> Option<&str>;
    fn host(&self) -> Option<&str>;
    fn user(&self) -> Option<&str>;
    fn source_ip(&self) -> Option<IpAddr>;
    fn source_port(&self) -> Option<u16>;
    fn destination_ip(&self) -> Option<IpAddr>;
    fn destination_port(&self) -> Option<u16>;
    fn process(&self) -> Option<&str>;
    fn url(&self) -> Option<&str>;
    fn message(&self) -> Option<&str>;

    /// The value of a well-known field by its ECS name, as text; `None` for
    /// unknown names and absent values.
    fn field_text(&self, name: &str) -> Option<String> {
        let text = |v: Option<&str>| v.map(str::to_owned);
        match name {
            "event.category" => text(self.category()),
            "event.action" => text(self.action()),
            "event.outcome" => text(self.outcome()),
            "event.severity" => self.severity().map(|s| s.to_string()),
            "source.ip" => self.source_ip().map(|ip| ip.to_string()),
            "source.port" => self.source_port().map(|p| p.to_string()),
            "destination.ip" => self.destination_ip().map(|ip| ip.to_string()),
            "destination.port" => self.destination_port().map(|p| p.to_string()),
            "host.name" => text(self.host()),
            "user.name" => text(self.user()),
            "process.name" => text(self.process()),
            "url.full" => text(self.url()),
            "message" => text(self.message()),
            "source" => Some(self.source().to_owned()),
            _ => None,
        }
    }
}

impl Filterable for Event {
    fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    fn source(&self) -> &str {
        &self.source
    }
    fn source_port(&self) -> Option<u16> {
        self.source_port
    }
    fn destination_port(&self) -> Option<u16> {
        self.destination_port
    }
    fn process(&self) -> Option<&str> {
        self.process.as_deref()
    }
    fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
    fn severity(&self) -> Option<u8> {
        self.severity
    }
    fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
    fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }
    fn outcome(&self) -> Option<&str> {
        self.outcome.as_deref()
    }
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
    fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }
    fn destination_ip(&self) -> Option<IpAddr> {
        self.destination_ip
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

/// A condition beyond the filter's fields (a hunt's query), checked on
/// what an event read in place can say.
pub trait EventCondition: Send + Sync {
    /// False only when the event cannot match; fields the view does not
    /// know leave it to the caller's full check.
    fn may_match(&self, event: &dyn Filterable) -> bool;
    /// Whether `may_match` is exact (the condition names only fields an
    /// event read in place knows).
    fn decided_in_place(&self) -> bool;
    /// Groups of needles of which every matching event's message contains
    /// at least one per group, ignoring case (none: no such requirement).
    fn message_needles(&self) -> Vec<Vec<String>> {
        Vec::new()
    }
    /// The field, when the condition tests one field's value and nothing
    /// else (`user.name:alice`): an event then matches exactly when it has
    /// a value of that field, as an event read in place gives it, that
    /// passes [`EventCondition::value_matches`]. Stores answer counts of
    /// such a condition from per-block value counts.
    fn single_field(&self) -> Option<&str> {
        None
    }
    /// Whether a value of [`EventCondition::single_field`] passes.
    fn value_matches(&self, _value: &str) -> bool {
        false
    }
}

/// A shared [`EventCondition`]; equal only to itself.
#[derive(Clone)]
pub struct Condition(pub std::sync::Arc<dyn EventCondition>);

impl Condition {
    pub fn may_match(&self, event: &dyn Filterable) -> bool {
        self.0.may_match(event)
    }

    pub fn decided_in_place(&self) -> bool {
        self.0.decided_in_place()
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condition(..)")
    }
}

/// A query over events. Every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventFilter {
    /// Inclusive lower bound on `@timestamp`.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound on `@timestamp`.
    pub to: Option<Timestamp>,
    pub min_severity: Option<u8>,
    pub category: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub source_ip: Option<IpMatch>,
    pub destination_ip: Option<IpMatch>,
    pub host: Option<String>,
    pub user: Option<String>,
    /// Case-insensitive substring of the message.
    pub text: Option<String>,
    /// A hunt's whole condition, checked on what an event read in place
    /// can say (stores that cannot check it return more, never fewer).
    pub condition: Option<Condition>,
}

impl EventFilter {
    /// True when the filter asks for a time range and nothing else.
    pub fn is_time_range_only(&self) -> bool {
        *self
            == EventFilter {
                from: self.from,
                to: self.to,
                ..EventFilter::default()
            }
    }

    pub fn matches(&self, event: &dyn Filterable) -> bool {
        // Fields are read only when the filter asks for them: an event read
        // in place may still have to decode them.
        fn eq<'e>(want: &Option<String>, have: impl FnOnce() -> Option<&'e str>) -> bool {
            want.as_ref().is_none_or(|w| have() == Some(w.as_str()))
        }
        fn ip(want: &Option<IpMatch>, have: impl FnOnce() -> Option<IpAddr>) -> bool {
            want.as_ref()
                .is_none_or(|w| have().is_some_and(|h| w.matches(h)))
        }
        let timestamp = event.timestamp();
        self.from.is_none_or(|from| timestamp >= from)
            && self.to.is_none_or(|to| timestamp < to)
            && self
                .min_severity
                .is_none_or(|min| event.severity().is_some_and(|s| s >= min))
            && eq(&self.category, || event.category())
            && eq(&self.action, || event.action())
            && eq(&self.outcome, || event.outcome())
            && eq(&self.host, || event.host())
            && eq(&self.user, || event.user())
            && ip(&self.source_ip, || event.source_ip())
            && ip(&self.destination_ip, || event.destination_ip())
            && self.text.as_ref().is_none_or(|needle| {
                event
                    .message()
                    .is_some_and(|m| contains_ignore_case(m, needle))
            })
            && self.condition.as_ref().is_none_or(|c| c.may_match(event))
    }

    /// Exact `(field, value)` terms every match carries: what a block's
    /// membership summary can rule out without reading the block.
    pub fn required_terms(&self) -> Vec<(&'static str, String)> {
        let mut terms = Vec::new();
        let mut push = |field: &'static str, value: Option<String>| {
            if let Some(v) = value {
                terms.push((field, v));
            }
        };
        push("event.category", self.category.clone());
        push("event.action", self.action.clone());
        push("event.outcome", self.outcome.clone());
        push("host.name", self.host.clone());
        push("user.name", self.user.clone());
        for group in self.address_alternatives() {
            if let [(field, value)] = &group[..] {
                terms.push((field, value.clone()));
            }
        }
        terms
    }

    /// Groups of needles of which a match's message contains at least one
    /// each, ignoring case: what a block's message trigrams can rule out.
    pub fn message_needles(&self) -> Vec<Vec<String>> {
        let mut groups: Vec<Vec<String>> = self.text.iter().map(|t| vec![t.clone()]).collect();
        if let Some(condition) = &self.condition {
            groups.extend(condition.0.message_needles());
        }
        groups
    }

    /// Groups of summary terms of which a match carries at least one each
    /// (networks made of several recorded ones); single terms are in
    /// [`EventFilter::required_terms`].
    pub fn any_of_terms(&self) -> Vec<Vec<(&'static str, String)>> {
        self.address_alternatives()
            .into_iter()
            .filter(|group| group.len() > 1)
            .collect()
    }

    fn address_alternatives(&self) -> Vec<Vec<(&'static str, String)>> {
        [
            ("source.ip", &self.source_ip),
            ("destination.ip", &self.destination_ip),
        ]
        .into_iter()
        .filter_map(|(field, want)| want.as_ref().map(|w| w.summary_alternatives(field)))
        .filter(|group| !group.is_empty())
        .collect()
    }
}

/// Case-insensitive substring test (Unicode lower-casing of both sides).
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if needle.is_ascii() && haystack.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        let Some(&first) = n.first() else {
            return true;
        };
        // Candidates start with the needle's first letter in either case.
        let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
        return memchr::memchr2_iter(lower, upper, h).any(|at| {
            h.get(at..at + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(n))
        });
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_contained_ignoring_case() {
        for (haystack, needle, want) in [
            ("Failed password for root", "PASSWORD", true),
            ("Failed password for root", "root", true),
            ("Failed password for root", "roots", false),
            ("aAab", "aab", true),
            ("abc", "abcd", false),
            ("", "", true),
            ("xyz", "", true),
            ("", "x", false),
            ("DROP IN=eth0", "in=ETH0", true),
            ("Grüße aus MÜNCHEN", "münchen", true),
            ("\u{212A}ey", "key", true),
        ] {
            assert_eq!(
                contains_ignore_case(haystack, needle),
                want,
                "{haystack:?} {needle:?}"
            );
        }
    }

    #[test]
    fn cidr_and_exact_ip_matching() {
        let net: IpMatch = "203.0.113.0/24".parse().unwrap();
        assert!(net.matches("203.0.113.9".parse().unwrap()));
        assert!(!net.matches("203.0.114.9".parse().unwrap()));
        assert!(!net.matches("2001:db8::1".parse().unwrap()));
        let all: IpMatch = "0.0.0.0/0".parse().unwrap();
        assert!(all.matches("8.8.8.8".parse().unwrap()));
        let v6: IpMatch = "2001:db8::/32".parse().unwrap();
        assert!(v6.matches("2001:db8:1::5".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpMatch>().is_err());
        assert!("nope".parse::<IpMatch>().is_err());
        assert_eq!(
            "10.1.1.1".parse::<IpMatch>().unwrap(),
            IpMatch::Exact("10.1.1.1".parse().unwrap())
        );
    }

    #[test]
    fn every_condition_must_hold() {
        let event = Event {
            timestamp: Timestamp(1000),
            severity: Some(3),
            action: Some("ssh_login".into()),
            source_ip: Some("10.0.0.5".parse().unwrap()),
            message: Some("Failed password for ROOT".into()),
            ..Event::default()
        };
        let mut f = EventFilter {
            from: Some(Timestamp(1000)),
            to: Some(Timestamp(1001)),
            min_severity: Some(3),
            action: Some("ssh_login".into()),
            source_ip: Some("10.0.0.0/8".parse().unwrap()),
            text: Some("password for root".into()),
            ..EventFilter::default()
        };
        assert!(f.matches(&event));
        f.to = Some(Timestamp(1000));
        assert!(!f.matches(&event));
        f.to = None;
        f.user = Some("root".into());
        assert!(!f.matches(&event));
    }
}
