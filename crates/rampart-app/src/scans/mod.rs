//! Rampart's own scans of authorised targets: the organisation's scope
//! (admins decide what may be scanned), scans requested by analysts and
//! run as jobs with progress and cancel, and their findings stored like
//! any import. `rampart_scan::checks` judges what is seen; this module
//! does the looking, within the scope.

mod probe;
mod runner;
mod schedules;
pub mod scope;
mod tls_probe;

use std::sync::Arc;

use rampart_core::finding::AssetKind;
pub use rampart_core::scan::ScanRequest;
use rampart_core::scan::{Scan, ScanKind, ScanStatus, ScopeEntry};
use rampart_core::{AssetId, Clock, Error, NewJob, OrgId, Permission, ScanId, ScopeEntryId};
use rampart_scan::checks::ports::TOP_100;
use rampart_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use runner::{ScanRunner, SCAN_JOB};
pub use schedules::{ScheduleInput, ScheduleRunner, SCHEDULES_JOB};

use crate::audit::{snapshot, Audit};
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
use crate::vulns::Vulnerabilities;
use probe::Prober;
use scope::{Scope, ScopeTarget};

pub use rampart_core::scan::QUEUE as SCAN_QUEUE;

/// `[scans]`: limits of the scans this node runs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScansConfig {
    /// Checks in flight at once, per scan.
    pub concurrency: usize,
    /// Requests (or connects) per second to one target host.
    pub per_target_rate: f64,
    /// Longest one request or connect may take.
    pub check_timeout_ms: u64,
    /// Most targets one scan may name.
    pub max_targets: usize,
}

impl Default for ScansConfig {
    fn default() -> Self {
        ScansConfig {
            concurrency: 256,
            per_target_rate: 10.0,
            check_timeout_ms: 5_000,
            max_targets: 1_000,
        }
    }
}

impl ScansConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10_000).contains(&self.concurrency) {
            return Err("scans.concurrency must be 1–10000".into());
        }
        if !(self.per_target_rate > 0.0 && self.per_target_rate <= 10_000.0) {
            return Err("scans.per_target_rate must be above 0 and at most 10000".into());
        }
        if !(100..=120_000).contains(&self.check_timeout_ms) {
            return Err("scans.check_timeout_ms must be 100–120000".into());
        }
        if !(1..=100_000).contains(&self.max_targets) {
            return Err("scans.max_targets must be 1–100000".into());
        }
        Ok(())
    }
}

/// A new scope entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    /// `10.0.0.0/24`, `203.0.113.7`, `shop.example.com`, `*.example.com`
    /// or `https://shop.example.com/app/`.
    pub target: String,
    /// Ports it covers; empty or absent: any.
    #[serde(default)]
    pub ports: Vec<u16>,
    pub note: Option<String>,
}

/// A request's targets and ports, checked.
pub(crate) struct CheckedRequest {
    targets: Vec<String>,
    ports: Vec<u16>,
}

/// The scans service.
#[derive(Clone)]
pub struct Scans {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    vulnerabilities: Vulnerabilities,
    config: ScansConfig,
}

fn invalid_target(index: usize, detail: impl Into<String>) -> Error {
    Error::invalid_field(&format!("targets[{index}]"), detail.into())
}

