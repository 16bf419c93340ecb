//! Runs a scan as a job: every check of every target within the
//! organisation's scope, paced per target and bounded in flight, with
//! progress written as it goes and a cancel request honoured between
//! checks; then the findings are stored like an import of the scan type
//! and the notification rules hear that the scan finished.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt};
use rampart_core::finding::{FindingSeverity, ParsedFinding};
use rampart_core::notification::{Notice, NoticeKind};
use rampart_core::scan::{Scan, ScanKind, ScanStatus};
use rampart_core::{Clock, Job, OrgId, ScanId};
use rampart_scan::checks::{exposed_files, ports, tls, web_baseline};
use rampart_store::{ScanOutcome, Store};
use serde_json::{json, Value};

use super::probe::{Pace, ProbeError, Prober};
use super::scope::Scope;
use super::ScansConfig;
use crate::jobs::handler::{JobFailure, JobHandler};
use crate::vulns::{FindingBatch, Vulnerabilities};

/// The job kind that runs a scan.
pub const SCAN_JOB: &str = "scan.run";

/// How often progress is written (and a cancel request read).
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The largest page body the web-baseline reads.
const PAGE_BYTES: usize = 256 * 1024;

/// One unit of work.
#[derive(Clone, Debug)]
enum Check {
    Baseline(url::Url),
    File(url::Url, usize),
    Port(String, u16),
    Tls(String, u16),
}

impl Check {
    /// The target it paces against.
    fn target(&self) -> String {
        match self {
            Check::Baseline(u) | Check::File(u, _) => u.host_str().unwrap_or_default().to_owned(),
            Check::Port(host, _) | Check::Tls(host, _) => host.clone(),
        }
    }
}

/// What a check found, or why it could not look.
enum Outcome {
    Findings(Vec<ParsedFinding>, Option<Value>),
    Failed(ProbeError),
}

/// The `scan.run` handler.
pub struct ScanRunner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub vulnerabilities: Vulnerabilities,
    pub notifier: crate::notifications::Notifier,
    pub config: ScansConfig,
}

fn plan(scan: &Scan) -> Vec<Check> {
    let urls = || scan.targets.iter().filter_map(|t| url::Url::parse(t).ok());
    match scan.kind {
        ScanKind::WebBaseline => urls().map(Check::Baseline).collect(),
        ScanKind::ExposedFiles => urls()
            .flat_map(|u| (0..exposed_files::PATHS.len()).map(move |i| Check::File(u.clone(), i)))
            .collect(),
        ScanKind::Tls => scan
            .targets
            .iter()
            .filter_map(|t| super::endpoint(t))
            .map(|(host, port)| Check::Tls(host, port))
            .collect(),
        ScanKind::Ports => scan
            .targets
            .iter()
            .flat_map(|h| scan.ports.iter().map(move |p| Check::Port(h.clone(), *p)))
            .collect(),
    }
}

fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

