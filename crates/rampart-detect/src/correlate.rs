//! Streaming correlation on event time: per correlation rule and group-by
//! key, the matches in the order of their own timestamps (a parameter, never
//! the wall clock), however they arrive.
//!
//! Shippers send concurrently, retry, and hold batches, so matches of one
//! group arrive out of order. A group keeps its matches sorted by time and
//! fires *greedily*: scanning in time order, a window that ends at the
//! earliest possible moment and satisfies the condition fires, and the
//! matches up to its end are used up. The number of windows that greedy
//! scan finds depends only on the matches themselves, never on their
//! arrival order, and adding a match never lowers it (nor raises it by more
//! than one); so each arrival raises at most one alert, and the same log
//! sent in order, shuffled or from many clients raises the same alerts.
//!
//! A match later than `allowed_lateness` behind the newest match of its
//! correlation is not correlated (it is counted). State stays bounded: old
//! matches are pruned, groups expire with their windows, and past
//! `max_groups` the groups updated longest ago (in event time) are evicted
//! (counted).

use std::collections::HashMap;

use foldhash::fast::RandomState;

use rampart_core::EventId;

use crate::sigma::{CorrelationKind, CorrelationRule, CountCondition};

/// Most event ids an alert carries.
pub const MAX_ALERT_EVENTS: usize = 100;

/// How much state a [`Correlator`] may hold, and how late a match may be.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most groups tracked at once across all rules of the correlator (one
    /// organisation); past it the groups updated longest ago are evicted.
    pub max_groups: usize,
    /// How far (in event time) behind the newest match of its correlation
    /// a match may be and still be correlated.
    pub allowed_lateness_ms: i64,
    /// Expired groups are swept after this many updates of a rule.
    pub sweep_every: u64,
    /// Most matches one group keeps; past it its oldest are dropped.
    pub max_entries_per_group: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_groups: 100_000,
            allowed_lateness_ms: 3_600_000,
            sweep_every: 4096,
            max_entries_per_group: 1024,
        }
    }
}

/// What a correlator refused or dropped, since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Matches later than the allowed lateness (stored, not correlated).
    pub late: u64,
    /// Groups evicted to stay within `max_groups`.
    pub evicted: u64,
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

    /// How many matches (or distinct values) make the condition hold. A
    /// group fires when the count first reaches it, so an upper bound
    /// never decides.
    fn needed(&self) -> usize {
        self.condition
            .map_or(1, |c| usize::try_from(c.lower).unwrap_or(usize::MAX))
            .max(1)
    }
}

/// The events of one match: one for a detection rule's, several for a
/// chained correlation's firing.
#[derive(Debug, Clone)]
enum Events {
    One(EventId),
    Many(Box<[EventId]>),
}

impl Events {
    fn of(events: &[EventId]) -> Option<Events> {
        match events {
            [] => None,
            [one] => Some(Events::One(*one)),
            many => Some(Events::Many(many.into())),
        }
    }

    fn first(&self) -> EventId {
        match self {
            Events::One(id) => *id,
            // Never empty: see `of`.
            Events::Many(ids) => ids.first().copied().unwrap_or(EventId(0)),
        }
    }

    fn all(&self) -> &[EventId] {
        match self {
            Events::One(id) => std::slice::from_ref(id),
            Events::Many(ids) => ids,
        }
    }
}

/// One match of a group.
#[derive(Debug, Clone)]
struct Entry {
    ts: i64,
    step: usize,
    /// value_count's field.
    value: Option<Box<str>>,
    events: Events,
}

/// Distinct values of the entries `start..end` (value_count), kept between
/// in-order arrivals so that each costs O(1).
#[derive(Debug, Default)]
struct Distinct {
    start: usize,
    end: usize,
    counts: HashMap<Box<str>, u32, RandomState>,
}

