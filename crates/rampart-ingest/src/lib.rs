//! Rampart's one ingest pipeline, without an HTTP framework:
//! decode → normalise → validation rules → detection scan → group-commit
//! write → correlate → record alerts. HTTP bodies, raw lines and the syslog
//! listeners are thin sources of [`Ingest::ingest`]; every source gets the
//! same admission control, validation, detection, per-item errors and
//! counters. Errors are domain errors ([`rampart_core::Error`]).

pub mod admission;
pub mod alerts;
pub mod config;
pub mod decode;
pub mod detection;
pub mod metrics;
pub mod pipeline;
pub mod retention;
pub mod sealing;
pub mod syslog;
pub mod validation;
pub mod watchlists;
pub mod writer;

pub use admission::{Admission, Slot};
pub use config::{DetectionConfig, IngestConfig, SyslogListener, SyslogProtocol};
pub use decode::{decode_json, decode_lines, decode_raw, Decoded, JsonLayout, RawFormat};
pub use metrics::IngestMetrics;
pub use pipeline::{Ingest, IngestReport};
