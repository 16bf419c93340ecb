//! What a feed file gives: indicators read and made canonical, and the
//! items that could not be read, each with its place.

use rampart_core::watchlist::IndicatorType;
use rampart_core::{ItemError, Timestamp};

/// Most items one file may hold.
pub const MAX_ITEMS: usize = 1_000_000;

/// One indicator of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedItem {
    pub kind: IndicatorType,
    /// Canonical.
    pub value: String,
    pub include_subdomains: bool,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub severity: Option<u8>,
    pub expires_at: Option<Timestamp>,
}

/// A feed read: its indicators and the items refused.
#[derive(Debug, Default)]
pub struct ParsedFeed {
    pub items: Vec<FeedItem>,
    pub errors: Vec<ItemError>,
}

impl ParsedFeed {
    pub(crate) fn refuse(&mut self, index: usize, code: &str, field: Option<&str>, detail: String) {
        self.errors.push(ItemError {
            index,
            code: code.to_owned(),
            detail,
            field: field.map(str::to_owned),
        });
    }
}
