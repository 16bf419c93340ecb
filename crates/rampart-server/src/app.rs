//! [`Application`]: builds the server from a [`Config`] and runs it until a
//! signal (SIGTERM/SIGINT) or a [`ShutdownHandle`] stops it gracefully.

use std::net::SocketAddr;
use std::sync::Arc;

use rampart_app::accounts::Bootstrap;
use rampart_app::auth::jwt::JwtKeys;
use rampart_app::Services;
use rampart_core::{Clock, SystemClock};
use rampart_ingest::Ingest;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::state::{AppState, Inner};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] rampart_store::StoreError),
    #[error("JWT signing key in {dir}: {source}")]
    SigningKey { dir: String, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("first-start set-up: {0}")]
    Bootstrap(String),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("redis_url: {0}")]
    Redis(String),
}

/// Stops a running [`Application`] from elsewhere (tests, embedding code).
#[derive(Clone)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

/// A built server, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    shutdown: watch::Sender<bool>,
    bootstrap: Option<Bootstrap>,
    /// Syslog listeners and the ingest upkeep; stopped before the store closes.
    background: JoinSet<()>,
    /// This node's job workers, if it runs any; drained before the store closes.
    workers: Option<rampart_app::jobs::WorkerPool>,
    syslog_addrs: Vec<SocketAddr>,
    mailbox_addrs: Vec<SocketAddr>,
}

/// Opens the store the configuration names and applies migrations.
pub async fn open_store(config: &Config) -> Result<Arc<dyn rampart_store::Store>, StartError> {
    let store = rampart_store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    Ok(store)
}

/// Builds the shared state of a serving node.
pub async fn build_state(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    let store = open_store(&config).await?;
    let jwt = JwtKeys::load(config.jwt_secret.as_ref(), &config.data_dir).map_err(|source| {
        StartError::SigningKey {
            dir: config.data_dir.display().to_string(),
            source,
        }
    })?;
    let metrics = Metrics::new()?;
    let ingest = Ingest::start(
        store.clone(),
        clock.clone(),
        config.ingest.clone(),
        &config.detection,
        metrics.ingest.clone(),
    );
    let services = Services::build(
        store.clone(),
        clock,
        &ingest,
        jwt,
        rampart_app::ServiceSettings {
            sessions: config.session_policy(),
            default_retention_days: config.ingest.retention_days,
            mail: rampart_app::factors::MailSettings {
                available: config.notifications.smtp.is_some(),
                base_url: config.notifications.effective_base_url(config.listen),
            },
            caching: rampart_app::CachingSetup {
                config: config.cache.clone(),
                metrics: Some(metrics.cache.clone()),
            },
            scans: config.scans.clone(),
        },
    )
    .await
    .map_err(|e| StartError::Bootstrap(e.detail))?;
    let limits = rate_limiter(&config, services.clock.clone(), &metrics).await?;
    if let (Some(url), true) = (&config.redis_url, config.cache.enabled) {
        use secrecy::ExposeSecret;
        let publisher = rampart_app::cache::redis_bus::start(
            url.expose_secret(),
            &config.cache.redis_channel,
            services.invalidator.clone(),
        )
        .await
        .map_err(|e| StartError::Redis(format!("cache invalidations: {e}")))?;
        services.invalidator.set_publisher(publisher);
    }
    Ok(AppState(Arc::new(Inner {
        services,
        ingest,
        store,
        config,
        metrics,
        limits,
    })))
}