async fn baseline(prober: &Prober, url: &url::Url) -> Outcome {
    let page = match prober.get(url, &[], true, PAGE_BYTES).await {
        Ok(page) => page,
        Err(e) => return Outcome::Failed(e),
    };
    let last = page
        .chain
        .last()
        .cloned()
        .unwrap_or_else(|| url.to_string());
    let cors = match url::Url::parse(&last) {
        Ok(final_url) => prober
            .get(
                &final_url,
                &[("Origin", web_baseline::PROBE_ORIGIN)],
                false,
                0,
            )
            .await
            .ok()
            .map(|r| {
                let header = |name: &str| {
                    r.headers
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                (
                    header("access-control-allow-origin"),
                    header("access-control-allow-credentials"),
                )
            }),
        Err(_) => None,
    };
    // Plain HTTP: the page's own chain when it was asked over HTTP; for
    // an HTTPS site on 443, its HTTP form on 80.
    let http_chain = if url.scheme() == "http" {
        Some(page.chain.clone())
    } else if url.port_or_known_default() == Some(443) {
        let mut http = url.clone();
        let _ = http.set_scheme("http");
        let _ = http.set_port(None);
        prober.get(&http, &[], true, 0).await.ok().map(|r| r.chain)
    } else {
        None
    };
    let observed = web_baseline::Observed {
        url: last,
        status: page.status,
        headers: page.headers,
        body: String::from_utf8_lossy(&page.body).into_owned(),
        cors,
        http_chain,
    };
    let graded = web_baseline::assess(&observed);
    let summary = json!({
        "target": url.as_str(), "url": graded.url, "score": graded.score,
        "grade": graded.grade, "tests": graded.tests,
    });
    Outcome::Findings(graded.findings, Some(summary))
}

async fn run_check(prober: &Prober, check: &Check, now: rampart_core::Timestamp) -> Outcome {
    match check {
        Check::Baseline(url) => baseline(prober, url).await,
        Check::File(base, index) => {
            let path = &exposed_files::PATHS[*index];
            let Ok(url) = base.join(path.path) else {
                return Outcome::Findings(Vec::new(), None);
            };
            match prober
                .get(&url, &[], false, exposed_files::READ_BYTES)
                .await
            {
                Ok(r) if r.status == 200 && path.confirms(&r.body) => Outcome::Findings(
                    vec![exposed_files::found(&origin(base), path, r.status)],
                    None,
                ),
                Ok(_) => Outcome::Findings(Vec::new(), None),
                Err(e) => Outcome::Failed(e),
            }
        }
        Check::Tls(host, port) => match prober.tls(host, *port).await {
            Ok((versions, chain)) => {
                let assessed = tls::assess(&tls::TlsObserved {
                    host: host.clone(),
                    port: *port,
                    versions,
                    chain,
                    now,
                });
                let summary = json!({
                    "target": assessed.endpoint, "versions": assessed.versions,
                    "certificate": assessed.certificate,
                });
                Outcome::Findings(assessed.findings, Some(summary))
            }
            Err(e) => Outcome::Failed(e),
        },
        Check::Port(host, port) => match prober.connect(host, *port).await {
            Ok(true) => Outcome::Findings(vec![ports::open(host, *port)], None),
            Ok(false) => Outcome::Findings(Vec::new(), None),
            Err(e) => Outcome::Failed(e),
        },
    }
}

/// The worst severity among findings, on the 1–5 scale notification
/// rules use (info 1 … critical 5).
fn worst(findings: &[ParsedFinding]) -> u8 {
    findings
        .iter()
        .map(|f| match f.severity_or_default() {
            FindingSeverity::Info => 1,
            FindingSeverity::Low => 2,
            FindingSeverity::Medium => 3,
            FindingSeverity::High => 4,
            FindingSeverity::Critical => 5,
        })
        .max()
        .unwrap_or(1)
}

impl ScanRunner {
    async fn finish(&self, org: OrgId, id: ScanId, outcome: ScanOutcome) -> Result<(), JobFailure> {
        self.store
            .finish_scan(org, id, &outcome)
            .await
            .map_err(JobFailure::retry)?;
        let notice = Notice {
            scan: Some(id),
            ..Notice::new(NoticeKind::ScanCompleted)
        };
        // The scan is done whether or not anyone hears of it.
        if let Err(error) = self.notifier.notify(org, &notice).await {
            tracing::warn!(scan_id = %id, %error, "the scan-completed notice was not queued");
        }
        Ok(())
    }

    async fn execute(&self, org: OrgId, scan: Scan) -> Result<(), JobFailure> {
        let scope = Scope::new(
            &self
                .store
                .list_scope(org)
                .await
                .map_err(JobFailure::retry)?,
        );
        let prober = Prober::new(scope, Duration::from_millis(self.config.check_timeout_ms))
            .map_err(JobFailure::Permanent)?;
        let checks = plan(&scan);
        let Some(scan) = self
            .store
            .start_scan(org, scan.id, checks.len() as u64, self.clock.now())
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        let pace = Pace::new(self.config.per_target_rate, self.config.concurrency);
        let now = self.clock.now();
        let done = AtomicU64::new(0);
        let cancelled = AtomicBool::new(scan.cancel_requested);
        let findings: Mutex<Vec<ParsedFinding>> = Mutex::new(Vec::new());
        let summaries: Mutex<Vec<Value>> = Mutex::new(Vec::new());
        let failures: Mutex<Vec<Value>> = Mutex::new(Vec::new());
        let work = stream::iter(checks).for_each_concurrent(self.config.concurrency, |check| {
            let (pace, prober, done, cancelled) = (&pace, &prober, &done, &cancelled);
            let (findings, summaries, failures) = (&findings, &summaries, &failures);
            async move {
                if cancelled.load(Ordering::Relaxed) {
                    return;
                }
                let _permit = pace.wait(&check.target()).await;
                if cancelled.load(Ordering::Relaxed) {
                    return;
                }
                match run_check(prober, &check, now).await {
                    Outcome::Findings(found, summary) => {
                        let mut all = findings.lock().unwrap_or_else(|e| e.into_inner());
                        all.extend(found);
                        if let Some(summary) = summary {
                            summaries
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(summary);
                        }
                    }
                    Outcome::Failed(error) => {
                        let target = match &check {
                            Check::Baseline(u) | Check::File(u, _) => u.to_string(),
                            Check::Port(h, p) | Check::Tls(h, p) => format!("{h}:{p}"),
                        };
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(json!({
                                "target": target,
                                "refused": matches!(error, ProbeError::Refused(_)),
                                "error": error.to_string(),
                            }));
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
        let report = async {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                match self
                    .store
                    .scan_progress(org, scan.id, done.load(Ordering::Relaxed))
                    .await
                {
                    Ok(true) => cancelled.store(true, Ordering::Relaxed),
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(scan_id = %scan.id, %error, "scan progress not written")
                    }
                }
            }
        };
        tokio::select! {
            () = work => {}
            () = report => {}
        }
        let findings = findings.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
        let summaries = summaries.into_inner().unwrap_or_else(|e| e.into_inner());
        let checked = done.load(Ordering::Relaxed);
        let failed = failures.len();
        failures.truncate(100);
        let mut summary = json!({
            "checks": checked, "failed_checks": failed, "failures": failures,
            "targets": summaries, "max_severity": worst(&findings),
        });
        let cancelled = cancelled.load(Ordering::Relaxed)
            || self
                .store
                .scan_progress(org, scan.id, checked)
                .await
                .map_err(JobFailure::retry)?;
        let now = self.clock.now();
        if cancelled {
            return self
                .finish(
                    org,
                    scan.id,
                    ScanOutcome {
                        status: ScanStatus::Cancelled,
                        counts: None,
                        summary,
                        error: None,
                        at: now,
                    },
                )
                .await;
        }
        let asset = self
            .store
            .get_asset(org, scan.asset_id)
            .await
            .map_err(JobFailure::retry)?;
        let Some(asset) = asset else {
            // Deleted with its scans meanwhile.
            return Ok(());
        };
        let every_check_ran = failed == 0;
        let batch = FindingBatch {
            org,
            actor: scan.requested_by.clone(),
            asset,
            scan_type: scan.kind.as_str().to_owned(),
            format: scan.kind.as_str().to_owned(),
            tool: "Rampart".into(),
            file_name: None,
            // A check that could not run is no proof that a finding is fixed.
            full_report: every_check_ran,
            findings,
        };
        let (import_id, counts) = self
            .vulnerabilities
            .store_findings(batch)
            .await
            .map_err(|e| JobFailure::retry(e.detail))?;
        summary["partial"] = json!(!every_check_ran);
        summary["import_id"] = json!(import_id);
        let all_failed = checked > 0 && failed as u64 == checked;
        self.finish(
            org,
            scan.id,
            ScanOutcome {
                status: if all_failed {
                    ScanStatus::Failed
                } else {
                    ScanStatus::Completed
                },
                counts: Some(counts),
                summary,
                error: all_failed.then(|| "no check could run; see the failures".to_owned()),
                at: now,
            },
        )
        .await
    }
}

#[async_trait]
impl JobHandler for ScanRunner {
    async fn run(&self, job: &Job) -> Result<(), JobFailure> {
        let org = job
            .org_id
            .ok_or_else(|| JobFailure::Permanent("a scan belongs to an organisation".into()))?;
        let id: ScanId = job
            .payload
            .get("scan_id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| JobFailure::Permanent("the payload names no scan".into()))?;
        let Some(scan) = self
            .store
            .get_scan(org, id)
            .await
            .map_err(JobFailure::retry)?
        else {
            return Ok(());
        };
        if scan.status.is_finished() {
            return Ok(());
        }
        if scan.cancel_requested {
            return self
                .finish(
                    org,
                    id,
                    ScanOutcome {
                        status: ScanStatus::Cancelled,
                        counts: None,
                        summary: json!({}),
                        error: None,
                        at: self.clock.now(),
                    },
                )
                .await;
        }
        self.execute(org, scan).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_the_rules_scale() {
        let f = |s| ParsedFinding {
            severity: Some(s),
            ..ParsedFinding::default()
        };
        assert_eq!(worst(&[]), 1);
        assert_eq!(
            worst(&[f(FindingSeverity::Low), f(FindingSeverity::High)]),
            4
        );
    }
}
