//! An organisation's own Sigma field mapping: which event paths a Sigma
//! field name is read from, before the built-in defaults. Replacing it is
//! audited and makes every node recompile the organisation's rules. A
//! part of the [`Rules`] service.

use rampart_core::{Error, OrgId};
use rampart_detect::mapping::default_mapping;
use rampart_detect::FieldMapping;
use rampart_ingest::detection::read_mapping;
use rampart_store::StoredFieldMapping;

use crate::api::rules::{FieldMappingInput, FieldMappingView};
use crate::audit;
use crate::principal::Principal;
use crate::rules::Rules;

impl Rules {
    /// The organisation's field mapping, with the built-in defaults.
    pub async fn field_mapping(&self, org: OrgId) -> Result<FieldMappingView, Error> {
        let stored = self.store.field_mapping(org).await?;
        let own = read_mapping(org, stored.as_ref());
        Ok(FieldMappingView {
            mapping: own.overrides,
            updated_at: stored.map(|s| s.updated_at),
            defaults: default_mapping()
                .map(|(name, paths)| {
                    (
                        name.to_owned(),
                        paths.iter().map(|p| (*p).to_owned()).collect(),
                    )
                })
                .collect(),
        })
    }

    /// Replaces the organisation's own mapping (an empty one removes it).
    pub async fn replace_field_mapping(
        &self,
        principal: &Principal,
        input: FieldMappingInput,
    ) -> Result<FieldMappingView, Error> {
        let org = principal.org_id;
        let mapping = FieldMapping {
            overrides: input.mapping,
        };
        mapping.check().map_err(|e| {
            let field = if e.field.is_empty() {
                "mapping".to_owned()
            } else {
                format!("mapping.{}", e.field)
            };
            Error::invalid_field(&field, e.reason)
        })?;
        let before = self.field_mapping(org).await?;
        let now = self.clock.now();
        let stored = (!mapping.overrides.is_empty())
            .then(|| {
                serde_json::to_string(&mapping).map(|text| StoredFieldMapping {
                    mapping: text,
                    updated_at: now,
                })
            })
            .transpose()
            .map_err(|e| Error::internal(&e))?;
        let action = if stored.is_some() {
            "field_mapping.update"
        } else {
            "field_mapping.reset"
        };
        let entry = self.audit.entry(
            principal,
            action,
            ("settings", org.to_string()),
            audit::snapshot(&before.mapping),
            audit::snapshot(&mapping.overrides),
        );
        self.store
            .set_field_mapping(org, stored.as_ref(), &entry)
            .await?;
        self.detection.invalidate(org);
        self.field_mapping(org).await
    }
}
