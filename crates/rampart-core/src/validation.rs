//! Validation rules for incoming events, per organisation and source:
//! required fields, types, patterns, allowed values and lengths, each in
//! warn mode (store and flag) or reject mode (refuse with a clear error).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{Event, Filterable};
use crate::{OrgId, Timestamp, ValidationRuleId};

/// What a rule checks of its field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The field is present and not null. (A struct variant, not a unit
    /// one: serde lets a unit variant of a tagged enum ignore unknown
    /// members, and a check with a misspelt member must be refused.)
    Required {},
    /// When present, the value has this type.
    Type { is: FieldType },
    /// When present, the value (as text) matches this regular expression.
    Regex { pattern: String },
    /// When present, the value (as text) is one of these.
    AllowedValues {
        #[cfg_attr(feature = "openapi", schema(min_items = 1))]
        values: Vec<String>,
    },
    /// When present, the value (as text) has at most this many characters.
    MaxLength { max: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Ip,
    Array,
    Object,
}

/// What happens to an event that fails the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Store it, with the rule's name in its `warnings`.
    Warn,
    /// Refuse it, with an error naming the rule and the field.
    Reject,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Warn => "warn",
            Mode::Reject => "reject",
        }
    }
}

/// One rule as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidationRule {
    pub id: ValidationRuleId,
    pub org_id: OrgId,
    pub name: String,
    /// Applies to events of this ingest `source` only; all sources when absent.
    pub source: Option<String>,
    /// The field, by its ECS dotted name (e.g. `source.ip`, `labels.env`).
    pub field: String,
    pub check: Check,
    pub mode: Mode,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why a rule definition is not usable.
pub fn check_definition(field: &str, check: &Check) -> Result<(), String> {
    if field.is_empty() || field.len() > 200 {
        return Err("field must be 1–200 characters".into());
    }
    match check {
        Check::Regex { pattern } => regex::Regex::new(pattern)
            .map(|_| ())
            .map_err(|e| format!("pattern: {e}")),
        Check::AllowedValues { values } if values.is_empty() => {
            Err("allowed_values needs at least one value".into())
        }
        _ => Ok(()),
    }
}

/// A field's value as the checks see it.
enum Found {
    Absent,
    Text(String, FieldType),
    Json(Value),
}

impl Found {
    fn text(&self) -> Option<String> {
        match self {
            Found::Absent => None,
            Found::Text(t, _) => Some(t.clone()),
            Found::Json(Value::String(s)) => Some(s.clone()),
            Found::Json(Value::Null) => None,
            Found::Json(v) => Some(v.to_string()),
        }
    }

    fn has_type(&self, want: FieldType) -> bool {
        match self {
            Found::Absent => true,
            Found::Text(_, have) => {
                *have == want || (want == FieldType::String && *have == FieldType::Ip)
            }
            Found::Json(v) => match want {
                FieldType::String => v.is_string(),
                FieldType::Number => v.is_number(),
                FieldType::Boolean => v.is_boolean(),
                FieldType::Ip => v
                    .as_str()
                    .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
                FieldType::Array => v.is_array(),
                FieldType::Object => v.is_object(),
            },
        }
    }
}

struct Compiled {
    rule: ValidationRule,
    regex: Option<regex::Regex>,
    allowed: HashSet<String>,
}

/// An organisation's enabled rules, ready to run on every event.
#[derive(Default)]
pub struct RuleSet {
    rules: Vec<Compiled>,
    needs_fields: bool,
}

/// The verdict of a rule set on one event.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The first reject-mode rule that failed: (rule name, field, detail).
    pub rejected: Option<(String, String, String)>,
    /// Per rule of the set, in order: `Some(true)` passed, `Some(false)`
    /// failed, `None` did not apply (other source).
    pub results: Vec<Option<bool>>,
}

