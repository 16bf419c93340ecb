//! Sigma conformance: every modifier, wildcards and escaping, case rules,
//! missing and null fields, every condition form, field mapping (ECS and
//! EVTX JSON), logsource routing, and refusals. Each case is checked
//! through the prefiltered rule set and through the plain evaluation of the
//! rule's condition, which must agree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rampart_core::event::Json;
use rampart_detect::{
    parse_documents, Document, FieldMapping, Placeholders, RuleSetBuilder, Scratch,
};
use serde_json::{json, Value};

fn rule_yaml(detection: &str) -> String {
    format!("title: Test\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: windows\ndetection:\n{detection}\nlevel: high\n")
}

fn compile(yaml: &str, placeholders: Placeholders) -> Result<rampart_detect::RuleSet, String> {
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), placeholders);
    for doc in parse_documents(yaml) {
        match doc.map_err(|e| e.to_string())? {
            Document::Rule(rule) => {
                builder.add(&rule)?;
            }
            Document::Correlation(c) => return Err(format!("{}: a correlation", c.title)),
        }
    }
    Ok(builder.build())
}

/// Whether the detection (YAML lines, indented by two) matches the event.
fn matches_with(detection: &str, event: Value, placeholders: Placeholders) -> bool {
    let set = compile(&rule_yaml(detection), placeholders).unwrap_or_else(|e| panic!("{e}"));
    let mut hits = Vec::new();
    // Read from text, as ingest does: strings borrow from it.
    let text = event.to_string();
    let parsed: Json<'_> = serde_json::from_str(&text).unwrap();
    set.evaluate(&parsed, &mut Scratch::default(), &mut hits);
    let prefiltered = !hits.is_empty();
    assert_eq!(
        prefiltered,
        set.rule_matches(0, &Json::from(&event)),
        "prefiltered and plain verdicts differ for {event}"
    );
    prefiltered
}

fn matches(detection: &str, event: Value) -> bool {
    matches_with(detection, event, Placeholders::new())
}

fn refused(detection: &str) -> String {
    match compile(&rule_yaml(detection), Placeholders::new()) {
        Ok(_) => panic!("rule was accepted:\n{detection}"),
        Err(e) => e,
    }
}

#[test]
fn plain_values_are_exact_and_case_insensitive() {
    let d = "  sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: sel";
    assert!(matches(
        d,
        json!({"Image": "c:\\windows\\system32\\CMD.EXE"})
    ));
    assert!(!matches(
        d,
        json!({"Image": "C:\\Windows\\System32\\cmd.exe.bak"})
    ));
    assert!(!matches(
        d,
        json!({"Other": "C:\\Windows\\System32\\cmd.exe"})
    ));
}

#[test]
fn contains_startswith_endswith() {
    let c = "  sel:\n    CommandLine|contains: ' -enc '\n  condition: sel";
    assert!(matches(c, json!({"CommandLine": "powershell -ENC abc"})));
    assert!(!matches(c, json!({"CommandLine": "powershell -encoded"})));
    let s = "  sel:\n    CommandLine|startswith: 'powershell'\n  condition: sel";
    assert!(matches(s, json!({"CommandLine": "PowerShell.exe -nop"})));
    assert!(!matches(s, json!({"CommandLine": "C:\\powershell"})));
    let e = "  sel:\n    Image|endswith:\n      - '\\rundll32.exe'\n      - '\\regsvr32.exe'\n  condition: sel";
    assert!(matches(
        e,
        json!({"Image": "C:\\Windows\\System32\\REGSVR32.EXE"})
    ));
    assert!(!matches(
        e,
        json!({"Image": "C:\\Windows\\System32\\regsvr32.exe.mui"})
    ));
}

#[test]
fn lists_are_or_unless_all() {
    let any =
        "  sel:\n    CommandLine|contains:\n      - 'alpha'\n      - 'beta'\n  condition: sel";
    assert!(matches(any, json!({"CommandLine": "x beta y"})));
    let all =
        "  sel:\n    CommandLine|contains|all:\n      - 'alpha'\n      - 'beta'\n  condition: sel";
    assert!(!matches(all, json!({"CommandLine": "x beta y"})));
    assert!(matches(all, json!({"CommandLine": "beta and alpha"})));
}

