//! A detector: an organisation's detection rules compiled into one
//! [`RuleSet`], and its correlation rules wired over them. Matching an event
//! is stateless and can run on any thread; correlating the matches updates
//! a [`Correlator`] and yields the alerts.

use std::collections::HashMap;

use rampart_core::event::Json;
use rampart_core::{Event, EventId};

use crate::compile::Placeholders;
use crate::correlate::{group_key, Correlator, StateId, StateKey, Window};
use crate::engine::{RuleSet, RuleSetBuilder, Scratch};
use crate::event::FieldPaths;
use crate::load::Document;
use crate::mapping::FieldMapping;
use crate::sigma::{CorrelationKind, CorrelationRule};
use crate::view::{detection_view, prescan_event};

/// Whether a rule matches single events or correlates matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Detection,
    Correlation,
}

/// What an alert reports about the rule that raised it.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// The caller's key for the rule (the store's rule id).
    pub key: String,
    pub title: String,
    pub level: Option<String>,
    pub kind: RuleKind,
}

/// An alert: a detection rule matched an event, or a correlation fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Index of the rule in [`Detector::rule`].
    pub rule: usize,
    /// The time of the event that completed it (epoch ms).
    pub ts: i64,
    /// The correlation's group-by fields and values (empty for single events).
    pub group: Vec<(String, String)>,
    pub events: Vec<EventId>,
    /// The event that completed it.
    pub trigger: EventId,
}

struct Correlation {
    rule: usize,
    window: Window,
    key: StateKey,
    /// `key` hashed once, for the correlator's lookups.
    state: StateId,
    /// Indices into the capture fields.
    group_by: Vec<usize>,
    value: Option<usize>,
}

/// Collects rules, then resolves the references between them.
pub struct DetectorBuilder {
    mapping: FieldMapping,
    set: RuleSetBuilder,
    detection: Vec<(RuleInfo, Option<String>, Option<String>)>,
    correlations: Vec<(RuleInfo, CorrelationRule)>,
}

impl DetectorBuilder {
    pub fn new(mapping: FieldMapping, placeholders: Placeholders) -> DetectorBuilder {
        DetectorBuilder {
            set: RuleSetBuilder::new(mapping.clone(), placeholders),
            mapping,
            detection: Vec::new(),
            correlations: Vec::new(),
        }
    }

    /// Adds one rule under `key`; a detection rule is compiled at once.
    pub fn add(&mut self, key: &str, doc: &Document) -> Result<(), String> {
        match doc {
            Document::Rule(rule) => {
                self.set.add(rule)?;
                self.detection.push((
                    RuleInfo {
                        key: key.to_owned(),
                        title: rule.title.clone(),
                        level: rule.level.clone(),
                        kind: RuleKind::Detection,
                    },
                    rule.id.clone(),
                    rule.name.clone(),
                ));
            }
            Document::Correlation(rule) => self.correlations.push((
                RuleInfo {
                    key: key.to_owned(),
                    title: rule.title.clone(),
                    level: rule.level.clone(),
                    kind: RuleKind::Correlation,
                },
                rule.clone(),
            )),
        }
        Ok(())
    }

