//! Assets, findings and report imports.

use rampart_core::finding::{
    Asset, AssetKind, Band, Exposure, FindingSeverity, FindingStatus, ImportCounts,
};
use rampart_core::{AssetId, ImportId, Timestamp};
use serde::{Deserialize, Serialize};

/// A new asset.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: AssetKind,
    /// Addresses, host names, URLs, repository or image references (at
    /// most 100, each up to 500 characters).
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// 1 (minor) to 5 (crown jewels); 3 when absent.
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub criticality: Option<i64>,
    /// `internal` when absent.
    pub exposure: Option<Exposure>,
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Changes to an asset; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<AssetKind>,
    pub identifiers: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 5)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    pub criticality: Option<i64>,
    pub exposure: Option<Exposure>,
    /// An empty string removes the owner.
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// How a report is imported.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The asset's name; created (its kind guessed from the format) when
    /// the organisation has none of that name.
    pub asset: String,
    /// One of the formats; detected from the content when absent.
    pub format: Option<String>,
    /// Reports of one scan type replace each other's findings; the
    /// format's name when absent.
    pub scan_type: Option<String>,
    pub file_name: Option<String>,
    /// Close this scan type's findings missing from the report (default:
    /// yes; a partial report says no).
    pub full_report: bool,
}

/// What an import did.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReply {
    pub import_id: ImportId,
    pub asset: Asset,
    /// The asset did not exist and was created.
    pub asset_created: bool,
    pub format: String,
    pub tool: String,
    pub scan_type: String,
    #[serde(flatten)]
    pub counts: ImportCounts,
}

/// Which findings to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FindingFilter {
    /// Comma-separated statuses; `active` means open and reopened.
    pub status: Option<String>,
    pub severity: Option<FindingSeverity>,
    pub band: Option<Band>,
    pub asset_id: Option<AssetId>,
    #[param(max_length = 100)]
    pub scan_type: Option<String>,
    /// A CVE or advisory id.
    #[param(max_length = 100)]
    pub cve: Option<String>,
    #[param(minimum = 0, maximum = 100)]
    pub min_priority: Option<u8>,
    /// Part of the title or component.
    #[param(max_length = 200)]
    pub q: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,3}:[0-9a-fA-F-]{36}$")]
    pub cursor: Option<String>,
}

/// An analyst's decision on a finding.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingPatch {
    pub status: FindingStatus,
    /// Why (required for false positives and accepted risks).
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    /// When an accepted risk is due for review (required with
    /// `risk_accepted`, in the future).
    pub risk_accepted_until: Option<Timestamp>,
}
