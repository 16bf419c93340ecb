//! Any text as a Sigma rule file: parsed, compiled, and the compiled rule
//! evaluated on a fixed event. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect::{parse_documents, Document, FieldMapping, Placeholders, RuleSetBuilder, Scratch};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut builder = RuleSetBuilder::new(FieldMapping::default(), Placeholders::new());
    for doc in parse_documents(&text) {
        if let Ok(Document::Rule(rule)) = doc {
            let _ = builder.add(&rule);
        }
    }
    let set = builder.build();
    let event = serde_json::json!({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "cmd /c whoami", "EventID": 1});
    let mut hits = Vec::new();
    set.evaluate(&rampart_core::event::Json::from(&event), &mut Scratch::default(), &mut hits);
});
