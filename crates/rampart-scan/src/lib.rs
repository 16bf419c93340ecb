//! Vulnerability management without I/O: parsers for scanner reports
//! (auto-detected), versioned fingerprints that de-duplicate findings
//! across runs, CVSS v3.1 scoring and v4.0 vectors, and 0–100 priorities
//! that show each reason.

pub mod checks;
pub mod cvss;
pub mod export;
pub mod fingerprint;
pub mod formats;
pub mod intel;
pub mod priority;

pub use formats::{canonical_advisory_id, detect, parse, Format, ParseError, Report};
