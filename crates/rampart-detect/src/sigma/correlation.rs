//! The Sigma correlation document (event_count, value_count, temporal,
//! temporal_ordered), read from YAML into a typed definition.

use yaml_serde::{Mapping, Value};

use super::rule::text_field;

/// What a correlation counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CorrelationKind {
    /// Matches of the referenced rules.
    EventCount,
    /// Distinct values of `field` among the matches.
    ValueCount { field: String },
    /// Every referenced rule matched; with `ordered`, in the listed order.
    Temporal { ordered: bool },
}

/// A count condition: `lower` (inclusive) and an optional inclusive `upper`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountCondition {
    pub lower: u64,
    pub upper: Option<u64>,
}

impl CountCondition {
    pub fn holds(&self, count: u64) -> bool {
        count >= self.lower && self.upper.is_none_or(|upper| count <= upper)
    }
}

/// A parsed Sigma correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationRule {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub kind: CorrelationKind,
    /// The `name`s (or ids) of the rules it correlates.
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    /// Absent for temporal correlations, which need every rule once.
    pub condition: Option<CountCondition>,
    /// Whether the referenced detection rules still raise alerts of their own.
    pub generate: bool,
}

impl CorrelationRule {
    pub fn from_yaml(doc: &Value) -> Result<CorrelationRule, String> {
        let map = doc
            .as_mapping()
            .ok_or("a Sigma rule must be a YAML mapping")?;
        let title = text_field(map, "title")?.ok_or("the rule has no `title`")?;
        let body = map
            .get("correlation")
            .and_then(Value::as_mapping)
            .ok_or("`correlation` must be a mapping")?;
        let kind_name = text_field(body, "type")?.ok_or("the correlation has no `type`")?;
        let rules = text_list(body, "rules")?;
        if rules.is_empty() {
            return Err("the correlation names no `rules`".into());
        }
        let group_by = text_list(body, "group-by")?;
        if body.get("aliases").is_some() {
            return Err("correlation `aliases` are not supported".into());
        }
        let timespan = text_field(body, "timespan")?
            .or(text_field(body, "timeframe")?)
            .ok_or("the correlation has no `timespan`")?;
        let timespan_ms = parse_timespan(&timespan)?;
        let (kind, condition) = match kind_name.as_str() {
            "event_count" => (CorrelationKind::EventCount, Some(condition(body)?.0)),
            "value_count" => {
                let (condition, field) = condition(body)?;
                let field = field.ok_or("a value_count condition needs a `field`")?;
                (CorrelationKind::ValueCount { field }, Some(condition))
            }
            "temporal" | "temporal_ordered" => {
                if body.get("condition").is_some() {
                    return Err("a temporal correlation takes no `condition`".into());
                }
                (
                    CorrelationKind::Temporal {
                        ordered: kind_name == "temporal_ordered",
                    },
                    None,
                )
            }
            other => return Err(format!("unknown correlation type `{other}`")),
        };
        let generate = match body.get("generate").or(map.get("generate")) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("`generate` must be true or false".into()),
        };
        Ok(CorrelationRule {
            id: text_field(map, "id")?,
            name: text_field(map, "name")?,
            title,
            description: text_field(map, "description")?,
            level: text_field(map, "level")?,
            tags: text_list(map, "tags")?,
            kind,
            rules,
            group_by,
            timespan_ms,
            condition,
            generate,
        })
    }
}

fn text_list(map: &Mapping, key: &str) -> Result<Vec<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("`{key}` must be a list of text")),
        Some(_) => Err(format!("`{key}` must be a list of text")),
    }
}

/// `5m`, `30s`, `1h`, `2d` (also `1w`, `1M` and `1y` as 7, 30 and 365 days).
pub fn parse_timespan(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("timespan `{text}` has no unit (s, m, h, d)"))?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("timespan `{text}` must start with a whole number"))?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "M" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return Err(format!("timespan `{text}`: unknown unit `{unit}`")),
    };
    match number.checked_mul(unit_ms) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!(
            "timespan `{text}` must be positive and below 290 million years"
        )),
    }
}

