//! A compiled rule set: every rule's condition, Aho-Corasick automata
//! (double arrays, `daachorse`) over the literals the rules need, one per
//! group of fields read from the same places, and logsource routing.
//! Evaluating an event first walks its values once (see [`crate::prescan`]),
//! collecting them and the event's logsource; each value is then scanned
//! with the automaton of the fields read where it sits, *routed*: built
//! over the literals of only the rules that logsource admits (a Sysmon
//! image-load event is not scanned for the literals of process-creation or
//! Security-log rules). Routed automata are built on first use, per
//! logsource, and kept with the rule set. Only the rules whose literals all
//! occurred (and the few rules with no usable literal), and that the
//! event's logsource admits, are evaluated, on a tree of the event built
//! for them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use daachorse::DoubleArrayAhoCorasick;
use rampart_core::event::Json;

use crate::compile::{compile_rule, FieldTable, Placeholders};
use crate::event::{EventContext, FieldPaths};
use crate::locate::Places;
use crate::logsource::EventSource;
use crate::mapping::FieldMapping;
use crate::matcher::Expr;
use crate::prefilter::{clauses, Clause};
use crate::prescan::{Found, Hints, Values, Walk, KEYWORDS};
use crate::scan::ValueScanner;
use crate::sigma::{LogSource, SigmaRule};

/// What a match reports about its rule.
#[derive(Debug, Clone)]
pub struct RuleMeta {
    pub id: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
}

struct CompiledRule {
    meta: RuleMeta,
    expr: Expr,
}

/// Collects rules, then builds the [`RuleSet`].
pub struct RuleSetBuilder {
    fields: FieldTable,
    placeholders: Placeholders,
    rules: Vec<CompiledRule>,
    clauses: Vec<Vec<Clause>>,
}

impl RuleSetBuilder {
    pub fn new(mapping: FieldMapping, placeholders: Placeholders) -> RuleSetBuilder {
        RuleSetBuilder {
            fields: FieldTable::new(mapping),
            placeholders,
            rules: Vec::new(),
            clauses: Vec::new(),
        }
    }

    /// Compiles and adds a rule; returns its index in the set.
    pub fn add(&mut self, rule: &SigmaRule) -> Result<usize, String> {
        let expr = compile_rule(rule, &mut self.fields, &self.placeholders)?;
        self.clauses.push(clauses(&expr));
        self.rules.push(CompiledRule {
            meta: RuleMeta {
                id: rule.id.clone(),
                title: rule.title.clone(),
                level: rule.level.clone(),
                tags: rule.tags.clone(),
                logsource: rule.logsource.clone(),
            },
            expr,
        });
        Ok(self.rules.len() - 1)
    }

    pub fn build(self) -> RuleSet {
        let fields = self.fields.into_paths();
        let rule_count = self.rules.len();
        let mut scoped = vec![false; fields.len()];
        for needle in self.clauses.iter().flatten().flatten() {
            if let Some(field) = needle.field {
                scoped[field as usize] = true;
            }
        }
        let places = Places::build(&fields, |f| scoped[f as usize]);
        // One automaton per field group, then the keywords'; a literal is
        // a string in one of them.
        let keyword_automaton = places.groups();
        let mut patterns: Vec<Vec<(String, u32)>> = vec![Vec::new(); keyword_automaton + 1];
        let mut literals: Vec<String> = Vec::new();
        let mut literal_rules: Vec<Vec<(u32, u8)>> = Vec::new();
        let mut literal_automaton: Vec<u32> = Vec::new();
        let mut literal_scoped: Vec<bool> = Vec::new();
        let mut index = HashMap::new();
        let mut always = Vec::new();
        let mut full_masks = Vec::with_capacity(rule_count);
        for (rule, clauses) in self.clauses.into_iter().enumerate() {
            let rule = rule as u32;
            if clauses.is_empty() {
                always.push(rule);
            }
            full_masks.push(full_mask(clauses.len()));
            for (clause, needles) in clauses.into_iter().enumerate() {
                for needle in needles {
                    // The scan runs over ASCII-lower-cased text (see
                    // `scan`), so literals are lower-cased the same way.
                    let text = needle.text.to_ascii_lowercase();
                    let scoped = needle.field.and_then(|f| places.field_group(f));
                    // A keyword is also looked for by every group's
                    // automaton, so a value at a field's place is scanned
                    // once.
                    let automata = match scoped {
                        Some(group) => group as usize..group as usize + 1,
                        None => 0..keyword_automaton + 1,
                    };
                    for automaton in automata {
                        let at = *index.entry((automaton, text.clone())).or_insert_with(|| {
                            patterns[automaton].push((text.clone(), literals.len() as u32));
                            literals.push(text.clone());
                            literal_rules.push(Vec::new());
                            literal_automaton.push(automaton as u32);
                            literal_scoped.push(false);
                            literals.len() - 1
                        });
                        literal_rules[at].push((rule, clause as u8));
                        literal_scoped[at] |= scoped.is_some();
                    }
                }
            }
        }
        let own = own_patterns(
            &literal_automaton,
            &literal_scoped,
            |_| true,
            keyword_automaton,
        );
        let prefilter = match Automata::build(patterns, &own) {
            Ok(full) => Prefilter {
                places,
                full,
                literal_automaton,
                literal_scoped,
                routes: RwLock::default(),
            },
            Err(_) => {
                // An automaton could not be built: every rule is
                // evaluated, and the prescan only reads the logsource.
                always = (0..rule_count as u32).collect();
                Prefilter {
                    places: Places::build(&fields, |_| false),
                    full: Automata::default(),
                    literal_automaton: Vec::new(),
                    literal_scoped: Vec::new(),
                    routes: RwLock::default(),
                }
            }
        };
        static BUILT: AtomicU64 = AtomicU64::new(1);
        RuleSet {
            id: BUILT.fetch_add(1, Ordering::Relaxed),
            rules: self.rules,
            fields,
            prefilter,
            literals,
            literal_rules,
            full_masks,
            always,
        }
    }
}

