//! Threat intelligence fetched where the network allows: the
//! `intel.refresh` job downloads the configured KEV and EPSS URLs on a
//! schedule (daily by default) and loads a release only when it is not the
//! one already loaded. `rampart intel load` takes the same URLs.

use async_trait::async_trait;
use rampart_core::intel::IntelSourceName;
use rampart_core::Job;
use rampart_scan::intel::MAX_INTEL_BYTES;
use serde::Deserialize;

use super::Vulnerabilities;
use crate::jobs::handler::{JobFailure, JobHandler};

/// The job that fetches the configured feeds.
pub const REFRESH_JOB: &str = "intel.refresh";

/// `[intel]`: where to fetch KEV and EPSS from, and when.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntelConfig {
    /// e.g. https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json
    pub kev_url: Option<String>,
    /// e.g. https://epss.empiricalsecurity.com/epss_scores-current.csv.gz
    pub epss_url: Option<String>,
    /// When to fetch them (UTC cron).
    pub schedule: String,
    /// Longest one download may take.
    pub timeout_secs: u64,
}

impl Default for IntelConfig {
    fn default() -> Self {
        IntelConfig {
            kev_url: None,
            epss_url: None,
            schedule: "23 4 * * *".into(),
            timeout_secs: 300,
        }
    }
}

impl IntelConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, url) in [
            ("intel.kev_url", &self.kev_url),
            ("intel.epss_url", &self.epss_url),
        ] {
            if let Some(url) = url {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!("{name} must be an http(s) URL"));
                }
            }
        }
        if !(1..=3600).contains(&self.timeout_secs) {
            return Err("intel.timeout_secs must be 1–3600".into());
        }
        Ok(())
    }

    /// The feeds configured, with their source.
    pub fn feeds(&self) -> Vec<(IntelSourceName, String)> {
        [
            (IntelSourceName::Kev, &self.kev_url),
            (IntelSourceName::Epss, &self.epss_url),
        ]
        .into_iter()
        .filter_map(|(source, url)| url.clone().map(|u| (source, u)))
        .collect()
    }
}

/// Whether a `rampart intel load` argument is a URL rather than a file.
pub fn is_url(text: &str) -> bool {
    text.starts_with("https://") || text.starts_with("http://")
}

/// Downloads a release (at most the parser's limit), with a clear error.
pub async fn download(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > MAX_INTEL_BYTES {
            return Err(format!("{url}: larger than {MAX_INTEL_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTP client for feeds: the timeout, Rampart's user agent.
pub fn feed_client(config: &IntelConfig) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(config.timeout_secs))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// The `intel.refresh` job.
pub struct IntelRefresh {
    pub vulnerabilities: Vulnerabilities,
    pub config: IntelConfig,
    pub client: reqwest::Client,
}

#[async_trait]
impl JobHandler for IntelRefresh {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        let mut failures = Vec::new();
        for (source, url) in self.config.feeds() {
            let bytes = match download(&self.client, &url).await {
                Ok(bytes) => bytes,
                Err(error) => {
                    failures.push(error);
                    continue;
                }
            };
            match self.vulnerabilities.load_intel_if_new(source, bytes).await {
                Ok(Some(load)) => tracing::info!(
                    source = source.as_str(), version = %load.source.version,
                    rows = load.source.rows, rescored = load.rescored, "intel feed loaded"
                ),
                Ok(None) => tracing::info!(source = source.as_str(), "intel feed unchanged"),
                Err(error) => failures.push(format!("{url}: {}", error.detail)),
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(JobFailure::retry(failures.join("; ")))
        }
    }
}
