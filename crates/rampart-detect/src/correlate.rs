//! Streaming correlation state: per correlation rule and group-by key, the
//! matches inside the rule's timespan. Time is the events' own timestamps
//! (a parameter, never the wall clock); state expires with its window and
//! the number of tracked groups is capped, so memory stays bounded.

use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;

use rampart_core::EventId;

use crate::sigma::{CorrelationKind, CorrelationRule, CountCondition};

/// Most event ids an alert carries.
pub const MAX_ALERT_EVENTS: usize = 100;

/// How much state a [`Correlator`] may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most groups tracked per correlation rule; past it the least recently
    /// updated groups are dropped.
    pub max_groups: usize,
    /// Expired groups are swept after this many updates.
    pub sweep_every: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_groups: 100_000,
            sweep_every: 4096,
        }
    }
}

/// The evaluated form of one correlation rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Window {
    pub kind: CorrelationKind,
    pub timespan_ms: i64,
    pub condition: Option<CountCondition>,
    /// For temporal rules: how many rules must each match.
    pub steps: usize,
}

impl Window {
    pub fn of(rule: &CorrelationRule) -> Window {
        Window {
            kind: rule.kind.clone(),
            timespan_ms: rule.timespan_ms,
            condition: rule.condition,
            steps: rule.rules.len(),
        }
    }
}

/// What one group has seen inside its window.
#[derive(Debug)]
enum Seen {
    Count(VecDeque<(i64, EventId)>),
    /// Distinct values, each with when it was last seen and by which event.
    Values(Vec<(String, i64, EventId)>),
    /// Per step, when it last matched and with which events.
    Steps(Vec<Option<(i64, Vec<EventId>)>>),
}

#[derive(Debug)]
struct Group {
    seen: Seen,
    newest: i64,
}

/// State of one correlation rule.
#[derive(Debug, Default)]
struct RuleState {
    /// Keyed by [`group_key`].
    groups: HashMap<String, Group, RandomState>,
    newest: i64,
    updates: u64,
}

/// A correlation that fired: its group and the events that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub events: Vec<EventId>,
}

/// The state of every correlation rule of one rule set (one organisation).
#[derive(Debug, Default)]
pub struct Correlator {
    /// Keyed by the correlation's key and its window definition, so that a
    /// rebuilt rule set keeps the state of the rules that did not change.
    rules: HashMap<StateKey, RuleState, RandomState>,
    limits: Limits,
}

/// Which state a correlation uses: its rule key and its window.
pub type StateKey = (String, Window);

impl Correlator {
    pub fn new(limits: Limits) -> Correlator {
        Correlator {
            rules: HashMap::default(),
            limits,
        }
    }

    /// Groups tracked across all rules (a gauge for operators).
    pub fn tracked_groups(&self) -> usize {
        self.rules.values().map(|r| r.groups.len()).sum()
    }

    /// Drops the state of rules no longer in `keep`.
    pub fn retain(&mut self, keep: &[StateKey]) {
        self.rules.retain(|key, _| keep.contains(key));
    }

