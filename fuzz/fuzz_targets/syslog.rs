//! Any line through the syslog parser, the sshd enrichment included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::ingest::{parse_syslog, syslog_event};
use rampart_core::Timestamp;

fuzz_target!(|line: &[u8]| {
    let now = Timestamp(1_795_348_800_000);
    let text = String::from_utf8_lossy(line);
    if let Ok(message) = parse_syslog(&text, now) {
        let _ = syslog_event(message, now, "fuzz");
    }
});