#[test]
fn wildcards_and_escapes() {
    let star = "  sel:\n    Image: 'C:\\Users\\\\*\\AppData\\\\*.exe'\n  condition: sel";
    assert!(matches(
        star,
        json!({"Image": "C:\\Users\\bob\\AppData\\Local\\x.exe"})
    ));
    assert!(!matches(
        star,
        json!({"Image": "C:\\Users\\bob\\Desktop\\x.exe"})
    ));
    let one = "  sel:\n    User: 'adm?n'\n  condition: sel";
    assert!(matches(one, json!({"User": "ADMIN"})));
    assert!(!matches(one, json!({"User": "admn"})));
    assert!(!matches(one, json!({"User": "adm11n"})));
    let escaped = "  sel:\n    CommandLine: 'what\\?\\*'\n  condition: sel";
    assert!(matches(escaped, json!({"CommandLine": "what?*"})));
    assert!(!matches(escaped, json!({"CommandLine": "whatX*"})));
    let backslash = "  sel:\n    Path: '\\\\\\\\server\\share'\n  condition: sel";
    assert!(matches(backslash, json!({"Path": "\\\\server\\share"})));
    let contains_star = "  sel:\n    CommandLine|contains: 'a*c'\n  condition: sel";
    assert!(matches(
        contains_star,
        json!({"CommandLine": "xx abbbc yy"})
    ));
}

#[test]
fn cased_is_case_sensitive() {
    let d = "  sel:\n    CommandLine|cased|contains: 'Invoke-Mimikatz'\n  condition: sel";
    assert!(matches(d, json!({"CommandLine": "x Invoke-Mimikatz y"})));
    assert!(!matches(d, json!({"CommandLine": "x invoke-mimikatz y"})));
}

#[test]
fn regular_expressions_and_flags() {
    let d = "  sel:\n    CommandLine|re: 'ipconfig\\s+/all'\n  condition: sel";
    assert!(matches(d, json!({"CommandLine": "cmd /c ipconfig   /all"})));
    assert!(
        !matches(d, json!({"CommandLine": "cmd /c IPCONFIG /all"})),
        "re is case-sensitive"
    );
    let i = "  sel:\n    CommandLine|re|i: 'ipconfig\\s+/all'\n  condition: sel";
    assert!(matches(i, json!({"CommandLine": "IPCONFIG /ALL"})));
    let m = "  sel:\n    Payload|re|m: '^second$'\n  condition: sel";
    assert!(matches(m, json!({"Payload": "first\nsecond\nthird"})));
    let s = "  sel:\n    Payload|re|s: 'a.b'\n  condition: sel";
    assert!(matches(s, json!({"Payload": "a\nb"})));
    let inline = "  sel:\n    CommandLine|re: '(?i)^certutil'\n  condition: sel";
    assert!(matches(
        inline,
        json!({"CommandLine": "CertUtil -urlcache"})
    ));
}

#[test]
fn cidr() {
    let d = "  sel:\n    DestinationIp|cidr:\n      - '10.0.0.0/8'\n      - 'fd00::/8'\n  condition: sel";
    assert!(matches(d, json!({"DestinationIp": "10.20.30.40"})));
    assert!(matches(d, json!({"DestinationIp": "fd12::1"})));
    assert!(!matches(d, json!({"DestinationIp": "11.0.0.1"})));
    assert!(!matches(d, json!({"DestinationIp": "not an ip"})));
}

#[test]
fn base64_and_base64offset() {
    let d = "  sel:\n    CommandLine|base64|contains: 'http://'\n  condition: sel";
    assert!(matches(
        d,
        json!({"CommandLine": "powershell -e aHR0cDovLw== x"})
    ));
    // Each offset form of "/bin/bash" at any alignment.
    let o = "  sel:\n    CommandLine|base64offset|contains: '/bin/bash'\n  condition: sel";
    for prefix in ["", "a", "ab"] {
        let encoded = base64_encode(format!("{prefix}/bin/bash -i").as_bytes());
        assert!(
            matches(
                o,
                json!({"CommandLine": format!("echo {encoded} | base64 -d")})
            ),
            "{prefix:?}"
        );
    }
    assert!(!matches(
        o,
        json!({"CommandLine": base64_encode(b"/bin/sh")})
    ));
}

fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn utf16_encodings_with_base64() {
    // "ping" as UTF-16LE, base64: cABpAG4AZwA=
    let d = "  sel:\n    CommandLine|wide|base64offset|contains: 'ping'\n  condition: sel";
    assert!(matches(
        d,
        json!({"CommandLine": "powershell -enc cABpAG4AZwA="})
    ));
    let le = "  sel:\n    CommandLine|utf16le|base64: 'ping'\n  condition: sel";
    assert!(matches(le, json!({"CommandLine": "cABpAG4AZwA="})));
    let be = "  sel:\n    CommandLine|utf16be|base64: 'ping'\n  condition: sel";
    assert!(matches(be, json!({"CommandLine": "AHAAaQBuAGc="})));
    let bom = "  sel:\n    CommandLine|utf16|base64: 'ping'\n  condition: sel";
    assert!(matches(bom, json!({"CommandLine": "//5wAGkAbgBnAA=="})));
}

#[test]
fn windash() {
    let d = "  sel:\n    CommandLine|windash|contains: ' -urlcache '\n  condition: sel";
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            matches(
                d,
                json!({"CommandLine": format!("certutil {dash}urlcache -f")})
            ),
            "{dash}"
        );
    }
    assert!(!matches(d, json!({"CommandLine": "certutil urlcache"})));
}

#[test]
fn exists_and_null() {
    let e = "  sel:\n    ParentImage|exists: true\n  condition: sel";
    assert!(matches(e, json!({"ParentImage": "x"})));
    assert!(!matches(e, json!({"Image": "x"})));
    assert!(!matches(e, json!({"ParentImage": null})));
    let ne = "  sel:\n    ParentImage|exists: false\n  condition: sel";
    assert!(matches(ne, json!({"Image": "x"})));
    let null = "  sel:\n    OriginalFileName: null\n  condition: sel";
    assert!(matches(null, json!({"Image": "x"})));
    assert!(matches(null, json!({"OriginalFileName": null})));
    assert!(!matches(null, json!({"OriginalFileName": ""})));
    assert!(!matches(null, json!({"OriginalFileName": "x.exe"})));
    let empty = "  sel:\n    OriginalFileName: ''\n  condition: sel";
    assert!(matches(empty, json!({"OriginalFileName": ""})));
    assert!(!matches(empty, json!({"Image": "x"})));
}

#[test]
fn missing_fields_never_match_values_but_negations_hold() {
    let d = "  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: not sel";
    assert!(matches(d, json!({"CommandLine": "x"})));
    assert!(!matches(d, json!({"Image": "C:\\cmd.exe"})));
}

#[test]
fn numeric_comparisons_and_numbers() {
    let gt = "  sel:\n    Size|gt: 1000\n  condition: sel";
    assert!(matches(gt, json!({"Size": 1001})));
    assert!(matches(gt, json!({"Size": "2000"})));
    assert!(!matches(gt, json!({"Size": 1000})));
    assert!(!matches(gt, json!({"Size": "big"})));
    let range =
        "  sel:\n    Port|gte: 1024\n  sel2:\n    Port|lte: 2048\n  condition: sel and sel2";
    assert!(matches(range, json!({"Port": 1024})));
    assert!(matches(range, json!({"Port": 2048})));
    assert!(!matches(range, json!({"Port": 2049})));
    let lt = "  sel:\n    Port|lt: 10\n  condition: sel";
    assert!(matches(lt, json!({"Port": 9.5})));
    let id = "  sel:\n    EventID: 4688\n  condition: sel";
    assert!(matches(id, json!({"EventID": 4688})));
    assert!(matches(id, json!({"EventID": "4688"})));
    assert!(!matches(id, json!({"EventID": 46880})));
    let boolean = "  sel:\n    Signed: false\n  condition: sel";
    assert!(matches(boolean, json!({"Signed": false})));
    assert!(matches(boolean, json!({"Signed": "false"})));
    assert!(!matches(boolean, json!({"Signed": true})));
}

