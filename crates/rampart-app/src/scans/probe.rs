//! The network side of scans, held to the organisation's scope: HTTP
//! requests whose every hop (redirects followed by hand) is checked before
//! it is made and whose every connection is checked again by the resolver
//! reqwest connects with; TCP connects to addresses resolved and checked
//! once; a pace per target and a bound on checks in flight.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::scope::Scope;

/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;

/// A response as the checks need it.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// Every URL asked for, the first to the last.
    pub chain: Vec<String>,
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The start of the body (up to the limit asked for).
    pub body: Vec<u8>,
}

/// Why a request was not answered.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeError {
    /// The scope forbids it: never retried, shown to the user.
    Refused(String),
    /// The network said no (refused, reset, timed out, bad TLS).
    Network(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProbeError::Refused(why) => write!(f, "refused: {why}"),
            ProbeError::Network(why) => write!(f, "{why}"),
        }
    }
}

/// Resolves names for reqwest, keeping only addresses the scope admits;
/// a name with any address outside it is refused whole.
struct ScopedResolver(Arc<Scope>);

impl reqwest::dns::Resolve for ScopedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let scope = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_in_scope(&scope, &host, None).await.map_err(
                |e| -> Box<dyn std::error::Error + Send + Sync> { e.to_string().into() },
            )?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses of `host` (a name or a literal), each admitted by the scope.
async fn resolve_in_scope(
    scope: &Scope,
    host: &str,
    port: Option<u16>,
) -> Result<Vec<SocketAddr>, ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let (addrs, named) = match bare.parse::<IpAddr>() {
        Ok(ip) => (vec![SocketAddr::new(ip, port.unwrap_or(0))], false),
        Err(_) => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((bare, port.unwrap_or(0)))
                .await
                .map_err(|e| ProbeError::Network(format!("cannot resolve {bare}: {e}")))?
                .collect();
            (found, scope.names(bare, port, None))
        }
    };
    if addrs.is_empty() {
        return Err(ProbeError::Network(format!("{bare} has no addresses")));
    }
    for addr in &addrs {
        scope
            .admits(named, addr.ip(), port)
            .map_err(|why| ProbeError::Refused(format!("{bare}: {why}")))?;
    }
    Ok(addrs)
}

/// Paces requests per target host and bounds checks in flight.
pub struct Pace {
    interval: Duration,
    next: Mutex<HashMap<String, Instant>>,
    in_flight: Semaphore,
}

impl Pace {
    pub fn new(per_target_per_second: f64, concurrency: usize) -> Pace {
        Pace {
            interval: Duration::from_secs_f64(1.0 / per_target_per_second.max(0.001)),
            next: Mutex::new(HashMap::new()),
            in_flight: Semaphore::new(concurrency.max(1)),
        }
    }

    /// Waits for `target`'s next slot and a place among the checks in
    /// flight; the permit holds the place (the semaphore is never closed).
    pub async fn wait(&self, target: &str) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let entry = next.entry(target.to_owned()).or_insert(now);
            let slot = (*entry).max(now);
            *entry = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
        self.in_flight.acquire().await.ok()
    }
}

/// Requests and connections within one organisation's scope.
pub struct Prober {
    scope: Arc<Scope>,
    client: reqwest::Client,
    timeout: Duration,
}

impl Prober {
    pub fn new(scope: Scope, timeout: Duration) -> Result<Prober, String> {
        let scope = Arc::new(scope);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(ScopedResolver(scope.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            // Scans look at misconfigured servers, certificates included:
            // the TLS scan judges certificates, the others read headers.
            .danger_accept_invalid_certs(true)
            .user_agent(concat!("Rampart-Scanner/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Prober {
            scope,
            client,
            timeout,
        })
    }

    /// Checks a URL against the scope (its addresses resolved) before any
    /// request is made to it.
    pub async fn check_url(&self, url: &url::Url) -> Result<(), ProbeError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProbeError::Refused(format!(
                "{url}: only http and https are scanned"
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| ProbeError::Refused(format!("{url} has no host")))?;
        let port = url.port_or_known_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let named = bare.parse::<IpAddr>().is_err() && self.scope.names(bare, port, Some(url));
        let addrs = resolve_in_scope(&self.scope, host, port).await?;
        // A URL prefix entry names a path too: a name in scope for another
        // path of the same host is not enough.
        if named
            || addrs
                .iter()
                .all(|a| self.scope.admits(false, a.ip(), port).is_ok())
        {
            Ok(())
        } else {
            Err(ProbeError::Refused(format!(
                "{url} is outside the organisation's scope"
            )))
        }
    }

    /// GETs `url` with `headers`, following up to five redirects when
    /// `follow` is set, each checked like the first; reads at most
    /// `max_body` bytes of the last response.
    pub async fn get(
        &self,
        url: &url::Url,
        headers: &[(&str, &str)],
        follow: bool,
        max_body: usize,
    ) -> Result<Fetched, ProbeError> {
        let mut chain = Vec::new();
        let mut current = url.clone();
        loop {
            self.check_url(&current).await?;
            chain.push(current.to_string());
            let mut request = self.client.get(current.clone());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let mut response = request
                .send()
                .await
                .map_err(|e| ProbeError::Network(describe(&e)))?;
            let status = response.status();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| current.join(l).ok());
            if follow && status.is_redirection() && chain.len() <= MAX_REDIRECTS {
                if let Some(next) = location {
                    current = next;
                    continue;
                }
            }
            let header_list = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while body.len() < max_body {
                match tokio::time::timeout(self.timeout, response.chunk()).await {
                    Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                    Ok(Ok(None)) | Err(_) => break,
                    Ok(Err(e)) => return Err(ProbeError::Network(describe(&e))),
                }
            }
            body.truncate(max_body);
            return Ok(Fetched {
                chain,
                status: status.as_u16(),
                headers: header_list,
                body,
            });
        }
    }

    /// Whether `host`'s `port` accepts TCP connections (its addresses
    /// resolved and checked once, then connected to directly).
    pub async fn connect(&self, host: &str, port: u16) -> Result<bool, ProbeError> {
        let addrs = resolve_in_scope(&self.scope, host, Some(port)).await?;
        for addr in addrs {
            let addr = SocketAddr::new(addr.ip(), port);
            if let Ok(Ok(_)) =
                tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(addr)).await
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The TLS handshakes with `host`'s `port` (its first address the
    /// scope admits), and what they returned.
    pub async fn tls(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(Vec<rampart_scan::checks::tls::Offered>, Vec<Vec<u8>>), ProbeError> {
        let addrs = resolve_in_scope(&self.scope, host, Some(port)).await?;
        let addr = addrs
            .first()
            .map(|a| SocketAddr::new(a.ip(), port))
            .ok_or_else(|| ProbeError::Network(format!("{host} has no addresses")))?;
        let (versions, chain) = super::tls_probe::probe(addr, host, self.timeout).await;
        if versions.iter().all(|v| !v.accepted) {
            return Err(ProbeError::Network(format!(
                "{host}:{port}: no TLS handshake succeeded"
            )));
        }
        Ok((versions, chain))
    }

    /// Checks a host and port before a scan starts.
    pub async fn check_endpoint(&self, host: &str, port: u16) -> Result<(), ProbeError> {
        resolve_in_scope(&self.scope, host, Some(port))
            .await
            .map(|_| ())
    }

    /// Checks a host for a port scan before it starts.
    pub async fn check_host(&self, host: &str) -> Result<(), ProbeError> {
        resolve_in_scope(&self.scope, host, None).await.map(|_| ())
    }
}

/// reqwest's error with its causes (the resolver's refusal is a cause).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
