//! Grouping alerts into incidents, a domain rule: in order, an alert joins
//! the newest open incident of its rule and group key whose last alert is
//! within the window, or opens a new one. The store loads the candidate
//! incidents and writes the result in one transaction; the decision is
//! made here, with time as a parameter.

use std::collections::{HashMap, HashSet};

use crate::{AlertId, Entities, EventId, Incident, IncidentId, IncidentStatus, OrgId, Timestamp};

/// An alert as detection raised it, before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    pub rule_id: String,
    pub rule_title: String,
    pub severity: u8,
    pub group_key: String,
    pub event_ids: Vec<EventId>,
    pub entities: Entities,
    pub ts: Timestamp,
}

/// Where a recorded alert went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedAlert {
    pub alert: AlertId,
    pub incident: IncidentId,
    /// True when the alert opened a new incident.
    pub opened: bool,
}

/// The title of an incident detection opens.
pub fn incident_title(alert: &NewAlert) -> String {
    if alert.group_key.is_empty() {
        alert.rule_title.clone()
    } else {
        format!("{} ({})", alert.rule_title, alert.group_key)
    }
}

/// A batch of alerts grouped into incidents, ready to be written.
#[derive(Debug, Default)]
pub struct Grouped {
    /// Every incident the batch opened or changed, once, in its final state.
    pub incidents: Vec<Incident>,
    /// Per alert, in order: its id and where it went.
    pub alerts: Vec<RecordedAlert>,
}

/// Groups alerts into incidents in order: an alert joins the newest open
/// incident of its rule and group key whose `last_seen` is within
/// `window_ms` of it (one found in `open`, or opened earlier in the batch),
/// or opens a new one. `open` holds the newest open incident per key.
pub fn group_alerts(
    org: OrgId,
    alerts: &[NewAlert],
    mut open: HashMap<(String, String), Incident>,
    window_ms: i64,
    now: Timestamp,
) -> Grouped {
    // Incidents of this batch that a newer one replaced as their key's newest.
    let mut superseded: Vec<Incident> = Vec::new();
    // Keys whose newest incident this batch opened or changed.
    let mut changed: HashSet<(String, String)> = HashSet::new();
    let mut recorded = Vec::with_capacity(alerts.len());
    for a in alerts {
        let key = (a.rule_id.clone(), a.group_key.clone());
        let since = a.ts.0.saturating_sub(window_ms);
        let (incident, opened) = match open.get_mut(&key).filter(|i| i.last_seen.0 >= since) {
            Some(i) => {
                i.severity = i.severity.max(a.severity);
                i.occurrences += 1;
                i.entities.merge(&a.entities);
                extend_ids(&mut i.event_ids, &a.event_ids);
                i.first_seen = i.first_seen.min(a.ts);
                i.last_seen = i.last_seen.max(a.ts);
                i.updated_at = now;
                (i.id, false)
            }
            None => {
                let incident = new_incident(org, a, now);
                let id = incident.id;
                if let Some(previous) = open.insert(key.clone(), incident) {
                    if changed.contains(&key) {
                        superseded.push(previous);
                    }
                }
                (id, true)
            }
        };
        changed.insert(key);
        recorded.push(RecordedAlert {
            alert: AlertId::new(),
            incident,
            opened,
        });
    }
    let mut incidents = superseded;
    incidents.extend(changed.iter().filter_map(|k| open.remove(k)));
    Grouped {
        incidents,
        alerts: recorded,
    }
}

/// The incident a first alert of its rule and group key opens.
fn new_incident(org: OrgId, a: &NewAlert, now: Timestamp) -> Incident {
    let mut event_ids = Vec::new();
    extend_ids(&mut event_ids, &a.event_ids);
    Incident {
        id: IncidentId::new(),
        org_id: org,
        title: incident_title(a),
        description: None,
        severity: a.severity,
        status: IncidentStatus::Open,
        escalation: 0,
        assignee: None,
        rule_id: Some(a.rule_id.clone()),
        group_key: Some(a.group_key.clone()),
        occurrences: 1,
        entities: a.entities.clone(),
        event_ids,
        first_seen: a.ts,
        last_seen: a.ts,
        created_at: now,
        updated_at: now,
        created_by: "detection".into(),
        acknowledged_at: None,
        resolved_at: None,
    }
}