#[test]
fn fieldref() {
    let d = "  sel:\n    TargetUserName|fieldref: SubjectUserName\n  condition: sel";
    assert!(matches(
        d,
        json!({"TargetUserName": "Alice", "SubjectUserName": "alice"})
    ));
    assert!(!matches(
        d,
        json!({"TargetUserName": "alice", "SubjectUserName": "bob"})
    ));
    assert!(!matches(d, json!({"TargetUserName": "alice"})));
    let ends = "  sel:\n    Image|fieldref|endswith: OriginalFileName\n  condition: sel";
    assert!(matches(
        ends,
        json!({"Image": "C:\\x\\cmd.exe", "OriginalFileName": "Cmd.Exe"})
    ));
}

#[test]
fn expand_uses_placeholders() {
    let d = "  sel:\n    Computer|expand: '%domain_controllers%'\n  condition: sel";
    let mut p = Placeholders::new();
    p.insert(
        "domain_controllers".into(),
        vec!["dc01".into(), "dc02".into()],
    );
    assert!(matches_with(d, json!({"Computer": "DC02"}), p.clone()));
    assert!(!matches_with(d, json!({"Computer": "ws01"}), p));
    // No values configured: the selection matches nothing.
    assert!(!matches(d, json!({"Computer": "%domain_controllers%"})));
}

#[test]
fn keywords_search_every_value() {
    let d = "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa::'\n  condition: keywords";
    assert!(matches(
        d,
        json!({"CommandLine": "run SEKURLSA::logonpasswords"})
    ));
    assert!(matches(
        d,
        json!({"nested": {"deep": ["x", "Mimikatz.exe"]}})
    ));
    assert!(!matches(d, json!({"CommandLine": "notepad"})));
    let all = "  keywords:\n    '|all':\n      - 'alpha'\n      - 'beta'\n  condition: keywords";
    assert!(matches(all, json!({"a": "alpha", "b": "beta"})));
    assert!(!matches(all, json!({"a": "alpha"})));
}

#[test]
fn list_of_maps_is_or() {
    let d = "  sel:\n    - Image|endswith: '\\certutil.exe'\n    - OriginalFileName: 'CertUtil.exe'\n  condition: sel";
    assert!(matches(d, json!({"OriginalFileName": "certutil.exe"})));
    assert!(matches(d, json!({"Image": "C:\\certutil.exe"})));
    assert!(!matches(d, json!({"Image": "C:\\cmd.exe"})));
}

#[test]
fn condition_forms() {
    let sel = "  sel_a:\n    A: 'x'\n  sel_b:\n    B: 'y'\n  filter:\n    C: 'z'\n";
    let ev = |a: bool, b: bool, c: bool| {
        let mut m = serde_json::Map::new();
        if a {
            m.insert("A".into(), json!("x"));
        }
        if b {
            m.insert("B".into(), json!("y"));
        }
        if c {
            m.insert("C".into(), json!("z"));
        }
        Value::Object(m)
    };
    type Truth = fn(bool, bool, bool) -> bool;
    let cases: &[(&str, Truth)] = &[
        ("sel_a and sel_b", |a, b, _| a && b),
        ("sel_a or sel_b", |a, b, _| a || b),
        ("sel_a and not filter", |a, _, c| a && !c),
        ("not sel_a or sel_b and filter", |a, b, c| !a || (b && c)),
        ("(sel_a or sel_b) and not filter", |a, b, c| (a || b) && !c),
        ("1 of sel_*", |a, b, _| a || b),
        ("all of sel_*", |a, b, _| a && b),
        ("1 of sel_* and not 1 of filter*", |a, b, c| (a || b) && !c),
        ("1 of them", |a, b, c| a || b || c),
        ("all of them", |a, b, c| a && b && c),
        ("any of sel_*", |a, b, _| a || b),
        ("not (sel_a and sel_b)", |a, b, _| !(a && b)),
        ("sel_a AND NOT sel_b", |a, b, _| a && !b),
    ];
    for (condition, expected) in cases {
        let d = format!("{sel}  condition: {condition}");
        for bits in 0..8u8 {
            let (a, b, c) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            assert_eq!(
                matches(&d, ev(a, b, c)),
                expected(a, b, c),
                "{condition} with {a} {b} {c}"
            );
        }
    }
}

