//! `notify.digest`: the weekly summary e-mailed to every user who asked for
//! it (`weekly_digest` in their preferences): incidents opened in the last
//! seven days by severity, what is still open, how quickly incidents were
//! acknowledged and closed. One delivery per user and week (a rerun of
//! the job sends nothing twice).

use std::sync::Arc;

use async_trait::async_trait;
use rampart_core::notification::{Delivery, DeliveryStatus, Message, NoticeKind};
use rampart_core::{Clock, DeliveryId, IncidentStatus, Job, Organisation, Timestamp};
use rampart_store::Store;

use super::render::escape_html;
use crate::jobs::handler::{JobFailure, JobHandler};

const WEEK_MS: i64 = 7 * 86_400_000;

pub struct Digest {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub base_url: String,
    /// Whether e-mail can be sent at all.
    pub mail: bool,
}

fn minutes(ms: Option<i64>) -> String {
    match ms {
        Some(ms) if ms >= 3_600_000 => format!("{:.1} h", ms as f64 / 3_600_000.0),
        Some(ms) => format!("{} min", (ms + 59_999) / 60_000),
        None => "–".into(),
    }
}

impl Digest {
    /// The summary of one organisation's week ending `now`.
    async fn message(&self, org: &Organisation, now: Timestamp) -> Result<Message, JobFailure> {
        let since = Timestamp(now.0 - WEEK_MS);
        let counts = self
            .store
            .incident_counts(org.id)
            .await
            .map_err(JobFailure::retry)?;
        let open: i64 = counts
            .iter()
            .filter(|c| !c.status.is_closed())
            .map(|c| c.count)
            .sum();
        let query = rampart_store::IncidentQuery {
            sort: rampart_store::IncidentSort::CreatedAt,
            descending: true,
            limit: 1000,
            ..Default::default()
        };
        let recent = self
            .store
            .list_incidents(org.id, &query)
            .await
            .map_err(JobFailure::retry)?;
        let mut new_by_severity = [0usize; 5];
        let mut highlights = Vec::new();
        for incident in recent.iter().filter(|i| i.created_at >= since) {
            new_by_severity[usize::from(incident.severity.clamp(1, 5) - 1)] += 1;
            if incident.severity >= 4
                && incident.status == IncidentStatus::Open
                && highlights.len() < 10
            {
                highlights.push(incident);
            }
        }
        let opened: usize = new_by_severity.iter().sum();
        let times = self
            .store
            .response_times(org.id, since)
            .await
            .map_err(JobFailure::retry)?;
        let base = self.base_url.trim_end_matches('/');
        let mut text = format!(
            "Rampart weekly digest for {}\n\n\
             Incidents opened in the last 7 days: {opened} (severity 5: {}, 4: {}, 3: {}, 2: {}, 1: {})\n\
             Still open now: {open}\n\
             Mean time to acknowledge: {} ({} acknowledged)\n\
             Mean time to close: {} ({} closed)\n",
            org.name,
            new_by_severity[4],
            new_by_severity[3],
            new_by_severity[2],
            new_by_severity[1],
            new_by_severity[0],
            minutes(times.mean_to_acknowledge_ms),
            times.acknowledged,
            minutes(times.mean_to_close_ms),
            times.closed,
        );
        if !highlights.is_empty() {
            text.push_str("\nOpen incidents of severity 4 and 5 from this week:\n");
            for i in &highlights {
                text.push_str(&format!(
                    "- [{}] {} {base}/incidents/{}\n",
                    i.severity, i.title, i.id
                ));
            }
        }
        text.push_str(&format!("\nThe dashboard: {base}/\n"));
        let rows: String = highlights
            .iter()
            .map(|i| {
                format!(
                    "<li>[{}] <a href=\"{}\">{}</a></li>",
                    i.severity,
                    escape_html(&format!("{base}/incidents/{}", i.id)),
                    escape_html(&i.title)
                )
            })
            .collect();
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <h2>Rampart weekly digest for {}</h2>\
             <p>Incidents opened in the last 7 days: <strong>{opened}</strong> \
             (severity 5: {}, 4: {}, 3: {}, 2: {}, 1: {})<br>Still open now: <strong>{open}</strong><br>\
             Mean time to acknowledge: {}<br>Mean time to close: {}</p>{}\
             <p><a href=\"{}\">Open the dashboard</a></p></body></html>",
            escape_html(&org.name),
            new_by_severity[4],
            new_by_severity[3],
            new_by_severity[2],
            new_by_severity[1],
            new_by_severity[0],
            minutes(times.mean_to_acknowledge_ms),
            minutes(times.mean_to_close_ms),
            if rows.is_empty() {
                String::new()
            } else {
                format!("<h3>Open incidents of severity 4 and 5 from this week</h3><ul>{rows}</ul>")
            },
            escape_html(&format!("{base}/")),
        );
        Ok(Message {
            subject: format!("[Rampart] Weekly digest: {opened} new incidents, {open} open"),
            text,
            html: Some(html),
            json: None,
        })
    }
}

#[async_trait]
impl JobHandler for Digest {
    async fn run(&self, _job: &Job) -> Result<(), JobFailure> {
        if !self.mail {
            return Ok(());
        }
        let now = self.clock.now();
        let week = now.0.div_euclid(WEEK_MS);
        let mut after = None;
        loop {
            let orgs = self
                .store
                .list_orgs(after, 100)
                .await
                .map_err(JobFailure::retry)?;
            let Some(last) = orgs.last() else {
                break;
            };
            after = Some(last.id);
            for org in &orgs {
                let wanted: Vec<_> = self
                    .store
                    .list_notification_prefs(org.id)
                    .await
                    .map_err(JobFailure::retry)?
                    .into_iter()
                    .filter(|(_, prefs)| prefs.weekly_digest)
                    .collect();
                if wanted.is_empty() {
                    continue;
                }
                let message = self.message(org, now).await?;
                let mut deliveries = Vec::new();
                for (user_id, _) in wanted {
                    let Some(user) = self
                        .store
                        .get_user(org.id, user_id)
                        .await
                        .map_err(JobFailure::retry)?
                    else {
                        continue;
                    };
                    if user.disabled {
                        continue;
                    }
                    deliveries.push(Delivery {
                        id: DeliveryId::new(),
                        org_id: org.id,
                        notice: NoticeKind::WeeklyDigest,
                        channel_id: None,
                        recipient: Some(user.email.clone()),
                        subject_ref: Some(format!("user:{}", user.id)),
                        message: message.clone(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        last_error: None,
                        dedupe_key: format!("digest:{week}:{}", user.id),
                        created_at: now,
                        updated_at: now,
                        delivered_at: None,
                    });
                }
                self.store
                    .record_deliveries(org.id, &deliveries, now)
                    .await
                    .map_err(JobFailure::retry)?;
            }
        }
        Ok(())
    }
}
