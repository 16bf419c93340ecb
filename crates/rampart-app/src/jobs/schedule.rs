//! Recurring jobs: a cron expression and the job each run enqueues. Every
//! node knows the same schedules; the store's compare-and-set on each
//! schedule's next run makes one of them enqueue each run.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rampart_core::{Error, NewJob, Timestamp};

/// A parsed cron expression: five fields (minute, hour, day of month,
/// month, day of week), UTC.
#[derive(Clone, Debug)]
pub struct CronExpr {
    text: String,
    schedule: cron::Schedule,
}

impl CronExpr {
    pub fn parse(text: &str) -> Result<CronExpr, Error> {
        let fields = text.split_whitespace().count();
        if fields != 5 {
            return Err(Error::invalid_field(
                "cron",
                "must have five fields: minute hour day-of-month month day-of-week",
            ));
        }
        // The cron crate counts seconds first.
        let schedule = cron::Schedule::from_str(&format!("0 {text}"))
            .map_err(|e| Error::invalid_field("cron", e.to_string()))?;
        Ok(CronExpr {
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
            schedule,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first run strictly after `at`.
    pub fn next_after(&self, at: Timestamp) -> Option<Timestamp> {
        let at = DateTime::<Utc>::from_timestamp_millis(at.0)?;
        self.schedule
            .after(&at)
            .next()
            .map(|next| Timestamp(next.timestamp_millis()))
    }
}

/// A named recurring job.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: String,
    pub cron: CronExpr,
    /// Enqueued at each run (its `run_at` and unique key are set then).
    pub job: NewJob,
}

impl Schedule {
    /// The job of the run due at `due`: unique per schedule and run, so a
    /// run is queued once even if two nodes both advanced it.
    pub fn job_for(&self, due: Timestamp, now: Timestamp) -> NewJob {
        NewJob {
            run_at: now,
            unique_key: Some(format!("schedule:{}:{}", self.name, due.0)),
            ..self.job.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_fields_give_the_next_run_in_utc() {
        let hourly = CronExpr::parse("17 * * * *").unwrap();
        // 2026-12-03T10:20:00Z → 11:17.
        let at = Timestamp(1_796_293_200_000);
        let next = hourly.next_after(at).unwrap();
        assert_eq!(next.to_string(), "2026-12-03T11:17:00Z");
        assert_eq!(
            hourly.next_after(next).unwrap().to_string(),
            "2026-12-03T12:17:00Z"
        );
        let weekly = CronExpr::parse("0  6 * * MON").unwrap();
        assert_eq!(weekly.as_str(), "0 6 * * MON");
        assert_eq!(
            weekly.next_after(at).unwrap().to_string(),
            "2026-12-07T06:00:00Z"
        );
        for bad in ["* * * *", "61 * * * *", "nonsense a b c d", "* * * * * *"] {
            assert!(CronExpr::parse(bad).is_err(), "{bad}");
        }
    }
}