    /// Resolves correlation references; an error names the correlation's
    /// key and the reference that does not resolve (or loops).
    pub fn build(self) -> Result<Detector, (String, String)> {
        let detection_count = self.detection.len();
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (index, (info, id, name)) in self.detection.iter().enumerate() {
            for alias in [Some(&info.key), id.as_ref(), name.as_ref()]
                .into_iter()
                .flatten()
            {
                names.entry(alias.as_str()).or_insert(index);
            }
        }
        for (offset, (info, rule)) in self.correlations.iter().enumerate() {
            let index = detection_count + offset;
            for alias in [Some(&info.key), rule.id.as_ref(), rule.name.as_ref()]
                .into_iter()
                .flatten()
            {
                names.entry(alias.as_str()).or_insert(index);
            }
        }
        let total = detection_count + self.correlations.len();
        let mut feeds: Vec<Vec<(usize, usize)>> = vec![Vec::new(); total];
        let mut generates = vec![None::<bool>; detection_count];
        let mut capture: Vec<String> = Vec::new();
        let mut field_index = |name: &str| match capture.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                capture.push(name.to_owned());
                capture.len() - 1
            }
        };
        let mut correlations = Vec::with_capacity(self.correlations.len());
        for (offset, (info, rule)) in self.correlations.iter().enumerate() {
            let index = detection_count + offset;
            for (step, reference) in rule.rules.iter().enumerate() {
                let Some(&target) = names.get(reference.as_str()) else {
                    return Err((
                        info.key.clone(),
                        format!("correlation refers to rule `{reference}`, which is not loaded"),
                    ));
                };
                if target == index {
                    return Err((info.key.clone(), "correlation refers to itself".into()));
                }
                feeds[target].push((offset, step));
                if let Some(g) = generates.get_mut(target) {
                    *g = Some(g.unwrap_or(false) || rule.generate);
                }
            }
            let value = match &rule.kind {
                CorrelationKind::ValueCount { field } => Some(field_index(field)),
                _ => None,
            };
            let window = Window::of(rule);
            correlations.push(Correlation {
                rule: index,
                key: (info.key.clone(), window.clone()),
                state: StateId::of(&(info.key.clone(), window.clone())),
                window,
                group_by: rule.group_by.iter().map(|f| field_index(f)).collect(),
                value,
            });
        }
        if let Some(looped) = find_cycle(&feeds, &correlations) {
            return Err((
                self.correlations[looped - detection_count].0.key.clone(),
                "correlation rules refer to each other in a loop".into(),
            ));
        }
        let capture_paths = capture.iter().map(|f| self.mapping.paths(f)).collect();
        let mut rules: Vec<RuleInfo> = self.detection.into_iter().map(|(i, _, _)| i).collect();
        rules.extend(self.correlations.into_iter().map(|(i, _)| i));
        Ok(Detector {
            set: self.set.build(),
            rules,
            generates: generates.into_iter().map(|g| g.unwrap_or(true)).collect(),
            feeds,
            correlations,
            capture,
            capture_paths,
        })
    }
}

/// A correlation reachable from itself through `feeds`, if any.
fn find_cycle(feeds: &[Vec<(usize, usize)>], correlations: &[Correlation]) -> Option<usize> {
    // Colours: 0 unvisited, 1 on the stack, 2 done.
    fn visit(
        at: usize,
        feeds: &[Vec<(usize, usize)>],
        c: &[Correlation],
        colour: &mut [u8],
    ) -> bool {
        colour[at] = 1;
        for &(offset, _) in &feeds[at] {
            let next = c[offset].rule;
            if colour[next] == 1 || (colour[next] == 0 && visit(next, feeds, c, colour)) {
                return true;
            }
        }
        colour[at] = 2;
        false
    }
    let mut colour = vec![0u8; feeds.len()];
    correlations
        .iter()
        .map(|c| c.rule)
        .find(|&start| colour[start] == 0 && visit(start, feeds, correlations, &mut colour))
}

/// Compiled rules of one organisation.
pub struct Detector {
    set: RuleSet,
    rules: Vec<RuleInfo>,
    /// Per detection rule: whether its own matches raise alerts (false when
    /// only correlations use it, as the Sigma `generate` flag says).
    generates: Vec<bool>,
    /// Per rule: the (correlation, step) pairs its matches feed.
    feeds: Vec<Vec<(usize, usize)>>,
    correlations: Vec<Correlation>,
    capture: Vec<String>,
    capture_paths: Vec<FieldPaths>,
}

/// The values of the fields correlations group and count by, in
/// [`Detector::capture_fields`] order.
pub type Captured = Vec<Option<String>>;

