//! The one Prometheus registry: requests by route, method and status,
//! latency histograms, database pool use and build information.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::state::AppState;

/// Metric handles; cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    events: IntCounterVec,
    syslog_dropped: prometheus::IntCounter,
    alerts: IntCounterVec,
    correlation: IntCounterVec,
    correlation_groups: prometheus::IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("rampart".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route and method",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let build = IntGaugeVec::new(Opts::new("build_info", "Build information"), &["version"])?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        let events = IntCounterVec::new(
            Opts::new("events_ingested_total", "Ingested events by outcome"),
            &["outcome"],
        )?;
        registry.register(Box::new(build))?;
        registry.register(Box::new(events.clone()))?;
        let syslog_dropped = prometheus::IntCounter::new(
            "syslog_udp_dropped_total",
            "Syslog UDP messages dropped because ingest was behind",
        )?;
        registry.register(Box::new(syslog_dropped.clone()))?;
        let alerts = IntCounterVec::new(
            Opts::new(
                "alerts_total",
                "Alerts recorded, by whether they opened an incident or joined one",
            ),
            &["incident"],
        )?;
        registry.register(Box::new(alerts.clone()))?;
        let correlation = IntCounterVec::new(
            Opts::new(
                "correlation_dropped_total",
                "Correlation matches too late to correlate (late) and groups evicted to stay within the cap (evicted)",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(correlation.clone()))?;
        let correlation_groups = prometheus::IntGauge::new(
            "correlation_groups",
            "Correlation groups tracked on this node, all organisations",
        )?;
        registry.register(Box::new(correlation_groups.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
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

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// The text exposition, with pool and correlation gauges read now.
    pub fn render(&self, pool: rampart_store::PoolStats, correlation_groups: usize) -> String {
        self.correlation_groups
            .set(i64::try_from(correlation_groups).unwrap_or(i64::MAX));
        let idle = i64::from(pool.idle);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(pool.size) - idle);
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "metrics encoding failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Middleware recording every request. Unmatched paths share one label so
/// scanners cannot blow up the series count.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
