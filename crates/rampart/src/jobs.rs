//! `rampart jobs`: the job queue from the command line, on the database
//! directly (no server needed): list, retry, cancel and purge.

use anyhow::Context as _;
use clap::Subcommand;
use rampart_core::{Clock, JobId, JobState, SystemClock, Timestamp};
use rampart_server::ServeOptions;
use rampart_store::{JobChange, JobQuery, JobScope};

#[derive(Subcommand)]
pub enum JobsAction {
    /// List jobs, newest first: id, state, queue, kind, attempts, run at, last error.
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Only these states (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_state)]
        state: Vec<JobState>,
        #[arg(long)]
        queue: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Make a dead, cancelled, completed or retryable job run again now.
    Retry {
        id: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Cancel a job that has not finished.
    Cancel {
        id: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Delete finished jobs (of every organisation) older than a number of days.
    Purge {
        /// Finished states to delete (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = parse_state, default_value = "completed,cancelled")]
        state: Vec<JobState>,
        /// Only jobs that finished at least this many days ago.
        #[arg(long, default_value_t = 7)]
        older_than_days: i64,
    },
}

#[derive(clap::Args)]
pub struct ScopeArgs {
    /// The organisation whose jobs these are (by name).
    #[arg(long, default_value = "default", conflicts_with = "platform")]
    org: String,
    /// The platform's own jobs (retention, clean-up) instead.
    #[arg(long)]
    platform: bool,
}

fn parse_state(text: &str) -> Result<JobState, String> {
    JobState::parse(text)
        .ok_or_else(|| "one of available, running, retryable, completed, dead, cancelled".into())
}

pub async fn run(options: &ServeOptions, action: JobsAction) -> anyhow::Result<()> {
    let accounts = crate::accounts_for(options).await?;
    let store = accounts.store.clone();
    let now = SystemClock.now();
    let scope_of = |scope: ScopeArgs| {
        let accounts = accounts.clone();
        async move {
            if scope.platform {
                Ok::<_, anyhow::Error>(JobScope::Platform)
            } else {
                Ok(JobScope::Org(crate::org_id(&accounts, &scope.org).await?))
            }
        }
    };
    match action {
        JobsAction::List {
            scope,
            state,
            queue,
            limit,
        } => {
            let query = JobQuery {
                states: state,
                queue,
                before: None,
                limit,
            };
            for job in store.list_jobs(scope_of(scope).await?, &query).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}/{}\t{}\t{}",
                    job.id,
                    job.state.as_str(),
                    job.queue,
                    job.kind,
                    job.attempts,
                    job.max_attempts,
                    job.run_at,
                    job.last_error.unwrap_or_default().replace('\n', " ")
                );
            }
        }
        JobsAction::Retry { id, scope } => {
            let id: JobId = id.parse().context("not a job id")?;
            let change = store.retry_job(scope_of(scope).await?, id, now).await;
            report(change.context("retrying")?, "retried")?;
        }
        JobsAction::Cancel { id, scope } => {
            let id: JobId = id.parse().context("not a job id")?;
            let change = store.cancel_job(scope_of(scope).await?, id, now).await?;
            report(change, "cancelled")?;
        }
        JobsAction::Purge {
            state,
            older_than_days,
        } => {
            anyhow::ensure!(
                state.iter().all(|s| !s.is_pending()),
                "only finished jobs (completed, dead, cancelled) can be purged"
            );
            let before = Timestamp(now.0 - older_than_days.max(0) * 86_400_000);
            let removed = store.purge_jobs(&state, before).await?;
            println!("removed {removed} jobs");
        }
    }
    store.close().await;
    Ok(())
}

fn report(change: JobChange, verb: &str) -> anyhow::Result<()> {
    match change {
        JobChange::Done(job) => {
            println!("{} {verb}: now {}", job.id, job.state.as_str());
            Ok(())
        }
        JobChange::Missing => anyhow::bail!("no such job in this scope"),
        JobChange::Refused(state) => anyhow::bail!("a {} job cannot be {verb}", state.as_str()),
    }
}
