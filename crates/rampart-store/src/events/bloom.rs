//! A per-block membership summary: a Bloom filter of the `(field, value)`
//! terms of a block's events, so queries skip blocks that cannot match
//! (built in the same pass as the block's [`postings`], which also carry
//! the block's message trigrams, [`grams`]).
//! The hash (FNV-1a) is fixed here because summaries are stored on disk.

use rampart_core::event::{network_field, summary_networks};
use rampart_core::Event;

use super::grams;
use super::postings::{self, Occurrence};

/// Bits per distinct term: about 0.5 % false positives with three probes
/// (measured over bench-like blocks; 10 bits gave 1.9 %, and some absent
/// addresses far more once networks were recorded too). Readers take the
/// size from the stored filter, so older, smaller filters read the same.
const BITS_PER_TERM: usize = 16;
const PROBES: u64 = 3;

/// The fields whose values a summary records, in a fixed order (stored
/// postings name fields by their index here).
pub(crate) const TERM_FIELDS: [&str; 7] = [
    "event.category",
    "event.action",
    "event.outcome",
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
];

/// The index of a summarised field in [`TERM_FIELDS`].
pub(crate) fn field_index(field: &str) -> Option<u8> {
    TERM_FIELDS
        .iter()
        .position(|f| *f == field)
        .and_then(|i| u8::try_from(i).ok())
}

/// Whether a summary term names an address network (`source.ip/24`), which
/// only summaries of postings version 2 and later record.
pub(crate) fn is_network_field(field: &str) -> bool {
    field.contains('/')
}

/// `ip` as text in `buffer` (reused: summaries format several addresses
/// per event, and allocating each showed in ingest profiles).
fn ip_text(buffer: &mut String, ip: std::net::IpAddr) -> &str {
    buffer.clear();
    rampart_core::event::push_ip(buffer, ip);
    buffer
}

/// Calls `each` with every summarised (field index, value) of the event.
fn event_terms(event: &Event, buffer: &mut String, mut each: impl FnMut(u8, &str)) {
    for (i, value) in [
        &event.category,
        &event.action,
        &event.outcome,
        &event.host,
        &event.user,
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(v) = value {
            each(i as u8, v);
        }
    }
    if let Some(ip) = event.source_ip {
        each(5, ip_text(buffer, ip));
    }
    if let Some(ip) = event.destination_ip {
        each(6, ip_text(buffer, ip));
    }
}

pub(crate) fn term_hash(field: &str, value: &str) -> u64 {
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

/// Builds the Bloom summary and the postings of a block's events.
pub(crate) fn summarise(events: &[Event]) -> (Vec<u8>, Vec<u8>) {
    let mut hashes = Vec::with_capacity(events.len() * 4);
    let mut occurrences: Vec<Occurrence> = Vec::with_capacity(events.len() * 4);
    let mut buffer = String::with_capacity(48);
    for (position, event) in events.iter().enumerate() {
        let position = u16::try_from(position).unwrap_or(u16::MAX);
        event_terms(event, &mut buffer, |field, value| {
            let hash = term_hash(TERM_FIELDS[usize::from(field)], value);
            hashes.push(hash);
            occurrences.push((field, postings::term_key(hash), position));
        });
        // The addresses' networks, for CIDR searches (Bloom only: postings
        // of version 2 and later say the summary holds them).
        for (field, ip) in [
            ("source.ip", event.source_ip),
            ("destination.ip", event.destination_ip),
        ] {
            for (prefix, network) in ip.into_iter().flat_map(summary_networks) {
                if let Some(name) = network_field(field, prefix) {
                    hashes.push(term_hash(name, ip_text(&mut buffer, network)));
                }
            }
        }
    }
    (
        bloom_of(hashes),
        postings::encode(
            occurrences,
            events.len(),
            &grams::filter(events.iter().filter_map(|e| e.message.as_deref())),
        ),
    )
}

/// A Bloom filter of these term hashes.
fn bloom_of(mut hashes: Vec<u64>) -> Vec<u8> {
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
        let (summary, _) = summarise(&events);
        for i in 0..500 {
            assert!(may_contain(&summary, "user.name", &format!("user{i}")));
        }
        let false_positives = (0..10_000)
            .filter(|i| may_contain(&summary, "user.name", &format!("other{i}")))
            .count();
        assert!(false_positives < 500, "{false_positives}");
    }
}
