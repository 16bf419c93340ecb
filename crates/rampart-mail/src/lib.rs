//! Rampart's analyst text tools (pure, no I/O): indicators of compromise
//! extracted from prose, defanged forms recognised and refanged, domains
//! checked against the Public Suffix List; watchlists of indicators read
//! from feeds and matched against events.

pub mod ioc;
pub mod watch;
