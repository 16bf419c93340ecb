//! Rate limits by the generic cell rate algorithm (GCRA): a quota of
//! `limit` per `period` with a `burst`, kept as one number per key, the
//! theoretical arrival time (TAT) of the next request at the steady rate.
//! Pure arithmetic with time as a parameter, so that the in-process
//! limiter and the Redis script (which repeats it in Lua) agree.

use serde::{Deserialize, Serialize};

/// How much a key may do: `limit` per `period_secs` on average, up to
/// `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub limit: u64,
    pub period_secs: u64,
    pub burst: u64,
}

impl Quota {
    /// Nanoseconds between two units at the steady rate (at least 1).
    pub fn interval_ns(&self) -> i64 {
        let period = i128::from(self.period_secs) * 1_000_000_000;
        let interval = period / i128::from(self.limit.max(1));
        i64::try_from(interval.max(1)).unwrap_or(i64::MAX)
    }

    /// How far ahead of now the TAT may run: the burst's worth of units.
    pub fn tolerance_ns(&self) -> i64 {
        self.interval_ns()
            .saturating_mul(i64::try_from(self.burst).unwrap_or(i64::MAX))
    }

    /// What is wrong with it, if anything.
    pub fn problem(&self) -> Option<&'static str> {
        if self.limit == 0 || self.period_secs == 0 || self.burst == 0 {
            return Some("limit, period_secs and burst must be positive");
        }
        if self.period_secs > 86_400 {
            return Some("period_secs is at most a day");
        }
        None
    }
}

/// What a check decided, and what the response headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Units left now.
    pub remaining: u64,
    /// Seconds until the full burst is available again.
    pub reset_secs: u64,
    /// When refused: seconds until the request would pass.
    pub retry_after_secs: u64,
}

fn ceil_secs(ns: i64) -> u64 {
    u64::try_from(ns.max(0))
        .unwrap_or(0)
        .div_ceil(1_000_000_000)
}

/// How a check counts its cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Spends `cost` only if the quota allows it now.
    Check,
    /// Spends `cost` whatever the quota says (work already done), so that
    /// the next check waits for the debt to be paid.
    Charge,
}

