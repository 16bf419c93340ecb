//! Any text as a watchlist feed (STIX and CSV), as values of every type,
//! and matched against a watchlist made of its own values: nothing may
//! panic, and a canonical value reads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::watchlist::{IndicatorType, WatchedIndicator};
use rampart_core::WatchlistEntryId;
use rampart_mail::watch::{canonical, parse_csv, parse_stix, Sightings, WatchMatcher};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_stix(&text);
    let _ = parse_csv(&text);
    let mut entries = Vec::new();
    for kind in IndicatorType::ALL {
        if let Ok(value) = canonical(kind, &text) {
            assert_eq!(canonical(kind, &value).as_deref(), Ok(value.as_str()));
            entries.push(WatchedIndicator {
                id: WatchlistEntryId::new(),
                kind,
                value,
                include_subdomains: true,
                severity: 3,
            });
        }
    }
    let matcher = WatchMatcher::new(entries);
    let mut out = Sightings::default();
    matcher.match_text(&text, "message", &mut out);
});