#[test]
fn condition_lists_are_or() {
    let d = "  a:\n    A: 'x'\n  b:\n    B: 'y'\n  condition:\n    - a\n    - b";
    assert!(matches(d, json!({"B": "y"})));
}

#[test]
fn arrays_match_any_element() {
    let d = "  sel:\n    Tags|contains: 'evil'\n  condition: sel";
    assert!(matches(d, json!({"Tags": ["good", "very EVIL"]})));
    assert!(!matches(d, json!({"Tags": ["good"]})));
}

#[test]
fn evtx_json_matches_windows_rules_without_mapping() {
    let event = json!({"Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "WS-01"
        },
        "EventData": {
            "Image": "C:\\Windows\\System32\\certutil.exe",
            "CommandLine": "certutil -urlcache -split -f http://x/p.exe"
        }
    }});
    let d = "  sel:\n    EventID: 1\n    Image|endswith: '\\certutil.exe'\n    CommandLine|contains: 'urlcache'\n    Provider_Name: 'Microsoft-Windows-Sysmon'\n  condition: sel";
    assert!(matches(d, event.clone()));
    // EventID written as {"#attributes": ..., "#text": N}.
    let mut qualified = event;
    qualified["Event"]["System"]["EventID"] =
        json!({"#attributes": {"Qualifiers": 16384}, "#text": 1});
    assert!(matches(d, qualified));
}

#[test]
fn defender_evtx_names_with_spaces_match_sigma_names() {
    let event = json!({"Event": {
        "System": {"EventID": 1116, "Channel": "Microsoft-Windows-Windows Defender/Operational"},
        "EventData": {
            "Threat Name": "HackTool:Win32/Mimikatz.D",
            "Process Name": "C:\\Tools\\m.exe",
            "Source Name": "Real-Time Protection"
        }
    }});
    let d = "  sel:\n    EventID: 1116\n    ThreatName|contains: 'Mimikatz'\n    ProcessName|endswith: '\\m.exe'\n    SourceName: 'Real-Time Protection'\n  condition: sel";
    assert!(matches(d, event));
}

#[test]
fn evtx_user_data_fields_match_sigma_names() {
    // WMI-Activity 5861 and AppLocker 8004 keep their data in an element
    // named after the event, under `Event.UserData`.
    let wmi = json!({"Event": {
        "System": {"EventID": 5861, "Channel": "Microsoft-Windows-WMI-Activity/Operational"},
        "UserData": {"Operation_ESStoConsumerBinding": {
            "Namespace": "//./root/subscription",
            "CONSUMER": "CommandLineEventConsumer=\"evil\"",
            "PossibleCause": "Binding EventFilter: ... Perm. Consumer: CommandLineEventConsumer"
        }}
    }});
    let d = "  sel:\n    EventID: 5861\n    CONSUMER|contains: 'CommandLineEventConsumer'\n    Namespace|endswith: 'subscription'\n  condition: sel";
    assert!(matches(d, wmi.clone()));
    let other = "  sel:\n    CONSUMER|contains: 'ActiveScriptEventConsumer'\n  condition: sel";
    assert!(!matches(other, wmi));
    let applocker = json!({"Event": {
        "System": {"EventID": 8004, "Channel": "Microsoft-Windows-AppLocker/EXE and DLL"},
        "UserData": {"RuleAndFileData": {"FilePath": "%OSDRIVE%\\USERS\\BOB\\DOWNLOADS\\PSEXEC.EXE", "FullFilePath": "C:\\Users\\bob\\Downloads\\psexec.exe"}}
    }});
    let d =
        "  sel:\n    EventID: 8004\n    FullFilePath|endswith: '\\psexec.exe'\n  condition: sel";
    assert!(matches(d, applocker));
}

