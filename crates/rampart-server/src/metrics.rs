//! The one Prometheus registry: requests by route, method and status,
//! latency histograms, database pool use and build information, and the
//! ingest path's counters (registered by `rampart-ingest`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Metric handles; cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    /// The ingest path's counters, in the same registry.
    pub ingest: rampart_ingest::IngestMetrics,
    /// The job queue's counters and gauges.
    pub jobs: rampart_app::jobs::metrics::JobMetrics,
    /// Rate limit decisions.
    pub limits: rampart_app::limits::metrics::LimitMetrics,
    /// Cache hits, misses and invalidations.
    pub cache: rampart_app::cache::CacheMetrics,
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
        registry.register(Box::new(build))?;
        let ingest = rampart_ingest::IngestMetrics::register(&registry)?;
        let jobs = rampart_app::jobs::metrics::JobMetrics::register(&registry)?;
        let limits = rampart_app::limits::metrics::LimitMetrics::register(&registry)?;
        let cache = rampart_app::cache::CacheMetrics::register(&registry)?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
            ingest,
            jobs,
            limits,
            cache,
        })
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
        self.ingest.set_correlation_groups(correlation_groups);
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
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.observe(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
