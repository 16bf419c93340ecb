//! Any body through the JSON/NDJSON decoder and the ECS normalisation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::event::normalise_json;
use rampart_core::ingest::{json_items, ndjson_lines};
use rampart_core::Timestamp;

fuzz_target!(|body: &[u8]| {
    let now = Timestamp(1_795_348_800_000);
    for (_, item) in ndjson_lines(body) {
        if let Ok(value) = item {
            let _ = normalise_json(value, now, "fuzz");
        }
    }
    if let Ok(items) = json_items(body) {
        for value in items {
            let _ = normalise_json(value, now, "fuzz");
        }
    }
});
