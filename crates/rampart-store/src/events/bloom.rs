//! A per-block membership summary: a Bloom filter of the `(field, value)`
//! terms of a block's events, so queries skip blocks that cannot match.
//! The hash (FNV-1a) is fixed here because summaries are stored on disk.

use rampart_core::Event;

/// Bits per distinct term: about 1 % false positives with three probes.
const BITS_PER_TERM: usize = 10;
const PROBES: u64 = 3;

/// The fields whose values a summary records.
pub(crate) fn event_terms(event: &Event, mut each: impl FnMut(&str, &str)) {
    let mut text = |field: &str, value: &Option<String>| {
        if let Some(v) = value {
            each(field, v);
        }
    };
    text("event.category", &event.category);
    text("event.action", &event.action);
    text("event.outcome", &event.outcome);
    text("host.name", &event.host);
    text("user.name", &event.user);
    if let Some(ip) = event.source_ip {
        each("source.ip", &ip.to_string());
    }
    if let Some(ip) = event.destination_ip {
        each("destination.ip", &ip.to_string());
    }
}

fn term_hash(field: &str, value: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in field.bytes().chain([0u8]).chain(value.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn probes(hash: u64, bits: u64) -> impl Iterator<Item = u64> {
    // Kirsch–Mitzenmacher double hashing from one 64-bit hash.
    let h1 = hash;
    let h2 = hash.rotate_left(32) | 1;
    (0..PROBES).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % bits)
}

/// Builds the summary of a block's events.
pub(crate) fn summarise(events: &[Event]) -> Vec<u8> {
    let mut hashes = Vec::with_capacity(events.len() * 4);
    for event in events {
        event_terms(event, |f, v| hashes.push(term_hash(f, v)));
    }
    hashes.sort_unstable();
    hashes.dedup();
    let bytes = (hashes.len() * BITS_PER_TERM).div_ceil(8).clamp(8, 1 << 16);
    let mut bloom = vec![0u8; bytes];
    let bits = (bytes * 8) as u64;
    for hash in hashes {
        for bit in probes(hash, bits) {
            bloom[(bit / 8) as usize] |= 1 << (bit % 8);
        }
    }
    bloom
}

/// False when the block certainly holds no event with this term.
pub(crate) fn may_contain(summary: &[u8], field: &str, value: &str) -> bool {
    if summary.is_empty() {
        return true;
    }
    let bits = (summary.len() * 8) as u64;
    probes(term_hash(field, value), bits).all(|bit| {
        summary
            .get((bit / 8) as usize)
            .is_some_and(|b| b & (1 << (bit % 8)) != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_and_most_others_ruled_out() {
        let events: Vec<Event> = (0..500)
            .map(|i| Event {
                source_ip: Some(format!("10.0.{}.{}", i / 256, i % 256).parse().unwrap()),
                user: Some(format!("user{i}")),
                ..Event::default()
            })
            .collect();
        let summary = summarise(&events);
        for i in 0..500 {
            assert!(may_contain(&summary, "user.name", &format!("user{i}")));
        }
        let false_positives = (0..10_000)
            .filter(|i| may_contain(&summary, "user.name", &format!("other{i}")))
            .count();
        assert!(false_positives < 500, "{false_positives}");
    }
}
