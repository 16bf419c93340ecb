//! A compiled rule set: every rule's condition, one Aho-Corasick automaton
//! over the literals the rules need, and logsource routing. Evaluating an
//! event scans its values once, then evaluates only the rules whose
//! literals occurred (and the few rules with no usable literal).

use std::fmt::Write as _;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::Value;

use crate::compile::{compile_rule, FieldTable, Placeholders};
use crate::event::{for_each_leaf, EventContext, FieldPaths};
use crate::logsource::EventSource;
use crate::mapping::FieldMapping;
use crate::matcher::Expr;
use crate::prefilter::{need, Need};
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
    needs: Vec<Need>,
}

impl RuleSetBuilder {
    pub fn new(mapping: FieldMapping, placeholders: Placeholders) -> RuleSetBuilder {
        RuleSetBuilder {
            fields: FieldTable::new(mapping),
            placeholders,
            rules: Vec::new(),
            needs: Vec::new(),
        }
    }

    /// Compiles and adds a rule; returns its index in the set.
    pub fn add(&mut self, rule: &SigmaRule) -> Result<usize, String> {
        let expr = compile_rule(rule, &mut self.fields, &self.placeholders)?;
        self.needs.push(need(&expr));
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
        let mut literal_rules: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut always = Vec::new();
        for (rule, need) in self.needs.into_iter().enumerate() {
            let rule = rule as u32;
            match need {
                Need::Anything => always.push(rule),
                Need::OneOf(list) => {
                    for literal in list {
                        let at = *index.entry(literal.clone()).or_insert_with(|| {
                            literals.push(literal);
                            literal_rules.push(Vec::new());
                            literals.len() - 1
                        });
                        literal_rules[at].push(rule);
                    }
                }
            }
        }
        let prefilter = (!literals.is_empty())
            .then(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&literals)
                    .ok()
            })
            .flatten();
        if prefilter.is_none() {
            // Without an automaton every rule is evaluated.
            always = (0..self.rules.len() as u32).collect();
        }
        RuleSet {
            rules: self.rules,
            fields: self.fields.into_paths(),
            prefilter,
            literal_rules,
            always,
        }
    }
}

/// Compiled rules, ready to evaluate events.
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    fields: Vec<FieldPaths>,
    prefilter: Option<AhoCorasick>,
    literal_rules: Vec<Vec<u32>>,
    always: Vec<u32>,
}

/// Reusable per-thread buffers for [`RuleSet::evaluate`].
#[derive(Default)]
pub struct Scratch {
    marked: Vec<bool>,
    candidates: Vec<u32>,
    number: String,
    lowered: String,
}

impl RuleSet {
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

    /// Indices of the rules matching `event`, in rule order, into `out`.
    pub fn evaluate(&self, event: &Value, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        if self.rules.is_empty() {
            return;
        }
        scratch.marked.resize(self.rules.len(), false);
        scratch.candidates.clear();
        if let Some(ac) = &self.prefilter {
            let Scratch {
                marked,
                candidates,
                number,
                lowered,
            } = scratch;
            let mut scan = |text: &str| {
                for hit in ac.find_overlapping_iter(text) {
                    for &rule in &self.literal_rules[hit.pattern().as_usize()] {
                        let mark = &mut marked[rule as usize];
                        if !*mark {
                            *mark = true;
                            candidates.push(rule);
                        }
                    }
                }
            };
            for_each_leaf(event, &mut |leaf| match leaf {
                Value::String(s) => {
                    scan(s);
                    if !s.is_ascii() {
                        lowered.clear();
                        lowered.extend(s.chars().flat_map(char::to_lowercase));
                        scan(lowered);
                    }
                }
                Value::Number(n) => {
                    number.clear();
                    let _ = write!(number, "{n}");
                    scan(number);
                }
                Value::Bool(b) => scan(if *b { "true" } else { "false" }),
                _ => {}
            });
        }
        for &rule in &self.always {
            if !scratch.marked[rule as usize] {
                scratch.marked[rule as usize] = true;
                scratch.candidates.push(rule);
            }
        }
        scratch.candidates.sort_unstable();
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
    /// verdict of its condition, for tests and `rules test`.
    pub fn rule_matches(&self, index: usize, event: &Value) -> bool {
        let mut ctx = EventContext::new(event, &self.fields);
        self.rules[index].expr.eval(&mut ctx)
    }
}
