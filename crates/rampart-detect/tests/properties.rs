//! Property test: the compiled, prefiltered rule set gives the same verdict
//! as a plain reference interpreter of the parsed rule, on random rules and
//! random events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rampart_core::event::Json;
use rampart_detect::sigma::{Condition, FieldSpec, Modifier, RawValue, Selection, SigmaRule};
use rampart_detect::{
    parse_documents, Document, FieldMapping, Placeholders, RuleSetBuilder, Scratch,
};
use serde_json::{json, Map, Value};

const FIELDS: [&str; 3] = ["Alpha", "Beta", "Gamma"];
const MODIFIERS: [&str; 8] = [
    "",
    "|contains",
    "|startswith",
    "|endswith",
    "|contains|all",
    "|cased",
    "|contains|cased",
    "|re",
];

fn word() -> impl Strategy<Value = String> {
    // Few letters, both cases, a non-ASCII pair, spaces: collisions are likely.
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', 'B', 'é', 'É', ' ', 'x']),
        0..5,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn pattern() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            6 => prop::sample::select(vec!["a", "b", "A", "B", "é", "É", " ", "x"]),
            1 => Just("*"),
            1 => Just("?"),
        ],
        0..5,
    )
    .prop_map(|p| p.concat())
}

#[derive(Debug, Clone)]
enum ValueGen {
    Text(String),
    Int(i64),
    Null,
}

fn value_gen() -> impl Strategy<Value = ValueGen> {
    prop_oneof![
        8 => pattern().prop_map(ValueGen::Text),
        1 => (0i64..4).prop_map(ValueGen::Int),
        1 => Just(ValueGen::Null),
    ]
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One selection as YAML lines (indented under its name).
fn selection_gen() -> impl Strategy<Value = String> {
    let entry = (
        0..FIELDS.len(),
        0..MODIFIERS.len(),
        proptest::collection::vec(value_gen(), 1..3),
        any::<bool>(),
    );
    prop_oneof![
        4 => proptest::collection::vec(entry, 1..3).prop_map(|entries| {
            let mut out = String::new();
            let mut used = Vec::new();
            for (f, m, values, exists) in entries {
                let key = if exists && !used.contains(&f) {
                    used.push(f);
                    out.push_str(&format!("    {}|exists: {}\n", FIELDS[f], m % 2 == 0));
                    continue;
                } else {
                    format!("{}{}", FIELDS[f], MODIFIERS[m])
                };
                if used.contains(&f) {
                    continue;
                }
                used.push(f);
                let is_re = MODIFIERS[m] == "|re";
                let modified = !MODIFIERS[m].is_empty();
                out.push_str(&format!("    {key}:\n"));
                for v in values {
                    let text = match v {
                        ValueGen::Text(t) if is_re => yaml_quote(&regex::escape(&t.replace(['*', '?'], ""))),
                        ValueGen::Text(t) => yaml_quote(&t),
                        ValueGen::Int(n) if is_re => format!("'{n}'"),
                        ValueGen::Int(n) => n.to_string(),
                        ValueGen::Null if modified => "'a'".into(),
                        ValueGen::Null => "null".into(),
                    };
                    out.push_str(&format!("      - {text}\n"));
                }
            }
            out
        }),
        1 => proptest::collection::vec(word(), 1..3).prop_map(|words| {
            words
                .iter()
                .filter(|w| !w.is_empty())
                .map(|w| format!("    - {}\n", yaml_quote(w)))
                .collect::<String>()
        }),
    ]
    .prop_filter("non-empty selection", |s| !s.is_empty())
}

fn condition_gen(n: usize) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => (0..n).prop_map(|i| format!("s{i}")),
        1 => Just("1 of s*".to_string()),
        1 => Just("all of them".to_string()),
    ];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not {a}")),
        ]
    })
}

fn rule_gen() -> impl Strategy<Value = String> {
    (1usize..4).prop_flat_map(|n| {
        (
            proptest::collection::vec(selection_gen(), n),
            condition_gen(n),
        )
            .prop_map(|(sels, cond)| {
                let mut y =
                    String::from("title: Random\nlogsource:\n  product: test\ndetection:\n");
                for (i, body) in sels.iter().enumerate() {
                    y.push_str(&format!("  s{i}:\n{body}"));
                }
                y.push_str(&format!("  condition: {cond}\n"));
                y
            })
    })
}

fn event_gen() -> impl Strategy<Value = Value> {
    let field_value = prop_oneof![
        6 => word().prop_map(Value::from),
        1 => (0i64..4).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => proptest::collection::vec(word(), 0..3).prop_map(|w| json!(w)),
    ];
    proptest::collection::vec(proptest::option::of(field_value), FIELDS.len()).prop_map(|values| {
        let mut map = Map::new();
        for (name, value) in FIELDS.iter().zip(values) {
            if let Some(v) = value {
                map.insert(name.to_string(), v);
            }
        }
        Value::Object(map)
    })
}

// ---- The reference interpreter: direct, naive, no prefilter. ----

fn scalars(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|v| !v.is_array() && !v.is_object())
            .collect(),
        Some(v) => vec![v],
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Sigma wildcard matching, char by char, recursively.
fn wildcard(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('\\', rest)) if matches!(rest.first(), Some('*' | '?' | '\\')) => {
            text.first() == rest.first() && wildcard(&rest[1..], &text[1..])
        }
        Some(('*', rest)) => (0..=text.len()).any(|i| wildcard(rest, &text[i..])),
        Some(('?', rest)) => !text.is_empty() && wildcard(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && wildcard(rest, &text[1..]),
    }
}

