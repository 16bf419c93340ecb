//! OpenSSH server log messages into authentication events: failed and
//! accepted logins, invalid users and disconnects, with user and source.

use std::net::IpAddr;

use crate::event::Event;

/// What one sshd message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SshdEvent {
    /// `Failed password for [invalid user] X from IP port P ssh2` and
    /// `Accepted publickey for X from IP port P ssh2`.
    Login {
        success: bool,
        method: String,
        user: String,
        invalid_user: bool,
        ip: IpAddr,
        port: Option<u16>,
    },
    /// `Invalid user X from IP port P`.
    InvalidUser {
        user: String,
        ip: IpAddr,
        port: Option<u16>,
    },
    /// `Disconnected from …`, `Received disconnect from …`, `Connection closed by …`.
    Disconnect {
        user: Option<String>,
        ip: IpAddr,
        port: Option<u16>,
    },
}

impl SshdEvent {
    /// Parses one sshd message; `None` when it is not one of the above.
    pub fn parse(message: &str) -> Option<Self> {
        let message = message.trim();
        // rsyslog folds repeats: "message repeated 3 times: [ Failed password …]"
        let message = match message.strip_prefix("message repeated ") {
            Some(rest) => rest
                .split_once(": [")?
                .1
                .trim()
                .trim_end_matches(']')
                .trim(),
            None => message,
        };
        if let Some(rest) = message.strip_prefix("Failed ") {
            return login(rest, false);
        }
        if let Some(rest) = message.strip_prefix("Accepted ") {
            return login(rest, true);
        }
        if let Some(rest) = message.strip_prefix("Invalid user ") {
            let (user, ip, port) = user_from(rest, " from ")?;
            return Some(SshdEvent::InvalidUser { user, ip, port });
        }
        for prefix in ["Disconnected from ", "Connection closed by "] {
            if let Some(rest) = message.strip_prefix(prefix) {
                return disconnect(rest);
            }
        }
        if let Some(rest) = message.strip_prefix("Received disconnect from ") {
            let (ip, port) = address(rest)?;
            return Some(SshdEvent::Disconnect {
                user: None,
                ip,
                port,
            });
        }
        None
    }
}

