//! One sshd login attempt, one count: sshd logs "Invalid user X from IP
//! port P" and then "Failed password for invalid user X from IP port P" for
//! the same attempt. [`SshAttempts`] remembers whichever of the two lines
//! it sees first, so the other is marked as its continuation, even when
//! two batches are scanned out of order. State is bounded by age and size.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use rampart_core::Event;

/// How long an "Invalid user" line waits for its "Failed password" line.
const PENDING_MS: i64 = 10 * 60 * 1000;
/// Most attempts remembered at once.
const MAX_PENDING: usize = 100_000;

/// Which line of the pair was seen: true for "Invalid user".
type AttemptKey = (IpAddr, Option<u16>, String, bool);

/// Open "Invalid user" attempts of one organisation.
#[derive(Debug)]
pub struct SshAttempts {
    pending: HashMap<AttemptKey, i64>,
    order: VecDeque<(AttemptKey, i64)>,
    /// The newest line's time: lines arrive out of order, so a line waits
    /// for its pair until it is this far behind the newest, plus lateness.
    newest: i64,
    lateness_ms: i64,
}

impl Default for SshAttempts {
    /// With the default allowed lateness of correlation (an hour).
    fn default() -> Self {
        SshAttempts::new(crate::correlate::Limits::default().allowed_lateness_ms)
    }
}

impl SshAttempts {
    /// Pairs lines up to `lateness_ms` (event time) out of order.
    pub fn new(lateness_ms: i64) -> SshAttempts {
        SshAttempts {
            pending: HashMap::new(),
            order: VecDeque::new(),
            newest: i64::MIN,
            lateness_ms,
        }
    }

    /// True when `event` could concern an attempt (cheap pre-check).
    pub fn concerns(event: &Event) -> bool {
        matches!(
            event.action.as_deref(),
            Some("ssh_invalid_user" | "ssh_login")
        ) && event.outcome.as_deref() == Some("failure")
    }

    /// Records `event`; true when it continues an attempt already seen.
    pub fn observe(&mut self, event: &Event) -> bool {
        if !Self::concerns(event) {
            return false;
        }
        let (Some(ip), Some(user)) = (event.source_ip, event.user.as_ref()) else {
            return false;
        };
        let ts = event.timestamp.0;
        self.newest = self.newest.max(ts);
        self.expire();
        let invalid_line = event.action.as_deref() == Some("ssh_invalid_user");
        let for_invalid_user = invalid_line
            || event
                .message
                .as_deref()
                .is_some_and(|m| m.contains(" for invalid user "));
        if !for_invalid_user {
            return false;
        }
        let (port, user) = (event.source_port, user.clone());
        // The other line of the pair, if it came first, makes this one its continuation.
        let other = (ip, port, user.clone(), !invalid_line);
        if self.pending.remove(&other).is_some() {
            return true;
        }
        let key = (ip, port, user, invalid_line);
        self.pending.insert(key.clone(), ts);
        self.order.push_back((key, ts));
        false
    }

    fn expire(&mut self) {
        let horizon = self
            .newest
            .saturating_sub(PENDING_MS)
            .saturating_sub(self.lateness_ms);
        while let Some((key, at)) = self.order.front() {
            if *at >= horizon && self.order.len() <= MAX_PENDING {
                break;
            }
            if self.pending.get(key) == Some(at) {
                self.pending.remove(key);
            }
            self.order.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::Timestamp;

    fn line(action: &str, port: u16, message: &str, at: i64) -> Event {
        Event {
            timestamp: Timestamp(at),
            action: Some(action.into()),
            outcome: Some("failure".into()),
            source_ip: "203.0.113.9".parse().ok(),
            source_port: Some(port),
            user: Some("admin".into()),
            message: Some(message.into()),
            ..Event::default()
        }
    }

    #[test]
    fn the_failed_password_after_invalid_user_continues_it_once() {
        let mut a = SshAttempts::default();
        let invalid = line(
            "ssh_invalid_user",
            5000,
            "Invalid user admin from 203.0.113.9 port 5000",
            0,
        );
        let failed = line(
            "ssh_login",
            5000,
            "Failed password for invalid user admin from 203.0.113.9 port 5000 ssh2",
            1,
        );
        assert!(!a.observe(&invalid));
        assert!(a.observe(&failed));
        // A second password try on the same connection is a new attempt.
        assert!(!a.observe(&failed));
        // Another connection (another port) is its own attempt.
        assert!(!a.observe(&line(
            "ssh_login",
            5001,
            "Failed password for invalid user admin from 203.0.113.9 port 5001 ssh2",
            2
        )));
        // A failure for a valid user never continues anything.
        let mut a = SshAttempts::default();
        assert!(!a.observe(&invalid));
        assert!(!a.observe(&line(
            "ssh_login",
            5000,
            "Failed password for admin from 203.0.113.9 port 5000 ssh2",
            3
        )));
    }

    #[test]
    fn the_pair_is_one_attempt_in_either_order() {
        let mut a = SshAttempts::default();
        let failed = line(
            "ssh_login",
            7,
            "Failed password for invalid user admin from 203.0.113.9 port 7 ssh2",
            0,
        );
        let invalid = line(
            "ssh_invalid_user",
            7,
            "Invalid user admin from 203.0.113.9 port 7",
            0,
        );
        assert!(!a.observe(&failed), "the first seen counts");
        assert!(!a.observe(&failed), "a second password try counts");
        assert!(
            a.observe(&invalid),
            "the late Invalid user line is the continuation"
        );
        assert!(a.is_empty());
    }

    #[test]
    fn pending_attempts_expire() {
        let mut a = SshAttempts::new(0);
        a.observe(&line(
            "ssh_invalid_user",
            1,
            "Invalid user admin from 203.0.113.9 port 1",
            0,
        ));
        let late = line(
            "ssh_login",
            1,
            "Failed password for invalid user admin from 203.0.113.9 port 1 ssh2",
            PENDING_MS + 1,
        );
        assert!(!a.observe(&late));
        assert_eq!(
            a.len(),
            1,
            "only the late line waits; the expired one is gone"
        );
    }

    #[test]
    fn lines_pair_up_across_out_of_order_batches_within_the_lateness() {
        let mut a = SshAttempts::new(3_600_000);
        a.observe(&line(
            "ssh_invalid_user",
            1,
            "Invalid user admin from 203.0.113.9 port 1",
            0,
        ));
        // A batch from half an hour later arrives before the pair's second line.
        a.observe(&line(
            "ssh_invalid_user",
            2,
            "Invalid user admin from 203.0.113.9 port 2",
            1_800_000,
        ));
        let pair = line(
            "ssh_login",
            1,
            "Failed password for invalid user admin from 203.0.113.9 port 1 ssh2",
            1,
        );
        assert!(a.observe(&pair));
    }
}
