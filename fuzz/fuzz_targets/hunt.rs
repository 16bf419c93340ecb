//! Any text as a hunting query: it parses or names a position inside the
//! text, and a parsed query evaluates and runs its pipes without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::event::{normalise, EventId};
use rampart_core::hunt::{matches, parse, run_pipes, EventFields};
use rampart_core::Timestamp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(&text) {
        Ok(query) => {
            let value = serde_json::json!({
                "message": "Failed password for root from 10.1.2.3 port 22 ssh2",
                "source": {"ip": "10.1.2.3"}, "user": {"name": "root"},
                "event": {"severity": 3}, "dns": {"question": {"name": "evil.example"}}
            });
            if let Ok(event) = normalise(value, Timestamp(0), "fuzz") {
                if let Some(filter) = &query.filter {
                    let _ = matches(filter, &EventFields::new(&event));
                }
                let _ = run_pipes(&query.pipes, 10, [(EventId(1), &event)]);
            }
        }
        Err(error) => assert!(error.position <= text.len()),
    }
});
