//! Feature flags: a kill switch, targeting rules with percentage rollouts,
//! and variants, evaluated against who is asking. Rollouts bucket a caller
//! as Unleash does (MurmurHash3 x86_32, seed 0, of `"<group>:<value>"`,
//! `% 100 + 1`), so Unleash's client-specification cases hold here too;
//! variants as Unleash picks them (seed 86028157, `% 1000 + 1`, weights
//! out of 1000).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::event::IpMatch;
use crate::{OrgId, Timestamp};

/// Longest flag key.
pub const MAX_KEY_LEN: usize = 100;
/// Most rules, constraints per rule, values per constraint, variants.
pub const MAX_RULES: usize = 50;
pub const MAX_CONSTRAINTS: usize = 20;
pub const MAX_VALUES: usize = 1000;
pub const MAX_VARIANTS: usize = 20;
/// Variant weights add up to this.
pub const VARIANT_WEIGHT_TOTAL: u32 = 1000;
const ROLLOUT_SEED: u32 = 0;
const VARIANT_SEED: u32 = 86_028_157;

/// A flag: off for everyone when not `enabled`; otherwise on for whoever
/// any rule lets in (on for all when there are no rules), as Unleash's
/// strategies combine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagDefinition {
    #[serde(default)]
    pub description: String,
    /// The kill switch.
    pub enabled: bool,
    /// Tried in order; the first whose constraints all hold and whose
    /// rollout admits the caller turns the flag on.
    #[serde(default, deserialize_with = "crate::json_shape::objects")]
    pub rules: Vec<FlagRule>,
    /// Variants of an enabled flag, by weight (summing to 1000).
    #[serde(default, deserialize_with = "crate::json_shape::objects")]
    pub variants: Vec<Variant>,
}

/// Who a rule is for, and what share of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagRule {
    #[serde(default, deserialize_with = "crate::json_shape::objects")]
    pub constraints: Vec<Constraint>,
    /// Percentage (0–100) of the matching callers it is on for.
    #[serde(default = "all", deserialize_with = "crate::whole_number::required")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub rollout: u8,
    /// What keeps a caller in or out of the rollout from call to call.
    #[serde(default)]
    pub stickiness: Stickiness,
    /// Callers are bucketed by `"<group>:<stickiness value>"`; the flag's
    /// key when absent (the same caller lands alike in flags that share one).
    #[serde(default)]
    pub group: Option<String>,
}

fn all() -> u8 {
    100
}

/// The context value a rollout buckets by.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stickiness {
    /// The user id, else the session id, else random.
    #[default]
    Default,
    UserId,
    SessionId,
    OrgId,
    ClientAddress,
    /// A fresh draw at every evaluation.
    Random,
    /// A property of the context, by name.
    Property(String),
}

/// A condition on the context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    pub field: ContextField,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// What a constraint looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContextField {
    OrgId,
    UserId,
    Role,
    /// The part of the e-mail address after `@`, lower case.
    EmailDomain,
    ClientAddress,
    SessionId,
    Property(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// The value is one of `values`.
    In,
    NotIn,
    /// The address is in one of the CIDR networks (or equal to an address).
    InCidr,
    NotInCidr,
}

/// A variant and its weight out of 1000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    #[serde(deserialize_with = "crate::whole_number::required")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub weight: u32,
}

/// Who is asking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagContext {
    #[serde(default)]
    pub org_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub client_address: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// The answer, shaped as OpenFeature's evaluation details.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evaluation {
    pub enabled: bool,
    pub variant: Option<String>,
    /// Why: `disabled` (kill switch), `no_rules`, `rule <n>`,
    /// `rule <n> rollout`, `no_rule_matched`, `not_found`.
    pub reason: String,
}

