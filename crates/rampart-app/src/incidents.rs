//! Incidents: list, read (with alerts and comments), open by hand, move
//! through the workflow, assign, escalate and comment. Every change is
//! checked against the current state and audited in the same transaction.

use std::sync::Arc;

use rampart_core::incident::{MAX_ESCALATION, MAX_INCIDENT_EVENTS};
use rampart_core::{
    Alert, Clock, Comment, CommentId, Entities, Error, EventId, Incident, IncidentId,
    IncidentStatus, OrgId, UserId,
};
use rampart_store::{Change, IncidentQuery, IncidentSort, Store};

use crate::api::incidents::{
    AlertView, CommentView, IncidentChange, IncidentDetail, IncidentView, NewIncident,
    SeverityInput,
};
use crate::audit::{self, Audit};
use crate::paging::{Page, PageParams};
use crate::principal::Principal;

/// Incidents, alerts and comments of the organisations.
#[derive(Clone)]
pub struct Incidents {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    /// Drops cached overviews when incidents change.
    invalidator: crate::cache::Invalidator,
}

impl Incidents {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        Self {
            store,
            clock,
            audit,
            invalidator: crate::cache::Invalidator::default(),
        }
    }

    /// Changes invalidate the node's cached overviews (and other nodes').
    pub fn with_invalidator(mut self, invalidator: crate::cache::Invalidator) -> Self {
        self.invalidator = invalidator;
        self
    }
}

/// Which incidents to list, in what order, from where.
#[derive(Debug, Default)]
pub struct Listing {
    /// Any of these statuses; all when empty.
    pub statuses: Vec<IncidentStatus>,
    pub min_severity: Option<u8>,
    pub assignee: Option<UserId>,
    pub rule_id: Option<String>,
    /// Words in the title.
    pub text: Option<String>,
    /// `-last_seen` (default), `last_seen`, `-created_at`, `created_at`,
    /// `-severity`, `severity`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl Listing {
    fn page_limit(&self) -> Result<u32, Error> {
        PageParams {
            limit: self.limit,
            cursor: None,
        }
        .limit()
    }
}

/// Longest comment accepted.
const MAX_COMMENT_CHARS: usize = 10_000;
const MAX_TITLE_CHARS: usize = 500;

impl From<&Incident> for IncidentView {
    fn from(i: &Incident) -> Self {
        IncidentView {
            id: i.id,
            title: i.title.clone(),
            description: i.description.clone(),
            severity: i.severity,
            status: i.status,
            escalation: i.escalation,
            assignee: i.assignee,
            rule_id: i.rule_id.clone(),
            group_key: i.group_key.clone(),
            occurrences: i.occurrences,
            entities: i.entities.clone(),
            event_ids: i.event_ids.iter().map(ToString::to_string).collect(),
            first_seen: i.first_seen,
            last_seen: i.last_seen,
            created_at: i.created_at,
            updated_at: i.updated_at,
            created_by: i.created_by.clone(),
            acknowledged_at: i.acknowledged_at,
            resolved_at: i.resolved_at,
        }
    }
}

impl From<&Alert> for AlertView {
    fn from(a: &Alert) -> Self {
        AlertView {
            id: a.id,
            rule_id: a.rule_id.clone(),
            rule_title: a.rule_title.clone(),
            severity: a.severity,
            group_key: a.group_key.clone(),
            event_ids: a.event_ids.iter().map(ToString::to_string).collect(),
            entities: a.entities.clone(),
            ts: a.ts,
            created_at: a.created_at,
            incident_id: a.incident_id,
        }
    }
}

impl From<&Comment> for CommentView {
    fn from(c: &Comment) -> Self {
        CommentView {
            id: c.id,
            author: c.author.clone(),
            body: c.body.clone(),
            created_at: c.created_at,
        }
    }
}

impl SeverityInput {
    fn resolve(&self, field: &str) -> Result<u8, Error> {
        match self {
            SeverityInput::Number(n) => Ok(*n),
            SeverityInput::Name(name) => {
                rampart_core::event::parse_severity(name).ok_or_else(|| {
                    Error::invalid_field(
                        field,
                        "a number or one of informational, low, medium, high, critical",
                    )
                })
            }
        }
    }
}

