//! A per-block filter of the trigrams of its events' messages, lower-cased:
//! a free-text search or a regex's literal that holds a trigram the block
//! never has cannot match there, so the block is skipped unread. Searches
//! for rare words (an indicator, a user, a word that is nowhere) are the
//! ones that would otherwise read every block.
//!
//! Trigrams are three bytes of the message lower-cased as
//! [`rampart_core::event::contains_ignore_case`] compares (ASCII case for
//! ASCII text, Unicode lower case otherwise), so a needle contained in a
//! message has all its trigrams in the message's block. Each distinct
//! trigram sets one bit of a filter sized to eight bits per trigram (about
//! 12 % false positives per trigram; a five-letter word has three, so it
//! is wrongly kept in about one block in 600).

use std::cell::RefCell;

/// Bits per distinct trigram.
const BITS_PER_GRAM: usize = 8;
/// Smallest and largest filter, in bytes.
const MIN_BYTES: usize = 64;
pub(crate) const MAX_BYTES: usize = 128 << 10;
/// Trigrams are 24-bit codes.
const CODES: usize = 1 << 24;

thread_local! {
    /// Which trigrams the block being summarised has seen (2 MiB, reused:
    /// only the bits set are cleared after each block).
    static SEEN: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Calls `each` with every trigram code of `text`, lower-cased.
fn for_each_gram(text: &str, mut each: impl FnMut(u32)) {
    let ascii = text.is_ascii();
    let lowered;
    let bytes = if ascii {
        text.as_bytes()
    } else {
        lowered = text.to_lowercase();
        lowered.as_bytes()
    };
    let mut code = 0u32;
    for (i, &b) in bytes.iter().enumerate() {
        // ASCII text is lower-cased here, byte by byte, without a copy.
        let b = if ascii { b.to_ascii_lowercase() } else { b };
        code = ((code << 8) | u32::from(b)) & 0x00ff_ffff;
        if i >= 2 {
            each(code);
        }
    }
}

/// The filter bit of a trigram in a filter of `bits` (a power of two).
fn bit_of(code: u32, bits: usize) -> usize {
    let spread = code.wrapping_mul(0x9e37_79b1);
    (spread >> (32 - bits.trailing_zeros())) as usize
}

/// The trigram filter of these messages; empty when they have none.
pub(crate) fn filter<'m>(messages: impl Iterator<Item = &'m str>) -> Vec<u8> {
    SEEN.with_borrow_mut(|seen| {
        if seen.is_empty() {
            seen.resize(CODES / 64, 0);
        }
        let mut distinct: Vec<u32> = Vec::new();
        for message in messages {
            for_each_gram(message, |code| {
                let (word, bit) = ((code / 64) as usize, code % 64);
                if seen[word] & (1 << bit) == 0 {
                    seen[word] |= 1 << bit;
                    distinct.push(code);
                }
            });
        }
        for &code in &distinct {
            seen[(code / 64) as usize] = 0;
        }
        if distinct.is_empty() {
            return Vec::new();
        }
        let bytes = (distinct.len() * BITS_PER_GRAM)
            .div_ceil(8)
            .next_power_of_two()
            .clamp(MIN_BYTES, MAX_BYTES);
        let mut out = vec![0u8; bytes];
        for code in distinct {
            let bit = bit_of(code, bytes * 8);
            out[bit / 8] |= 1 << (bit % 8);
        }
        out
    })
}

/// False when no message of the filter's block contains `needle`, ignoring
/// case. Needles shorter than a trigram, and blocks without a filter (or
/// with a damaged one), always may.
pub(crate) fn may_contain(filter: &[u8], needle: &str) -> bool {
    if filter.is_empty() || !filter.len().is_power_of_two() {
        return true;
    }
    let bits = filter.len() * 8;
    let mut all = true;
    for_each_gram(needle, |code| {
        let bit = bit_of(code, bits);
        all &= filter[bit / 8] & (1 << (bit % 8)) != 0;
    });
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rampart_core::event::contains_ignore_case;

    #[test]
    fn absent_words_are_ruled_out_and_present_ones_kept() {
        let messages: Vec<String> = (0..4096)
            .map(|i| {
                format!(
                    "Failed password for user{} from 10.0.{}.{} port {} ssh2",
                    i % 300,
                    i % 7,
                    i % 250,
                    40000 + i
                )
            })
            .collect();
        let filter = filter(messages.iter().map(String::as_str));
        assert!(filter.len() < 16 << 10, "{} bytes", filter.len());
        for present in ["FAILED", "user299", "ssh2", "port 4", "10.0.6.2"] {
            assert!(may_contain(&filter, present), "{present}");
        }
        let absent = ["zzqxv", "mimikatz", "Accepted", "user300x", "powershell"];
        let kept = absent.iter().filter(|a| may_contain(&filter, a)).count();
        assert_eq!(kept, 0, "absent words kept");
        // Too short to say anything.
        assert!(may_contain(&filter, "zq"));
        assert!(may_contain(&[], "anything"));
        assert!(may_contain(&[1, 2, 3], "damaged"));
    }

    #[test]
    fn unicode_lower_case_is_compared_as_free_text_compares() {
        let filter = filter(["Anmeldung für BENUTZER Jürgen fehlgeschlagen", "ΟΔΟΣ"].into_iter());
        assert!(may_contain(&filter, "JÜRGEN"));
        assert!(may_contain(&filter, "für benutzer"));
        assert!(may_contain(&filter, "οδος") == contains_ignore_case("ΟΔΟΣ", "οδος"));
        assert!(!may_contain(&filter, "jurgen"));
    }

    proptest! {
        /// No message that contains a needle (as free text compares) is
        /// ever ruled out.
        #[test]
        fn a_contained_needle_is_never_ruled_out(
            messages in proptest::collection::vec("[a-zA-Z0-9 .İıKſΣσςÄä_-]{0,40}", 1..20),
            pick in 0usize..20,
            start in 0usize..40,
            len in 0usize..12,
        ) {
            let filter = filter(messages.iter().map(String::as_str));
            let message = &messages[pick % messages.len()];
            let chars: Vec<char> = message.chars().collect();
            let start = start.min(chars.len());
            let end = (start + len).min(chars.len());
            let mut needle: String = chars[start..end].iter().collect();
            // Change case the way a searcher might.
            if pick % 2 == 0 { needle = needle.to_uppercase(); }
            if messages.iter().any(|m| contains_ignore_case(m, &needle)) {
                prop_assert!(may_contain(&filter, &needle), "{needle:?} in {messages:?}");
            }
        }
    }
}