impl Distinct {
    fn add(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            match self.counts.get_mut(v) {
                Some(n) => *n += 1,
                None => {
                    self.counts.insert(v.into(), 1);
                }
            }
        }
    }

    fn remove(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            if let Some(n) = self.counts.get_mut(v) {
                *n -= 1;
                if *n == 0 {
                    self.counts.remove(v);
                }
            }
        }
    }

    /// Moves to the entries `start..end`, adding and removing only what
    /// lies between the old bounds and the new ones.
    fn slide(&mut self, entries: &[Entry], start: usize, end: usize) {
        if start >= self.end || end <= self.start {
            self.counts.clear();
            self.start = start;
            self.end = start;
        }
        while self.end < end {
            self.add(entries[self.end].value.as_deref());
            self.end += 1;
        }
        while self.end > end {
            self.end -= 1;
            self.remove(entries[self.end].value.as_deref());
        }
        while self.start > start {
            self.start -= 1;
            self.add(entries[self.start].value.as_deref());
        }
        while self.start < start {
            self.remove(entries[self.start].value.as_deref());
            self.start += 1;
        }
    }

    /// Keeps the counts true when a match is inserted at `at`.
    fn inserted(&mut self, at: usize, value: Option<&str>) {
        if at < self.start {
            self.start += 1;
            self.end += 1;
        } else if at <= self.end {
            self.add(value);
            self.end += 1;
        }
    }
}

#[derive(Debug, Default)]
struct Group {
    /// Sorted by time, then step; equal keys in arrival order.
    entries: Vec<Entry>,
    /// The greedy firings: index of each one's last entry, ascending.
    firings: Vec<usize>,
    /// Firings whose entries were pruned.
    pruned_firings: u64,
    /// Alerts raised for this group.
    emitted: u64,
    /// Window ends already passed on to chained correlations, ascending.
    fed: Vec<i64>,
    /// The newest match's time.
    newest: i64,
    /// value_count's window, kept across in-order arrivals.
    distinct: Option<Distinct>,
    /// Where the last window began: every match before it is older than
    /// any later window (kept across in-order arrivals, so that finding a
    /// window's start is a step forward instead of a search).
    window_start: Option<usize>,
}

/// State of one correlation rule.
#[derive(Debug, Default)]
struct RuleState {
    /// Keyed by [`group_key`].
    groups: HashMap<String, Group, RandomState>,
    newest: i64,
    updates: u64,
    /// `updates` at the last sweep.
    swept: u64,
}

/// A correlation that fired: when (its window's end) and with which events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub ts: i64,
    pub events: Vec<EventId>,
    /// Whether this raises an alert. A late match can also move a window
    /// that already raised one earlier in time without adding another:
    /// then only correlations chained to this one learn of it.
    pub alert: bool,
}

/// The state of every correlation rule of one rule set (one organisation).
#[derive(Debug, Default)]
pub struct Correlator {
    /// Keyed by the correlation's key and its window definition (hashed),
    /// so that a rebuilt rule set keeps the state of the rules that did not
    /// change.
    rules: HashMap<StateId, RuleState, RandomState>,
    limits: Limits,
    groups: usize,
    counters: Counters,
}

/// Which state a correlation uses: its rule key and its window.
pub type StateKey = (String, Window);

/// A [`StateKey`] hashed once when the rules are compiled, so that each
/// match looks its state up by a number (a 64-bit digest: two different
/// keys sharing one is not a practical concern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateId(u64);

impl StateId {
    pub fn of(key: &StateKey) -> StateId {
        use std::hash::{Hash, Hasher};
        // SipHash with fixed keys: the same id for the same key on every build.
        let mut hasher = std::hash::DefaultHasher::new();
        key.hash(&mut hasher);
        StateId(hasher.finish())
    }
}

impl Correlator {
    pub fn new(limits: Limits) -> Correlator {
        Correlator {
            limits,
            ..Correlator::default()
        }
    }

    /// Groups tracked across all rules (a gauge for operators).
    pub fn tracked_groups(&self) -> usize {
        self.groups
    }

    /// Late matches and evicted groups so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Drops the state of rules no longer in `keep`.
    pub fn retain(&mut self, keep: &[StateKey]) {
        let keep: Vec<StateId> = keep.iter().map(StateId::of).collect();
        self.rules.retain(|id, _| keep.contains(id));
        self.groups = self.rules.values().map(|r| r.groups.len()).sum();
    }

