//! Any text as an event for `RuleSet::evaluate_json` (read by the
//! prescan's own JSON reader): nothing may panic, text serde_json refuses
//! is refused, and the verdicts equal those on the tree serde_json builds.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rampart_detect::{
    parse_documents, Document, FieldMapping, Placeholders, RuleSet, RuleSetBuilder, Scratch,
};

const RULES: &str = "title: a\nlogsource: {product: windows, category: process_creation}\ndetection:\n  s:\n    Image|endswith: '\\cmd.exe'\n  condition: s\n---\ntitle: b\nlogsource: {product: windows}\ndetection:\n  k:\n    - 'whoami'\n  condition: k\n---\ntitle: c\ndetection:\n  s:\n    EventID: 1\n    CommandLine|contains: '/c'\n  condition: s\n";

/// The rules, compiled once.
fn rule_set() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
        for doc in parse_documents(RULES) {
            if let Ok(Document::Rule(rule)) = doc {
                let _ = builder.add(&rule);
            }
        }
        builder.build()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let set = rule_set();
    let mut hits = Vec::new();
    let read = set.evaluate_json(text, &mut Scratch::default(), &mut hits);
    match serde_json::from_str::<rampart_core::event::Json<'_>>(text) {
        Ok(tree) => {
            assert!(read.is_ok(), "valid JSON refused: {text:?}");
            let mut on_tree = Vec::new();
            set.evaluate(&tree, &mut Scratch::default(), &mut on_tree);
            assert_eq!(hits, on_tree, "{text:?}");
        }
        Err(_) => assert!(read.is_err(), "invalid JSON accepted: {text:?}"),
    }
});
