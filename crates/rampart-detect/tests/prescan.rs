//! Property test: the prescan (read from JSON text or from a tree) keeps
//! every rule that matches. On random events, written as text with
//! duplicate keys, nested and flat keys, EVTX `#text` wrappers and arrays,
//! the prefiltered, routed verdicts equal each rule's plain evaluation on
//! the tree under the logsource inferred from the tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rampart_core::event::Json;
use rampart_detect::logsource::EventSource;
use rampart_detect::{
    parse_documents, Document, FieldMapping, Placeholders, RuleSet, RuleSetBuilder, Scratch,
};

/// Rules in the style of SigmaHQ's, over fields the events below hold.
const RULES: &[&str] = &[
    "logsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: '\\cmd.exe'\n  condition: s",
    "logsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    CommandLine|contains|all: [' -enc', 'powershell']\n  f:\n    Image|endswith: '\\explorer.exe'\n  condition: s and not f",
    "logsource: {product: windows, service: security}\ndetection:\n  s:\n    EventID: 4688\n    Computer|startswith: 'ws-'\n  condition: s",
    "logsource: {product: windows}\ndetection:\n  k:\n    - 'mimikatz'\n  condition: k",
    "logsource: {product: windows, service: sysmon}\ndetection:\n  s:\n    Image|contains: 'temp'\n  t:\n    CommandLine|re: 'cmd(\\.exe)? /c'\n  condition: s or t",
    "logsource: {product: linux, service: sshd}\ndetection:\n  s:\n    User: root\n  condition: s",
    "logsource: {category: process_creation}\ndetection:\n  s:\n    Image|endswith:\n      - '\\cmd.exe'\n      - '\\powershell.exe'\n    User|contains: 'SYSTEM'\n  condition: s",
    "logsource: {product: windows, category: registry_set}\ndetection:\n  s:\n    TargetObject|contains: '\\run\\'\n  condition: s",
    "detection:\n  s:\n    EventID: 1\n  condition: s",
    "logsource: {product: windows}\ndetection:\n  s:\n    Image|exists: true\n  condition: s",
];

const VALUES: &[&str] = &[
    r#""C:\\Windows\\System32\\cmd.exe""#,
    r#""C:\\Users\\a\\AppData\\Local\\Temp\\x.exe""#,
    r#""C:\\Windows\\explorer.exe""#,
    r#""powershell -nop -ENC abc""#,
    r#""cmd.exe /c whoami""#,
    r#""mimikatz sekurlsa""#,
    r#""NT AUTHORITY\\SYSTEM""#,
    r#""ws-01""#,
    r#""root""#,
    r#""HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x""#,
    r#""Microsoft-Windows-Sysmon/Operational""#,
    r#""Security""#,
    r#""windows""#,
    r#""sshd""#,
    "1",
    "13",
    "4688",
    r#""4688""#,
    "null",
    "true",
];

const KEYS: &[&str] = &[
    "Image",
    "CommandLine",
    "Computer",
    "User",
    "TargetObject",
    "EventID",
    "Channel",
    "process.executable",
    "host.name",
    "winlog.channel",
    "host.os.type",
    "process.name",
    "Other",
];

/// One member of an event object, as JSON text.
fn member() -> impl Strategy<Value = String> {
    let key = prop::sample::select(KEYS);
    let value = prop::sample::select(VALUES);
    let leaf = (key, value.clone()).prop_map(|(k, v)| format!("\"{k}\": {v}"));
    prop_oneof![
        6 => leaf.clone(),
        // EVTX: attributes beside the value.
        1 => (prop::sample::select(KEYS), value.clone())
            .prop_map(|(k, v)| format!("\"{k}\": {{\"#attributes\": {{\"a\": 1}}, \"#text\": {v}}}")),
        1 => (prop::sample::select(KEYS), value.clone(), value.clone())
            .prop_map(|(k, a, b)| format!("\"{k}\": [{a}, {b}]")),
        // Nested ECS and EVTX layouts, with their own members.
        1 => proptest::collection::vec(leaf.clone(), 0..3)
            .prop_map(|m| format!("\"Event\": {{\"EventData\": {{{}}}}}", m.join(", "))),
        // EVTX UserData: an element named after the event holds the data.
        1 => (prop::sample::select(&["Operation_ESStoConsumerBinding", "RuleAndFileData", "Other"][..]),
              proptest::collection::vec(leaf.clone(), 0..3))
            .prop_map(|(e, m)| format!("\"Event\": {{\"UserData\": {{\"{e}\": {{{}}}}}}}", m.join(", "))),
        1 => (value.clone(), value.clone(), any::<bool>()).prop_map(|(c, id, wrapped)| {
            let id = if wrapped { format!("{{\"#text\": {id}}}") } else { id.to_string() };
            format!("\"Event\": {{\"System\": {{\"Channel\": {c}, \"EventID\": {id}}}}}")
        }),
        1 => (value.clone(), value.clone()).prop_map(|(a, b)| {
            format!("\"process\": {{\"executable\": {a}, \"name\": {b}}}")
        }),
        1 => value.clone().prop_map(|v| format!("\"host\": {{\"os\": {{\"type\": {v}}}}}")),
        1 => value.prop_map(|v| format!("\"winlog\": {{\"channel\": {v}}}")),
    ]
}