/// A stored flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    pub key: String,
    /// `None`: a platform flag, for every organisation without its own.
    pub org_id: Option<OrgId>,
    pub definition: FlagDefinition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl FlagDefinition {
    /// What is wrong with it, if anything: `(field, reason)`.
    pub fn problem(&self) -> Option<(String, String)> {
        if self.rules.len() > MAX_RULES {
            return Some(("rules".into(), format!("at most {MAX_RULES}")));
        }
        for (n, rule) in self.rules.iter().enumerate() {
            if rule.rollout > 100 {
                return Some((format!("rules[{n}].rollout"), "must be 0 to 100".into()));
            }
            if rule.constraints.len() > MAX_CONSTRAINTS {
                return Some((
                    format!("rules[{n}].constraints"),
                    format!("at most {MAX_CONSTRAINTS}"),
                ));
            }
            for (c, constraint) in rule.constraints.iter().enumerate() {
                let at = format!("rules[{n}].constraints[{c}].values");
                if constraint.values.is_empty() || constraint.values.len() > MAX_VALUES {
                    return Some((at, format!("1 to {MAX_VALUES} values")));
                }
                let cidr = matches!(constraint.operator, Operator::InCidr | Operator::NotInCidr);
                if cidr {
                    if let Some(bad) = constraint
                        .values
                        .iter()
                        .find(|v| v.parse::<IpMatch>().is_err())
                    {
                        return Some((at, format!("'{bad}' is not an address or CIDR network")));
                    }
                }
            }
        }
        if self.variants.len() > MAX_VARIANTS {
            return Some(("variants".into(), format!("at most {MAX_VARIANTS}")));
        }
        if !self.variants.is_empty() {
            let total: u32 = self.variants.iter().map(|v| v.weight).sum();
            if total != VARIANT_WEIGHT_TOTAL {
                return Some((
                    "variants".into(),
                    format!("weights must add up to {VARIANT_WEIGHT_TOTAL}, not {total}"),
                ));
            }
        }
        None
    }

    /// Evaluates the flag `key` for `context`.
    pub fn evaluate(&self, key: &str, context: &FlagContext) -> Evaluation {
        let answer = |enabled: bool, reason: String| Evaluation {
            variant: if enabled {
                self.variant(key, context)
            } else {
                None
            },
            enabled,
            reason,
        };
        if !self.enabled {
            return answer(false, "disabled".into());
        }
        if self.rules.is_empty() {
            return answer(true, "no_rules".into());
        }
        let mut left_out = None;
        for (n, rule) in self.rules.iter().enumerate() {
            if !rule.constraints.iter().all(|c| c.holds(context)) {
                continue;
            }
            let group = rule.group.as_deref().unwrap_or(key);
            if rule.admits(group, context) {
                return answer(true, format!("rule {n}"));
            }
            left_out.get_or_insert(n);
        }
        match left_out {
            Some(n) => answer(false, format!("rule {n} rollout")),
            None => answer(false, "no_rule_matched".into()),
        }
    }

    fn variant(&self, key: &str, context: &FlagContext) -> Option<String> {
        if self.variants.is_empty() {
            return None;
        }
        let value = Stickiness::Default.value(context);
        // Out of the weights' sum, as Unleash counts (1000 for every flag
        // that passed `problem`).
        let total: u32 = self.variants.iter().map(|v| v.weight).sum();
        let bucket = normalised(
            &format!("{key}:{value}"),
            VARIANT_SEED,
            if total == 0 {
                VARIANT_WEIGHT_TOTAL
            } else {
                total
            },
        );
        let mut upto = 0;
        for variant in &self.variants {
            upto += variant.weight;
            if bucket <= upto {
                return Some(variant.name.clone());
            }
        }
        self.variants.last().map(|v| v.name.clone())
    }
}

impl FlagRule {
    /// Whether the rollout lets this caller in.
    fn admits(&self, group: &str, context: &FlagContext) -> bool {
        match self.rollout {
            0 => false,
            _ => {
                let Some(value) = self.stickiness.value_of(context) else {
                    // Nothing to stick by (a user id asked for, none
                    // given): no rollout lets them in, as in Unleash.
                    return false;
                };
                normalised(&format!("{group}:{value}"), ROLLOUT_SEED, 100)
                    <= u32::from(self.rollout)
            }
        }
    }
}

impl Stickiness {
    /// The value a caller sticks by; `None` when the context lacks it.
    fn value_of(&self, context: &FlagContext) -> Option<String> {
        match self {
            Stickiness::Default => Some(self.value(context)),
            Stickiness::UserId => context.user_id.clone(),
            Stickiness::SessionId => context.session_id.clone(),
            Stickiness::OrgId => context.org_id.clone(),
            Stickiness::ClientAddress => context.client_address.clone(),
            Stickiness::Random => Some(random_value()),
            Stickiness::Property(name) => context.properties.get(name).cloned(),
        }
    }

    /// The default chain: user id, session id, or random.
    fn value(&self, context: &FlagContext) -> String {
        context
            .user_id
            .clone()
            .or_else(|| context.session_id.clone())
            .unwrap_or_else(random_value)
    }
}

fn random_value() -> String {
    // Unique per call; the hash spreads it like a random number.
    uuid::Uuid::now_v7().simple().to_string()
}

impl Constraint {
    fn holds(&self, context: &FlagContext) -> bool {
        let value = match &self.field {
            ContextField::OrgId => context.org_id.clone(),
            ContextField::UserId => context.user_id.clone(),
            ContextField::Role => context.role.clone(),
            ContextField::EmailDomain => context
                .email
                .as_deref()
                .and_then(|e| e.rsplit_once('@'))
                .map(|(_, domain)| domain.to_lowercase()),
            ContextField::ClientAddress => context.client_address.clone(),
            ContextField::SessionId => context.session_id.clone(),
            ContextField::Property(name) => context.properties.get(name).cloned(),
        };
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(&v)),
            Operator::NotIn => !value.is_some_and(|v| self.values.contains(&v)),
            Operator::InCidr | Operator::NotInCidr => {
                let inside = value
                    .and_then(|v| v.parse::<IpAddr>().ok())
                    .is_some_and(|ip| {
                        self.values
                            .iter()
                            .filter_map(|n| n.parse::<IpMatch>().ok())
                            .any(|n| n.matches(ip))
                    });
                inside == (self.operator == Operator::InCidr)
            }
        }
    }
}

