//! The `rampart` command: parses the command line and hands over to the
//! server crate. `serve` runs the API; `migrate`, `user`, `apikey`, `jobs`
//! and `import` work on the database directly (e.g. to reset a lost admin
//! password); `findings parse` and `rules` need no database.

mod bench;
mod bench_auth;
mod bench_detect;
mod bench_events;
mod bench_flags;
mod bench_jobs;
mod bench_limits;
mod bench_phish;
mod bench_watch;
mod findings;
mod intel;
mod ioc;
mod jobs;
mod percentile;
mod phish;
mod rules;
mod watchlist;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rampart_app::accounts;
use rampart_app::auth::tokens::password_or_generated;
use rampart_core::{ApiKeyScope, Role, SystemClock};
use rampart_server::{Application, Config, ServeOptions};
use secrecy::SecretString;
use std::sync::Arc;

/// mimalloc instead of the system allocator: the ingest path allocates
/// per event and field, and glibc's malloc was a sixth of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "Rampart: a fast, self-hosted security operations platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite in ./rampart-data unless --database-url is given).
    Serve(ServeOptions),
    /// Apply database migrations and exit.
    Migrate(ServeOptions),
    /// Manage users offline.
    User {
        #[command(flatten)]
        options: ServeOptions,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Benchmarks: HTTP ingest against a running server, and the naive baselines.
    Bench {
        #[command(subcommand)]
        action: bench::BenchAction,
    },
    /// Detection rules: check rule files, test a rule against sample events.
    Rules {
        #[command(subcommand)]
        action: rules::RulesAction,
    },
    /// Run job workers only: nodes that do background work.
    Worker {
        #[command(flatten)]
        options: ServeOptions,
        /// Serve /health, /ready and /metrics here (e.g. 127.0.0.1:9091).
        #[arg(long, env = "RAMPART_PROBES_LISTEN")]
        probes_listen: Option<std::net::SocketAddr>,
    },
    /// The job queue offline: list, retry, cancel, purge.
    Jobs {
        #[command(flatten)]
        options: ServeOptions,
        #[command(subcommand)]
        action: jobs::JobsAction,
    },
    /// Import a scanner report into the configured database (as `POST /api/v1/imports`).
    Import {
        #[command(flatten)]
        options: ServeOptions,
        #[command(flatten)]
        args: findings::ImportArgs,
    },
    /// Threat intelligence: load CISA KEV and EPSS releases, show what is known.
    Intel {
        #[command(flatten)]
        options: ServeOptions,
        #[command(subcommand)]
        action: intel::IntelAction,
    },
    /// Indicators of compromise in text: extract, fang, defang (offline).
    Ioc {
        #[command(subcommand)]
        action: ioc::IocAction,
    },
    /// Phishing analysis of a raw e-mail (offline).
    Phish {
        #[command(subcommand)]
        action: phish::PhishAction,
    },
    /// Watchlist feeds into and out of the configured database (CSV, STIX 2.1).
    Watchlist {
        #[command(flatten)]
        options: ServeOptions,
        #[command(subcommand)]
        action: watchlist::WatchlistAction,
    },
    /// Scanner reports without a database: parse and print their findings.
    Findings {
        #[command(subcommand)]
        action: findings::FindingsAction,
    },
    /// Manage API keys offline.
    Apikey {
        #[command(flatten)]
        options: ServeOptions,
        #[command(subcommand)]
        action: ApiKeyAction,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user in the organisation of an existing user (default: the first admin's).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "analyst")]
        role: Role,
        /// Organisation name [default: default].
        #[arg(long, default_value = "default")]
        org: String,
        /// Password; read from RAMPART_USER_PASSWORD, or generated and printed when absent.
        #[arg(long, env = "RAMPART_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List the users of an organisation.
    List {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Set a new password (printed if generated) and end the user's sessions.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "RAMPART_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Change a user's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: Role,
    },
    /// Disable or re-enable a user.
    Disable {
        #[arg(long)]
        email: String,
        /// Enable instead of disable.
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Subcommand)]
enum ApiKeyAction {
    /// Create a key and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: ingest, read, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<ApiKeyScope>,
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List an organisation's keys.
    List {
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Revoke a key by id.
    Revoke {
        id: String,
        #[arg(long, default_value = "default")]
        org: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(options) => serve(&options).await,
        Command::Migrate(options) => {
            let config = Config::load(&options)?;
            let store = rampart_server::app::open_store(&config)
                .await
                .context("migrating")?;
            store.close().await;
            println!("migrations applied ({})", store.backend().as_str());
            Ok(())
        }
        Command::User { options, action } => user(&options, action).await,
        Command::Apikey { options, action } => apikey(&options, action).await,
        Command::Worker {
            options,
            probes_listen,
        } => {
            let config = Config::load(&options)?;
            rampart_server::telemetry::init(config.log_format);
            rampart_server::app::run_worker(config, probes_listen)
                .await
                .context("running workers")
        }
        Command::Jobs { options, action } => jobs::run(&options, action).await,
        Command::Bench { action } => bench::run(action).await,
        Command::Rules { action } => rules::run(action),
        Command::Import { options, args } => findings::import(&options, args).await,
        Command::Findings { action } => findings::run(action),
        Command::Intel { options, action } => intel::run(&options, action).await,
        Command::Ioc { action } => ioc::run(action),
        Command::Phish { action } => phish::run(action),
        Command::Watchlist { options, action } => watchlist::run(&options, action).await,
    }
}

async fn serve(options: &ServeOptions) -> anyhow::Result<()> {
    let config = Config::load(options)?;
    rampart_server::telemetry::init(config.log_format);
    let app = Application::build(config)
        .await
        .context("starting the server")?;
    if let Some(boot) = app.bootstrap() {
        match &boot.generated_password {
            Some(password) => println!(
                "First start: created organisation 'default' and admin {} with password {password}\n\
                 (shown once; change it, or set RAMPART_ADMIN_PASSWORD before the first start)",
                boot.email
            ),
            None => println!("First start: created organisation 'default' and admin {}", boot.email),
        }
    }
    app.run_until_stopped().await.context("serving")
}

/// What `rampart user` and `rampart apikey` need: the database (migrated)
/// and the clock; no event writer, no detection.
pub(crate) async fn accounts_for(options: &ServeOptions) -> anyhow::Result<accounts::Accounts> {
    let config = Config::load(options)?;
    let store = rampart_server::app::open_store(&config)
        .await
        .context("opening the database")?;
    Ok(accounts::Accounts::new(store, Arc::new(SystemClock)))
}

pub(crate) async fn org_id(
    state: &accounts::Accounts,
    name: &str,
) -> anyhow::Result<rampart_core::OrgId> {
    state.find_org_by_name(name).await?.with_context(|| {
        format!(
            "no organisation named '{name}' in this database \
                 (the first `rampart serve` creates 'default')"
        )
    })
}

async fn find_user(state: &accounts::Accounts, email: &str) -> anyhow::Result<rampart_core::User> {
    let email = rampart_app::accounts::normalise_email(email);
    Ok(state
        .store
        .find_credentials(&email)
        .await?
        .with_context(|| format!("no user with e-mail {email}"))?
        .user)
}

/// Changes a user as the operator (who may change anyone).
async fn operator_change(
    state: &accounts::Accounts,
    user: &rampart_core::User,
    change: accounts::UserChange,
) -> anyhow::Result<()> {
    state
        .update_user(accounts::ChangedBy::Operator, user.org_id, user.id, change)
        .await?;
    Ok(())
}

async fn user(options: &ServeOptions, action: UserAction) -> anyhow::Result<()> {
    let state = accounts_for(options).await?;
    match action {
        UserAction::Create {
            email,
            role,
            org,
            password,
        } => {
            let org = org_id(&state, &org).await?;
            let (password, generated) = password_or_generated(password.map(SecretString::from));
            let input = accounts::UserInput {
                email,
                display_name: None,
                role,
                password,
            };
            let user = state.create_user(org, input).await?;
            println!("created {} ({}) id {}", user.email, user.role, user.id);
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        UserAction::List { org } => {
            let org = org_id(&state, &org).await?;
            let mut after = None;
            loop {
                let page = state.store.list_users(org, after, 1000).await?;
                for u in &page {
                    let flag = if u.disabled { " (disabled)" } else { "" };
                    println!("{}\t{}\t{}{flag}", u.id, u.email, u.role);
                }
                match page.last() {
                    Some(last) if page.len() == 1000 => after = Some(last.id),
                    _ => break,
                }
            }
        }
        UserAction::SetPassword { email, password } => {
            let user = find_user(&state, &email).await?;
            let (password, generated) = password_or_generated(password.map(SecretString::from));
            let change = accounts::UserChange {
                password: Some(password),
                ..Default::default()
            };
            operator_change(&state, &user, change).await?;
            println!(
                "password of {} changed; their sessions are ended",
                user.email
            );
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
        UserAction::SetRole { email, role } => {
            let user = find_user(&state, &email).await?;
            let change = accounts::UserChange {
                role: Some(role),
                ..Default::default()
            };
            operator_change(&state, &user, change).await?;
            println!("{} is now {role}", user.email);
        }
        UserAction::Disable { email, enable } => {
            let user = find_user(&state, &email).await?;
            let change = accounts::UserChange {
                disabled: Some(!enable),
                ..Default::default()
            };
            operator_change(&state, &user, change).await?;
            println!(
                "{} is now {}",
                user.email,
                if enable { "enabled" } else { "disabled" }
            );
        }
    }
    state.store.close().await;
    Ok(())
}

async fn apikey(options: &ServeOptions, action: ApiKeyAction) -> anyhow::Result<()> {
    let state = accounts_for(options).await?;
    match action {
        ApiKeyAction::Create { name, scopes, org } => {
            let org = org_id(&state, &org).await?;
            let created = state.create_api_key(org, &name, scopes, None).await?;
            println!("created key {} ({})", created.key.id, created.key.name);
            println!("{}", created.secret);
        }
        ApiKeyAction::List { org } => {
            let org = org_id(&state, &org).await?;
            for k in state.store.list_api_keys(org, None, 1000).await? {
                let scopes: Vec<_> = k.scopes.iter().map(|s| s.as_str()).collect();
                let status = if k.is_active() { "active" } else { "revoked" };
                println!(
                    "{}\t{}\t{}…\t{}\t{status}",
                    k.id,
                    k.name,
                    k.prefix,
                    scopes.join(",")
                );
            }
        }
        ApiKeyAction::Revoke { id, org } => {
            let org = org_id(&state, &org).await?;
            let id = id.parse().context("not an API key id")?;
            state.revoke_api_key(org, id).await?;
            println!("revoked {id}");
        }
    }
    state.store.close().await;
    Ok(())
}