fn check_title(title: &str) -> Result<String, Error> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::invalid_field(
            "title",
            format!("must be 1 to {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title.to_owned())
}

fn parse_event_ids(ids: &[String]) -> Result<Vec<EventId>, Error> {
    if ids.len() > MAX_INCIDENT_EVENTS {
        return Err(Error::invalid_field(
            "event_ids",
            format!("at most {MAX_INCIDENT_EVENTS} event ids"),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(n, id)| {
            id.parse()
                .map_err(|_| Error::invalid_field(&format!("event_ids[{n}]"), "not an event id"))
        })
        .collect()
}

/// `-last_seen` (default), `last_seen`, `-created_at`, `created_at`,
/// `-severity`, `severity`.
fn parse_sort(text: Option<&str>) -> Result<(IncidentSort, bool), Error> {
    let text = text.unwrap_or("-last_seen");
    let (descending, name) = match text.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, text),
    };
    let sort = match name {
        "last_seen" => IncidentSort::LastSeen,
        "created_at" => IncidentSort::CreatedAt,
        "severity" => IncidentSort::Severity,
        _ => {
            return Err(Error::invalid_field(
                "sort",
                "one of last_seen, created_at, severity, each with an optional leading '-' for descending",
            ))
        }
    };
    Ok((sort, descending))
}

/// The cursor after `incident` in a listing: `<sort value>_<incident id>`.
fn cursor_of(sort: IncidentSort, incident: &Incident) -> String {
    format!("{}_{}", sort.value(incident), incident.id)
}

fn parse_cursor(text: &str) -> Result<(i64, IncidentId), Error> {
    let bad = || Error::invalid_field("cursor", "not a cursor this API returned");
    let (value, id) = text.split_once('_').ok_or_else(bad)?;
    Ok((
        value.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

impl Incidents {
    async fn check_assignee(&self, org: OrgId, user: Option<UserId>) -> Result<(), Error> {
        if let Some(user) = user {
            let found = self.store.get_user(org, user).await?;
            if found.is_none_or(|u| u.disabled) {
                return Err(Error::invalid_field(
                    "assignee",
                    "no enabled user with this id in the organisation",
                ));
            }
        }
        Ok(())
    }

    pub async fn create(
        &self,
        principal: &Principal,
        input: NewIncident,
    ) -> Result<IncidentView, Error> {
        let org = principal.org_id;
        let title = check_title(&input.title)?;
        let severity = input.severity.resolve("severity")?;
        self.check_assignee(org, input.assignee).await?;
        let event_ids = parse_event_ids(&input.event_ids)?;
        // Only events of this organisation that exist may be linked.
        for (n, &id) in event_ids.iter().enumerate() {
            if self.store.get_event(org, id).await?.is_none() {
                return Err(Error::invalid_field(
                    &format!("event_ids[{n}]"),
                    "no such event in this organisation",
                ));
            }
        }
        let mut entities = Entities::default();
        entities.merge(&input.entities);
        let now = self.clock.now();
        let incident = Incident {
            id: IncidentId::new(),
            org_id: org,
            title,
            description: input.description,
            severity,
            status: IncidentStatus::Open,
            escalation: 0,
            assignee: input.assignee,
            rule_id: None,
            group_key: None,
            occurrences: 0,
            entities,
            event_ids,
            first_seen: now,
            last_seen: now,
            created_at: now,
            updated_at: now,
            created_by: principal.audit_actor(),
            acknowledged_at: None,
            resolved_at: None,
        };
        let view = IncidentView::from(&incident);
        let entry = self.audit.entry(
            principal,
            "incident.create",
            ("incident", incident.id.to_string()),
            None,
            audit::snapshot(&view),
        );
        self.store.create_incident(org, &incident, &entry).await?;
        self.invalidator
            .invalidate(crate::overview::OVERVIEW_CACHE, None);
        Ok(view)
    }

    pub async fn get(&self, org: OrgId, id: IncidentId) -> Result<IncidentDetail, Error> {
        let incident = self
            .store
            .get_incident(org, id)
            .await?
            .ok_or_else(|| Error::not_found("incident"))?;
        let alerts = self.store.list_alerts(org, Some(id), None, 100).await?;
        let comments = self.store.list_comments(org, id).await?;
        Ok(IncidentDetail {
            incident: IncidentView::from(&incident),
            alerts: alerts.iter().map(AlertView::from).collect(),
            comments: comments.iter().map(CommentView::from).collect(),
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        id: IncidentId,
        change: IncidentChange,
    ) -> Result<IncidentView, Error> {
        let org = principal.org_id;
        if let Some(level) = change.escalation {
            if level > MAX_ESCALATION {
                return Err(Error::invalid_field(
                    "escalation",
                    format!("must be between 0 and {MAX_ESCALATION}"),
                ));
            }
        }
        let title = change.title.as_deref().map(check_title).transpose()?;
        let severity = change
            .severity
            .as_ref()
            .map(|s| s.resolve("severity"))
            .transpose()?;
        if let Some(assignee) = change.assignee {
            self.check_assignee(org, assignee).await?;
        }
        let now = self.clock.now();
        let apply = |current: &Incident| -> Result<Incident, String> {
            let mut next = current.clone();
            if let Some(status) = change.status {
                next.move_to(status, now)?;
            }
            if let Some(assignee) = change.assignee {
                next.assignee = assignee;
            }
            if let Some(level) = change.escalation {
                next.escalation = level;
            }
            if let Some(severity) = severity {
                next.severity = severity;
            }
            if let Some(title) = &title {
                next.title = title.clone();
            }
            if let Some(description) = &change.description {
                next.description = Some(description.clone());
            }
            next.updated_at = now;
            Ok(next)
        };
        let actor = principal.audit_actor();
        let trail = |before: &Incident, after: &Incident| {
            self.audit.entry_in(
                org,
                actor.clone(),
                "incident.update",
                ("incident", before.id.to_string()),
                audit::snapshot(&IncidentView::from(before)),
                audit::snapshot(&IncidentView::from(after)),
            )
        };
        let change = self.store.update_incident(org, id, &apply, &trail).await?;
        self.invalidator
            .invalidate(crate::overview::OVERVIEW_CACHE, None);
        match change {
            Change::Missing => Err(Error::not_found("incident")),
            Change::Refused(reason) => Err(Error {
                field: Some("status".into()),
                ..Error::conflict("invalid_transition", reason)
            }),
            Change::Done { after, .. } => Ok(IncidentView::from(&after)),
        }
    }

    pub async fn comment(
        &self,
        principal: &Principal,
        id: IncidentId,
        body: &str,
    ) -> Result<CommentView, Error> {
        let body = body.trim();
        if body.is_empty() || body.chars().count() > MAX_COMMENT_CHARS {
            return Err(Error::invalid_field(
                "body",
                format!("must be 1 to {MAX_COMMENT_CHARS} characters"),
            ));
        }
        let comment = Comment {
            id: CommentId::new(),
            incident_id: id,
            author: principal.audit_actor(),
            body: body.to_owned(),
            created_at: self.clock.now(),
        };
        let view = CommentView::from(&comment);
        let entry = self.audit.entry(
            principal,
            "incident.comment",
            ("incident", id.to_string()),
            None,
            audit::snapshot(&view),
        );
        if !self
            .store
            .add_comment(principal.org_id, &comment, &entry)
            .await?
        {
            return Err(Error::not_found("incident"));
        }
        Ok(view)
    }

    /// One page of incidents, with the cursor of the next.
    pub async fn list(&self, org: OrgId, listing: Listing) -> Result<Page<IncidentView>, Error> {
        let (sort, descending) = parse_sort(listing.sort.as_deref())?;
        let limit = listing.page_limit()?;
        let after = listing.cursor.as_deref().map(parse_cursor).transpose()?;
        let query = IncidentQuery {
            statuses: listing.statuses,
            min_severity: listing.min_severity,
            assignee: listing.assignee,
            rule_id: listing.rule_id,
            text: listing.text.filter(|q| !q.trim().is_empty()),
            sort,
            descending,
            after,
            limit,
        };
        let query = &query;
        let items = self.store.list_incidents(org, query).await?;
        let page = Page::new(items, query.limit, |i| cursor_of(query.sort, i));
        Ok(Page {
            items: page.items.iter().map(IncidentView::from).collect(),
            next_cursor: page.next_cursor,
        })
    }
}