/// MurmurHash3 x86_32 of `text` with `seed`, `% modulus + 1`: Unleash's
/// normalised value (1 to `modulus`).
pub fn normalised(text: &str, seed: u32, modulus: u32) -> u32 {
    let hash = murmur3::murmur3_32(&mut std::io::Cursor::new(text.as_bytes()), seed).unwrap_or(0);
    hash % modulus + 1
}

/// Whether `key` is a valid flag key: 1–100 of `a-z A-Z 0-9 . _ -`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(constraints: Vec<Constraint>, rollout: u8) -> FlagRule {
        FlagRule {
            constraints,
            rollout,
            stickiness: Stickiness::UserId,
            group: None,
        }
    }

    fn user(id: &str) -> FlagContext {
        FlagContext {
            user_id: Some(id.into()),
            role: Some("analyst".into()),
            email: Some(format!("{id}@Example.COM")),
            client_address: Some("10.1.2.3".into()),
            ..FlagContext::default()
        }
    }

    #[test]
    fn kill_switch_rules_and_constraints_decide_in_order() {
        let constraint = |field, operator, values: &[&str]| Constraint {
            field,
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        let mut flag = FlagDefinition {
            description: String::new(),
            enabled: true,
            rules: vec![
                rule(
                    vec![constraint(ContextField::Role, Operator::In, &["admin"])],
                    100,
                ),
                rule(
                    vec![
                        constraint(ContextField::EmailDomain, Operator::In, &["example.com"]),
                        constraint(
                            ContextField::ClientAddress,
                            Operator::InCidr,
                            &["10.0.0.0/8", "2001:db8::/32"],
                        ),
                    ],
                    100,
                ),
            ],
            variants: vec![],
        };
        assert_eq!(flag.problem(), None);
        let on = flag.evaluate("f", &user("u1"));
        assert_eq!((on.enabled, on.reason.as_str()), (true, "rule 1"));
        let outside = FlagContext {
            client_address: Some("192.0.2.1".into()),
            ..user("u1")
        };
        assert_eq!(flag.evaluate("f", &outside).reason, "no_rule_matched");
        let admin = FlagContext {
            role: Some("admin".into()),
            ..outside
        };
        assert_eq!(flag.evaluate("f", &admin).reason, "rule 0");
        flag.enabled = false;
        let off = flag.evaluate("f", &admin);
        assert_eq!((off.enabled, off.reason.as_str()), (false, "disabled"));
        flag.enabled = true;
        flag.rules.clear();
        assert_eq!(
            flag.evaluate("f", &FlagContext::default()).reason,
            "no_rules"
        );
    }

    #[test]
    fn rollouts_bucket_callers_stably_and_in_proportion() {
        let flag = FlagDefinition {
            description: String::new(),
            enabled: true,
            rules: vec![rule(vec![], 30)],
            variants: vec![
                Variant {
                    name: "blue".into(),
                    weight: 500,
                },
                Variant {
                    name: "green".into(),
                    weight: 500,
                },
            ],
        };
        let on: Vec<bool> = (0..10_000)
            .map(|n| flag.evaluate("beta.hunt", &user(&n.to_string())).enabled)
            .collect();
        let share = on.iter().filter(|e| **e).count();
        assert!((2_700..3_300).contains(&share), "{share}");
        // The same user always lands the same way.
        for (n, was) in on.iter().enumerate().take(100) {
            let again = flag.evaluate("beta.hunt", &user(&n.to_string()));
            assert_eq!(again.enabled, *was);
        }
        let variants: Vec<Option<String>> = (0..1000)
            .map(|n| flag.evaluate("beta.hunt", &user(&n.to_string())).variant)
            .filter(|v| v.is_some())
            .collect();
        let blue = variants
            .iter()
            .filter(|v| v.as_deref() == Some("blue"))
            .count();
        assert!(blue > variants.len() / 3 && blue < variants.len() * 2 / 3);
        // Without a user id, user-id stickiness admits no one below 100 %.
        assert!(!flag.evaluate("beta.hunt", &FlagContext::default()).enabled);
    }

    #[test]
    fn definitions_are_checked() {
        let mut flag = FlagDefinition {
            description: String::new(),
            enabled: true,
            rules: vec![FlagRule {
                constraints: vec![Constraint {
                    field: ContextField::ClientAddress,
                    operator: Operator::InCidr,
                    values: vec!["10.0.0.0/33".into()],
                }],
                rollout: 100,
                stickiness: Stickiness::Default,
                group: None,
            }],
            variants: vec![],
        };
        assert_eq!(
            flag.problem().map(|p| p.0),
            Some("rules[0].constraints[0].values".into())
        );
        flag.rules.clear();
        flag.variants = vec![Variant {
            name: "a".into(),
            weight: 10,
        }];
        assert_eq!(flag.problem().map(|p| p.0), Some("variants".into()));
        assert!(valid_key("beta.phishing-analysis_2"));
        assert!(!valid_key("") && !valid_key("has space") && !valid_key(&"x".repeat(101)));
    }
}
