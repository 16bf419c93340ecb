//! Guards outgoing connections to targets users configure (webhooks, SMTP
//! servers) against server-side request forgery: only public addresses,
//! checked after DNS resolution and at connect time (the resolver used
//! for the connection is the one that checks, so a name cannot resolve to
//! a public address for the check and a private one for the connection).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether targets may be private (tests, and deployments that notify
/// services on their own network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

impl TargetPolicy {
    /// Why `ip` may not be connected to, if it may not.
    pub fn refusal(self, ip: IpAddr) -> Option<&'static str> {
        if self.allow_private {
            return None;
        }
        non_public(ip)
    }

    /// Resolves `host` and keeps its addresses only if every one of them
    /// may be connected to (a name with one private address among public
    /// ones is refused whole).
    pub async fn resolve(self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(format!("{host} has no addresses"));
        }
        for addr in &addrs {
            if let Some(why) = self.refusal(addr.ip()) {
                return Err(format!(
                    "{host} resolves to {} ({why}); private targets are not allowed \
                     ([notifications] allow_private_targets)",
                    addr.ip()
                ));
            }
        }
        Ok(addrs)
    }
}

/// What kind of non-public address `ip` is, if it is one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local or cloud metadata")
    } else if a == 0 || ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space")
    } else if (a, b, c) == (192, 0, 0)
        || (a, b, c) == (192, 0, 2)
        || (a, b, c) == (198, 51, 100)
        || (a, b, c) == (203, 0, 113)
        || (a == 198 && (b == 18 || b == 19))
    {
        Some("special-purpose")
    } else {
        None
    }
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let embedded = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return non_public_v4(embedded);
    }
    if ip.is_loopback() || ip.is_unspecified() {
        Some("loopback")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("unique local (private)")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some("documentation")
    } else if segments[..6] == [0; 6] {
        Some("IPv4-compatible (deprecated)")
    } else {
        None
    }
}

/// A resolver for reqwest that refuses names resolving to addresses the
/// policy forbids: it is asked at connect time, redirects included.
pub struct GuardedResolver(pub TargetPolicy);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = policy
                .resolve(&host, 0)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Checks a URL's scheme and, when its host is an address literal (which
/// reqwest connects to without asking the resolver), that address.
pub fn check_url(policy: TargetPolicy, url: &reqwest::Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {} is not allowed", url.scheme()));
    }
    let refusal = match url.host() {
        Some(url::Host::Ipv4(ip)) => policy
            .refusal(IpAddr::V4(ip))
            .map(|why| (ip.to_string(), why)),
        Some(url::Host::Ipv6(ip)) => policy
            .refusal(IpAddr::V6(ip))
            .map(|why| (ip.to_string(), why)),
        Some(url::Host::Domain(_)) => None,
        None => return Err("the URL has no host".into()),
    };
    match refusal {
        Some((ip, why)) => Err(format!(
            "{ip} is {why}; private targets are not allowed ([notifications] allow_private_targets)"
        )),
        None => Ok(()),
    }
}

/// An HTTP client whose every connection and redirect the policy checks.
pub fn http_client(
    policy: TargetPolicy,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 3 {
            return attempt.error("more than 3 redirects");
        }
        match check_url(policy, attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(why) => attempt.error(format!("redirect refused: {why}")),
        }
    });
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver(policy)))
        .redirect(redirects)
        .timeout(timeout)
        .user_agent(concat!("Rampart/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "::127.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(non_public(ip).is_some(), "{ip}");
            assert_eq!(
                TargetPolicy {
                    allow_private: true
                }
                .refusal(ip),
                None
            );
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public(ip), None, "{ip}");
        }
    }

    #[tokio::test]
    async fn names_and_literals_are_checked_after_resolution() {
        let strict = TargetPolicy {
            allow_private: false,
        };
        let refused = strict.resolve("localhost", 25).await;
        assert!(refused.is_err_and(|e| e.contains("loopback")));
        let literal = strict.resolve("[::1]", 25).await;
        assert!(literal.is_err());
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(check_url(strict, &url("http://169.254.169.254/latest/meta-data")).is_err());
        assert!(check_url(strict, &url("http://[::ffff:a00:1]/")).is_err());
        assert!(check_url(strict, &url("ftp://example.com/")).is_err());
        assert!(check_url(strict, &url("https://example.com/hook")).is_ok());
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.resolve("127.0.0.1", 25).await.is_ok());
    }
}