    /// Records that step `step` of correlation `key` matched at `ts` for
    /// `group` (its [`group_key`]), with `value` (value_count's field) and
    /// `events`; returns the firing this match completes, if any.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        key: StateId,
        window: &Window,
        group: &str,
        step: usize,
        ts: i64,
        value: Option<&str>,
        events: &[EventId],
    ) -> Option<Fired> {
        let limits = self.limits;
        let entry_events = Events::of(events)?;
        let state = self.rules.entry(key).or_default();
        state.newest = state.newest.max(ts);
        let lateness = window
            .timespan_ms
            .saturating_add(limits.allowed_lateness_ms);
        if ts < state.newest.saturating_sub(lateness) {
            self.counters.late += 1;
            return None;
        }
        state.updates += 1;
        // Sweeps cost a visit per group: at most one per 4 updates.
        let every = limits.sweep_every.max(state.groups.len() as u64 / 4);
        if state.updates >= state.swept + every {
            state.swept = state.updates;
            self.groups -= sweep(state, window, limits);
        }
        if !state.groups.contains_key(group) {
            state.groups.insert(group.to_owned(), Group::default());
            self.groups += 1;
        }
        let group_state = state.groups.get_mut(group)?;
        group_state.newest = group_state.newest.max(ts);
        let entry = Entry {
            ts,
            step,
            value: value.map(Into::into),
            events: entry_events,
        };
        let fired = group_state.insert(entry, window);
        if group_state.entries.len() > limits.max_entries_per_group {
            let keep = limits.max_entries_per_group / 2;
            let cut = group_state.entries.len() - keep;
            group_state.prune(cut, true);
        }
        if self.groups > limits.max_groups {
            self.evict();
        }
        fired
    }

    /// Evicts the groups updated longest ago (in event time) until a tenth
    /// of `max_groups` is free again.
    fn evict(&mut self) {
        let keep = self.limits.max_groups - self.limits.max_groups / 10;
        let mut newest: Vec<i64> = self
            .rules
            .values()
            .flat_map(|r| r.groups.values().map(|g| g.newest))
            .collect();
        if newest.len() <= keep {
            return;
        }
        let cut = newest.len() - keep;
        let (_, cutoff, _) = newest.select_nth_unstable(cut);
        let cutoff = *cutoff;
        let mut evicted = 0usize;
        for state in self.rules.values_mut() {
            state.groups.retain(|_, g| {
                let stays = g.newest >= cutoff;
                evicted += usize::from(!stays);
                stays
            });
        }
        self.groups -= evicted;
        self.counters.evicted += evicted as u64;
    }
}

impl Group {
    /// Inserts a match at its place in time and re-runs the greedy scan
    /// from there; returns the firing it completes, if any.
    fn insert(&mut self, entry: Entry, window: &Window) -> Option<Fired> {
        let in_order = self
            .entries
            .last()
            .is_none_or(|last| (last.ts, last.step) <= (entry.ts, entry.step));
        let at = if in_order {
            self.entries.len()
        } else {
            self.entries
                .partition_point(|e| (e.ts, e.step) <= (entry.ts, entry.step))
        };
        if !in_order {
            // A window starting after the new match may have to start at it.
            if self.window_start.is_some_and(|start| at < start) {
                self.window_start = None;
            }
            if let Some(distinct) = &mut self.distinct {
                distinct.inserted(at, entry.value.as_deref());
            }
        }
        self.entries.insert(at, entry);
        // Firings ending at or after the new match's moment are found again
        // (a window takes every match of the moment it ends at).
        let ts = self.entries[at].ts;
        let entries = &self.entries;
        let kept = self
            .firings
            .partition_point(|&end| end < at && entries[end].ts < ts);
        self.firings.truncate(kept);
        let found = self.scan(at, window);
        let total = self.pruned_firings + self.firings.len() as u64;
        let alert = total > self.emitted;
        self.emitted = self.emitted.max(total);
        // The earliest window end chained correlations have not seen yet.
        let unseen = found
            .iter()
            .position(|f| self.fed.binary_search(&f.ts).is_err());
        let mut fired = match (unseen, alert) {
            (Some(i), _) => found.into_iter().nth(i),
            (None, true) => found.into_iter().last(),
            (None, false) => None,
        }?;
        if let Err(place) = self.fed.binary_search(&fired.ts) {
            self.fed.insert(place, fired.ts);
        }
        fired.alert = alert;
        Some(fired)
    }

    /// The greedy scan over windows ending at `from` or later: appends each
    /// window that satisfies the condition to `firings`; returns them.
    fn scan(&mut self, from: usize, window: &Window) -> Vec<Fired> {
        let mut available = self.firings.last().map_or(0, |&end| end + 1);
        let mut found = Vec::new();
        let mut j = from.max(available);
        while j < self.entries.len() {
            // Windows end after every match of their moment.
            let t = self.entries[j].ts;
            if self.entries.get(j + 1).is_some_and(|next| next.ts == t) {
                j += 1;
                continue;
            }
            let earliest = t.saturating_sub(window.timespan_ms);
            // Forward from the last start, unless this window (a rescan of
            // an earlier moment) begins before it.
            let hint = self
                .window_start
                .filter(|&at| at == 0 || self.entries.get(at - 1).is_some_and(|e| e.ts < earliest));
            let start = match hint {
                Some(mut at) => {
                    while self.entries.get(at).is_some_and(|e| e.ts < earliest) {
                        at += 1;
                    }
                    at
                }
                None => self.entries.partition_point(|e| e.ts < earliest),
            };
            self.window_start = Some(start);
            let lo = available.max(start);
            if let Some(events) = self.fires(lo, j, window) {
                self.firings.push(j);
                available = j + 1;
                self.distinct = None;
                found.push(Fired {
                    ts: t,
                    events,
                    alert: false,
                });
            }
            j += 1;
        }
        found
    }