fn full_mask(clauses: usize) -> u64 {
    if clauses >= 64 {
        u64::MAX
    } else {
        (1u64 << clauses) - 1
    }
}

/// Per group, whether its automaton holds a wanted literal of the group's
/// own (from a needle scoped to its fields, not only a keyword's copy).
fn own_patterns(
    literal_automaton: &[u32],
    literal_scoped: &[bool],
    wanted: impl Fn(usize) -> bool,
    groups: usize,
) -> Vec<bool> {
    let mut own = vec![false; groups];
    for (literal, &automaton) in literal_automaton.iter().enumerate() {
        let automaton = automaton as usize;
        if automaton < groups && literal_scoped[literal] && !own[automaton] && wanted(literal) {
            own[automaton] = true;
        }
    }
    own
}

/// Most logsources a rule set keeps routed automata for (their memory is
/// bounded too, see [`RuleSet::route`]); events of others are scanned with
/// the automata of every rule.
const MAX_ROUTES: usize = 64;

/// Routes a [`Scratch`] keeps at hand.
const SCRATCH_ROUTES: usize = 16;

/// Automata over some of a rule set's literals: one per field group (each
/// also holding the keywords), and the keywords' own, for values at no
/// group's place. A group with nothing of its own to look for is scanned
/// with the keywords' automaton (a keyword's copies in every automaton
/// meet the same rules); one with nothing at all is not scanned.
#[derive(Default)]
struct Automata {
    pool: Vec<DoubleArrayAhoCorasick<u32>>,
    /// Per group, its automaton in `pool`.
    groups: Vec<Option<u32>>,
    keywords: Option<u32>,
}

impl Automata {
    /// From the patterns (literal text, literal number) of each group's
    /// automaton, the keywords' last; `own[g]` tells whether group `g` has
    /// patterns besides the keywords.
    fn build(
        mut patterns: Vec<Vec<(String, u32)>>,
        own: &[bool],
    ) -> daachorse::errors::Result<Automata> {
        let mut pool = Vec::new();
        let mut add = |patterns: Vec<(String, u32)>| -> daachorse::errors::Result<Option<u32>> {
            if patterns.is_empty() {
                return Ok(None);
            }
            pool.push(DoubleArrayAhoCorasick::with_values(patterns)?);
            Ok(Some(pool.len() as u32 - 1))
        };
        let keywords = add(patterns.pop().unwrap_or_default())?;
        let mut groups = Vec::with_capacity(patterns.len());
        for (group, patterns) in patterns.into_iter().enumerate() {
            groups.push(match own.get(group) {
                Some(true) => add(patterns)?,
                _ => keywords,
            });
        }
        Ok(Automata {
            pool,
            groups,
            keywords,
        })
    }

    /// The automaton for a value of `group` ([`KEYWORDS`] for one at no
    /// group's place), with its number in the pool.
    fn get(&self, group: u32) -> Option<(u32, &DoubleArrayAhoCorasick<u32>)> {
        let at = if group == KEYWORDS {
            self.keywords
        } else {
            self.groups.get(group as usize).copied().flatten()
        }?;
        Some((at, self.pool.get(at as usize)?))
    }