/// The node's rate limiter: counting in Redis when a Redis URL is set.
async fn rate_limiter(
    config: &Config,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> Result<Arc<rampart_app::limits::RateLimiter>, StartError> {
    use secrecy::ExposeSecret;
    let redis = match &config.redis_url {
        Some(url) if config.rate_limits.enabled => Some(
            rampart_app::limits::redis_store::RedisLimits::connect(
                url.expose_secret(),
                &config.rate_limits.redis_key_prefix,
            )
            .await
            // The URL may carry a password: name only what failed.
            .map_err(|e| StartError::Redis(format!("cannot connect: {e}")))?,
        ),
        _ => None,
    };
    Ok(Arc::new(rampart_app::limits::RateLimiter::new(
        config.rate_limits.clone(),
        clock,
        redis,
        Some(metrics.limits.clone()),
    )))
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with a given clock (tests move time).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let addr = config.listen;
        let state = build_state(config, clock).await?;
        let bootstrap = state
            .accounts
            .bootstrap(
                &state.config.admin_email,
                state.config.admin_password.clone(),
            )
            .await
            .map_err(|e| StartError::Bootstrap(e.detail))?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?
            .port();
        let mut background = JoinSet::new();
        let mut syslog_addrs = Vec::new();
        for listener_config in state.config.syslog.clone() {
            let what = format!("syslog listener {}", listener_config.listen);
            let org = listener_org(&state, &what, &listener_config.organisation).await?;
            let addr = listener_config.listen;
            let bound = rampart_ingest::syslog::start(
                state.ingest.clone(),
                org,
                listener_config,
                &mut background,
            )
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
            syslog_addrs.push(bound);
        }
        let mut mailbox_addrs = Vec::new();
        for mailbox in state.config.report_mailbox.clone() {
            let what = format!("report mailbox {}", mailbox.listen);
            let org = listener_org(&state, &what, &mailbox.organisation).await?;
            let addr = mailbox.listen;
            let bound = rampart_app::phishing::mailbox::start(
                state.phishing.clone(),
                org,
                addr,
                &mut background,
            )
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
            mailbox_addrs.push(bound);
        }
        state.ingest.spawn_background(&mut background);
        state
            .flags
            .refresh()
            .await
            .map_err(|e| StartError::Bootstrap(e.detail))?;
        background.spawn(state.flags.clone().refresh_forever());
        let workers = if state.config.jobs.workers {
            Some(worker_pool(&state)?)
        } else {
            None
        };
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            listener,
            port,
            state,
            shutdown,
            bootstrap,
            background,
            workers,
            syslog_addrs,
            mailbox_addrs,
        })
    }

    /// The addresses the report mailboxes bound, in configuration order.
    pub fn mailbox_addrs(&self) -> &[SocketAddr] {
        &self.mailbox_addrs
    }

    /// The addresses the syslog listeners bound, in configuration order.
    pub fn syslog_addrs(&self) -> &[SocketAddr] {
        &self.syslog_addrs
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// This node's job workers (tests run pending jobs through them).
    pub fn workers(&self) -> Option<&rampart_app::jobs::WorkerPool> {
        self.workers.as_ref()
    }

    /// What the first start created, if this was the first start.
    pub fn bootstrap(&self) -> Option<&Bootstrap> {
        self.bootstrap.as_ref()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(Arc::new(self.shutdown.clone()))
    }

    /// Serves until SIGTERM, SIGINT or the shutdown handle; then stops
    /// accepting, lets in-flight requests finish and closes the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let mut stop = self.shutdown.subscribe();
        let store = self.state.store.clone();
        let ingest = self.state.ingest.clone();
        let app = crate::router::router(self.state);
        tracing::info!(
            port = self.port,
            backend = store.backend().as_str(),
            "Rampart is serving"
        );
        let signal = async move {
            tokio::select! {
                _ = termination_signal() => {},
                _ = stop.wait_for(|stopped| *stopped) => {},
            }
            tracing::info!("shutting down: finishing in-flight requests");
        };
        let (stop_workers, workers_stopped) = watch::channel(false);
        let workers = self
            .workers
            .map(|pool| tokio::spawn(pool.run(workers_stopped)));
        let served = crate::serve::serve(self.listener, app, signal).await;
        let _ = stop_workers.send(true);
        if let Some(workers) = workers {
            let _ = workers.await;
        }
        let mut background = self.background;
        background.shutdown().await;
        ingest.stop().await;
        store.close().await;
        tracing::info!("stopped");
        served
    }
}

/// The organisation a listener (`what`) works for, by its configured name.
async fn listener_org(
    state: &AppState,
    what: &str,
    name: &str,
) -> Result<rampart_core::OrgId, StartError> {
    state
        .accounts
        .find_org_by_name(name)
        .await
        .map_err(|e| StartError::Bootstrap(e.detail))?
        .ok_or_else(|| StartError::Bootstrap(format!("{what}: no organisation named '{name}'")))
}

