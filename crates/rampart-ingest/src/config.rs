//! The ingest path's settings: `[ingest]`, `[detection]` and `[[syslog]]`
//! of the configuration file (read by the server's one config struct).

use std::net::SocketAddr;

use serde::Deserialize;

/// The ingest path's bounds (`[ingest]` in the file).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Ingest requests decoded, queued or written at once; more wait.
    pub max_requests: usize,
    /// How long a request waits for its turn before 503 + Retry-After.
    pub queue_wait_ms: u64,
    /// Days events are kept, for organisations without their own setting.
    pub retention_days: i64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_requests: 64,
            queue_wait_ms: 5000,
            retention_days: 30,
        }
    }
}

/// Detection in the ingest path (`[detection]` in the file).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionConfig {
    /// Run rules on ingested events [default: true].
    pub enabled: bool,
    /// Alerts of one rule and group key this close (seconds) to an open
    /// incident's last alert join it instead of opening another.
    pub incident_window_secs: i64,
    /// How far (seconds of event time) behind the newest match of a
    /// correlation a match may arrive and still be correlated; later ones
    /// are stored and counted, not correlated.
    pub allowed_lateness_secs: i64,
    /// Most correlation groups tracked per organisation; past it the
    /// groups updated longest ago are evicted (and counted).
    pub max_correlation_groups: usize,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            incident_window_secs: 3600,
            allowed_lateness_secs: 3600,
            max_correlation_groups: 100_000,
        }
    }
}

impl DetectionConfig {
    /// The correlation limits these settings give.
    pub fn correlation_limits(&self) -> rampart_detect::Limits {
        rampart_detect::Limits {
            max_groups: self.max_correlation_groups,
            allowed_lateness_ms: self.allowed_lateness_secs.saturating_mul(1000),
            ..rampart_detect::Limits::default()
        }
    }
}

/// A syslog listener (`[[syslog]]` in the file); none by default.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogListener {
    /// `udp` or `tcp`.
    pub protocol: SyslogProtocol,
    pub listen: SocketAddr,
    /// The name of the organisation whose events these are.
    pub organisation: String,
    /// The `source` its events carry [default: syslog].
    #[serde(default = "default_syslog_source")]
    pub source: String,
}

fn default_syslog_source() -> String {
    "syslog".into()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    Udp,
    Tcp,
}