/// The `condition` mapping: `gt`/`gte`/`eq` give the lower bound, `lt`/`lte`
/// (and `eq`) the upper; `field` names what value_count counts.
fn condition(body: &Mapping) -> Result<(CountCondition, Option<String>), String> {
    let map = body
        .get("condition")
        .and_then(Value::as_mapping)
        .ok_or("the correlation needs a `condition` mapping (e.g. `gte: 5`)")?;
    let mut lower: Option<u64> = None;
    let mut upper: Option<u64> = None;
    let mut field = None;
    for (key, value) in map {
        let key = key.as_str().ok_or("condition keys must be text")?;
        if key == "field" {
            field = Some(
                value
                    .as_str()
                    .ok_or("condition `field` must be text")?
                    .to_owned(),
            );
            continue;
        }
        let n = value
            .as_u64()
            .ok_or_else(|| format!("condition `{key}` must be a whole number ≥ 0"))?;
        match key {
            "gte" => lower = Some(lower.map_or(n, |l| l.max(n))),
            "gt" => lower = Some(lower.map_or(n + 1, |l| l.max(n + 1))),
            "lte" => upper = Some(upper.map_or(n, |u| u.min(n))),
            "lt" => {
                let n = n.checked_sub(1).ok_or("condition `lt: 0` can never hold")?;
                upper = Some(upper.map_or(n, |u| u.min(n)));
            }
            "eq" => {
                lower = Some(n);
                upper = Some(n);
            }
            "neq" => {
                return Err("condition `neq` is not supported: it needs the window to close".into())
            }
            other => return Err(format!("unknown condition operator `{other}`")),
        }
    }
    let lower = match lower {
        Some(l) if l >= 1 => l,
        _ => {
            return Err(
                "the condition needs a lower bound of at least 1 (gte, gt or eq): counts \
                 below a bound are only known when the window closes, which streaming \
                 evaluation does not wait for"
                    .into(),
            )
        }
    };
    if upper.is_some_and(|u| u < lower) {
        return Err("the condition's upper bound is below its lower bound".into());
    }
    Ok((CountCondition { lower, upper }, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CorrelationRule, String> {
        let value: Value = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
        CorrelationRule::from_yaml(&value)
    }

    #[test]
    fn reads_the_three_kinds() {
        let rule = parse(
            "title: brute\nname: bf\ncorrelation:\n  type: event_count\n  rules: [fail]\n  group-by: [source.ip]\n  timespan: 5m\n  condition: {gte: 5}\nlevel: high\n",
        )
        .unwrap();
        assert_eq!(rule.kind, CorrelationKind::EventCount);
        assert_eq!(rule.timespan_ms, 300_000);
        assert_eq!(
            rule.condition,
            Some(CountCondition {
                lower: 5,
                upper: None
            })
        );
        assert_eq!(rule.group_by, ["source.ip"]);
        assert!(!rule.generate);

        let rule = parse(
            "title: spray\ncorrelation:\n  type: value_count\n  rules: fail\n  timespan: 1h\n  condition: {gt: 9, lt: 100, field: user.name}\n  generate: true\n",
        )
        .unwrap();
        assert_eq!(
            rule.kind,
            CorrelationKind::ValueCount {
                field: "user.name".into()
            }
        );
        assert_eq!(
            rule.condition,
            Some(CountCondition {
                lower: 10,
                upper: Some(99)
            })
        );
        assert!(rule.generate);

        let rule = parse(
            "title: t\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  timespan: 30s\n",
        )
        .unwrap();
        assert_eq!(rule.kind, CorrelationKind::Temporal { ordered: true });
        assert_eq!(rule.condition, None);
    }

    #[test]
    fn refuses_what_it_cannot_evaluate_in_a_stream() {
        let base = "title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n";
        for (extra, needle) in [
            ("  condition: {lt: 5}\n", "lower bound"),
            ("  condition: {neq: 5}\n", "neq"),
            ("  condition: {gte: 5, lte: 2}\n", "upper bound"),
            ("  condition: {gte: -1}\n", "whole number"),
        ] {
            let err = parse(&format!("{base}{extra}")).unwrap_err();
            assert!(err.contains(needle), "{extra}: {err}");
        }
        let err = parse("title: x\ncorrelation:\n  type: value_count\n  rules: [a]\n  timespan: 5m\n  condition: {gte: 2}\n").unwrap_err();
        assert!(err.contains("field"), "{err}");
        assert!(parse("title: x\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5\n  condition: {gte: 2}\n").unwrap_err().contains("unit"));
        assert!(
            parse("title: x\ncorrelation:\n  type: nope\n  rules: [a]\n  timespan: 5m\n")
                .unwrap_err()
                .contains("nope")
        );
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Ok(30_000));
        assert_eq!(parse_timespan("2d"), Ok(172_800_000));
        assert!(parse_timespan("0m").is_err());
        assert!(parse_timespan("m").is_err());
        assert!(parse_timespan("99999999999999999d").is_err());
    }
}