#[test]
fn ecs_events_match_through_the_default_mapping() {
    let d = "  sel:\n    Image|endswith: '\\powershell.exe'\n    CommandLine|contains: '-enc'\n  condition: sel";
    let nested = json!({"process": {"executable": "C:\\Windows\\powershell.exe", "command_line": "powershell -enc AAA"}});
    assert!(matches(d, nested));
    let dotted = json!({"process.executable": "C:\\Windows\\powershell.exe", "process.command_line": "powershell -enc AAA"});
    assert!(matches(d, dotted));
}

#[test]
fn organisation_mapping_overrides() {
    let mut mapping = FieldMapping::default();
    mapping
        .overrides
        .insert("CommandLine".into(), vec!["proc.cmd".into()]);
    let mut builder = RuleSetBuilder::new(mapping, Placeholders::new());
    let yaml = rule_yaml("  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel");
    let Some(Ok(Document::Rule(rule))) = parse_documents(&yaml).into_iter().next() else {
        panic!("rule did not parse");
    };
    builder.add(&rule).unwrap();
    let set = builder.build();
    let mut hits = Vec::new();
    set.evaluate(
        &Json::from(&json!({"proc": {"cmd": "WHOAMI /all"}})),
        &mut Scratch::default(),
        &mut hits,
    );
    assert_eq!(hits, vec![0]);
}

#[test]
fn logsource_routing() {
    let yaml = "title: Win\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|contains: 'whoami'\n  condition: sel\n";
    let set = compile(yaml, Placeholders::new()).unwrap();
    let eval = |event: Value| {
        let mut hits = Vec::new();
        set.evaluate(&Json::from(&event), &mut Scratch::default(), &mut hits);
        !hits.is_empty()
    };
    let sysmon = |id: u64| json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": id, "CommandLine": "whoami"});
    assert!(eval(sysmon(1)), "a Sysmon process creation");
    assert!(
        !eval(sysmon(3)),
        "a network connection is not a process creation"
    );
    assert!(eval(
        json!({"Channel": "Security", "EventID": 4688, "CommandLine": "whoami"})
    ));
    assert!(
        !eval(json!({"host": {"os": {"type": "linux"}}, "CommandLine": "whoami"})),
        "a Linux event"
    );
    assert!(
        eval(json!({"CommandLine": "whoami"})),
        "nothing known: the rule applies"
    );
}

#[test]
fn unsupported_constructs_are_refused_with_rule_and_construct() {
    let e = refused("  sel:\n    Image|nosuchmodifier: 'x'\n  condition: sel");
    assert!(e.contains("nosuchmodifier"), "{e}");
    let e = refused("  sel:\n    Image: 'x'\n  condition: sel | count() > 5");
    assert!(e.contains("aggregation"), "{e}");
    let e = refused("  sel:\n    Image|re: '(?<=x)y'\n  condition: sel");
    assert!(
        e.contains("regular expression") && e.contains("look-around"),
        "{e}"
    );
    let e = refused("  sel:\n    Image: 'x'\n  condition: missing");
    assert!(e.contains("missing"), "{e}");
    let e = refused("  sel:\n    Image|contains|startswith: 'x'\n  condition: sel");
    assert!(e.contains("contains"), "{e}");
    let e = refused("  sel:\n    Image|base64: 'a*b'\n  condition: sel");
    assert!(e.contains("wildcards"), "{e}");
    let e = refused("  sel:\n    Image|cidr: '10.0.0.0/99'\n  condition: sel");
    assert!(e.contains("cidr"), "{e}");
    let error = parse_documents(
        "title: T\nid: abc-123\ndetection:\n  sel:\n    A|bogus: 1\n  condition: sel\n",
    )
    .remove(0)
    .unwrap_err();
    assert!(error.to_string().starts_with("rule abc-123:"), "{error}");
}
