//! Per-block postings: for every term of a block's low-cardinality fields,
//! the positions of the events holding it. A Bloom summary only says a
//! term occurs in a block; when a query asks for two terms that each occur
//! everywhere but never in the same event (`host=fw-1` and a destination
//! address, say), the postings show that their position lists do not meet,
//! and the block is skipped without being decompressed.
//!
//! A field is indexed in a block only while it has at most one distinct
//! value per two events (source addresses usually have more; for those the
//! Bloom summary already rules blocks out). Terms are identified by a 32-bit
//! hash, so a collision can only make a block look possible, never hide one.

/// Encoding version, the first byte of stored postings. Version 2 has the
/// layout of version 1 and says one more thing: the block's Bloom summary
/// also holds its addresses' networks (see `bloom::summarise`). Version 3
/// adds, after the terms, the block's message trigram filter (see
/// [`super::grams`]), its length first.
const VERSION: u8 = 3;
/// The oldest version still read.
const FIRST_VERSION: u8 = 1;

/// One term occurrence: the field's index, the term's key and the event's
/// position in its block.
pub(crate) type Occurrence = (u8, u32, u16);

/// The 32 bits of a term's summary hash that postings keep.
pub(crate) fn term_key(hash: u64) -> u32 {
    (hash >> 32) as u32 ^ hash as u32
}

/// A block's postings, read for queries. Each term's positions are kept
/// as a sorted list or as a bitmap, whichever is smaller (a common term's
/// bitmap is both smaller and quicker to test).
#[derive(Debug, Default)]
pub(crate) struct Postings {
    /// The encoding version they were stored with.
    version: u8,
    /// Bit `i` set: field `i` is indexed in this block.
    fields: u32,
    /// Term keys, sorted (apart from `terms` so lookups touch less memory).
    keys: Vec<u32>,
    /// Each key's positions, in `keys` order.
    terms: Vec<Posting>,
    positions: Vec<u16>,
    words: Vec<u64>,
    /// The message trigram filter (empty before version 3).
    grams: Box<[u8]>,
}

/// Where one term's positions are: `len` of them, from `start` of the
/// list arena, or as `words` bitmap words from `start` of the word arena.
#[derive(Clone, Copy, Debug)]
struct Posting {
    start: u32,
    len: u32,
    words: u32,
}

impl Posting {
    fn is_bitmap(self) -> bool {
        self.words > 0
    }
}

/// Builds the stored postings of a block of `events` from its occurrences
/// and its message trigram filter.
pub(crate) fn encode(mut occurrences: Vec<Occurrence>, events: usize, grams: &[u8]) -> Vec<u8> {
    occurrences.sort_unstable();
    occurrences.dedup();
    let mut fields = 0u32;
    let mut terms: Vec<(u32, Vec<u16>)> = Vec::new();
    for field_run in occurrences.chunk_by(|a, b| a.0 == b.0) {
        let field = field_run[0].0;
        let distinct = field_run.chunk_by(|a, b| a.1 == b.1).count();
        if field >= 32 || distinct * 2 > events.max(2) {
            continue;
        }
        fields |= 1 << field;
        for term_run in field_run.chunk_by(|a, b| a.1 == b.1) {
            terms.push((term_run[0].1, term_run.iter().map(|o| o.2).collect()));
        }
    }
    // Two fields' terms may hash alike: their lists merge (a superset).
    terms.sort_unstable_by_key(|(hash, _)| *hash);
    let mut merged: Vec<(u32, Vec<u16>)> = Vec::with_capacity(terms.len());
    for (hash, positions) in terms {
        match merged.last_mut() {
            Some(last) if last.0 == hash => {
                last.1.extend(positions);
                last.1.sort_unstable();
                last.1.dedup();
            }
            _ => merged.push((hash, positions)),
        }
    }
    let mut out = vec![VERSION];
    out.extend_from_slice(&fields.to_le_bytes());
    put_varint(&mut out, merged.len() as u64);
    for (hash, positions) in &merged {
        out.extend_from_slice(&hash.to_le_bytes());
        put_varint(&mut out, positions.len() as u64);
        let mut previous = 0u16;
        for &p in positions {
            put_varint(&mut out, u64::from(p - previous));
            previous = p;
        }
    }
    put_varint(&mut out, grams.len() as u64);
    out.extend_from_slice(grams);
    out
}