impl Scans {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        audit: Audit,
        vulnerabilities: Vulnerabilities,
        config: ScansConfig,
    ) -> Self {
        Scans {
            store,
            clock,
            audit,
            vulnerabilities,
            config,
        }
    }

    /// The job handler that runs scans on this node.
    pub fn runner(&self, notifier: crate::notifications::Notifier) -> ScanRunner {
        ScanRunner {
            store: self.store.clone(),
            clock: self.clock.clone(),
            vulnerabilities: self.vulnerabilities.clone(),
            notifier,
            config: self.config.clone(),
        }
    }

    /// `GET /scope`: what the organisation may scan.
    pub async fn scope(&self, principal: &Principal) -> Result<Vec<ScopeEntry>, Error> {
        principal.require(Permission::Read)?;
        Ok(self.store.list_scope(principal.org_id).await?)
    }

    /// `POST /scope` (admins): authorise a target.
    pub async fn add_scope(
        &self,
        principal: &Principal,
        input: ScopeInput,
    ) -> Result<ScopeEntry, Error> {
        principal.require(Permission::Admin)?;
        let target = input.target.trim().to_owned();
        ScopeTarget::parse(&target).map_err(|e| Error::invalid_field("target", e))?;
        if input.ports.len() > 1000 || input.ports.contains(&0) {
            return Err(Error::invalid_field(
                "ports",
                "at most 1000 ports, each 1–65535",
            ));
        }
        let note = input
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            return Err(Error::invalid_field("note", "at most 500 characters"));
        }
        let mut ports = input.ports;
        ports.sort_unstable();
        ports.dedup();
        let entry = ScopeEntry {
            id: ScopeEntryId::new(),
            org_id: principal.org_id,
            target,
            ports,
            note,
            created_by: principal.audit_actor(),
            created_at: self.clock.now(),
        };
        let audit = self.audit.entry(
            principal,
            "scope.add",
            ("scope_entry", entry.id.to_string()),
            None,
            snapshot(&entry),
        );
        match self.store.add_scope_entry(&entry, &audit).await {
            Ok(()) => Ok(entry),
            Err(rampart_store::StoreError::Conflict { .. }) => Err(Error::conflict(
                "scope_entry_exists",
                "the scope already names this target",
            )
            .with_field("target")),
            Err(other) => Err(other.into()),
        }
    }

    /// `DELETE /scope/{id}` (admins).
    pub async fn remove_scope(&self, principal: &Principal, id: ScopeEntryId) -> Result<(), Error> {
        principal.require(Permission::Admin)?;
        let audit = self.audit.entry(
            principal,
            "scope.remove",
            ("scope_entry", id.to_string()),
            None,
            None,
        );
        if self
            .store
            .delete_scope_entry(principal.org_id, id, &audit)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found("scope entry"))
        }
    }

    /// `POST /scans` (analysts): checks every target against the scope
    /// (names resolved) and queues the scan.
    pub async fn start(&self, principal: &Principal, request: ScanRequest) -> Result<Scan, Error> {
        principal.require(Permission::Analyse)?;
        self.start_as(principal.org_id, principal.audit_actor(), request)
            .await
    }

    /// Queues a scan for `org` in the name of `actor` (a person, or a
    /// schedule).
    pub(crate) async fn start_as(
        &self,
        org: OrgId,
        actor: String,
        request: ScanRequest,
    ) -> Result<Scan, Error> {
        let checked = self.check_request(org, &request).await?;
        let (targets, ports) = (checked.targets, checked.ports);
        let asset_name = match request.asset.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => first_host(&targets[0]),
        };
        let kind = match request.kind {
            ScanKind::Ports | ScanKind::Tls => AssetKind::Host,
            _ => AssetKind::WebApplication,
        };
        let (asset, _) = self
            .vulnerabilities
            .asset_named(org, &actor, &asset_name, kind)
            .await?;
        let now = self.clock.now();
        let scan = Scan {
            id: ScanId::new(),
            org_id: org,
            asset_id: asset.id,
            kind: request.kind,
            targets,
            ports,
            status: ScanStatus::Queued,
            progress: 0,
            checks_done: 0,
            checks_total: 0,
            cancel_requested: false,
            counts: None,
            summary: json!({}),
            error: None,
            requested_by: actor.clone(),
            created_at: now,
            started_at: None,
            finished_at: None,
        };
        let job = NewJob {
            max_attempts: 2,
            ..NewJob::new(
                Some(org),
                SCAN_QUEUE,
                SCAN_JOB,
                json!({ "scan_id": scan.id }),
                now,
            )
        };
        let audit = self.audit.entry_in(
            org,
            actor,
            "scan.start",
            ("scan", scan.id.to_string()),
            None,
            snapshot(&json!({
                "kind": scan.kind, "targets": scan.targets, "ports": scan.ports.len(),
                "asset": asset.name,
            })),
        );
        self.store.create_scan(&scan, &job, &audit).await?;
        Ok(scan)
    }

    /// A request's targets checked against the scope (names resolved)
    /// and its ports read.
    pub(crate) async fn check_request(
        &self,
        org: OrgId,
        request: &ScanRequest,
    ) -> Result<CheckedRequest, Error> {
        if request.targets.is_empty() || request.targets.len() > self.config.max_targets {
            return Err(Error::invalid_field(
                "targets",
                format!("name 1 to {} targets", self.config.max_targets),
            ));
        }
        let ports = match (request.kind, request.ports.as_deref()) {
            (ScanKind::Ports, Some(list)) => rampart_scan::checks::ports::parse_list(list)
                .map_err(|e| Error::invalid_field("ports", e))?,
            (ScanKind::Ports, None) => TOP_100.to_vec(),
            (_, Some(_)) => {
                return Err(Error::invalid_field("ports", "only port scans take ports"))
            }
            (_, None) => Vec::new(),
        };
        let scope = Scope::new(&self.store.list_scope(org).await?);
        if scope.is_empty() {
            return Err(Error::bad_request(
                "scope_empty",
                "the organisation's scope names nothing yet: an admin adds what may be scanned (POST /api/v1/scope)",
            )
            .with_field("targets"));
        }
        let prober = Prober::new(
            scope,
            std::time::Duration::from_millis(self.config.check_timeout_ms),
        )
        .map_err(|e| Error::internal(&e))?;
        let mut targets = Vec::with_capacity(request.targets.len());
        for (index, target) in request.targets.iter().enumerate() {
            let target = target.trim();
            let checked = match request.kind {
                ScanKind::WebBaseline | ScanKind::ExposedFiles => {
                    let url = url::Url::parse(target)
                        .map_err(|e| invalid_target(index, format!("not a URL: {e}")))?;
                    prober
                        .check_url(&url)
                        .await
                        .map_err(|e| invalid_target(index, e.to_string()))?;
                    url.to_string()
                }
                ScanKind::Tls => {
                    let (host, port) = endpoint(target)
                        .ok_or_else(|| invalid_target(index, "host[:port] or an https:// URL"))?;
                    prober
                        .check_endpoint(&host, port)
                        .await
                        .map_err(|e| invalid_target(index, e.to_string()))?;
                    if host.contains(':') {
                        format!("[{host}]:{port}")
                    } else {
                        format!("{host}:{port}")
                    }
                }
                ScanKind::Ports => {
                    let host = target.trim_start_matches('[').trim_end_matches(']');
                    if host.is_empty() || host.contains('/') || host.contains(' ') {
                        return Err(invalid_target(index, "a host name or an address"));
                    }
                    prober
                        .check_host(host)
                        .await
                        .map_err(|e| invalid_target(index, e.to_string()))?;
                    host.to_ascii_lowercase()
                }
            };
            targets.push(checked);
        }
        targets.dedup();
        Ok(CheckedRequest { targets, ports })
    }

    pub async fn get(&self, principal: &Principal, id: ScanId) -> Result<Scan, Error> {
        principal.require(Permission::Read)?;
        self.store
            .get_scan(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("scan"))
    }

    /// Newest first.
    pub async fn list(
        &self,
        principal: &Principal,
        asset: Option<AssetId>,
        page: &PageParams,
    ) -> Result<Page<Scan>, Error> {
        principal.require(Permission::Read)?;
        let limit = page.limit()?;
        let items = self
            .store
            .list_scans(principal.org_id, asset, page.cursor()?, limit)
            .await?;
        Ok(Page::new(items, limit, |s| s.id.to_string()))
    }

    /// `POST /scans/{id}/cancel` (analysts): a queued scan is cancelled at
    /// once, a running one stops at its next check.
    pub async fn cancel(&self, principal: &Principal, id: ScanId) -> Result<Scan, Error> {
        principal.require(Permission::Analyse)?;
        let audit = self.audit.entry(
            principal,
            "scan.cancel",
            ("scan", id.to_string()),
            None,
            None,
        );
        let scan = self
            .store
            .request_scan_cancel(principal.org_id, id, self.clock.now(), &audit)
            .await?
            .ok_or_else(|| Error::not_found("scan"))?;
        if scan.status.is_finished() && scan.status != ScanStatus::Cancelled {
            return Err(Error::conflict(
                "scan_finished",
                format!("the scan is already {}", scan.status.as_str()),
            ));
        }
        Ok(scan)
    }
}

