//! The ingest path's counters, registered in the node's one Prometheus
//! registry: events by outcome, syslog drops, alerts, correlation drops and
//! the correlation groups gauge.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Counter handles; cloning shares them.
#[derive(Clone)]
pub struct IngestMetrics {
    events: IntCounterVec,
    syslog_dropped: IntCounter,
    alerts: IntCounterVec,
    correlation: IntCounterVec,
    correlation_groups: IntGauge,
}

impl IngestMetrics {
    /// Creates the counters and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let events = IntCounterVec::new(
            Opts::new("events_ingested_total", "Ingested events by outcome"),
            &["outcome"],
        )?;
        let syslog_dropped = IntCounter::new(
            "syslog_udp_dropped_total",
            "Syslog UDP messages dropped because ingest was behind",
        )?;
        let alerts = IntCounterVec::new(
            Opts::new(
                "alerts_total",
                "Alerts recorded, by whether they opened an incident or joined one",
            ),
            &["incident"],
        )?;
        let correlation = IntCounterVec::new(
            Opts::new(
                "correlation_dropped_total",
                "Correlation matches too late to correlate (late) and groups evicted to stay within the cap (evicted)",
            ),
            &["reason"],
        )?;
        let correlation_groups = IntGauge::new(
            "correlation_groups",
            "Correlation groups tracked on this node, all organisations",
        )?;
        registry.register(Box::new(events.clone()))?;
        registry.register(Box::new(syslog_dropped.clone()))?;
        registry.register(Box::new(alerts.clone()))?;
        registry.register(Box::new(correlation.clone()))?;
        registry.register(Box::new(correlation_groups.clone()))?;
        Ok(Self {
            events,
            syslog_dropped,
            alerts,
            correlation,
            correlation_groups,
        })
    }

    /// Counts the outcome of one ingest request.
    pub fn events_ingested(&self, accepted: usize, rejected: usize) {
        self.events
            .with_label_values(&["accepted"])
            .inc_by(accepted as u64);
        self.events
            .with_label_values(&["rejected"])
            .inc_by(rejected as u64);
    }

    /// Counts recorded alerts: `opened` of them opened a new incident.
    pub fn alerts_raised(&self, recorded: usize, opened: usize) {
        self.alerts
            .with_label_values(&["opened"])
            .inc_by(opened as u64);
        self.alerts
            .with_label_values(&["joined"])
            .inc_by(recorded.saturating_sub(opened) as u64);
    }

    /// Counts correlation matches that came too late and evicted groups.
    pub fn correlation(&self, late: u64, evicted: u64) {
        self.correlation.with_label_values(&["late"]).inc_by(late);
        self.correlation
            .with_label_values(&["evicted"])
            .inc_by(evicted);
    }

    /// Counts one syslog UDP message dropped under load.
    pub fn syslog_dropped(&self) {
        self.syslog_dropped.inc();
    }

    /// Sets the correlation groups gauge (read when metrics are rendered).
    pub fn set_correlation_groups(&self, groups: usize) {
        self.correlation_groups
            .set(i64::try_from(groups).unwrap_or(i64::MAX));
    }
}