impl Postings {
    /// Whether stored bytes are postings as [`encode`] wrote them (and not,
    /// say, compressed: a zstd frame starts with another byte).
    pub(crate) fn is_raw(stored: &[u8]) -> bool {
        stored
            .first()
            .is_some_and(|v| (FIRST_VERSION..=VERSION).contains(v))
    }

    /// Whether the block's Bloom summary holds its addresses' networks.
    pub(crate) fn summary_has_networks(&self) -> bool {
        self.version >= 2
    }

    /// Reads stored postings; `None` when they are damaged or of an
    /// unknown version (the block is then simply not pruned by them).
    pub(crate) fn decode(data: &[u8]) -> Option<Postings> {
        let mut at = 0usize;
        let byte = |at: &mut usize| -> Option<u8> {
            let b = *data.get(*at)?;
            *at += 1;
            Some(b)
        };
        let version = byte(&mut at)?;
        if !(FIRST_VERSION..=VERSION).contains(&version) {
            return None;
        }
        let fields = u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        let count = usize::try_from(get_varint(data, &mut at)?).ok()?;
        let mut postings = Postings {
            version,
            fields,
            keys: Vec::with_capacity(count.min(data.len())),
            terms: Vec::with_capacity(count.min(data.len())),
            positions: Vec::new(),
            words: Vec::new(),
            grams: Box::default(),
        };
        let mut list: Vec<u16> = Vec::new();
        for _ in 0..count {
            let hash = u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?);
            at += 4;
            let n = usize::try_from(get_varint(data, &mut at)?).ok()?;
            list.clear();
            let mut p = 0u16;
            for _ in 0..n {
                let delta = u16::try_from(get_varint(data, &mut at)?).ok()?;
                p = p.checked_add(delta)?;
                list.push(p);
            }
            let words = list.last().map_or(0, |&last| usize::from(last) / 64 + 1);
            let len = u32::try_from(n).ok()?;
            let posting = if words > 0 && words * 8 < n * 2 {
                let start = postings.words.len();
                postings.words.resize(start + words, 0);
                for &p in &list {
                    postings.words[start + usize::from(p) / 64] |= 1 << (p % 64);
                }
                Posting {
                    start: u32::try_from(start).ok()?,
                    len,
                    words: u32::try_from(words).ok()?,
                }
            } else {
                let start = postings.positions.len();
                postings.positions.extend_from_slice(&list);
                Posting {
                    start: u32::try_from(start).ok()?,
                    len,
                    words: 0,
                }
            };
            postings.keys.push(hash);
            postings.terms.push(posting);
        }
        if version >= 3 {
            let len = usize::try_from(get_varint(data, &mut at)?).ok()?;
            postings.grams = data.get(at..at.checked_add(len)?)?.into();
            at += len;
        }
        (at == data.len()).then_some(postings)
    }

    fn contains(&self, posting: Posting, position: u16) -> bool {
        let (start, len) = (posting.start as usize, posting.len as usize);
        if posting.is_bitmap() {
            let word = usize::from(position) / 64;
            word < posting.words as usize && self.words[start + word] & (1 << (position % 64)) != 0
        } else {
            self.positions[start..start + len]
                .binary_search(&position)
                .is_ok()
        }
    }

    /// Calls `f` with each position of the term until it returns true.
    fn any_position(&self, posting: Posting, mut f: impl FnMut(u16) -> bool) -> bool {
        let start = posting.start as usize;
        if posting.is_bitmap() {
            for (i, &word) in self.words[start..start + posting.words as usize]
                .iter()
                .enumerate()
            {
                let mut bits = word;
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if f((i * 64 + bit) as u16) {
                        return true;
                    }
                }
            }
            false
        } else {
            self.positions[start..start + posting.len as usize]
                .iter()
                .any(|&p| f(p))
        }
    }

    /// Memory held, for cache accounting.
    pub(crate) fn bytes(&self) -> usize {
        self.keys.len() * 4
            + self.terms.len() * 12
            + self.positions.len() * 2
            + self.words.len() * 8
            + self.grams.len()
            + 16
    }

    /// The block's message trigram filter (empty: none recorded).
    pub(crate) fn grams(&self) -> &[u8] {
        &self.grams
    }

    /// Whether the field (by index) is indexed in this block.
    pub(crate) fn indexes(&self, field: u8) -> bool {
        field < 32 && self.fields & (1 << field) != 0
    }

    /// False when no event of the block can hold all these terms, each a
    /// field index and term key. Terms of fields not indexed in this
    /// block constrain nothing.
    pub(crate) fn may_hold_all(&self, terms: &[(u8, u32)]) -> bool {
        let mut found: Vec<Posting> = Vec::with_capacity(terms.len());
        for &(field, key) in terms {
            if !self.indexes(field) {
                continue;
            }
            match self.keys.binary_search(&key) {
                Ok(i) => found.push(self.terms[i]),
                Err(_) => return false,
            }
        }
        if found.len() < 2 {
            return true;
        }
        found.sort_unstable_by_key(|p| p.len);
        // Every position of the rarest term, tested in the others.
        let (rarest, others) = found.split_at(1);
        self.any_position(rarest[0], |p| {
            others.iter().all(|&other| self.contains(other, p))
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_that_never_meet_rule_the_block_out() {
        // 100 events: field 0 ("host") alternates a/b, field 1 ("dst")
        // cycles through 10 values, field 2 is unique per event.
        let mut occurrences = Vec::new();
        for p in 0..100u16 {
            occurrences.push((0, u32::from(p % 2), p));
            occurrences.push((1, 100 + u32::from(p % 10), p));
            occurrences.push((2, 1000 + u32::from(p), p));
        }
        // A rare term: field 3 at position 99 only (odd: host 1).
        occurrences.push((3, 500, 99));
        let postings = Postings::decode(&encode(occurrences, 100, &[])).unwrap();
        // Even positions are host 0; dst 101 is at odd positions only.
        assert!(!postings.may_hold_all(&[(0, 0), (1, 101)]));
        assert!(postings.may_hold_all(&[(0, 1), (1, 101)]));
        assert!(postings.may_hold_all(&[(0, 0), (1, 102)]));
        // An absent term of an indexed field rules the block out alone.
        assert!(!postings.may_hold_all(&[(1, 999)]));
        // Field 2 has a value per event: not indexed, so it constrains nothing.
        assert!(postings.may_hold_all(&[(2, 5), (0, 0), (1, 102)]));
        assert!(postings.may_hold_all(&[(2, 77_777)]));
        assert!(postings.may_hold_all(&[(3, 500), (0, 1)]));
        assert!(!postings.may_hold_all(&[(0, 0), (3, 500)]));
        assert!(postings.bytes() > 0);
        assert!(
            postings.terms.iter().any(|p| p.is_bitmap())
                && postings.terms.iter().any(|p| !p.is_bitmap()),
            "common terms as bitmaps, rare ones as lists"
        );
    }

    #[test]
    fn damaged_postings_are_ignored_not_trusted() {
        let data = encode(vec![(0, 7, 3), (0, 7, 9)], 10, &[0xff; 64]);
        assert_eq!(Postings::decode(&data).unwrap().grams(), &[0xff; 64]);
        for cut in 0..data.len() {
            assert!(Postings::decode(&data[..cut]).is_none(), "cut at {cut}");
        }
        assert!(Postings::decode(&[9]).is_none());
    }
}
