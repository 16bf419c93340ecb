//! Any text through indicator extraction, fang and defang: nothing may
//! panic, and every indicator's original words are the text at its place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_mail::ioc::{defang, extract, fang};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for found in extract(&text) {
        assert_eq!(&text[found.start..found.end], found.original);
    }
    let _ = fang(&text);
    let _ = defang(&text);
});
