//! The Sigma rule document: metadata, logsource and detection, read from
//! YAML into a typed tree (no matching here).

use yaml_serde::{Mapping, Value};

use super::condition::{parse_condition, Condition};
use super::modifier::Modifiers;

/// A scalar value as written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl RawValue {
    /// The value as text, the way it appears in event data.
    pub fn text(&self) -> String {
        match self {
            RawValue::Str(s) => s.clone(),
            RawValue::Int(n) => n.to_string(),
            RawValue::Float(f) => f.to_string(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Null => String::new(),
        }
    }
}

/// `Field|modifiers: value(s)`; `field` is `None` for keyword searches.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub field: Option<String>,
    pub modifiers: Modifiers,
    pub values: Vec<RawValue>,
}

/// A named search identifier of the detection section.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// A map: every field condition must hold.
    AllOf(Vec<FieldSpec>),
    /// A list of maps or keyword groups: any one must hold.
    AnyOf(Vec<Selection>),
    /// Keywords: any value found in any field.
    Keywords(Vec<RawValue>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub names: Vec<String>,
    pub selections: Vec<Selection>,
    pub condition: Condition,
}

/// A parsed Sigma detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    pub id: Option<String>,
    /// The `name` correlation rules refer to it by.
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
    pub detection: Detection,
}

impl SigmaRule {
    /// Reads a rule from one YAML document; the error names the construct
    /// that could not be understood.
    pub fn from_yaml(doc: &Value) -> Result<SigmaRule, String> {
        let map = doc
            .as_mapping()
            .ok_or("a Sigma rule must be a YAML mapping")?;
        let title = text_field(map, "title")?.ok_or("the rule has no `title`")?;
        let detection = map
            .get("detection")
            .ok_or("the rule has no `detection` section")?;
        Ok(SigmaRule {
            id: text_field(map, "id")?,
            name: text_field(map, "name")?,
            title,
            description: text_field(map, "description")?,
            status: text_field(map, "status")?,
            level: text_field(map, "level")?,
            tags: match map.get("tags") {
                Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
                _ => Vec::new(),
            },
            logsource: parse_logsource(map.get("logsource"))?,
            detection: parse_detection(detection)?,
        })
    }
}

pub(crate) fn text_field(map: &Mapping, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => scalar_text(value)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be text")),
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_logsource(value: Option<&Value>) -> Result<LogSource, String> {
    let Some(value) = value else {
        return Ok(LogSource::default());
    };
    let map = value.as_mapping().ok_or("`logsource` must be a mapping")?;
    let field = |key: &str| -> Result<Option<String>, String> {
        Ok(text_field(map, key)
            .map_err(|e| format!("logsource: {e}"))?
            .map(|s| s.to_ascii_lowercase()))
    };
    Ok(LogSource {
        product: field("product")?,
        category: field("category")?,
        service: field("service")?,
    })
}

fn parse_detection(value: &Value) -> Result<Detection, String> {
    let map = value.as_mapping().ok_or("`detection` must be a mapping")?;
    let mut names = Vec::new();
    let mut selections = Vec::new();
    let mut condition_text: Option<Vec<String>> = None;
    for (key, value) in map {
        let key = key
            .as_str()
            .ok_or("detection keys must be text")?
            .to_owned();
        match key.as_str() {
            "condition" => {
                condition_text = Some(match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Sequence(items) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or("`condition` list items must be text")?,
                    _ => return Err("`condition` must be text".into()),
                });
            }
            "timeframe" => {
                return Err(
                    "`timeframe` in a detection (an aggregation rule) is not supported; \
                     write a Sigma correlation rule instead"
                        .into(),
                )
            }
            _ => {
                let selection =
                    parse_selection(value).map_err(|e| format!("selection `{key}`: {e}"))?;
                names.push(key);
                selections.push(selection);
            }
        }
    }
    let condition_text = condition_text.ok_or("the detection has no `condition`")?;
    let mut conditions = condition_text
        .iter()
        .map(|text| parse_condition(text, &names).map_err(|e| format!("condition: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let condition = if conditions.len() == 1 {
        conditions.remove(0)
    } else {
        Condition::Or(conditions)
    };
    Ok(Detection {
        names,
        selections,
        condition,
    })
}

fn parse_selection(value: &Value) -> Result<Selection, String> {
    match value {
        Value::Mapping(map) => parse_map(map),
        Value::Sequence(items) => {
            let mut groups = Vec::new();
            let mut keywords = Vec::new();
            for item in items {
                match item {
                    Value::Mapping(map) => groups.push(parse_map(map)?),
                    Value::Sequence(_) => return Err("nested lists are not valid here".into()),
                    scalar => keywords.push(raw_value(scalar)?),
                }
            }
            if groups.is_empty() {
                return Ok(Selection::Keywords(keywords));
            }
            if !keywords.is_empty() {
                groups.push(Selection::Keywords(keywords));
            }
            Ok(Selection::AnyOf(groups))
        }
        scalar => Ok(Selection::Keywords(vec![raw_value(scalar)?])),
    }
}

fn parse_map(map: &Mapping) -> Result<Selection, String> {
    let mut specs = Vec::new();
    for (key, value) in map {
        let key = match key {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err("field names must be text".into()),
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default();
        let modifiers = Modifiers::parse(parts).map_err(|e| format!("`{key}`: {e}"))?;
        let values = match value {
            Value::Sequence(items) => items
                .iter()
                .map(raw_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("`{key}`: {e}"))?,
            scalar => vec![raw_value(scalar).map_err(|e| format!("`{key}`: {e}"))?],
        };
        specs.push(FieldSpec {
            field: (!field.is_empty()).then(|| field.to_owned()),
            modifiers,
            values,
        });
    }
    Ok(Selection::AllOf(specs))
}

fn raw_value(value: &Value) -> Result<RawValue, String> {
    Ok(match value {
        Value::Null => RawValue::Null,
        Value::Bool(b) => RawValue::Bool(*b),
        Value::String(s) => RawValue::Str(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => RawValue::Int(i),
            None => RawValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Tagged(tagged) => raw_value(&tagged.value)?,
        Value::Sequence(_) | Value::Mapping(_) => {
            return Err("values must be scalars or a list of scalars".into())
        }
    })
}
