//! Feature flags as the API shows and takes them.

use rampart_core::flag::{Flag, FlagContext, FlagDefinition, FlagRule, Variant};
use rampart_core::Timestamp;
use serde::{Deserialize, Serialize};

/// A flag.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub key: String,
    /// A platform flag: for every organisation without its own of this key.
    pub platform: bool,
    pub description: String,
    /// The kill switch: off means off for everyone.
    pub enabled: bool,
    pub rules: Vec<FlagRule>,
    pub variants: Vec<Variant>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl From<Flag> for FlagView {
    fn from(f: Flag) -> Self {
        FlagView {
            key: f.key,
            platform: f.org_id.is_none(),
            description: f.definition.description,
            enabled: f.definition.enabled,
            rules: f.definition.rules,
            variants: f.definition.variants,
            created_at: f.created_at,
            updated_at: f.updated_at,
            updated_by: f.updated_by,
        }
    }
}

/// A flag to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlag {
    /// 1–100 of `a-z A-Z 0-9 . _ -`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,100}$")]
    pub key: String,
    /// A platform flag (platform admins).
    #[serde(default)]
    pub platform: bool,
    #[serde(default)]
    pub description: String,
    pub enabled: bool,
    #[serde(default, deserialize_with = "rampart_core::json_shape::objects")]
    pub rules: Vec<FlagRule>,
    #[serde(default, deserialize_with = "rampart_core::json_shape::objects")]
    pub variants: Vec<Variant>,
}

/// A flag's new definition.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagInput {
    #[serde(default)]
    pub description: String,
    pub enabled: bool,
    #[serde(default, deserialize_with = "rampart_core::json_shape::objects")]
    pub rules: Vec<FlagRule>,
    #[serde(default, deserialize_with = "rampart_core::json_shape::objects")]
    pub variants: Vec<Variant>,
}

impl FlagInput {
    pub fn definition(self) -> FlagDefinition {
        FlagDefinition {
            description: self.description,
            enabled: self.enabled,
            rules: self.rules,
            variants: self.variants,
        }
    }
}

impl NewFlag {
    /// Its key, scope and definition.
    pub fn into_parts(self) -> (String, bool, FlagDefinition) {
        (
            self.key,
            self.platform,
            FlagDefinition {
                description: self.description,
                enabled: self.enabled,
                rules: self.rules,
                variants: self.variants,
            },
        )
    }
}

/// What to evaluate, and for whom (the caller's organisation always; the
/// other fields default to the caller's own).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateInput {
    pub flag: String,
    #[serde(default, deserialize_with = "rampart_core::json_shape::object")]
    pub context: FlagContext,
}
