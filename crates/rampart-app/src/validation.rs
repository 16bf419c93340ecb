//! Validation rules of an organisation: create, replace, delete, and
//! their pass/fail counts over time (including what this node has not
//! written yet). Each change makes the ingest path reread the rules.

use std::sync::Arc;

use rampart_core::validation::{check_definition, ValidationRule};
use rampart_core::{Clock, Error, OrgId, Timestamp, ValidationRuleId};
use rampart_ingest::validation::Validation;
use rampart_store::Store;

use crate::api::validation::RuleInput;

/// The organisations' validation rules.
#[derive(Clone)]
pub struct ValidationRules {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    validation: Arc<Validation>,
}

impl ValidationRules {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, validation: Arc<Validation>) -> Self {
        Self {
            store,
            clock,
            validation,
        }
    }
}

impl RuleInput {
    fn into_rule(
        self,
        id: ValidationRuleId,
        org: OrgId,
        created_at: Timestamp,
        updated_at: Timestamp,
    ) -> ValidationRule {
        ValidationRule {
            id,
            org_id: org,
            name: self.name,
            source: self.source,
            field: self.field,
            check: self.check,
            mode: self.mode,
            enabled: self.enabled,
            created_at,
            updated_at,
        }
    }
}

fn checked(input: &RuleInput) -> Result<(), Error> {
    if input.name.trim().is_empty() || input.name.len() > 100 {
        return Err(Error::invalid_field("name", "must be 1–100 characters"));
    }
    if input
        .source
        .as_ref()
        .is_some_and(|s| s.trim().is_empty() || s.len() > 64)
    {
        return Err(Error::invalid_field(
            "source",
            "must be 1–64 characters, or absent for every source",
        ));
    }
    check_definition(&input.field, &input.check).map_err(|e| {
        let field = if e.starts_with("field") {
            "field"
        } else {
            "check"
        };
        Error::invalid_field(field, e)
    })
}

impl ValidationRules {
    /// The organisation's rules.
    pub async fn list(&self, org: OrgId) -> Result<Vec<ValidationRule>, Error> {
        Ok(self.store.list_validation_rules(org).await?)
    }

    pub async fn get(&self, org: OrgId, id: ValidationRuleId) -> Result<ValidationRule, Error> {
        self.store
            .get_validation_rule(org, id)
            .await?
            .ok_or_else(|| Error::not_found("validation rule"))
    }

    pub async fn create(&self, org: OrgId, input: RuleInput) -> Result<ValidationRule, Error> {
        checked(&input)?;
        let now = self.clock.now();
        let rule = input.into_rule(ValidationRuleId::new(), org, now, now);
        self.store.create_validation_rule(org, &rule).await?;
        self.validation.invalidate(org);
        Ok(rule)
    }

    pub async fn replace(
        &self,
        org: OrgId,
        id: ValidationRuleId,
        input: RuleInput,
    ) -> Result<ValidationRule, Error> {
        checked(&input)?;
        let existing = self
            .store
            .get_validation_rule(org, id)
            .await?
            .ok_or_else(|| Error::not_found("validation rule"))?;
        let rule = input.into_rule(id, org, existing.created_at, self.clock.now());
        if !self.store.update_validation_rule(org, &rule).await? {
            return Err(Error::not_found("validation rule"));
        }
        self.validation.invalidate(org);
        Ok(rule)
    }

    pub async fn delete(&self, org: OrgId, id: ValidationRuleId) -> Result<(), Error> {
        if !self.store.delete_validation_rule(org, id).await? {
            return Err(Error::not_found("validation rule"));
        }
        self.validation.invalidate(org);
        Ok(())
    }

    /// Pass/fail counts per bucket over `[from, to)`, including what this
    /// node has not written yet. Buckets are `bucket_minutes` long (from 1
    /// to 1440, default 1); the range defaults to the last hour.
    pub async fn counts(
        &self,
        org: OrgId,
        id: ValidationRuleId,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        bucket_minutes: Option<i64>,
    ) -> Result<Vec<(Timestamp, i64, i64)>, Error> {
        let now = self.clock.now();
        let from = from.unwrap_or(now.plus_secs(-3600));
        let to = to.unwrap_or(now.plus_secs(60));
        let bucket = bucket_minutes.unwrap_or(1);
        if !(1..=1440).contains(&bucket) {
            return Err(Error::invalid_field(
                "bucket_minutes",
                "must be between 1 and 1440",
            ));
        }
        let bucket_ms = bucket * 60_000;
        self.store
            .get_validation_rule(org, id)
            .await?
            .ok_or_else(|| Error::not_found("validation rule"))?;
        self.validation.flush().await?;
        let minutes = self.store.validation_counts(org, id, from, to).await?;
        let mut buckets: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
        for (minute, passed, failed) in minutes {
            let entry = buckets
                .entry(minute.div_euclid(bucket_ms) * bucket_ms)
                .or_default();
            entry.0 += passed;
            entry.1 += failed;
        }
        Ok(buckets
            .into_iter()
            .map(|(t, (p, f))| (Timestamp(t), p, f))
            .collect())
    }
}