/// `METHOD for [invalid user ]USER from IP port PORT ssh2…`
fn login(rest: &str, success: bool) -> Option<SshdEvent> {
    let (method, rest) = rest.split_once(" for ")?;
    let (invalid_user, rest) = match rest.strip_prefix("invalid user ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let (user, ip, port) = user_from(rest, " from ")?;
    Some(SshdEvent::Login {
        success,
        method: method.to_owned(),
        user,
        invalid_user,
        ip,
        port,
    })
}

/// `[invalid |authenticating ]user USER IP port PORT…` or `IP port PORT…`.
fn disconnect(rest: &str) -> Option<SshdEvent> {
    let rest = rest
        .strip_prefix("invalid ")
        .or_else(|| rest.strip_prefix("authenticating "))
        .unwrap_or(rest);
    if let Some(rest) = rest.strip_prefix("user ") {
        let (user, ip, port) = user_from(rest, " ")?;
        return Some(SshdEvent::Disconnect {
            user: Some(user),
            ip,
            port,
        });
    }
    let (ip, port) = address(rest)?;
    Some(SshdEvent::Disconnect {
        user: None,
        ip,
        port,
    })
}

/// `USER<sep>IP port PORT…`, where the user name may itself hold spaces,
/// so the address is found from the right.
fn user_from(rest: &str, separator: &str) -> Option<(String, IpAddr, Option<u16>)> {
    let mut search = rest.len();
    while let Some(at) = rest.get(..search)?.rfind(separator) {
        let user = rest.get(..at)?;
        if let Some((ip, port)) = rest.get(at + separator.len()..).and_then(address) {
            if !user.is_empty() {
                return Some((user.to_owned(), ip, port));
            }
        }
        search = at;
    }
    None
}

/// `IP[ port PORT]…`
fn address(rest: &str) -> Option<(IpAddr, Option<u16>)> {
    let mut words = rest.split(' ').filter(|w| !w.is_empty());
    let first = words.next()?;
    let ip = first
        .parse()
        .or_else(|_| first.trim_end_matches(':').parse())
        .ok()?;
    let port = match words.next() {
        Some("port") => words
            .next()
            .and_then(|p| p.split(':').next())
            .and_then(|p| p.parse().ok()),
        _ => None,
    };
    Some((ip, port))
}

/// Fills an sshd event's ECS fields from its message; returns the login
/// method when there is one, so the caller can keep it.
pub fn enrich_sshd(event: &mut Event) -> Option<String> {
    let parsed = SshdEvent::parse(event.message.as_deref()?)?;
    let mut method = None;
    match parsed {
        SshdEvent::Login {
            success,
            method: how,
            user,
            ip,
            port,
            ..
        } => {
            event.category = Some("authentication".into());
            event.action = Some("ssh_login".into());
            event.outcome = Some(if success { "success" } else { "failure" }.into());
            event.user = Some(user);
            event.source_ip = Some(ip);
            event.source_port = port;
            method = Some(how);
        }
        SshdEvent::InvalidUser { user, ip, port } => {
            event.category = Some("authentication".into());
            event.action = Some("ssh_invalid_user".into());
            event.outcome = Some("failure".into());
            event.user = Some(user);
            event.source_ip = Some(ip);
            event.source_port = port;
        }
        SshdEvent::Disconnect { user, ip, port } => {
            event.category = Some("session".into());
            event.action = Some("ssh_disconnect".into());
            event.user = user;
            event.source_ip = Some(ip);
            event.source_port = port;
        }
    }
    method
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn failed_password_for_invalid_user() {
        let e = SshdEvent::parse(
            "Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2",
        );
        assert_eq!(
            e,
            Some(SshdEvent::Login {
                success: false,
                method: "password".into(),
                user: "admin".into(),
                invalid_user: true,
                ip: ip("203.0.113.9"),
                port: Some(52144)
            })
        );
    }

    #[test]
    fn the_other_shapes() {
        let accepted = SshdEvent::parse(
            "Accepted publickey for alice from 2001:db8::7 port 50022 ssh2: ED25519 SHA256:abc",
        );
        assert!(
            matches!(accepted, Some(SshdEvent::Login { success: true, ref user, .. }) if user == "alice")
        );
        let invalid = SshdEvent::parse("Invalid user oracle db from 203.0.113.9 port 4000");
        assert_eq!(
            invalid,
            Some(SshdEvent::InvalidUser {
                user: "oracle db".into(),
                ip: ip("203.0.113.9"),
                port: Some(4000)
            })
        );
        for line in [
            "Disconnected from invalid user admin 203.0.113.9 port 52144 [preauth]",
            "Disconnected from authenticating user root 203.0.113.9 port 52144 [preauth]",
            "Connection closed by invalid user admin 203.0.113.9 port 52144 [preauth]",
        ] {
            assert!(
                matches!(
                    SshdEvent::parse(line),
                    Some(SshdEvent::Disconnect {
                        user: Some(_),
                        port: Some(52144),
                        ..
                    })
                ),
                "{line}"
            );
        }
        assert!(matches!(
            SshdEvent::parse(
                "Received disconnect from 203.0.113.9 port 52144:11: Bye Bye [preauth]"
            ),
            Some(SshdEvent::Disconnect {
                user: None,
                port: Some(52144),
                ..
            })
        ));
        assert!(matches!(
            SshdEvent::parse(
                "message repeated 2 times: [ Failed password for root from 10.0.0.1 port 22 ssh2]"
            ),
            Some(SshdEvent::Login { success: false, .. })
        ));
        assert_eq!(
            SshdEvent::parse("Server listening on 0.0.0.0 port 22."),
            None
        );
        assert_eq!(
            SshdEvent::parse("Failed password for root from nowhere"),
            None
        );
    }

    #[test]
    fn enrichment_sets_ecs_fields() {
        let mut e = Event {
            message: Some("Failed password for root from 203.0.113.9 port 1 ssh2".into()),
            ..Event::default()
        };
        assert_eq!(enrich_sshd(&mut e).as_deref(), Some("password"));
        assert_eq!(e.action.as_deref(), Some("ssh_login"));
        assert_eq!(e.outcome.as_deref(), Some("failure"));
        assert_eq!(e.user.as_deref(), Some("root"));
        assert_eq!(e.source_port, Some(1));
    }
}
