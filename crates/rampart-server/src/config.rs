//! The one configuration struct, resolved as flags > `RAMPART_*` environment
//! > TOML file > defaults. Secrets are wrapped so they never print.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use rampart_app::cache::CacheConfig;
pub use rampart_app::config::{LoginPolicy, SessionPolicy};
pub use rampart_app::jobs::JobsConfig;
pub use rampart_app::limits::RateLimitsConfig;
pub use rampart_app::notifications::NotificationsConfig;
pub use rampart_app::scans::ScansConfig;
pub use rampart_app::vulns::IntelConfig;
pub use rampart_ingest::config::{DetectionConfig, IngestConfig, SyslogListener, SyslogProtocol};
use secrecy::SecretString;
use serde::Deserialize;

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Options shared by every command that opens the database; `serve` uses all.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeOptions {
    /// TOML configuration file (keys as in the README); flags and RAMPART_*
    /// variables override it.
    #[arg(long, global = true, env = "RAMPART_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "RAMPART_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Directory for the embedded database and generated secrets [default: ./rampart-data].
    #[arg(long, global = true, env = "RAMPART_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://user@host/db to run on PostgreSQL; the default is SQLite in the data directory.
    #[arg(
        long,
        global = true,
        env = "RAMPART_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// redis://host:port for the shared cache and distributed limits (optional).
    #[arg(
        long,
        global = true,
        env = "RAMPART_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,
    /// Log format [default: text].
    #[arg(long, global = true, env = "RAMPART_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

/// Keys the TOML file may hold; anything else is an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    redis_url: Option<String>,
    log_format: Option<LogFormat>,
    jwt_secret: Option<String>,
    access_token_ttl_secs: Option<i64>,
    refresh_token_ttl_secs: Option<i64>,
    session_max_age_secs: Option<i64>,
    max_body_bytes: Option<usize>,
    trust_forwarded_for: Option<bool>,
    admin_email: Option<String>,
    #[serde(default)]
    login: LoginFileConfig,
    #[serde(default)]
    ingest: IngestConfig,
    #[serde(default)]
    detection: DetectionConfig,
    #[serde(default)]
    syslog: Vec<SyslogListener>,
    #[serde(default)]
    report_mailbox: Vec<rampart_app::phishing::ReportMailbox>,
    #[serde(default)]
    jobs: JobsConfig,
    #[serde(default)]
    notifications: NotificationsConfig,
    #[serde(default)]
    rate_limits: RateLimitsConfig,
    #[serde(default)]
    cache: CacheConfig,
    #[serde(default)]
    scans: ScansConfig,
    #[serde(default)]
    intel: IntelConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginFileConfig {
    window_secs: Option<i64>,
    account_lock_after: Option<i64>,
    ip_lock_after: Option<i64>,
    lock_secs: Option<i64>,
    slowdown_after: Option<i64>,
    slowdown_step_ms: Option<u64>,
    slowdown_max_ms: Option<u64>,
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `None`: SQLite in the data directory.
    pub database_url: Option<SecretString>,
    pub redis_url: Option<SecretString>,
    pub log_format: LogFormat,
    /// HMAC key for access tokens; generated into the data directory if unset.
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_max_age_secs: i64,
    pub max_body_bytes: usize,
    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// First-start admin; the password comes from RAMPART_ADMIN_PASSWORD or is generated.
    pub admin_email: String,
    pub admin_password: Option<SecretString>,
    pub login: LoginPolicy,
    pub ingest: IngestConfig,
    pub detection: DetectionConfig,
    pub syslog: Vec<SyslogListener>,
    /// SMTP listeners taking forwarded phishing reports.
    pub report_mailbox: Vec<rampart_app::phishing::ReportMailbox>,
    pub jobs: JobsConfig,
    pub notifications: NotificationsConfig,
    pub rate_limits: RateLimitsConfig,
    pub cache: CacheConfig,
    pub scans: ScansConfig,
    pub intel: IntelConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("rampart-data"),
            database_url: None,
            redis_url: None,
            log_format: LogFormat::Text,
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            session_max_age_secs: 30 * 24 * 3600,
            max_body_bytes: 10 * 1024 * 1024,
            trust_forwarded_for: false,
            admin_email: "admin@localhost".to_string(),
            admin_password: None,
            login: LoginPolicy::default(),
            ingest: IngestConfig::default(),
            detection: DetectionConfig::default(),
            syslog: Vec::new(),
            report_mailbox: Vec::new(),
            jobs: JobsConfig::default(),
            notifications: NotificationsConfig::default(),
            rate_limits: RateLimitsConfig::default(),
            cache: CacheConfig::default(),
            scans: ScansConfig::default(),
            intel: IntelConfig::default(),
        }
    }
}