/// Adds `more` event ids to `ids`, keeping at most the incident's maximum.
pub fn extend_ids(ids: &mut Vec<EventId>, more: &[EventId]) {
    for id in more {
        if ids.len() >= crate::incident::MAX_INCIDENT_EVENTS {
            break;
        }
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const WINDOW: i64 = 3_600_000;

    fn alert(group: &str, ts: i64, severity: u8, event: u64) -> NewAlert {
        NewAlert {
            rule_id: "ssh-brute-force".into(),
            rule_title: "SSH brute force".into(),
            severity,
            group_key: format!("source.ip={group}"),
            event_ids: vec![EventId(event)],
            entities: Entities::default(),
            ts: Timestamp(ts),
        }
    }

    #[test]
    fn alerts_of_one_key_within_the_window_share_an_incident() {
        let org = OrgId::new();
        let alerts = [
            alert("10.0.0.1", 1_000, 5, 1),
            alert("10.0.0.1", 1_000 + WINDOW, 8, 2),
            alert("10.0.0.2", 2_000, 5, 3),
        ];
        let grouped = group_alerts(org, &alerts, HashMap::new(), WINDOW, Timestamp(9));
        let [a, b, c] = &grouped.alerts[..] else {
            panic!("three recorded alerts")
        };
        assert!(a.opened && !b.opened && c.opened);
        assert_eq!(a.incident, b.incident);
        assert_ne!(a.incident, c.incident);
        let joined = grouped
            .incidents
            .iter()
            .find(|i| i.id == a.incident)
            .unwrap();
        assert_eq!(
            (joined.occurrences, joined.severity, joined.event_ids.len()),
            (2, 8, 2)
        );
        assert_eq!(joined.title, "SSH brute force (source.ip=10.0.0.1)");
        assert_eq!(grouped.incidents.len(), 2);
    }

    #[test]
    fn an_alert_past_the_window_opens_another_and_both_are_written() {
        let org = OrgId::new();
        let alerts = [
            alert("10.0.0.1", 0, 5, 1),
            alert("10.0.0.1", WINDOW + 1, 5, 2),
            alert("10.0.0.1", WINDOW + 2, 5, 3),
        ];
        let grouped = group_alerts(org, &alerts, HashMap::new(), WINDOW, Timestamp(9));
        let opened: Vec<bool> = grouped.alerts.iter().map(|r| r.opened).collect();
        assert_eq!(opened, [true, true, false]);
        // The first incident, superseded as its key's newest, is still written.
        assert_eq!(grouped.incidents.len(), 2);
        let occurrences: i64 = grouped.incidents.iter().map(|i| i.occurrences).sum();
        assert_eq!(occurrences, 3);
    }

    #[test]
    fn an_open_incident_from_the_store_is_joined_and_an_old_one_is_not() {
        let org = OrgId::new();
        let stored = |last_seen: i64| {
            let mut incident = new_incident(org, &alert("10.0.0.1", last_seen, 3, 7), Timestamp(0));
            incident.occurrences = 4;
            incident
        };
        let key = (
            "ssh-brute-force".to_owned(),
            "source.ip=10.0.0.1".to_owned(),
        );
        let recent = stored(10 * WINDOW);
        let open = HashMap::from([(key.clone(), recent.clone())]);
        let late = [alert("10.0.0.1", 10 * WINDOW + 5, 3, 8)];
        let grouped = group_alerts(org, &late, open, WINDOW, Timestamp(9));
        assert_eq!(grouped.alerts[0].incident, recent.id);
        assert_eq!(grouped.incidents[0].occurrences, 5);
        assert_eq!(grouped.incidents[0].event_ids, [EventId(7), EventId(8)]);

        let open = HashMap::from([(key, stored(0))]);
        let grouped = group_alerts(org, &late, open, WINDOW, Timestamp(9));
        assert!(grouped.alerts[0].opened);
        assert_eq!(grouped.incidents.len(), 1, "the old incident is unchanged");
    }

    #[test]
    fn event_ids_stay_unique_and_bounded() {
        let mut ids = vec![EventId(1)];
        extend_ids(&mut ids, &[EventId(1), EventId(2)]);
        assert_eq!(ids, [EventId(1), EventId(2)]);
        let many: Vec<EventId> = (0..5_000).map(EventId).collect();
        extend_ids(&mut ids, &many);
        assert_eq!(ids.len(), crate::incident::MAX_INCIDENT_EVENTS);
    }
}
