//! What a notice says: the e-mail's subject, plain-text and HTML parts, the
//! JSON a webhook posts, the text a Slack webhook shows. Every value that
//! came from users or events is escaped for HTML.

use rampart_core::feedback::Feedback;
use rampart_core::notification::{Message, Notice, NoticeKind};
use rampart_core::scan::Scan;
use rampart_core::{DeliveryId, Incident, Organisation, Timestamp, User};
use serde_json::json;

/// Everything a notice may talk about, loaded by the dispatcher.
pub struct Subject<'a> {
    pub notice: &'a Notice,
    pub kind: NoticeKind,
    pub org: &'a Organisation,
    pub incident: Option<&'a Incident>,
    pub feedback: Option<&'a Feedback>,
    pub scan: Option<&'a Scan>,
    /// The person it concerns (assignee, feedback author, new user).
    pub user: Option<&'a User>,
    /// Where the UI is, for links (no trailing slash).
    pub base_url: &'a str,
    pub now: Timestamp,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Keeps a subject line to one line.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(150)
        .collect();
    line.trim().to_owned()
}

impl Subject<'_> {
    /// The link to what it is about.
    pub fn link(&self) -> String {
        match (self.kind, self.incident) {
            (_, Some(incident)) => format!("{}/incidents/{}", self.base_url, incident.id),
            (NoticeKind::ScanCompleted, _) => match self.scan {
                Some(scan) => format!("{}/scans/{}", self.base_url, scan.id),
                None => format!("{}/scans", self.base_url),
            },
            (NoticeKind::FindingSlaBreached, _) => {
                format!("{}/findings?status=active", self.base_url)
            }
            (NoticeKind::FindingRiskExpiring, _) => {
                format!("{}/findings?status=risk_accepted,reopened", self.base_url)
            }
            (NoticeKind::FeedbackAnswered, _) => format!("{}/feedback", self.base_url),
            (NoticeKind::HuntMatched, _) => match self.notice.hunt {
                Some(hunt) => format!("{}/hunt/saved/{hunt}", self.base_url),
                None => format!("{}/hunt", self.base_url),
            },
            _ => format!("{}/", self.base_url),
        }
    }

    /// What it is about, for the delivery log.
    pub fn reference(&self) -> Option<String> {
        if let Some(incident) = self.incident {
            Some(format!("incident:{}", incident.id))
        } else if let Some(feedback) = self.feedback {
            Some(format!("feedback:{}", feedback.id))
        } else if let Some(scan) = self.scan {
            Some(format!("scan:{}", scan.id))
        } else if let Some(hunt) = self.notice.hunt {
            Some(format!("hunt:{hunt}"))
        } else {
            self.user.map(|u| format!("user:{}", u.id))
        }
    }

    fn headline(&self) -> String {
        let change = match (&self.notice.from, &self.notice.to) {
            (Some(from), Some(to)) => format!(" ({from} → {to})"),
            _ => String::new(),
        };
        match (self.kind, self.incident) {
            (NoticeKind::IncidentCreated, Some(i)) => {
                format!("New incident: {} (severity {})", i.title, i.severity)
            }
            (NoticeKind::IncidentEscalated, Some(i)) => {
                format!("Incident escalated: {}{change}", i.title)
            }
            (NoticeKind::IncidentStatusChanged, Some(i)) => {
                format!("Incident {}: {}{change}", i.status.as_str(), i.title)
            }
            (NoticeKind::IncidentAssigned, Some(i)) => {
                let to = self.user.map_or("someone", |u| u.display_name.as_str());
                format!("Incident assigned to {to}: {}", i.title)
            }
            (NoticeKind::FeedbackAnswered, _) => "Your feedback was answered".into(),
            (NoticeKind::UserWelcome, _) => format!("Welcome to Rampart ({})", self.org.name),
            (NoticeKind::ChannelTest, _) => "Test notification".into(),
            (NoticeKind::FindingSlaBreached, _) => format!(
                "{} findings are past their deadline",
                self.notice.count.unwrap_or(0)
            ),
            (NoticeKind::FindingRiskExpiring, _) => format!(
                "{} accepted risks are due for review",
                self.notice.count.unwrap_or(0)
            ),
            (NoticeKind::HuntMatched, _) => format!(
                "Hunt '{}' matched {} events",
                self.notice.title.as_deref().unwrap_or("saved hunt"),
                self.notice.count.unwrap_or(0)
            ),
            (NoticeKind::ScanCompleted, _) => match self.scan {
                Some(scan) => format!(
                    "Scan {} {}: {}",
                    scan.kind.as_str(),
                    scan.status.as_str(),
                    scan.targets.first().map_or("", String::as_str)
                ),
                None => "Scan finished".into(),
            },
            (
                NoticeKind::UserLoginCode
                | NoticeKind::UserPasswordReset
                | NoticeKind::WeeklyDigest,
                _,
            ) => self.kind.as_str().into(),
            (_, None) => self.kind.as_str().into(),
        }
    }

    /// Lines of `(label, value)` that describe it.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let mut facts = vec![("Organisation", self.org.name.clone())];
        if let Some(i) = self.incident {
            facts.push(("Incident", i.title.clone()));
            facts.push(("Severity", i.severity.to_string()));
            facts.push(("Status", i.status.as_str().to_owned()));
            if i.escalation > 0 {
                facts.push(("Escalation", i.escalation.to_string()));
            }
            if let Some(rule) = &i.rule_id {
                facts.push(("Rule", rule.clone()));
            }
            facts.push(("Alerts", i.occurrences.to_string()));
            for (label, values) in [
                ("Addresses", &i.entities.ips),
                ("Users", &i.entities.users),
                ("Hosts", &i.entities.hosts),
            ] {
                if !values.is_empty() {
                    let shown: Vec<&str> = values.iter().take(10).map(String::as_str).collect();
                    facts.push((label, shown.join(", ")));
                }
            }
            if let Some(description) = &i.description {
                facts.push(("Description", description.clone()));
            }
        }
        if let (Some(from), Some(to)) = (&self.notice.from, &self.notice.to) {
            facts.push(("Change", format!("{from} → {to}")));
        }
        let line_label = if self.kind == NoticeKind::HuntMatched {
            "Match"
        } else {
            "Finding"
        };
        for line in self.notice.lines.iter().take(50) {
            facts.push((line_label, line.clone()));
        }
        if let Some(scan) = self.scan {
            facts.push(("Scan", scan.kind.as_str().to_owned()));
            facts.push(("Status", scan.status.as_str().to_owned()));
            facts.push((
                "Targets",
                scan.targets
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
            if let Some(c) = &scan.counts {
                facts.push((
                    "Findings",
                    format!(
                        "{} ({} new, {} closed, {} reopened)",
                        c.findings, c.new, c.closed, c.reopened
                    ),
                ));
            }
            if let Some(error) = &scan.error {
                facts.push(("Error", error.clone()));
            }
        }
        if let Some(f) = self.feedback {
            facts.push(("Your message", f.message.clone()));
            facts.push(("Answer", f.answer.clone().unwrap_or_default()));
        }
        if self.kind == NoticeKind::UserWelcome {
            if let Some(user) = self.user {
                facts.push(("Your sign-in", user.email.clone()));
                facts.push(("Role", user.role.as_str().to_owned()));
            }
        }
        facts
    }

    /// The e-mail: subject, plain text and HTML.
    pub fn email(&self) -> Message {
        let headline = self.headline();
        let link = self.link();
        let facts = self.facts();
        let mut text = format!("{headline}\n\n");
        for (label, value) in &facts {
            text.push_str(&format!("{label}: {value}\n"));
        }
        text.push_str(&format!("\nOpen in Rampart: {link}\n"));
        let rows: String = facts
            .iter()
            .map(|(label, value)| {
                format!(
                    "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0\">{}</th><td>{}</td></tr>",
                    escape_html(label),
                    escape_html(value)
                )
            })
            .collect();
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <h2>{}</h2><table>{rows}</table>\
             <p><a href=\"{}\">Open in Rampart</a></p></body></html>",
            escape_html(&headline),
            escape_html(&link)
        );
        Message {
            subject: one_line(&format!("[Rampart] {headline}")),
            text,
            html: Some(html),
            json: None,
        }
    }

    /// The body of a signed webhook.
    pub fn webhook(&self, delivery: DeliveryId) -> Message {
        let incident = self.incident.map(|i| {
            json!({
                "id": i.id,
                "title": i.title,
                "severity": i.severity,
                "status": i.status.as_str(),
                "escalation": i.escalation,
                "assignee": i.assignee,
                "rule_id": i.rule_id,
                "occurrences": i.occurrences,
                "entities": {
                    "ips": i.entities.ips,
                    "users": i.entities.users,
                    "hosts": i.entities.hosts,
                },
                "created_at": i.created_at.to_rfc3339(),
                "url": self.link(),
            })
        });
        let change = self
            .notice
            .from
            .as_ref()
            .map(|from| json!({ "from": from, "to": self.notice.to }));
        let body = json!({
            "id": delivery,
            "event": self.kind.as_str(),
            "organisation": self.org.id,
            "sent_at": self.now.to_rfc3339(),
            "summary": self.headline(),
            "incident": incident,
            "count": self.notice.count,
            "lines": self.notice.lines,
            "scan": self.scan.map(|scan| json!({
                "id": scan.id,
                "kind": scan.kind.as_str(),
                "status": scan.status.as_str(),
                "targets": scan.targets,
                "counts": scan.counts,
                "error": scan.error,
                "url": self.link(),
            })),
            "change": change,
            "hunt": self.notice.hunt.map(|id| json!({
                "id": id,
                "name": self.notice.title,
                "url": self.link(),
            })),
        });
        Message {
            subject: one_line(&self.headline()),
            text: body.to_string(),
            html: None,
            json: Some(body),
        }
    }

    /// The body of a Slack-compatible incoming webhook (mrkdwn, with the
    /// characters Slack treats as control escaped).
    pub fn slack(&self) -> Message {
        let slack_escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut text = format!(
            "*[Rampart]* {} <{}|Open>",
            slack_escape(&self.headline()),
            slack_escape(&self.link())
        );
        if let Some(i) = self.incident {
            text.push_str(&format!(
                "\nseverity {} · {} · {} alerts",
                i.severity,
                i.status.as_str(),
                i.occurrences
            ));
        }
        let body = json!({ "text": text });
        Message {
            subject: one_line(&self.headline()),
            text: text.clone(),
            html: None,
            json: Some(body),
        }
    }
}