    fn bytes(&self) -> usize {
        self.pool
            .iter()
            .map(DoubleArrayAhoCorasick::heap_bytes)
            .sum()
    }
}

/// The routes a [`Scratch`] took lately, for one rule set: looked up here
/// first, without the rule set's lock and hashing (a few logsources make
/// up most of a stream).
#[derive(Default)]
struct RecentRoutes {
    rule_set: u64,
    routes: Vec<(EventSource, Option<Arc<Routed>>)>,
}

impl RecentRoutes {
    /// [`RuleSet::route`], remembered.
    fn get(&mut self, set: &RuleSet, source: Option<&EventSource>) -> Option<Arc<Routed>> {
        if self.rule_set != set.id {
            self.routes.clear();
            self.rule_set = set.id;
        }
        let source = source?;
        if let Some((_, routed)) = self.routes.iter().find(|(s, _)| s == source) {
            return routed.clone();
        }
        let routed = set.route(source);
        if self.routes.len() < SCRATCH_ROUTES {
            self.routes.push((source.clone(), routed.clone()));
        }
        routed
    }
}

/// Automata over the literals of the rules one logsource admits.
struct Routed {
    /// Numbers this route's automata in the scan memo (0 is the full set).
    id: u32,
    automata: Automata,
}

/// The prefilter: where values sit, and the automata to scan them with.
struct Prefilter {
    places: Places,
    /// Over every rule's literals.
    full: Automata,
    /// Per literal, the automaton holding it (its group; the number of
    /// groups for the keywords' automaton).
    literal_automaton: Vec<u32>,
    /// Per literal, whether a needle scoped to a field group put it there
    /// (else it is only a keyword's copy).
    literal_scoped: Vec<bool>,
    /// Per logsource seen, its routed automata (`None`: it admits every
    /// rule, so the full automata serve).
    routes: RwLock<HashMap<EventSource, Option<Arc<Routed>>>>,
}

/// Compiled rules, ready to evaluate events.
pub struct RuleSet {
    /// Unique per built set: a [`Scratch`] remembers values per set.
    id: u64,
    rules: Vec<CompiledRule>,
    fields: Vec<FieldPaths>,
    prefilter: Prefilter,
    literals: Vec<String>,
    /// For each literal, the (rule, clause) pairs it meets.
    literal_rules: Vec<Vec<(u32, u8)>>,
    /// Per rule, the mask with one bit per clause.
    full_masks: Vec<u64>,
    always: Vec<u32>,
}

/// Reusable per-thread buffers for [`RuleSet::evaluate`].
#[derive(Default)]
pub struct Scratch {
    /// Per rule, the clauses met so far in this event.
    met: Vec<u64>,
    /// Rules with a bit set in `met` (to reset them).
    touched: Vec<u32>,
    marked: Vec<bool>,
    candidates: Vec<u32>,
    found: Found,
    values: Values,
    hints: Hints,
    routes: RecentRoutes,
    /// The logsource the prescan found, for the candidates' evaluation.
    source: Option<EventSource>,
    scanner: ValueScanner,
    /// Rules evaluated since the scratch was made (a prefilter statistic).
    pub evaluated: u64,
    /// Events some rule was evaluated on (the others ended at the
    /// prescan).
    pub evaluated_events: u64,
}

impl Scratch {
    /// The rule set whose values this scratch remembers (see
    /// [`RuleSet::id`]); 0 for none.
    pub fn remembers(&self) -> u64 {
        self.scanner.owner()
    }

    /// The rules [`RuleSet::prescan`] kept for evaluation (until
    /// [`RuleSet::evaluate_candidates`] runs), for tuning rule sets.
    pub fn candidates(&self) -> &[u32] {
        &self.candidates
    }
}

