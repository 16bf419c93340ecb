//! Trying rules on sample events without storing anything: the same
//! matching, attempt marking and correlation as the ingest path, over a
//! fresh state (used by `rampart rules test` and the rules API).

use rampart_core::{Event, EventId};

use crate::correlate::Correlator;
use crate::detector::{Alert, Detector};
use crate::engine::Scratch;
use crate::sshd::SshAttempts;

/// What a set of rules made of a list of events.
#[derive(Debug, Default)]
pub struct TestOutcome {
    pub total: usize,
    /// `(event index, detection rules it matched)`, for matched events.
    pub matches: Vec<(usize, Vec<usize>)>,
    /// Every alert raised; event ids are the events' indices.
    pub alerts: Vec<Alert>,
}

/// Runs `events`, in order, through `detector`.
pub fn test_events(detector: &Detector, events: &[Event]) -> TestOutcome {
    let mut attempts = SshAttempts::default();
    let mut correlator = Correlator::default();
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let mut outcome = TestOutcome {
        total: events.len(),
        ..TestOutcome::default()
    };
    for (index, event) in events.iter().enumerate() {
        let continued = attempts.observe(event);
        let captured = detector.scan(event, continued, &mut scratch, &mut hits);
        if hits.is_empty() {
            continue;
        }
        if let Some(captured) = captured {
            for &rule in &hits {
                detector.correlate(
                    &mut correlator,
                    rule,
                    event.timestamp.0,
                    &captured,
                    EventId(index as u64),
                    &mut outcome.alerts,
                );
            }
        }
        outcome.matches.push((index, hits.clone()));
    }
    outcome
}