/// Applies a request of `cost` units at `now_ns` to a key whose stored TAT
/// is `tat` (none for a new key). Returns the decision and the TAT to
/// store (none when nothing changes).
///
/// A cost larger than the burst passes only when the key is idle (its
/// whole burst available), and then runs into debt, so that one large
/// batch is possible but not a stream of them.
pub fn gcra(
    tat: Option<i64>,
    now_ns: i64,
    quota: &Quota,
    cost: u64,
    mode: Mode,
) -> (Decision, Option<i64>) {
    let interval = quota.interval_ns();
    let tolerance = quota.tolerance_ns();
    let tat = tat.unwrap_or(now_ns).max(now_ns);
    let cost_ns = interval.saturating_mul(i64::try_from(cost).unwrap_or(i64::MAX));
    let new_tat = tat.saturating_add(cost_ns);
    let remaining = |tat: i64| {
        let left = tolerance.saturating_sub(tat.saturating_sub(now_ns));
        u64::try_from(left.max(0) / interval).unwrap_or(0)
    };
    let fits = new_tat.saturating_sub(now_ns) <= tolerance;
    let oversized_but_idle = cost_ns > tolerance && tat == now_ns;
    if mode == Mode::Charge || fits || oversized_but_idle {
        let allowed = mode == Mode::Check || tat.saturating_sub(now_ns) <= tolerance;
        let decision = Decision {
            allowed,
            remaining: remaining(new_tat),
            reset_secs: ceil_secs(new_tat - now_ns),
            retry_after_secs: 0,
        };
        return (decision, Some(new_tat));
    }
    // Refused: it would pass once the TAT has fallen back far enough.
    let wait = if cost_ns > tolerance {
        tat - now_ns
    } else {
        new_tat - tolerance - now_ns
    };
    let decision = Decision {
        allowed: false,
        remaining: remaining(tat),
        reset_secs: ceil_secs(tat - now_ns),
        retry_after_secs: ceil_secs(wait).max(1),
    };
    (decision, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    fn run(quota: &Quota, times_ns: &[i64], cost: u64) -> Vec<bool> {
        let mut tat = None;
        times_ns
            .iter()
            .map(|&now| {
                let (decision, new) = gcra(tat, now, quota, cost, Mode::Check);
                if let Some(new) = new {
                    tat = Some(new);
                }
                decision.allowed
            })
            .collect()
    }

    #[test]
    fn a_burst_passes_then_the_steady_rate() {
        // 10 a second, bursts of 5.
        let quota = Quota {
            limit: 10,
            period_secs: 1,
            burst: 5,
        };
        assert_eq!(quota.interval_ns(), SEC / 10);
        let at_once = run(&quota, &[0; 7], 1);
        assert_eq!(at_once, [true, true, true, true, true, false, false]);
        // After the burst, one more every 100 ms.
        let mut tat = None;
        for _ in 0..5 {
            tat = gcra(tat, 0, &quota, 1, Mode::Check).1;
        }
        let (refused, _) = gcra(tat, SEC / 20, &quota, 1, Mode::Check);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        let (ok, _) = gcra(tat, SEC / 10, &quota, 1, Mode::Check);
        assert!(ok.allowed);
        assert_eq!(ok.remaining, 0);
        // Over a long run the rate is the limit: 100 requests every 10 ms
        // for 10 s pass 5 + 100.
        let times: Vec<i64> = (0..1000).map(|i| i * SEC / 100).collect();
        let passed = run(&quota, &times, 1).iter().filter(|a| **a).count();
        assert!((104..=106).contains(&passed), "{passed}");
    }

    #[test]
    fn remaining_and_reset_count_down() {
        let quota = Quota {
            limit: 60,
            period_secs: 60,
            burst: 10,
        };
        let (first, tat) = gcra(None, 0, &quota, 1, Mode::Check);
        assert_eq!(
            (first.allowed, first.remaining, first.reset_secs),
            (true, 9, 1)
        );
        let (four, _) = gcra(tat, 0, &quota, 4, Mode::Check);
        assert_eq!((four.remaining, four.reset_secs), (5, 5));
        // An idle key is full again.
        let (later, _) = gcra(tat, 3600 * SEC, &quota, 1, Mode::Check);
        assert_eq!(later.remaining, 9);
    }

    #[test]
    fn charges_run_into_debt_that_later_checks_wait_for() {
        let quota = Quota {
            limit: 1000,
            period_secs: 1,
            burst: 1000,
        };
        // A batch of 5,000 (more than the burst) is charged after the fact.
        let (charged, tat) = gcra(None, 0, &quota, 5000, Mode::Charge);
        assert!(charged.allowed, "the first overdraft is accepted");
        assert_eq!(tat, Some(5 * SEC));
        let (next, _) = gcra(tat, 0, &quota, 0, Mode::Check);
        assert!(!next.allowed);
        assert_eq!(next.retry_after_secs, 4);
        let (paid, _) = gcra(tat, 4 * SEC, &quota, 0, Mode::Check);
        assert!(paid.allowed);
        // A check of more than the burst passes only on an idle key.
        assert!(gcra(None, 0, &quota, 5000, Mode::Check).0.allowed);
        let busy = gcra(Some(SEC / 2), 0, &quota, 5000, Mode::Check).0;
        assert!(!busy.allowed);
        assert_eq!(busy.retry_after_secs, 1);
    }

    #[test]
    fn quotas_are_checked() {
        let ok = Quota {
            limit: 1,
            period_secs: 60,
            burst: 1,
        };
        assert_eq!(ok.problem(), None);
        assert!(Quota { limit: 0, ..ok }.problem().is_some());
        assert!(Quota { burst: 0, ..ok }.problem().is_some());
        assert!(Quota {
            period_secs: 100_000,
            ..ok
        }
        .problem()
        .is_some());
    }
}
