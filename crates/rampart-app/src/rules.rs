//! Detection rules of an organisation: validate, create, replace, switch,
//! delete (each audited), and test rules on sample events without storing
//! anything. Built-in rules may only be switched on or off.

use std::sync::Arc;

use rampart_core::event::normalise;
use rampart_core::{Clock, DetectionRule, Error, OrgId};
use rampart_detect::tester::test_events;
use rampart_detect::{parse_documents, Document, RuleKind};
use rampart_ingest::detection::{org_mapping, rule_row, Detection};
use rampart_store::Store;
use serde_json::Value;

use crate::api::rules::{
    RuleInput, RuleSummary, RuleView, TestAlert, TestInput, TestMatch, TestReport,
};
use crate::audit::{self, Audit};
use crate::paging::{Page, PageParams, TextCursor};
use crate::principal::Principal;

/// The organisations' detection rules and field mappings (see
/// `field_mapping`).
#[derive(Clone)]
pub struct Rules {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) detection: Arc<Detection>,
    pub(crate) audit: Audit,
}

impl Rules {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        detection: Arc<Detection>,
        audit: Audit,
    ) -> Self {
        Self {
            store,
            clock,
            detection,
            audit,
        }
    }
}

/// Most sample events one test takes.
pub const MAX_TEST_EVENTS: usize = 10_000;
/// Largest rule text accepted.
const MAX_RULE_BYTES: usize = 256 * 1024;

impl From<DetectionRule> for RuleView {
    fn from(r: DetectionRule) -> Self {
        RuleView {
            id: r.id,
            title: r.title,
            level: r.level,
            kind: r.kind,
            enabled: r.enabled,
            builtin: r.builtin,
            hits: r.hits,
            last_hit_at: r.last_hit_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            yaml: r.yaml,
        }
    }
}

fn invalid_rule(detail: impl Into<String>) -> Error {
    Error {
        field: Some("yaml".into()),
        ..Error::bad_request("invalid_rule", detail)
    }
}

fn kind_of(doc: &Document) -> &'static str {
    match doc {
        Document::Rule(_) => "detection",
        Document::Correlation(_) => "correlation",
    }
}

fn summary(doc: &Document) -> RuleSummary {
    RuleSummary {
        id: doc.id().map(str::to_owned),
        title: doc.title().to_owned(),
        level: doc.level().map(str::to_owned),
        kind: kind_of(doc).into(),
    }
}

