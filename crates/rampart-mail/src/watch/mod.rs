//! Watchlists: values read as their type says (`canonical`), the
//! compiled matcher of an organisation's entries (`matcher`), where in an
//! event entries are looked for (`event`), and feeds in and out as STIX
//! 2.1 bundles (`stix`) or CSV (`csv`).

pub mod canonical;
mod csv;
mod event;
mod feed;
mod matcher;
mod stix;

pub use self::csv::{parse_csv, to_csv};
pub use canonical::{canonical, infer_type};
pub use event::event_sightings;
pub use feed::{FeedItem, ParsedFeed, MAX_ITEMS};
pub use matcher::{Sighting, Sightings, WatchMatcher};
pub use stix::{bundle as stix_bundle, parse_bundle as parse_stix, parse_pattern};
