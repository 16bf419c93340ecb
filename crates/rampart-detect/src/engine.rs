//! A compiled rule set: every rule's condition, one Aho-Corasick automaton
//! (a double array, `daachorse`) over the literals the rules need, and
//! logsource routing. Evaluating an
//! event scans its values once, then evaluates only the rules whose
//! literals occurred (and the few rules with no usable literal).

use std::sync::atomic::{AtomicU64, Ordering};

use daachorse::DoubleArrayAhoCorasick;
use rampart_core::event::Json;

use crate::compile::{compile_rule, FieldTable, Placeholders};
use crate::event::{EventContext, FieldPaths};
use crate::logsource::EventSource;
use crate::mapping::FieldMapping;
use crate::matcher::Expr;
use crate::prefilter::clauses;
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
    clauses: Vec<Vec<Vec<String>>>,
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
        let mut literals: Vec<String> = Vec::new();
        let mut literal_rules: Vec<Vec<(u32, u8)>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut always = Vec::new();
        let mut full_masks = Vec::with_capacity(self.clauses.len());
        for (rule, clauses) in self.clauses.into_iter().enumerate() {
            let rule = rule as u32;
            if clauses.is_empty() {
                always.push(rule);
            }
            full_masks.push(full_mask(clauses.len()));
            for (clause, list) in clauses.into_iter().enumerate() {
                for literal in list {
                    // The scan runs over ASCII-lower-cased text (see
                    // `evaluate`), so literals are lower-cased the same way.
                    let literal = literal.to_ascii_lowercase();
                    let at = *index.entry(literal.clone()).or_insert_with(|| {
                        literals.push(literal);
                        literal_rules.push(Vec::new());
                        literals.len() - 1
                    });
                    literal_rules[at].push((rule, clause as u8));
                }
            }
        }
        let prefilter = (!literals.is_empty())
            .then(|| DoubleArrayAhoCorasick::<u32>::new(&literals).ok())
            .flatten();
        if prefilter.is_none() {
            // Without an automaton every rule is evaluated.
            always = (0..self.rules.len() as u32).collect();
        }
        static BUILT: AtomicU64 = AtomicU64::new(1);
        RuleSet {
            id: BUILT.fetch_add(1, Ordering::Relaxed),
            rules: self.rules,
            fields: self.fields.into_paths(),
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

/// Compiled rules, ready to evaluate events.
pub struct RuleSet {
    /// Unique per built set: a [`Scratch`] remembers values per set.
    id: u64,
    rules: Vec<CompiledRule>,
    fields: Vec<FieldPaths>,
    prefilter: Option<DoubleArrayAhoCorasick<u32>>,
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
    /// Literals already seen in this event, and the list to reset them.
    seen: Vec<bool>,
    seen_list: Vec<u32>,
    /// Rules with a bit set in `met` (to reset them).
    touched: Vec<u32>,
    marked: Vec<bool>,
    candidates: Vec<u32>,
    scanner: ValueScanner,
    /// Rules evaluated since the scratch was made (a prefilter statistic).
    pub evaluated: u64,
}

impl Scratch {
    /// The rule set whose values this scratch remembers (see
    /// [`RuleSet::id`]); 0 for none.
    pub fn remembers(&self) -> u64 {
        self.scanner.owner()
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

    /// How many distinct literals the prefilter scans for.
    pub fn literal_count(&self) -> usize {
        self.literals.len()
    }

    /// The prefilter automaton's size in bytes.
    pub fn prefilter_bytes(&self) -> usize {
        self.prefilter.as_ref().map_or(0, |ac| ac.heap_bytes())
    }

    /// The rules each prefilter literal triggers, most triggered first
    /// (for tuning rule sets).
    pub fn literal_fanout(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .literals
            .iter()
            .zip(&self.literal_rules)
            .map(|(l, r)| (l.clone(), r.len()))
            .collect();
        out.sort_by_key(|e| std::cmp::Reverse(e.1));
        out
    }

    /// Indices of the rules matching `event`, in rule order, into `out`.
    pub fn evaluate(&self, event: &Json<'_>, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        if self.rules.is_empty() {
            return;
        }
        scratch.marked.resize(self.rules.len(), false);
        scratch.met.resize(self.rules.len(), 0);
        scratch.seen.resize(self.literal_rules.len(), false);
        scratch.candidates.clear();
        if let Some(ac) = &self.prefilter {
            // Which literals occur (each listed once), then which rules
            // have all their clauses met by them.
            let owner = self.id;
            let Scratch {
                seen,
                seen_list,
                scanner,
                ..
            } = scratch;
            scanner.scan(owner, ac, event, &mut |literal| {
                let at = literal as usize;
                if !seen[at] {
                    seen[at] = true;
                    seen_list.push(literal);
                }
            });
            for &literal in &scratch.seen_list {
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
        }
        for &rule in &scratch.touched {
            scratch.met[rule as usize] = 0;
        }
        scratch.touched.clear();
        for &literal in &scratch.seen_list {
            scratch.seen[literal as usize] = false;
        }
        scratch.seen_list.clear();
        for &rule in &self.always {
            if !scratch.marked[rule as usize] {
                scratch.marked[rule as usize] = true;
                scratch.candidates.push(rule);
            }
        }
        if scratch.candidates.is_empty() {
            return;
        }
        scratch.candidates.sort_unstable();
        scratch.evaluated += scratch.candidates.len() as u64;
        let source = EventSource::infer(event);
        let mut ctx = EventContext::new(event, &self.fields);
        for &rule in &scratch.candidates {
            scratch.marked[rule as usize] = false;
            let compiled = &self.rules[rule as usize];
            if source.admits(&compiled.meta.logsource) && compiled.expr.eval(&mut ctx) {
                out.push(rule as usize);
            }
        }
    }

    /// Evaluates one rule without the prefilter or routing: the plain
    /// verdict of its condition, to check the prefiltered path against.
    pub fn rule_matches(&self, index: usize, event: &Json<'_>) -> bool {
        let mut ctx = EventContext::new(event, &self.fields);
        self.rules[index].expr.eval(&mut ctx)
    }
}