fn value_matches(spec: &FieldSpec, want: &RawValue, have: &Value, keyword: bool) -> bool {
    let m = &spec.modifiers;
    let Some(text) = text_of(have) else {
        return false;
    };
    if m.has(Modifier::Re) {
        let RawValue::Str(p) = want else { return false };
        return regex::Regex::new(p).unwrap().is_match(&text);
    }
    if let (RawValue::Int(n), false) = (
        want,
        m.has(Modifier::Contains)
            || m.has(Modifier::StartsWith)
            || m.has(Modifier::EndsWith)
            || keyword,
    ) {
        return match have {
            Value::Number(x) => x.as_f64() == Some(*n as f64),
            _ => text.trim() == n.to_string(),
        };
    }
    let mut p = match want {
        RawValue::Str(s) => s.clone(),
        other => other.text(),
    };
    if m.has(Modifier::Contains) || keyword {
        p = format!("*{p}*");
    } else if m.has(Modifier::StartsWith) {
        p = format!("{p}*");
    } else if m.has(Modifier::EndsWith) {
        p = format!("*{p}");
    }
    let (p, t) = if m.has(Modifier::Cased) {
        (p, text)
    } else {
        (p.to_lowercase(), text.to_lowercase())
    };
    wildcard(
        &p.chars().collect::<Vec<_>>(),
        &t.chars().collect::<Vec<_>>(),
    )
}

fn spec_matches(spec: &FieldSpec, event: &Value) -> bool {
    let m = &spec.modifiers;
    let Some(field) = &spec.field else {
        let mut leaves = Vec::new();
        collect_leaves(event, &mut leaves);
        let hit = |v: &RawValue| {
            leaves
                .iter()
                .any(|l| !l.is_null() && value_matches(spec, v, l, true))
        };
        return if m.has(Modifier::All) {
            spec.values.iter().all(hit)
        } else {
            spec.values.iter().any(hit)
        };
    };
    let value = event.get(field.as_str());
    let absent_or_null = value.is_none_or(|v| scalars(Some(v)).iter().all(|s| s.is_null()));
    if m.has(Modifier::Exists) {
        return spec.values[0] == RawValue::Bool(!absent_or_null);
    }
    let found = scalars(value);
    let hit = |v: &RawValue| match v {
        RawValue::Null => absent_or_null,
        v => found
            .iter()
            .any(|s| !s.is_null() && value_matches(spec, v, s, false)),
    };
    if m.has(Modifier::All) {
        spec.values.iter().all(hit)
    } else {
        spec.values.iter().any(hit)
    }
}

fn collect_leaves<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => m.values().for_each(|x| collect_leaves(x, out)),
        Value::Array(a) => a.iter().for_each(|x| collect_leaves(x, out)),
        leaf => out.push(leaf),
    }
}

fn selection_matches(sel: &Selection, event: &Value) -> bool {
    match sel {
        Selection::AllOf(specs) => specs.iter().all(|s| spec_matches(s, event)),
        Selection::AnyOf(items) => items.iter().any(|s| selection_matches(s, event)),
        Selection::Keywords(values) => {
            let spec = FieldSpec {
                field: None,
                modifiers: Default::default(),
                values: values.clone(),
            };
            spec_matches(&spec, event)
        }
    }
}

fn condition_holds(c: &Condition, rule: &SigmaRule, event: &Value) -> bool {
    match c {
        Condition::Selection(i) => selection_matches(&rule.detection.selections[*i], event),
        Condition::And(items) => items.iter().all(|c| condition_holds(c, rule, event)),
        Condition::Or(items) => items.iter().any(|c| condition_holds(c, rule, event)),
        Condition::Not(inner) => !condition_holds(inner, rule, event),
        Condition::AtLeast { min, of } => {
            of.iter()
                .filter(|i| selection_matches(&rule.detection.selections[**i], event))
                .count()
                >= *min
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn compiled_rules_agree_with_the_reference(rule in rule_gen(), events in proptest::collection::vec(event_gen(), 1..6)) {
        let Some(Ok(Document::Rule(parsed))) = parse_documents(&rule).into_iter().next() else {
            panic!("generated rule did not parse:\n{rule}");
        };
        let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
        builder.add(&parsed).unwrap_or_else(|e| panic!("{e}\n{rule}"));
        let set = builder.build();
        let mut scratch = Scratch::default();
        let mut hits = Vec::new();
        for event in &events {
            set.evaluate(&Json::from(event), &mut scratch, &mut hits);
            let expected = condition_holds(&parsed.detection.condition, &parsed, event);
            prop_assert_eq!(!hits.is_empty(), expected, "rule:\n{}\nevent: {}", rule, event);
        }
    }
}

proptest! {
    #[test]
    fn parsing_and_compiling_any_text_never_panics(
        text in "(title: x\ndetection:\n  s:\n    [A-Za-z|*?\\\\]{0,12}: [-a-z*?'\\\\ ]{0,12}\n  condition: [a-z0-9 ()*|]{0,20}\n)?[ -~\n]{0,200}"
    ) {
        let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
        for doc in parse_documents(&text) {
            if let Ok(Document::Rule(rule)) = doc {
                let _ = builder.add(&rule);
            }
        }
        let set = builder.build();
        let mut hits = Vec::new();
        set.evaluate(&Json::from(&json!({"A": "x", "s": 1})), &mut Scratch::default(), &mut hits);
    }
}
