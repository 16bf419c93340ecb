//! Event identifiers: the store's block number and the event's position in it,
//! packed into 64 bits and written as 16 hex digits.

use std::fmt;
use std::str::FromStr;

/// Bits of an [`EventId`] that number the event inside its block.
const INDEX_BITS: u32 = 20;

/// A stored event's id; ordered as the store assigned them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub u64);

impl EventId {
    /// The most events one block (one id range) can hold.
    pub const MAX_PER_BLOCK: usize = 1 << INDEX_BITS;

    pub fn new(block: u64, index: usize) -> Self {
        Self((block << INDEX_BITS) | (index as u64 & ((1 << INDEX_BITS) - 1)))
    }

    pub fn block(self) -> u64 {
        self.0 >> INDEX_BITS
    }

    pub fn index(self) -> usize {
        (self.0 & ((1 << INDEX_BITS) - 1)) as usize
    }

    /// The id as a signed integer, for databases without unsigned columns.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    pub fn from_i64(value: i64) -> Self {
        Self(value as u64)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl crate::ids::Identifier for EventId {
    const NOUN: &'static str = "event";
}

impl FromStr for EventId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_pack_block_and_index_and_round_trip_as_hex() {
        let id = EventId::new(12345, 999);
        assert_eq!((id.block(), id.index()), (12345, 999));
        let text = id.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<EventId>().unwrap(), id);
        assert!(EventId::new(2, 0) > EventId::new(1, 5));
        assert!("zz".parse::<EventId>().is_err());
    }
}
