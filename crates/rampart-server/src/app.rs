//! [`Application`]: builds the server from a [`Config`] and runs it until a
//! signal (SIGTERM/SIGINT) or a [`ShutdownHandle`] stops it gracefully.

use std::net::SocketAddr;
use std::sync::Arc;

use rampart_core::{Clock, SystemClock};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::jwt::JwtKeys;
use crate::auth::{password, tokens};
use crate::config::Config;
use crate::ingest::writer::EventWriter;
use crate::ingest::Admission;
use crate::metrics::Metrics;
use crate::service::accounts::{self, Bootstrap};
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
    /// Syslog listeners and the retention job; stopped before the store closes.
    background: JoinSet<()>,
    syslog_addrs: Vec<SocketAddr>,
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
    let dummy = SecretString::from(tokens::generate_password());
    let dummy_password_hash = password::hash(dummy)
        .await
        .map_err(|e| StartError::Bootstrap(e.detail))?;
    let (events, writer_handle) = EventWriter::start(store.clone(), config.ingest.max_requests);
    let admission = Admission::new(
        config.ingest.max_requests,
        std::time::Duration::from_millis(config.ingest.queue_wait_ms),
    );
    Ok(AppState(Arc::new(Inner {
        accounts: accounts::Accounts::new(store.clone(), clock.clone()),
        events,
        admission,
        writer_handle: std::sync::Mutex::new(Some(writer_handle)),
        validation: Default::default(),
        detection: crate::service::detection::Detection::new(config.detection.correlation_limits()),
        store,
        clock,
        jwt,
        config,
        metrics: Metrics::new()?,
        dummy_password_hash,
    })))
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
        let bootstrap = accounts::bootstrap(
            &state.accounts,
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
            let org = accounts::find_org_by_name(&state.accounts, &listener_config.organisation)
                .await
                .map_err(|e| StartError::Bootstrap(e.detail))?
                .ok_or_else(|| {
                    StartError::Bootstrap(format!(
                        "syslog listener {}: no organisation named '{}'",
                        listener_config.listen, listener_config.organisation
                    ))
                })?;
            let addr = listener_config.listen;
            let bound =
                crate::ingest::syslog::start(state.clone(), org, listener_config, &mut background)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?;
            syslog_addrs.push(bound);
        }
        background.spawn(crate::ingest::retention::run_forever(state.clone()));
        background.spawn(crate::ingest::sealing::run_forever(state.clone()));
        background.spawn(crate::service::validation::flush_forever(state.clone()));
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            listener,
            port,
            state,
            shutdown,
            bootstrap,
            background,
            syslog_addrs,
        })
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
        let validation_state = self.state.clone();
        let writer = &validation_state.writer_handle;
        let app = crate::routes::router(self.state);
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
        let served = crate::serve::serve(self.listener, app, signal).await;
        let mut background = self.background;
        background.shutdown().await;
        if let Some(writer) = writer.lock().ok().and_then(|mut w| w.take()) {
            writer.stop().await;
        }
        if let Err(error) = validation_state.validation.flush(&*store).await {
            tracing::error!(%error, "storing validation counts at shutdown failed");
        }
        store.close().await;
        tracing::info!("stopped");
        served
    }
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