impl RuleSet {
    /// Compiles the enabled rules; a rule whose pattern does not compile
    /// (it was checked on save) is skipped.
    pub fn new(rules: Vec<ValidationRule>) -> Self {
        let rules: Vec<Compiled> = rules
            .into_iter()
            .filter(|r| r.enabled)
            .filter_map(|rule| {
                let regex = match &rule.check {
                    Check::Regex { pattern } => Some(regex::Regex::new(pattern).ok()?),
                    _ => None,
                };
                let allowed = match &rule.check {
                    Check::AllowedValues { values } => values.iter().cloned().collect(),
                    _ => HashSet::new(),
                };
                Some(Compiled {
                    rule,
                    regex,
                    allowed,
                })
            })
            .collect();
        let needs_fields = rules.iter().any(|c| well_known(&c.rule.field).is_none());
        Self {
            rules,
            needs_fields,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in the order of [`Verdict::results`].
    pub fn rules(&self) -> impl Iterator<Item = &ValidationRule> {
        self.rules.iter().map(|c| &c.rule)
    }

    /// Runs every applicable rule; warn-mode failures are added to the
    /// event's `warnings`.
    pub fn apply(&self, event: &mut Event) -> Verdict {
        let mut verdict = Verdict {
            rejected: None,
            results: Vec::with_capacity(self.rules.len()),
        };
        if self.rules.is_empty() {
            return verdict;
        }
        let fields: Option<Value> = if self.needs_fields {
            serde_json::from_str(&event.fields).ok()
        } else {
            None
        };
        for compiled in &self.rules {
            let rule = &compiled.rule;
            if rule.source.as_deref().is_some_and(|s| s != event.source) {
                verdict.results.push(None);
                continue;
            }
            let found = lookup(event, fields.as_ref(), &rule.field);
            let failure = compiled.failure(&found);
            verdict.results.push(Some(failure.is_none()));
            if let Some(detail) = failure {
                match rule.mode {
                    Mode::Warn => event.warnings.push(rule.name.clone()),
                    Mode::Reject => {
                        if verdict.rejected.is_none() {
                            verdict.rejected =
                                Some((rule.name.clone(), rule.field.clone(), detail));
                        }
                    }
                }
            }
        }
        verdict
    }
}

impl Compiled {
    /// Why the value fails, or `None` when it passes.
    fn failure(&self, found: &Found) -> Option<String> {
        let field = &self.rule.field;
        match &self.rule.check {
            Check::Required {} => matches!(found, Found::Absent | Found::Json(Value::Null))
                .then(|| format!("{field} is required")),
            Check::Type { is } => (!found.has_type(*is))
                .then(|| format!("{field} must be of type {is:?}").to_lowercase()),
            Check::Regex { pattern } => {
                let text = found.text()?;
                let ok = self.regex.as_ref().is_some_and(|r| r.is_match(&text));
                (!ok).then(|| format!("{field} does not match /{pattern}/"))
            }
            Check::AllowedValues { values } => {
                let text = found.text()?;
                (!self.allowed.contains(&text))
                    .then(|| format!("{field} is {text:?}, not one of {}", values.join(", ")))
            }
            Check::MaxLength { max } => {
                let text = found.text()?;
                let len = text.chars().count();
                (len > *max).then(|| format!("{field} is {len} characters, more than {max}"))
            }
        }
    }
}

/// The well-known field's type, or `None` for other fields.
fn well_known(field: &str) -> Option<FieldType> {
    Some(match field {
        "event.severity" | "source.port" | "destination.port" => FieldType::Number,
        "source.ip" | "destination.ip" => FieldType::Ip,
        "event.category" | "event.action" | "event.outcome" | "host.name" | "user.name"
        | "process.name" | "url.full" | "message" | "source" => FieldType::String,
        "tags" => FieldType::Array,
        "@timestamp" => FieldType::String,
        _ => return None,
    })
}

fn lookup(event: &Event, fields: Option<&Value>, field: &str) -> Found {
    if let Some(kind) = well_known(field) {
        return match field {
            "tags" if event.tags.is_empty() => Found::Absent,
            "tags" => Found::Json(Value::from(event.tags.clone())),
            "@timestamp" => Found::Text(event.timestamp.to_rfc3339(), kind),
            _ => match event.field_text(field) {
                Some(text) => Found::Text(text, kind),
                None => Found::Absent,
            },
        };
    }
    match fields.and_then(|f| find_path(f, field)) {
        Some(v) => Found::Json(v.clone()),
        None => Found::Absent,
    }
}

/// A dotted path through nested objects, where any level may itself hold
/// a dotted key (`{"labels": {"env.name": …}}`).
fn find_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    let mut split = path.len();
    while let Some(at) = path[..split].rfind('.') {
        if let Some(child) = object.get(&path[..at]) {
            if let Some(found) = find_path(child, &path[at + 1..]) {
                return Some(found);
            }
        }
        split = at;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_refuse_members_they_do_not_have() {
        let parse = |json: &str| serde_json::from_str::<Check>(json);
        assert_eq!(parse(r#"{"type":"required"}"#).unwrap(), Check::Required {});
        assert!(parse(r#"{"type":"required","typo":1}"#).is_err());
        assert!(parse(r#"{"type":"max_length","max":3,"min":1}"#).is_err());
        assert_eq!(
            serde_json::to_string(&Check::Required {}).unwrap(),
            r#"{"type":"required"}"#
        );
    }

    fn rule(name: &str, field: &str, check: Check, mode: Mode) -> ValidationRule {
        ValidationRule {
            id: ValidationRuleId::new(),
            org_id: OrgId::new(),
            name: name.into(),
            source: None,
            field: field.into(),
            check,
            mode,
            enabled: true,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn event(fields: &str) -> Event {
        Event {
            source: "fw".into(),
            user: Some("alice".into()),
            source_ip: Some("10.0.0.1".parse().unwrap()),
            fields: fields.into(),
            ..Event::default()
        }
    }

    #[test]
    fn each_check_passes_and_fails() {
        let set = RuleSet::new(vec![
            rule("need-host", "host.name", Check::Required {}, Mode::Warn),
            rule(
                "ip-typed",
                "source.ip",
                Check::Type { is: FieldType::Ip },
                Mode::Reject,
            ),
            rule(
                "env",
                "labels.env",
                Check::AllowedValues {
                    values: vec!["prod".into(), "dev".into()],
                },
                Mode::Reject,
            ),
            rule(
                "short-user",
                "user.name",
                Check::MaxLength { max: 3 },
                Mode::Warn,
            ),
            rule(
                "ticket",
                "ticket",
                Check::Regex {
                    pattern: "^T-[0-9]+$".into(),
                },
                Mode::Warn,
            ),
            rule(
                "count",
                "count",
                Check::Type {
                    is: FieldType::Number,
                },
                Mode::Warn,
            ),
        ]);
        let mut e = event(r#"{"labels":{"env":"prod"},"ticket":"T-12","count":"7"}"#);
        let verdict = set.apply(&mut e);
        assert_eq!(verdict.rejected, None);
        assert_eq!(
            verdict.results,
            [
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(false)
            ]
        );
        assert_eq!(e.warnings, ["need-host", "short-user", "count"]);

        let mut e = event(r#"{"labels.env":"staging"}"#);
        let verdict = set.apply(&mut e);
        let (name, field, detail) = verdict.rejected.unwrap();
        assert_eq!((name.as_str(), field.as_str()), ("env", "labels.env"));
        assert!(detail.contains("staging"), "{detail}");
    }

    #[test]
    fn rules_apply_to_their_source_only_and_disabled_rules_not_at_all() {
        let mut only_web = rule("web-url", "url.full", Check::Required {}, Mode::Reject);
        only_web.source = Some("web".into());
        let mut off = rule("off", "host.name", Check::Required {}, Mode::Reject);
        off.enabled = false;
        let set = RuleSet::new(vec![only_web, off]);
        let mut e = event("{}");
        let verdict = set.apply(&mut e);
        assert_eq!(verdict.rejected, None);
        assert_eq!(verdict.results, [None]);
        e.source = "web".into();
        assert!(set.apply(&mut e).rejected.is_some());
    }

    #[test]
    fn definitions_are_checked() {
        assert!(check_definition(
            "x",
            &Check::Regex {
                pattern: "(".into()
            }
        )
        .is_err());
        assert!(check_definition("x", &Check::AllowedValues { values: vec![] }).is_err());
        assert!(check_definition("", &Check::Required {}).is_err());
        assert!(check_definition("a.b", &Check::MaxLength { max: 3 }).is_ok());
    }
}