/// Parses YAML holding rules; every document must load.
fn parse_all(yaml: &str) -> Result<Vec<Document>, Error> {
    if yaml.len() > MAX_RULE_BYTES {
        return Err(invalid_rule(format!(
            "the rule text exceeds {MAX_RULE_BYTES} bytes"
        )));
    }
    let docs = parse_documents(yaml)
        .into_iter()
        .map(|d| d.map_err(|e| invalid_rule(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if docs.is_empty() {
        return Err(invalid_rule("the YAML holds no rule"));
    }
    Ok(docs)
}

/// Adds stored rules a correlation may refer to; one that no longer loads
/// is left out (references to it then fail, naming it).
fn add_stored(builder: &mut rampart_detect::DetectorBuilder, rules: &[DetectionRule]) {
    for rule in rules {
        if let Some(Ok(doc)) = parse_documents(&rule.yaml).into_iter().next() {
            let _ = builder.add(&rule.id, &doc);
        }
    }
}

fn refuse_builtin(rule: &DetectionRule, what: &str) -> Result<(), Error> {
    if rule.builtin {
        return Err(Error::conflict(
            "builtin_rule",
            format!("built-in rules cannot be {what}; disable it and add your own rule instead"),
        ));
    }
    Ok(())
}

impl Rules {
    /// Parses exactly one rule and checks that it compiles and that what it
    /// refers to exists among the organisation's rules.
    async fn checked_rule(&self, org: OrgId, yaml: &str, key: &str) -> Result<Document, Error> {
        let mut docs = parse_all(yaml)?;
        if docs.len() != 1 {
            return Err(invalid_rule(
                "store one rule per request (the YAML holds several documents)",
            ));
        }
        let doc = docs.remove(0);
        let mut builder = rampart_detect::DetectorBuilder::new(
            org_mapping(&*self.store, org).await?,
            rampart_detect::Placeholders::new(),
        );
        builder.add(key, &doc).map_err(invalid_rule)?;
        if let Document::Correlation(_) = &doc {
            // References resolve against every stored rule of the organisation.
            let others: Vec<DetectionRule> = self
                .all_rules(org)
                .await?
                .into_iter()
                .filter(|r| r.id != key)
                .collect();
            add_stored(&mut builder, &others);
        }
        builder
            .build()
            .map_err(|(_, reason)| invalid_rule(reason))?;
        Ok(doc)
    }

    /// Makes sure the built-in pack is stored for `org` (once per node).
    pub async fn ensure_pack(&self, org: OrgId) -> Result<(), Error> {
        self.detection
            .for_org(org, self.clock.now())
            .await
            .map(drop)
    }

    /// A page of the organisation's rules (built-in and own) with their
    /// hit counts, counted up to now.
    pub async fn list(&self, org: OrgId, page: &PageParams) -> Result<Page<RuleView>, Error> {
        self.ensure_pack(org).await?;
        self.detection.flush_hits(Some(org)).await?;
        let limit = page.limit()?;
        let after: Option<TextCursor> = page.cursor()?;
        let items = self
            .store
            .list_rules(org, after.as_ref().map(|c| c.0.as_str()), limit)
            .await?;
        let items = items.into_iter().map(RuleView::from).collect();
        Ok(Page::new(items, limit, |r: &RuleView| {
            TextCursor::encode(&r.id)
        }))
    }

    /// One rule with its hit counts, counted up to now.
    pub async fn get(&self, org: OrgId, id: &str) -> Result<RuleView, Error> {
        self.ensure_pack(org).await?;
        self.detection.flush_hits(Some(org)).await?;
        let rule = self
            .store
            .get_rule(org, id)
            .await?
            .ok_or_else(|| Error::not_found("rule"))?;
        Ok(rule.into())
    }

    async fn all_rules(&self, org: OrgId) -> Result<Vec<DetectionRule>, Error> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list_rules(org, after.as_deref(), 1000).await?;
            let done = page.len() < 1000;
            after = page.last().map(|r| r.id.clone());
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }

    /// Checks a rule without storing it.
    pub async fn validate(&self, org: OrgId, yaml: &str) -> Result<RuleSummary, Error> {
        let key = "validate";
        let doc = self.checked_rule(org, yaml, key).await?;
        Ok(summary(&doc))
    }

    pub async fn create(&self, principal: &Principal, input: RuleInput) -> Result<RuleView, Error> {
        let org = principal.org_id;
        let id = parse_all(&input.yaml)?
            .first()
            .and_then(|d| d.id().map(str::to_owned))
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let doc = self.checked_rule(org, &input.yaml, &id).await?;
        let now = self.clock.now();
        let mut rule = rule_row(org, &id, &doc, &input.yaml, false, now);
        rule.enabled = input.enabled.unwrap_or(true);
        let view = RuleView::from(rule.clone());
        let entry = self.audit.entry(
            principal,
            "rule.create",
            ("rule", id),
            None,
            audit::snapshot(&view),
        );
        self.store.create_rule(org, &rule, &entry).await?;
        self.detection.invalidate(org);
        Ok(view)
    }

    async fn existing(&self, org: OrgId, id: &str) -> Result<DetectionRule, Error> {
        self.ensure_pack(org).await?;
        self.store
            .get_rule(org, id)
            .await?
            .ok_or_else(|| Error::not_found("rule"))
    }

    pub async fn replace(
        &self,
        principal: &Principal,
        id: &str,
        input: RuleInput,
    ) -> Result<RuleView, Error> {
        let org = principal.org_id;
        let before = self.existing(org, id).await?;
        refuse_builtin(&before, "edited")?;
        let doc = self.checked_rule(org, &input.yaml, id).await?;
        if doc.id().is_some_and(|new| new != id) {
            return Err(invalid_rule(format!(
                "the YAML's id is not {id}; a rule's id cannot change"
            )));
        }
        let mut after = rule_row(org, id, &doc, &input.yaml, false, self.clock.now());
        after.enabled = input.enabled.unwrap_or(before.enabled);
        after.created_at = before.created_at;
        after.hits = before.hits;
        after.last_hit_at = before.last_hit_at;
        self.save(principal, "rule.update", before, after).await
    }

    pub async fn set_enabled(
        &self,
        principal: &Principal,
        id: &str,
        enabled: bool,
    ) -> Result<RuleView, Error> {
        let before = self.existing(principal.org_id, id).await?;
        let after = DetectionRule {
            enabled,
            updated_at: self.clock.now(),
            ..before.clone()
        };
        let action = if enabled {
            "rule.enable"
        } else {
            "rule.disable"
        };
        self.save(principal, action, before, after).await
    }

    async fn save(
        &self,
        principal: &Principal,
        action: &str,
        before: DetectionRule,
        after: DetectionRule,
    ) -> Result<RuleView, Error> {
        let org = principal.org_id;
        let id = after.id.clone();
        let view = RuleView::from(after.clone());
        let entry = self.audit.entry(
            principal,
            action,
            ("rule", id),
            audit::snapshot(&RuleView::from(before)),
            audit::snapshot(&view),
        );
        if !self.store.update_rule(org, &after, &entry).await? {
            return Err(Error::not_found("rule"));
        }
        self.detection.invalidate(org);
        Ok(view)
    }

    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), Error> {
        let org = principal.org_id;
        let before = self.existing(org, id).await?;
        refuse_builtin(&before, "deleted")?;
        let entry = self.audit.entry(
            principal,
            "rule.delete",
            ("rule", id.to_owned()),
            audit::snapshot(&RuleView::from(before)),
            None,
        );
        if !self.store.delete_rule(org, id, &entry).await? {
            return Err(Error::not_found("rule"));
        }
        self.detection.invalidate(org);
        Ok(())
    }

    /// Runs the given rules (with the organisation's enabled rules they refer
    /// to) over sample events; stores nothing, changes no counter.
    pub async fn test(&self, org: OrgId, input: TestInput) -> Result<TestReport, Error> {
        if input.events.len() > MAX_TEST_EVENTS {
            return Err(Error::invalid_field(
                "events",
                format!("at most {MAX_TEST_EVENTS} events per test"),
            ));
        }
        let docs = parse_all(&input.yaml)?;
        self.ensure_pack(org).await?;
        let now = self.clock.now();
        let mut events = Vec::with_capacity(input.events.len());
        for (index, value) in input.events.into_iter().enumerate() {
            let event = normalise(value, now, "rules-test").map_err(|e| Error {
                field: Some(format!("events[{index}].{}", e.field)),
                ..Error::bad_request("invalid_event", format!("event {index}: {e}"))
            })?;
            events.push(event);
        }
        let tested: Vec<String> = (0..docs.len()).map(|n| format!("test:{n}")).collect();
        // The tested documents, and the stored rules correlations may refer to.
        let mut builder = rampart_detect::DetectorBuilder::new(
            org_mapping(&*self.store, org).await?,
            rampart_detect::Placeholders::new(),
        );
        for (doc, key) in docs.iter().zip(&tested) {
            builder.add(key, doc).map_err(invalid_rule)?;
        }
        if docs.iter().any(|d| matches!(d, Document::Correlation(_))) {
            add_stored(&mut builder, &self.store.enabled_rules(org).await?);
        }
        let detector = builder
            .build()
            .map_err(|(_, reason)| invalid_rule(reason))?;
        let outcome = tokio::task::spawn_blocking(move || {
            let outcome = test_events(&detector, &events);
            (detector, outcome)
        })
        .await
        .map_err(|e| Error::internal(&e))?;
        let (detector, outcome) = outcome;
        let is_tested = |rule: usize| tested.contains(&detector.rule(rule).key);
        let describe = |rule: usize| {
            let info = detector.rule(rule);
            let index = tested.iter().position(|k| *k == info.key).unwrap_or(0);
            RuleSummary {
                id: docs.get(index).and_then(|d| d.id().map(str::to_owned)),
                title: info.title.clone(),
                level: info.level.clone(),
                kind: match info.kind {
                    RuleKind::Detection => "detection",
                    RuleKind::Correlation => "correlation",
                }
                .into(),
            }
        };
        let matches: Vec<TestMatch> = outcome
            .matches
            .iter()
            .filter_map(|(index, rules)| {
                let rules: Vec<RuleSummary> = rules
                    .iter()
                    .copied()
                    .filter(|&r| is_tested(r))
                    .map(describe)
                    .collect();
                (!rules.is_empty()).then_some(TestMatch {
                    index: *index,
                    rules,
                })
            })
            .collect();
        let alerts = outcome
            .alerts
            .iter()
            .filter(|a| is_tested(a.rule) && detector.rule(a.rule).kind == RuleKind::Correlation)
            .map(|a| TestAlert {
                rule: describe(a.rule),
                group: a
                    .group
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
                events: a.events.iter().map(|e| e.0 as usize).collect(),
            })
            .collect();
        Ok(TestReport {
            matched: matches.len(),
            total: outcome.total,
            matches,
            alerts,
        })
    }
}