    /// Whether the matches `lo..=end` satisfy the window; their events if so.
    fn fires(&mut self, lo: usize, end: usize, window: &Window) -> Option<Vec<EventId>> {
        let needed = window.needed();
        let entries = &self.entries[lo..=end];
        let mut events: Vec<EventId> = match &window.kind {
            CorrelationKind::EventCount => {
                if entries.len() < needed {
                    return None;
                }
                entries.iter().map(|e| e.events.first()).collect()
            }
            CorrelationKind::ValueCount { .. } => {
                let distinct = self.distinct.get_or_insert_with(Distinct::default);
                distinct.slide(&self.entries, lo, end + 1);
                if distinct.counts.len() < needed {
                    return None;
                }
                // The newest event of each value.
                let mut newest: HashMap<&str, EventId, RandomState> = HashMap::default();
                for e in &self.entries[lo..=end] {
                    if let Some(v) = e.value.as_deref() {
                        newest.insert(v, e.events.first());
                    }
                }
                newest.into_values().collect()
            }
            CorrelationKind::Temporal { ordered } => {
                let mut chosen: Vec<Option<&Entry>> = vec![None; window.steps];
                let mut next = 0;
                for e in entries {
                    if *ordered {
                        // Each step after the one before it, in time.
                        if e.step == next {
                            chosen[next] = Some(e);
                            next += 1;
                            if next == window.steps {
                                break;
                            }
                        }
                    } else if let Some(slot) = chosen.get_mut(e.step) {
                        *slot = Some(e);
                    }
                }
                if chosen.iter().any(Option::is_none) {
                    return None;
                }
                chosen
                    .iter()
                    .flatten()
                    .flat_map(|e| e.events.all().iter().copied())
                    .collect()
            }
        };
        events.sort_unstable();
        events.dedup();
        events.truncate(MAX_ALERT_EVENTS);
        Some(events)
    }

    /// Drops the first `cut` matches (fewer, so as not to split a firing;
    /// or more, with `force`, up to the end of a firing it splits).
    fn prune(&mut self, cut: usize, force: bool) {
        let mut cut = cut.min(self.entries.len());
        let split = self.firings.iter().position(|&end| end >= cut);
        if let Some(index) = split {
            let start = index
                .checked_sub(1)
                .map_or(0, |before| self.firings[before] + 1);
            if start < cut {
                cut = if force {
                    self.firings[index] + 1
                } else {
                    start
                };
            }
        }
        if cut == 0 {
            return;
        }
        let gone = self.firings.partition_point(|&end| end < cut);
        self.pruned_firings += gone as u64;
        self.firings.drain(..gone);
        for end in &mut self.firings {
            *end -= cut;
        }
        if let Some(oldest) = self.entries.get(cut).map(|e| e.ts) {
            let gone = self.fed.partition_point(|&t| t < oldest);
            self.fed.drain(..gone);
        }
        self.entries.drain(..cut);
        self.distinct = None;
        self.window_start = None;
    }
}

/// Drops expired groups, and matches too old to share a window with any
/// match still allowed in; returns how many groups it dropped.
fn sweep(state: &mut RuleState, window: &Window, limits: Limits) -> usize {
    let horizon = state
        .newest
        .saturating_sub(window.timespan_ms.saturating_mul(2))
        .saturating_sub(limits.allowed_lateness_ms);
    let before = state.groups.len();
    state.groups.retain(|_, g| g.newest >= horizon);
    for group in state.groups.values_mut() {
        // Most groups have nothing that old: one look at their first match.
        if group.entries.first().is_some_and(|e| e.ts < horizon) {
            let cut = group.entries.partition_point(|e| e.ts < horizon);
            group.prune(cut, false);
        }
    }
    before - state.groups.len()
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
