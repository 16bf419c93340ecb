//! Phishing analysis of arbitrary bytes: any input is read or refused with
//! an error, never a panic; the score stays within 0–100.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_mail::phish::{analyze, Policy};

fuzz_target!(|data: &[u8]| {
    let policy = Policy {
        own_domains: vec!["example.com".into()],
        trusted_authserv_ids: vec!["mx.example.com".into(), "outlook.com".into()],
        simulation_senders: vec!["sim.example".into()],
        simulation_headers: vec!["X-Campaign".into()],
    };
    for forwarded in [false, true] {
        if let Ok(analysis) = analyze(data, &policy, Some(false), forwarded) {
            assert!(analysis.score <= 100);
        }
    }
});
