//! The pure parsers of the ingest path: request bodies into JSON values,
//! syslog lines into messages, sshd messages into authentication events.

mod body;
mod sshd;
mod syslog;

pub use body::{json_items, ndjson_lines, BodyError, ItemError};
pub use sshd::{enrich_sshd, SshdEvent};
pub use syslog::{parse_syslog, syslog_event, SyslogError, SyslogMessage};