    /// Records that step `step` of correlation `key` matched at `ts` for
    /// `group` (its [`group_key`]), with `value` (value_count's field) and
    /// `events`; returns
    /// the events when the correlation fires. A group that fired starts
    /// over, so the next alert needs a whole new set of matches.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        key: &StateKey,
        window: &Window,
        group: &str,
        step: usize,
        ts: i64,
        value: Option<&str>,
        events: &[EventId],
    ) -> Option<Fired> {
        let limits = self.limits;
        if !self.rules.contains_key(key) {
            self.rules.insert(key.clone(), RuleState::default());
        }
        let state = self.rules.get_mut(key)?;
        state.newest = state.newest.max(ts);
        state.updates += 1;
        if state.updates.is_multiple_of(limits.sweep_every)
            || state.groups.len() >= limits.max_groups
        {
            sweep(state, window.timespan_ms, limits.max_groups);
        }
        if ts < state.newest - window.timespan_ms {
            return None; // older than every window still open
        }
        // Looked up by reference: most updates find their group, and only
        // a new group copies its key.
        if !state.groups.contains_key(group) {
            let seen = match &window.kind {
                CorrelationKind::EventCount => Seen::Count(VecDeque::new()),
                CorrelationKind::ValueCount { .. } => Seen::Values(Vec::new()),
                CorrelationKind::Temporal { .. } => Seen::Steps(vec![None; window.steps]),
            };
            state
                .groups
                .insert(group.to_owned(), Group { seen, newest: ts });
        }
        let group_state = state.groups.get_mut(group)?;
        group_state.newest = group_state.newest.max(ts);
        let horizon = group_state.newest - window.timespan_ms;
        let fired = match (&mut group_state.seen, &window.kind) {
            (Seen::Count(entries), _) => {
                // One update counts once (a chained correlation's firing
                // carries several events; its first stands for it).
                if let Some(&first) = events.first() {
                    entries.push_back((ts, first));
                }
                entries.retain(|(t, _)| *t >= horizon);
                let condition = window.condition.unwrap_or(ONE);
                condition
                    .holds(entries.len() as u64)
                    .then(|| entries.iter().map(|(_, e)| *e).collect())
            }
            (Seen::Values(entries), _) => match value {
                None => None,
                Some(value) => {
                    match entries.iter_mut().find(|(v, _, _)| v == value) {
                        Some(entry) if entry.1 <= ts => {
                            entry.1 = ts;
                            entry.2 = events.first().copied().unwrap_or(entry.2);
                        }
                        Some(_) => {}
                        None => {
                            if let Some(&first) = events.first() {
                                entries.push((value.to_owned(), ts, first));
                            }
                        }
                    }
                    entries.retain(|(_, t, _)| *t >= horizon);
                    let condition = window.condition.unwrap_or(ONE);
                    condition
                        .holds(entries.len() as u64)
                        .then(|| entries.iter().map(|(_, _, e)| *e).collect())
                }
            },
            (Seen::Steps(steps), CorrelationKind::Temporal { ordered }) => {
                let admitted = !*ordered
                    || step == 0
                    || steps
                        .get(step - 1)
                        .and_then(Option::as_ref)
                        .is_some_and(|(t, _)| *t <= ts);
                if admitted {
                    if let Some(slot) = steps.get_mut(step) {
                        *slot = Some((ts, events.to_vec()));
                    }
                }
                for slot in steps.iter_mut() {
                    if slot.as_ref().is_some_and(|(t, _)| *t < horizon) {
                        *slot = None;
                    }
                }
                let complete = steps.iter().all(Option::is_some);
                let in_order = !*ordered
                    || steps
                        .windows(2)
                        .all(|w| matches!((&w[0], &w[1]), (Some((a, _)), Some((b, _))) if a <= b));
                (complete && in_order).then(|| {
                    steps
                        .iter()
                        .flatten()
                        .flat_map(|(_, events)| events.iter().copied())
                        .collect()
                })
            }
            (Seen::Steps(_), _) => None,
        };
        let mut events: Vec<EventId> = fired?;
        state.groups.remove(group);
        events.sort_unstable();
        events.dedup();
        events.truncate(MAX_ALERT_EVENTS);
        Some(Fired { events })
    }
}

/// One string naming a group by its group-by values, in order: a single
/// value as it is, several each prefixed by their length (so no two lists
/// give the same key). Written into `out`, which is cleared first.
pub fn group_key<'v>(values: impl IntoIterator<Item = &'v str>, out: &mut String) {
    use std::fmt::Write as _;
    out.clear();
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        return;
    };
    match values.next() {
        None => out.push_str(first),
        Some(second) => {
            for value in [first, second].into_iter().chain(values) {
                let _ = write!(out, "{}:{value}", value.len());
            }
        }
    }
}

const ONE: CountCondition = CountCondition {
    lower: 1,
    upper: None,
};

/// Drops expired groups; past `max_groups`, also the least recently updated.
fn sweep(state: &mut RuleState, timespan_ms: i64, max_groups: usize) {
    let horizon = state.newest - timespan_ms;
    state.groups.retain(|_, g| g.newest >= horizon);
    if state.groups.len() >= max_groups {
        let keep = max_groups / 2;
        let mut newest: Vec<i64> = state.groups.values().map(|g| g.newest).collect();
        let cut = newest.len() - keep;
        let (_, cutoff, _) = newest.select_nth_unstable(cut);
        let cutoff = *cutoff;
        state.groups.retain(|_, g| g.newest >= cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(values: &[&str]) -> String {
        let mut out = String::from("stale");
        group_key(values.iter().copied(), &mut out);
        out
    }

    #[test]
    fn group_keys_name_one_list_of_values_each() {
        assert_eq!(key(&[]), "");
        assert_eq!(key(&["203.0.113.9"]), "203.0.113.9");
        assert_eq!(key(&["a", "bc"]), "1:a2:bc");
        // Values that would run together under a separator stay apart.
        assert_ne!(key(&["a:b", "c"]), key(&["a", "b:c"]));
        assert_ne!(key(&["1:a", ""]), key(&["", "1:a"]));
    }
}