/// A setting that stops start-up; the message names it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {detail}")]
    File { path: String, detail: String },
    #[error("setting {name}: {detail}")]
    Invalid { name: &'static str, detail: String },
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

impl Config {
    /// The session and login settings, as the session service takes them.
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            access_token_ttl_secs: self.access_token_ttl_secs,
            refresh_token_ttl_secs: self.refresh_token_ttl_secs,
            session_max_age_secs: self.session_max_age_secs,
            login: self.login.clone(),
        }
    }

    /// Resolves the configuration from options (flags and environment, as
    /// parsed by clap), the file they name, and defaults.
    pub fn load(options: &ServeOptions) -> Result<Self, ConfigError> {
        let file = match &options.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let mut config = Config::default();
        let login = &mut config.login;
        let l = file.login;
        login.window_secs = l.window_secs.unwrap_or(login.window_secs);
        login.account_lock_after = l.account_lock_after.unwrap_or(login.account_lock_after);
        login.ip_lock_after = l.ip_lock_after.unwrap_or(login.ip_lock_after);
        login.lock_secs = l.lock_secs.unwrap_or(login.lock_secs);
        login.slowdown_after = l.slowdown_after.unwrap_or(login.slowdown_after);
        login.slowdown_step_ms = l.slowdown_step_ms.unwrap_or(login.slowdown_step_ms);
        login.slowdown_max_ms = l.slowdown_max_ms.unwrap_or(login.slowdown_max_ms);

        config.listen = options.listen.or(file.listen).unwrap_or(config.listen);
        config.data_dir = options
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or(config.data_dir);
        config.database_url = options
            .database_url
            .clone()
            .or(file.database_url)
            .filter(|u| !u.is_empty())
            .map(SecretString::from);
        config.redis_url = options
            .redis_url
            .clone()
            .or(file.redis_url)
            .filter(|u| !u.is_empty())
            .map(SecretString::from);
        config.log_format = options.log_format.or(file.log_format).unwrap_or_default();
        config.jwt_secret =
            env_secret("RAMPART_JWT_SECRET").or(file.jwt_secret.map(SecretString::from));
        config.access_token_ttl_secs = file
            .access_token_ttl_secs
            .unwrap_or(config.access_token_ttl_secs);
        config.refresh_token_ttl_secs = file
            .refresh_token_ttl_secs
            .unwrap_or(config.refresh_token_ttl_secs);
        config.session_max_age_secs = file
            .session_max_age_secs
            .unwrap_or(config.session_max_age_secs);
        config.max_body_bytes = file.max_body_bytes.unwrap_or(config.max_body_bytes);
        config.trust_forwarded_for = file.trust_forwarded_for.unwrap_or(false);
        config.admin_email = std::env::var("RAMPART_ADMIN_EMAIL")
            .ok()
            .filter(|v| !v.is_empty())
            .or(file.admin_email)
            .unwrap_or(config.admin_email);
        config.admin_password = env_secret("RAMPART_ADMIN_PASSWORD");
        config.ingest = file.ingest;
        config.detection = file.detection;
        config.syslog = file.syslog;
        config.report_mailbox = file.report_mailbox;
        config.jobs = file.jobs;
        config.notifications = file.notifications;
        config.rate_limits = file.rate_limits;
        config.cache = file.cache;
        config.scans = file.scans;
        config.intel = file.intel;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use secrecy::ExposeSecret;
        let positive = [
            ("access_token_ttl_secs", self.access_token_ttl_secs),
            ("refresh_token_ttl_secs", self.refresh_token_ttl_secs),
            ("session_max_age_secs", self.session_max_age_secs),
            ("login.window_secs", self.login.window_secs),
            ("login.account_lock_after", self.login.account_lock_after),
            ("login.ip_lock_after", self.login.ip_lock_after),
            ("login.lock_secs", self.login.lock_secs),
        ];
        for (name, value) in positive {
            if value <= 0 {
                return Err(ConfigError::Invalid {
                    name,
                    detail: format!("must be positive, got {value}"),
                });
            }
        }
        if self.ingest.max_requests == 0 || self.ingest.retention_days <= 0 {
            return Err(ConfigError::Invalid {
                name: "ingest.max_requests / ingest.retention_days",
                detail: "must be positive".into(),
            });
        }
        if !(1..=30 * 86_400).contains(&self.detection.incident_window_secs) {
            return Err(ConfigError::Invalid {
                name: "detection.incident_window_secs",
                detail: "must be between 1 second and 30 days".into(),
            });
        }
        if !(0..=7 * 86_400).contains(&self.detection.allowed_lateness_secs) {
            return Err(ConfigError::Invalid {
                name: "detection.allowed_lateness_secs",
                detail: "must be between 0 and 7 days".into(),
            });
        }
        if self.detection.max_correlation_groups < 100 {
            return Err(ConfigError::Invalid {
                name: "detection.max_correlation_groups",
                detail: "must be at least 100".into(),
            });
        }
        if let Err(detail) = self.jobs.validate() {
            return Err(ConfigError::Invalid {
                name: "jobs",
                detail,
            });
        }
        if let Err(detail) = self.cache.validate() {
            return Err(ConfigError::Invalid {
                name: "cache",
                detail,
            });
        }
        if let Err(detail) = self.rate_limits.validate() {
            return Err(ConfigError::Invalid {
                name: "rate_limits",
                detail,
            });
        }
        if let Err(detail) = self.scans.validate() {
            return Err(ConfigError::Invalid {
                name: "scans",
                detail,
            });
        }
        if let Err(detail) = self.intel.validate() {
            return Err(ConfigError::Invalid {
                name: "intel",
                detail,
            });
        }
        if let Err(detail) = self.notifications.validate() {
            return Err(ConfigError::Invalid {
                name: "notifications",
                detail,
            });
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid {
                name: "max_body_bytes",
                detail: "must be at least 1024".into(),
            });
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.expose_secret().len() < 32 {
                return Err(ConfigError::Invalid {
                    name: "jwt_secret (RAMPART_JWT_SECRET)",
                    detail: "must be at least 32 characters".into(),
                });
            }
        }
        if let Some(url) = &self.database_url {
            let url = url.expose_secret();
            let known = ["postgres://", "postgresql://", "sqlite://"];
            if !known.iter().any(|p| url.starts_with(p)) {
                return Err(ConfigError::Invalid {
                    name: "database_url (--database-url, RAMPART_DATABASE_URL)",
                    detail: "must start with postgres://, postgresql:// or sqlite://".into(),
                });
            }
        }
        if let Some(url) = &self.redis_url {
            let url = url.expose_secret();
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid {
                    name: "redis_url (--redis-url, RAMPART_REDIS_URL)",
                    detail: "must start with redis:// or rediss://".into(),
                });
            }
        }
        if !self.admin_email.contains('@') {
            return Err(ConfigError::Invalid {
                name: "admin_email (RAMPART_ADMIN_EMAIL)",
                detail: "must be an e-mail address".into(),
            });
        }
        Ok(())
    }

    /// The database URL to open: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        use secrecy::ExposeSecret;
        match &self.database_url {
            Some(url) => url.expose_secret().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("rampart.db").display()),
        }
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        detail: e.message().to_string()
            + &e.span()
                .map(|s| format!(" (at byte {})", s.start))
                .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let f = file_with(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\n[login]\nlock_secs = 60\n",
        );
        let options = ServeOptions {
            config: Some(f.path().to_path_buf()),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        };
        let config = Config::load(&options).unwrap();
        assert_eq!(config.listen.port(), 9100);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.login.lock_secs, 60);
        assert_eq!(config.login.window_secs, 900);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_setting() {
        let f = file_with("listn = \"x\"\n");
        let options = ServeOptions {
            config: Some(f.path().to_path_buf()),
            ..Default::default()
        };
        let err = Config::load(&options).unwrap_err().to_string();
        assert!(err.contains("listn"), "{err}");

        let f = file_with("access_token_ttl_secs = 0\n");
        let options = ServeOptions {
            config: Some(f.path().to_path_buf()),
            ..Default::default()
        };
        let err = Config::load(&options).unwrap_err().to_string();
        assert!(err.contains("access_token_ttl_secs"), "{err}");

        let options = ServeOptions {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        let err = Config::load(&options).unwrap_err().to_string();
        assert!(
            err.contains("database_url") && !err.contains("mysql://x"),
            "{err}"
        );
    }
}