/// The job workers of a node, with Rampart's own jobs and schedules.
pub fn worker_pool(state: &AppState) -> Result<rampart_app::jobs::WorkerPool, StartError> {
    let (handlers, schedules) = rampart_app::jobs::builtin(
        state.store.clone(),
        state.clock.clone(),
        &state.config.jobs,
        state.config.ingest.retention_days,
    )
    .map_err(|e| StartError::Bootstrap(e.detail))?;
    let mut schedules = schedules;
    schedules.extend(
        rampart_app::notifications::schedules(&state.config.notifications, state.clock.now())
            .map_err(|e| StartError::Bootstrap(e.detail))?,
    );
    let handlers = handlers
        .with(
            rampart_app::scans::SCAN_JOB,
            state.scans.runner(state.notifications.notifier().clone()),
        )
        .with(
            rampart_app::scans::SCHEDULES_JOB,
            rampart_app::scans::ScheduleRunner(state.scans.clone()),
        )
        .with(
            rampart_core::hunt::saved::SCHEDULE_JOB,
            rampart_app::hunt::SavedHuntRunner(state.hunts.clone()),
        )
        .with(
            rampart_app::watchlists::HUNT_JOB,
            rampart_app::watchlists::Hunt(state.watchlists.clone()),
        )
        .with(
            rampart_core::phishing::ANALYZE_JOB,
            rampart_app::phishing::AnalyzeMessage(state.phishing.clone()),
        )
        .with(
            rampart_core::finding::IMPORT_JOB,
            rampart_app::vulns::ImportUpload(state.vulnerabilities.clone()),
        )
        .with(
            rampart_app::vulns::POLICY_JOB,
            rampart_app::vulns::PolicyCheck {
                vulnerabilities: state.vulnerabilities.clone(),
                notifier: state.notifications.notifier().clone(),
                store: state.store.clone(),
            },
        );
    schedules.push(
        rampart_app::jobs::maintenance_schedule(
            "scan-schedules",
            "* * * * *",
            rampart_app::scans::SCHEDULES_JOB,
            state.clock.now(),
        )
        .map_err(|e| StartError::Bootstrap(e.detail))?,
    );
    schedules.push(
        rampart_app::jobs::maintenance_schedule(
            "saved-hunts",
            "* * * * *",
            rampart_core::hunt::saved::SCHEDULE_JOB,
            state.clock.now(),
        )
        .map_err(|e| StartError::Bootstrap(e.detail))?,
    );
    schedules.push(
        rampart_app::jobs::maintenance_schedule(
            "findings-policy",
            "7 * * * *",
            rampart_app::vulns::POLICY_JOB,
            state.clock.now(),
        )
        .map_err(|e| StartError::Bootstrap(e.detail))?,
    );
    let handlers = if state.config.intel.feeds().is_empty() {
        handlers
    } else {
        schedules.push(
            rampart_app::jobs::maintenance_schedule(
                "intel-refresh",
                &state.config.intel.schedule,
                rampart_app::vulns::INTEL_REFRESH_JOB,
                state.clock.now(),
            )
            .map_err(|e| StartError::Bootstrap(format!("intel.schedule: {}", e.detail)))?,
        );
        handlers.with(
            rampart_app::vulns::INTEL_REFRESH_JOB,
            rampart_app::vulns::IntelRefresh {
                vulnerabilities: state.vulnerabilities.clone(),
                config: state.config.intel.clone(),
                client: rampart_app::vulns::feed_client(&state.config.intel)
                    .map_err(StartError::Bootstrap)?,
            },
        )
    };
    let handlers = rampart_app::notifications::handlers(
        handlers,
        state.store.clone(),
        state.clock.clone(),
        &state.config.notifications,
        &state
            .config
            .notifications
            .effective_base_url(state.config.listen),
    )
    .map_err(|e| StartError::Bootstrap(e.detail))?;
    Ok(rampart_app::jobs::WorkerPool::new(
        state.store.clone(),
        state.clock.clone(),
        handlers,
        schedules,
        state.config.jobs.clone(),
        Some(state.metrics.jobs.clone()),
    ))
}

/// `rampart worker`: this node's job workers, and `/health`, `/ready` and
/// `/metrics` on `probes` when given, until SIGTERM or SIGINT; running
/// jobs finish (up to the job timeout) first.
pub async fn run_worker(config: Config, probes: Option<SocketAddr>) -> Result<(), StartError> {
    let state = build_state(config, Arc::new(SystemClock)).await?;
    let pool = worker_pool(&state)?;
    let (stop_probes, probes_stopped) = watch::channel(false);
    let mut probe_server = None;
    if let Some(addr) = probes {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let app = crate::routes::probes().with_state(state.clone());
        let mut stopped = probes_stopped;
        probe_server = Some(tokio::spawn(crate::serve::serve(
            listener,
            app,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        )));
        tracing::info!(%addr, "serving /health, /ready and /metrics");
    }
    tracing::info!(
        worker = pool.worker_id(),
        backend = state.store.backend().as_str(),
        "Rampart workers are running"
    );
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(pool.run(stopped));
    termination_signal().await;
    tracing::info!("shutting down: finishing running jobs");
    let _ = stop.send(true);
    let _ = workers.await;
    let _ = stop_probes.send(true);
    if let Some(server) = probe_server {
        let _ = server.await;
    }
    state.ingest.stop().await;
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
