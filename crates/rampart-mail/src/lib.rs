//! Rampart's analyst text tools (pure, no I/O): indicators of compromise
//! extracted from prose, defanged forms recognised and refanged, domains
//! checked against the Public Suffix List; watchlists of indicators read
//! from feeds and matched against events; raw e-mail analysed for phishing.

pub mod ioc;
pub mod phish;
pub mod watch;