impl Detector {
    /// Every rule: detection rules first, then correlations.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &RuleInfo {
        &self.rules[index]
    }

    /// The compiled rule set's id (see [`RuleSet::id`]).
    pub fn rule_set_id(&self) -> u64 {
        self.set.id()
    }

    pub fn detection_rules(&self) -> usize {
        self.set.len()
    }

    /// The correlation states this detector uses (to drop the others).
    pub fn state_keys(&self) -> Vec<StateKey> {
        self.correlations.iter().map(|c| c.key.clone()).collect()
    }

    pub fn capture_fields(&self) -> &[String] {
        &self.capture
    }

    /// Matches a stored event (stateless): fills `hits` with the detection
    /// rules it matches and returns what correlating them needs, or `None`
    /// when no match leads to an alert or a correlation.
    pub fn scan(
        &self,
        event: &Event,
        continued_attempt: bool,
        scratch: &mut Scratch,
        hits: &mut Vec<usize>,
    ) -> Option<Captured> {
        hits.clear();
        if self.set.is_empty() {
            return None;
        }
        let candidates = self.set.prescan(scratch, |walk| {
            prescan_event(walk, event, continued_attempt)
        });
        if !candidates {
            return None;
        }
        let view = detection_view(event, continued_attempt);
        self.set.evaluate_candidates(&view, scratch, hits);
        hits.iter()
            .any(|&r| self.is_consequential(r))
            .then(|| self.capture(&view))
    }

    /// Whether matches of detection rule `rule` lead anywhere (an alert or
    /// a correlation); others need no further work.
    pub fn is_consequential(&self, rule: usize) -> bool {
        self.generates[rule] || !self.feeds[rule].is_empty()
    }

    /// The values correlations need from `event`.
    pub fn capture(&self, event: &Json<'_>) -> Captured {
        self.capture_paths
            .iter()
            .map(|paths| paths.resolve(event).and_then(scalar_text))
            .collect()
    }

    /// Feeds one match of detection rule `rule` by `event` at `ts`; pushes
    /// the alerts it raises (its own, and every correlation it completes).
    pub fn correlate(
        &self,
        state: &mut Correlator,
        rule: usize,
        ts: i64,
        values: &[Option<String>],
        event: EventId,
        out: &mut Vec<Alert>,
    ) {
        if self.generates.get(rule).copied().unwrap_or(false) {
            out.push(Alert {
                rule,
                ts,
                group: Vec::new(),
                events: vec![event],
                trigger: event,
            });
        }
        self.feed(state, rule, ts, values, &[event], event, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn feed(
        &self,
        state: &mut Correlator,
        rule: usize,
        ts: i64,
        values: &[Option<String>],
        events: &[EventId],
        trigger: EventId,
        out: &mut Vec<Alert>,
    ) {
        let mut group = String::new();
        for &(offset, step) in &self.feeds[rule] {
            let correlation = &self.correlations[offset];
            // An event without a group-by field belongs to no group.
            let present = correlation
                .group_by
                .iter()
                .all(|&f| values.get(f).is_some_and(Option::is_some));
            if !present {
                continue;
            }
            group_key(
                correlation
                    .group_by
                    .iter()
                    .filter_map(|&f| values.get(f).and_then(Option::as_deref)),
                &mut group,
            );
            let value = correlation
                .value
                .and_then(|f| values.get(f))
                .and_then(Option::as_deref);
            if matches!(correlation.window.kind, CorrelationKind::ValueCount { .. })
                && value.is_none()
            {
                continue;
            }
            let Some(fired) = state.update(
                correlation.state,
                &correlation.window,
                &group,
                step,
                ts,
                value,
                events,
            ) else {
                continue;
            };
            // Named only when it fires: most updates do not.
            let pairs: Vec<(String, String)> = correlation
                .group_by
                .iter()
                .filter_map(|&f| Some((self.capture[f].clone(), values.get(f).cloned().flatten()?)))
                .collect();
            if fired.alert {
                out.push(Alert {
                    rule: correlation.rule,
                    ts: fired.ts,
                    group: pairs,
                    events: fired.events.clone(),
                    trigger,
                });
            }
            self.feed(
                state,
                correlation.rule,
                fired.ts,
                values,
                &fired.events,
                trigger,
                out,
            );
        }
    }
}

fn scalar_text(value: &Json<'_>) -> Option<String> {
    match value {
        Json::String(s) => Some(s.to_string()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Array(items) => items.first().and_then(scalar_text),
        _ => None,
    }
}