/// The host and port of a TLS target: `host`, `host:port`, `[v6]:port`
/// or an `https://` URL (port 443 unless given).
pub fn endpoint(target: &str) -> Option<(String, u16)> {
    let target = target.trim();
    if target.contains("://") {
        let url = url::Url::parse(target).ok()?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        return Some((
            host.to_ascii_lowercase(),
            url.port_or_known_default().unwrap_or(443),
        ));
    }
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok().filter(|p| *p > 0)?,
            None if after.is_empty() => 443,
            None => return None,
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    if target.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some((target.to_ascii_lowercase(), 443));
    }
    let (host, port) = match target.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok().filter(|p| *p > 0)?),
        None => (target, 443),
    };
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    valid.then(|| (host.to_ascii_lowercase(), port))
}

/// The host of a URL target, or the target itself.
fn first_host(target: &str) -> String {
    url::Url::parse(target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .or_else(|| endpoint(target).map(|(host, _)| host))
        .unwrap_or_else(|| target.to_owned())
}

/// A summary row of a scan's per-target outcomes, as the UI shows it.
#[derive(Debug, Serialize)]
pub struct TargetGrade {
    pub target: String,
    pub grade: String,
    pub score: i64,
}

/// The grades a web-baseline scan gave its targets.
pub fn grades(scan: &Scan) -> Vec<TargetGrade> {
    scan.summary
        .get("targets")
        .and_then(serde_json::Value::as_array)
        .map(|targets| {
            targets
                .iter()
                .filter_map(|t| {
                    Some(TargetGrade {
                        target: t.get("target")?.as_str()?.to_owned(),
                        grade: t.get("grade")?.as_str()?.to_owned(),
                        score: t.get("score")?.as_i64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn tls_targets_name_a_host_and_port() {
        let e = |t: &str| endpoint(t);
        assert_eq!(
            e("shop.example.com"),
            Some(("shop.example.com".into(), 443))
        );
        assert_eq!(
            e("Shop.example.com:8443"),
            Some(("shop.example.com".into(), 8443))
        );
        assert_eq!(
            e("https://shop.example.com:9443/x"),
            Some(("shop.example.com".into(), 9443))
        );
        assert_eq!(
            e("https://shop.example.com/"),
            Some(("shop.example.com".into(), 443))
        );
        assert_eq!(e("127.0.0.1:4433"), Some(("127.0.0.1".into(), 4433)));
        assert_eq!(e("[::1]:4433"), Some(("::1".into(), 4433)));
        assert_eq!(e("::1"), Some(("::1".into(), 443)));
        for bad in ["", "host:0", "host:99999", "a b:1", "[::1", "h/ost"] {
            assert_eq!(e(bad), None, "{bad}");
        }
    }
}