impl RuleSet {
    /// Unique among the rule sets this process built.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rule(&self, index: usize) -> &RuleMeta {
        &self.rules[index].meta
    }

    /// How many rules are evaluated for every event because they have no
    /// literal the prefilter could use.
    pub fn unfiltered_rules(&self) -> usize {
        self.always.len()
    }

    /// How many literals the prefilter's automata hold (a keyword counts
    /// once per automaton holding it).
    pub fn literal_count(&self) -> usize {
        self.literals.len()
    }

    /// The prefilter automata's size in bytes.
    pub fn prefilter_bytes(&self) -> usize {
        self.prefilter.full.bytes()
    }

    /// How many automata the prefilter scans with (one per group of
    /// fields read from the same places, and one for keywords).
    pub fn prefilter_automata(&self) -> usize {
        self.prefilter.full.pool.len()
    }

    /// The rules each prefilter literal triggers, most triggered first
    /// (for tuning rule sets). A literal held by several automata (a
    /// keyword is held by every group's) is listed once, with the most
    /// rules any of them triggers.
    pub fn literal_fanout(&self) -> Vec<(String, usize)> {
        let mut most: HashMap<&str, usize> = HashMap::new();
        for (literal, rules) in self.literals.iter().zip(&self.literal_rules) {
            let count = most.entry(literal.as_str()).or_default();
            *count = (*count).max(rules.len());
        }
        let mut out: Vec<(String, usize)> =
            most.into_iter().map(|(l, n)| (l.to_owned(), n)).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Indices of the rules matching `event`, in rule order, into `out`.
    pub fn evaluate(&self, event: &Json<'_>, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        if self.prescan(scratch, |walk| walk.json_tree(event)) {
            self.evaluate_candidates(event, scratch, out);
        }
    }

    /// [`RuleSet::evaluate`] on an event's JSON text. The text is parsed
    /// into a tree only when a rule may match it.
    pub fn evaluate_json(
        &self,
        text: &str,
        scratch: &mut Scratch,
        out: &mut Vec<usize>,
    ) -> Result<(), serde_json::Error> {
        out.clear();
        let mut read = Ok(());
        let candidates = self.prescan(scratch, |walk| read = walk.json_text(text));
        read?;
        if candidates {
            let event: Json<'_> = serde_json::from_str(text)?;
            self.evaluate_candidates(&event, scratch, out);
        }
        Ok(())
    }

    /// The first half of an evaluation: `feed` walks the event's values
    /// (see [`Walk`]), and the rules that may match it are kept in
    /// `scratch`: those whose prefilter clauses are all met, and those
    /// without any, that the event's logsource admits. Returns whether
    /// there are any; if so, [`RuleSet::evaluate_candidates`] evaluates
    /// them on the event's tree.
    pub fn prescan(&self, scratch: &mut Scratch, feed: impl FnOnce(&mut Walk<'_>)) -> bool {
        scratch.candidates.clear();
        scratch.source = None;
        if self.rules.is_empty() {
            return false;
        }
        let prefilter = &self.prefilter;
        scratch.marked.resize(self.rules.len(), false);
        scratch.met.resize(self.rules.len(), 0);
        scratch.found.reset(self.literal_rules.len());
        scratch.values.reset();
        scratch.hints.reset(prefilter.places.watches());
        scratch.scanner.start(self.id);
        feed(&mut Walk {
            places: &prefilter.places,
            keywords: prefilter.full.keywords.is_some(),
            values: &mut scratch.values,
            hints: &mut scratch.hints,
        });
        let source = scratch.hints.source(&prefilter.places);
        let routed = scratch.routes.get(self, source.as_ref());
        let (automata, route) = match &routed {
            Some(routed) => (&routed.automata, routed.id),
            None => (&prefilter.full, 0),
        };
        // Memo numbers: one per automaton of each route.
        let per_route = prefilter.places.groups() as u32 + 1;
        let Scratch {
            values,
            scanner,
            found,
            ..
        } = scratch;
        let mut add = |literal| found.add(literal);
        for span in &values.spans {
            let Some((at, automaton)) = automata.get(span.group) else {
                continue;
            };
            let text = values.of(span);
            if span.string {
                let which = route.wrapping_mul(per_route).wrapping_add(at);
                scanner.scan_str(which, automaton, text, &mut add);
            } else {
                scanner.scan_text(automaton, text, &mut add);
            }
        }
        // Which rules have all their clauses met by the literals found.
        for &literal in &scratch.found.list {
            for &(rule, clause) in &self.literal_rules[literal as usize] {
                let r = rule as usize;
                let before = scratch.met[r];
                if before == self.full_masks[r] {
                    continue;
                }
                let after = before | (1u64 << clause);
                if before == 0 {
                    scratch.touched.push(rule);
                }
                scratch.met[r] = after;
                if after == self.full_masks[r] && !scratch.marked[r] {
                    scratch.marked[r] = true;
                    scratch.candidates.push(rule);
                }
            }
        }
        for &rule in &scratch.touched {
            scratch.met[rule as usize] = 0;
        }
        scratch.touched.clear();
        for &rule in &self.always {
            if !scratch.marked[rule as usize] {
                scratch.marked[rule as usize] = true;
                scratch.candidates.push(rule);
            }
        }
        for &rule in &scratch.candidates {
            scratch.marked[rule as usize] = false;
        }
        if scratch.candidates.is_empty() {
            return false;
        }
        scratch.source = source;
        if let Some(source) = &scratch.source {
            let rules = &self.rules;
            scratch
                .candidates
                .retain(|&r| source.admits(&rules[r as usize].meta.logsource));
        }
        scratch.candidates.sort_unstable();
        !scratch.candidates.is_empty()
    }

    /// The routed automata for an event's logsource, built on first use;
    /// `None` when the full automata serve (the logsource is unknown, admits
    /// every rule, or too many logsources were seen).
    fn route(&self, source: &EventSource) -> Option<Arc<Routed>> {
        if *source == EventSource::default() {
            return None;
        }
        let prefilter = &self.prefilter;
        if prefilter.literal_automaton.is_empty() {
            return None;
        }
        if let Some(route) = prefilter
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(source)
        {
            return route.clone();
        }
        let mut routes = prefilter.routes.write().unwrap_or_else(|p| p.into_inner());
        if let Some(route) = routes.get(source) {
            return route.clone();
        }
        if routes.len() >= MAX_ROUTES {
            return None;
        }
        let mut route = self.build_route(source, routes.len() as u32 + 1);
        // Routes together stay within twice the full automata's memory;
        // past that, new logsources are scanned with the full automata.
        let routed: usize = routes.values().flatten().map(|r| r.automata.bytes()).sum();
        let budget = 2 * prefilter.full.bytes();
        if route
            .as_ref()
            .is_some_and(|r| routed + r.automata.bytes() > budget)
        {
            route = None;
        }
        routes.insert(source.clone(), route.clone());
        route
    }

    /// Automata over the literals of the rules `source` admits; `None`
    /// when it admits every rule (or an automaton cannot be built).
    fn build_route(&self, source: &EventSource, id: u32) -> Option<Arc<Routed>> {
        let admitted: Vec<bool> = self
            .rules
            .iter()
            .map(|r| source.admits(&r.meta.logsource))
            .collect();
        if admitted.iter().all(|&a| a) {
            return None;
        }
        let groups = self.prefilter.full.groups.len();
        let wanted = |literal: usize| {
            self.literal_rules[literal]
                .iter()
                .any(|&(rule, _)| admitted[rule as usize])
        };
        let mut patterns = vec![Vec::new(); groups + 1];
        for literal in (0..self.literals.len()).filter(|&l| wanted(l)) {
            let automaton = self.prefilter.literal_automaton[literal] as usize;
            patterns[automaton].push((self.literals[literal].clone(), literal as u32));
        }
        let own = own_patterns(
            &self.prefilter.literal_automaton,
            &self.prefilter.literal_scoped,
            wanted,
            groups,
        );
        let automata = Automata::build(patterns, &own).ok()?;
        Some(Arc::new(Routed { id, automata }))
    }

    /// How many logsources have routed automata, and their size in bytes
    /// (statistics).
    pub fn routes(&self) -> (usize, usize) {
        let routes = self
            .prefilter
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let routed = routes.values().flatten();
        let bytes = routed.clone().map(|r| r.automata.bytes()).sum();
        (routed.count(), bytes)
    }

    /// The second half of an evaluation (after [`RuleSet::prescan`]): the
    /// candidate rules matching `event`, in rule order, into `out`.
    pub fn evaluate_candidates(
        &self,
        event: &Json<'_>,
        scratch: &mut Scratch,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        if scratch.candidates.is_empty() {
            return;
        }
        scratch.evaluated += scratch.candidates.len() as u64;
        scratch.evaluated_events += 1;
        let source = scratch
            .source
            .take()
            .unwrap_or_else(|| EventSource::infer(event));
        let mut ctx = EventContext::new(event, &self.fields);
        for &rule in &scratch.candidates {
            let compiled = &self.rules[rule as usize];
            if source.admits(&compiled.meta.logsource) && compiled.expr.eval(&mut ctx) {
                out.push(rule as usize);
            }
        }
        scratch.candidates.clear();
    }

    /// Evaluates one rule without the prefilter or routing: the plain
    /// verdict of its condition, to check the prefiltered path against.
    pub fn rule_matches(&self, index: usize, event: &Json<'_>) -> bool {
        let mut ctx = EventContext::new(event, &self.fields);
        self.rules[index].expr.eval(&mut ctx)
    }
}
