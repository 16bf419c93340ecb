//! An organisation's own Sigma field mapping: which event paths a Sigma
//! field name is read from, before the built-in defaults. Replacing it is
//! audited and makes every node recompile the organisation's rules.

use std::collections::BTreeMap;

use rampart_core::{OrgId, Timestamp};
use rampart_detect::mapping::default_mapping;
use rampart_detect::FieldMapping;
use rampart_store::{Store, StoredFieldMapping};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::Principal;
use crate::service::audit;
use crate::state::AppState;

/// The mapping as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldMappingView {
    /// The organisation's own entries: Sigma field name → event paths,
    /// tried in order after the event's own key of that name and before
    /// the defaults.
    pub mapping: BTreeMap<String, Vec<String>>,
    /// When the organisation last set it; absent when it has none.
    pub updated_at: Option<Timestamp>,
    /// The built-in entries (read only).
    pub defaults: BTreeMap<String, Vec<String>>,
}

/// A replacement mapping.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMappingInput {
    /// Sigma field name → event paths (dotted), e.g.
    /// `{"CommandLine": ["proc.cmdline"]}`. An empty object removes the
    /// organisation's own mapping.
    pub mapping: BTreeMap<String, Vec<String>>,
}

/// The organisation's mapping as detection compiles it.
pub async fn org_mapping(store: &dyn Store, org: OrgId) -> Result<FieldMapping, ApiError> {
    Ok(read_stored(org, store.field_mapping(org).await?.as_ref()))
}

/// A stored mapping; one that no longer reads (it was checked when
/// written) is logged and the defaults apply.
fn read_stored(org: OrgId, stored: Option<&StoredFieldMapping>) -> FieldMapping {
    let Some(stored) = stored else {
        return FieldMapping::default();
    };
    serde_json::from_str(&stored.mapping).unwrap_or_else(|e: serde_json::Error| {
        tracing::warn!(%org, error = %e, "stored field mapping does not read; defaults apply");
        FieldMapping::default()
    })
}

pub async fn get(state: &AppState, org: OrgId) -> Result<FieldMappingView, ApiError> {
    let stored = state.store.field_mapping(org).await?;
    let own = read_stored(org, stored.as_ref());
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
pub async fn replace(
    state: &AppState,
    principal: &Principal,
    input: FieldMappingInput,
) -> Result<FieldMappingView, ApiError> {
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
        ApiError::invalid_field(&field, e.reason)
    })?;
    let before = get(state, org).await?;
    let now = state.clock.now();
    let stored = (!mapping.overrides.is_empty())
        .then(|| {
            serde_json::to_string(&mapping).map(|text| StoredFieldMapping {
                mapping: text,
                updated_at: now,
            })
        })
        .transpose()
        .map_err(|e| ApiError::internal(&e))?;
    let action = if stored.is_some() {
        "field_mapping.update"
    } else {
        "field_mapping.reset"
    };
    let entry = audit::entry(
        state,
        principal,
        action,
        ("settings", org.to_string()),
        audit::snapshot(&before.mapping),
        audit::snapshot(&mapping.overrides),
    );
    state
        .store
        .set_field_mapping(org, stored.as_ref(), &entry)
        .await?;
    state.detection.invalidate(org);
    get(state, org).await
}