fn event_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(member(), 0..7).prop_map(|m| format!("{{{}}}", m.join(", ")))
}

fn rule_set(picks: &[bool]) -> RuleSet {
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    for (i, rule) in RULES.iter().enumerate() {
        if picks.get(i).copied().unwrap_or(true) {
            let text = format!("title: rule {i}\n{rule}\n");
            let Some(Ok(Document::Rule(parsed))) = parse_documents(&text).into_iter().next() else {
                panic!("rule {i} did not parse");
            };
            builder.add(&parsed).unwrap();
        }
    }
    builder.build()
}

/// Each rule on its own, on the tree: no prefilter, routing from the tree.
fn plain_verdicts(set: &RuleSet, event: &Json<'_>) -> Vec<usize> {
    let source = EventSource::infer(event);
    (0..set.len())
        .filter(|&i| source.admits(&set.rule(i).logsource) && set.rule_matches(i, event))
        .collect()
}

#[test]
fn the_rules_hold_their_verdicts_on_handwritten_events() {
    let set = rule_set(&[]);
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let sysmon = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
        "Image": "C:\\Windows\\System32\\cmd.exe", "User": "NT AUTHORITY\\SYSTEM"}"#;
    set.evaluate_json(sysmon, &mut scratch, &mut hits).unwrap();
    assert_eq!(hits, [0, 6, 8, 9]);
    // The same values in a registry event: process rules are not routed to it.
    let registry = sysmon.replace("\"EventID\": 1", "\"EventID\": 13");
    set.evaluate_json(&registry, &mut scratch, &mut hits)
        .unwrap();
    assert_eq!(hits, [9]);
    // EVTX layout, the event id wrapped with attributes.
    let evtx = r##"{"Event": {"System": {"Channel": "Security", "EventID": {"#attributes": {"Qualifiers": ""}, "#text": 4688}},
        "EventData": {"Computer": "WS-01"}}}"##;
    set.evaluate_json(evtx, &mut scratch, &mut hits).unwrap();
    assert_eq!(hits, [2]);
    // Duplicate channels: the last counts, as in the tree.
    let twice = r#"{"Channel": "Security", "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Image": "C:\\Temp\\x.exe"}"#;
    set.evaluate_json(twice, &mut scratch, &mut hits).unwrap();
    assert_eq!(hits, [4, 9]);
    assert!(set
        .evaluate_json("{\"Image\": ", &mut scratch, &mut hits)
        .is_err());
    assert!(set.evaluate_json("{} {}", &mut scratch, &mut hits).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn the_prescan_keeps_every_matching_rule(
        picks in proptest::collection::vec(any::<bool>(), RULES.len()),
        events in proptest::collection::vec(event_text(), 1..12),
    ) {
        let set = rule_set(&picks);
        let mut scratch = Scratch::default();
        let (mut from_text, mut from_tree) = (Vec::new(), Vec::new());
        for text in &events {
            let tree: Json<'_> = serde_json::from_str(text).unwrap();
            set.evaluate_json(text, &mut scratch, &mut from_text).unwrap();
            set.evaluate(&tree, &mut scratch, &mut from_tree);
            let plain = plain_verdicts(&set, &tree);
            prop_assert_eq!(&from_text, &plain, "from text: {}", text);
            prop_assert_eq!(&from_tree, &plain, "from the tree: {}", text);
        }
    }
}
