//! Alerts, incidents and comments: the [`IncidentStore`] interface, one SQL
//! text for both backends. Recording alerts groups them into incidents in
//! one transaction; every change by a person writes its audit entry in the
//! same transaction.

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row as _, Type};

use crate::sql_backend::{RowsAffected, SqlBackend};
use async_trait::async_trait;
use std::collections::HashSet;

use rampart_core::{
    Alert, AlertId, AuditEntry, Comment, Entities, EventId, Incident, IncidentId, IncidentStatus,
    OrgId, Timestamp, UserId,
};

pub use rampart_core::alert_grouping::{NewAlert, RecordedAlert};

use crate::{Result, StoreError};

/// The column incidents are listed by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncidentSort {
    #[default]
    LastSeen,
    CreatedAt,
    Severity,
}

impl IncidentSort {
    pub fn column(self) -> &'static str {
        match self {
            IncidentSort::LastSeen => "last_seen",
            IncidentSort::CreatedAt => "created_at",
            IncidentSort::Severity => "severity",
        }
    }

    /// The sort value of an incident (for the next page's cursor).
    pub fn value(self, incident: &Incident) -> i64 {
        match self {
            IncidentSort::LastSeen => incident.last_seen.0,
            IncidentSort::CreatedAt => incident.created_at.0,
            IncidentSort::Severity => i64::from(incident.severity),
        }
    }
}

/// Which incidents to list, in which order, from where.
#[derive(Clone, Debug, Default)]
pub struct IncidentQuery {
    /// Any of these (all when empty).
    pub statuses: Vec<IncidentStatus>,
    pub min_severity: Option<u8>,
    pub assignee: Option<UserId>,
    pub rule_id: Option<String>,
    /// Case-insensitive substring of the title.
    pub text: Option<String>,
    pub sort: IncidentSort,
    pub descending: bool,
    /// The last incident of the previous page: its sort value and id.
    pub after: Option<(i64, IncidentId)>,
    pub limit: u32,
}

/// The outcome of a guarded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<T> {
    Missing,
    /// The change was refused by the caller's check, with its reason.
    Refused(String),
    Done {
        before: T,
        after: T,
    },
}

/// Computes an incident's new state from the current one, or refuses.
pub type ApplyChange<'a> =
    &'a (dyn Fn(&Incident) -> std::result::Result<Incident, String> + Send + Sync);
/// Builds the audit entry of a change from the states before and after.
pub type AuditChange<'a> = &'a (dyn Fn(&Incident, &Incident) -> AuditEntry + Send + Sync);

/// The number of an organisation's incidents with one status and severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentCount {
    pub status: IncidentStatus,
    pub severity: u8,
    pub count: i64,
}

/// How quickly incidents were taken up and closed: over the incidents
/// acknowledged (closed) since a time, how many and the mean time from
/// their creation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseTimes {
    pub acknowledged: i64,
    pub mean_to_acknowledge_ms: Option<i64>,
    pub closed: i64,
    pub mean_to_close_ms: Option<i64>,
}

#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Stores alerts; each joins the open incident of its rule and group key
    /// last seen within `window_ms` of it, or opens a new one.
    async fn record_alerts(
        &self,
        org: OrgId,
        alerts: &[NewAlert],
        window_ms: i64,
        now: Timestamp,
    ) -> Result<Vec<RecordedAlert>>;
    async fn create_incident(
        &self,
        org: OrgId,
        incident: &Incident,
        audit: &AuditEntry,
    ) -> Result<()>;
    async fn get_incident(&self, org: OrgId, id: IncidentId) -> Result<Option<Incident>>;
    async fn list_incidents(&self, org: OrgId, query: &IncidentQuery) -> Result<Vec<Incident>>;
    /// Reads the incident, applies `apply` and stores the result with its
    /// audit entry, all in one transaction.
    async fn update_incident(
        &self,
        org: OrgId,
        id: IncidentId,
        apply: ApplyChange<'_>,
        audit: AuditChange<'_>,
    ) -> Result<Change<Incident>>;
    /// False when there is no such incident.
    async fn add_comment(&self, org: OrgId, comment: &Comment, audit: &AuditEntry) -> Result<bool>;
    async fn list_comments(&self, org: OrgId, incident: IncidentId) -> Result<Vec<Comment>>;
    /// How many incidents the organisation has per status and severity.
    async fn incident_counts(&self, org: OrgId) -> Result<Vec<IncidentCount>>;
    /// How many incidents not yet closed were created at or after each of
    /// `since` (newest first), and how many before the last of them.
    async fn open_incident_ages(&self, org: OrgId, since: &[Timestamp]) -> Result<Vec<i64>>;
    /// Mean times to acknowledge and to close, over the incidents first
    /// acknowledged (last closed) at or after `since`.
    async fn response_times(&self, org: OrgId, since: Timestamp) -> Result<ResponseTimes>;
    /// Incidents that name `entity` (an address, user or host) among their
    /// entities, most recently seen first.
    async fn incidents_about(&self, org: OrgId, entity: &str, limit: u32) -> Result<Vec<Incident>>;
    /// Alerts that name `entity` among their entities, newest first.
    async fn alerts_about(&self, org: OrgId, entity: &str, limit: u32) -> Result<Vec<Alert>>;
    /// Alerts newest first, optionally of one incident, before `before`.
    async fn list_alerts(
        &self,
        org: OrgId,
        incident: Option<IncidentId>,
        before: Option<AlertId>,
        limit: u32,
    ) -> Result<Vec<Alert>>;
}

/// Event ids as a JSON array of their 16-digit hex texts, written directly
/// (an open incident's list, up to 1,000 ids, is rewritten with each alert
/// that joins it).
pub(crate) fn ids_json(ids: &[EventId]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + ids.len() * 19);
    out.push('[');
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push('"');
        for shift in (0..16).rev() {
            out.push(char::from(HEX[((id.0 >> (shift * 4)) & 0xf) as usize]));
        }
        out.push('"');
    }
    out.push(']');
    out
}

pub(crate) fn parse_ids(column: &'static str, text: &str) -> Result<Vec<EventId>> {
    // Hex texts have no escapes, so they are read in place.
    let texts: Vec<&str> = serde_json::from_str(text).map_err(|e| corrupt(column, e))?;
    texts
        .iter()
        .map(|t| t.parse().map_err(|e| corrupt(column, e)))
        .collect()
}

/// The LIKE pattern of an entities JSON text naming `entity` as a whole
/// value (its JSON string, quotes included).
fn entity_pattern(entity: &str) -> String {
    let quoted = serde_json::to_string(entity).unwrap_or_default();
    format!("%{}%", crate::shared_sql::like_escape(&quoted))
}

pub(crate) fn entities_json(entities: &Entities) -> String {
    serde_json::to_string(entities).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn parse_entities(column: &'static str, text: &str) -> Result<Entities> {
    serde_json::from_str(text).map_err(|e| corrupt(column, e))
}

pub(crate) fn parse_status(text: &str) -> Result<IncidentStatus> {
    IncidentStatus::parse(text).ok_or_else(|| corrupt("incidents.status", text))
}

fn corrupt(column: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        column,
        detail: detail.to_string(),
    }
}

/// Statuses an incident takes no new alerts in.
pub(crate) const CLOSED_STATUSES: &str = "('resolved', 'false_positive')";

/// Group keys looked up per query when alerts are recorded.
pub(crate) const LOOKUP_CHUNK: usize = 400;
/// Rows written per multi-row statement when alerts are recorded (the
/// widest row binds 18 values, within both backends' parameter limits).
pub(crate) const WRITE_CHUNK: usize = 200;

/// What a batch of alerts needs looked up: per rule, the distinct group
/// keys and the oldest `last_seen` an incident may have to be joined.
pub(crate) fn grouping_lookups(alerts: &[NewAlert], window_ms: i64) -> Vec<(&str, Vec<&str>, i64)> {
    let mut by_rule: Vec<(&str, Vec<&str>, i64)> = Vec::new();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for a in alerts {
        let since = a.ts.0.saturating_sub(window_ms);
        let slot = match by_rule.iter().position(|(rule, _, _)| *rule == a.rule_id) {
            Some(slot) => slot,
            None => {
                by_rule.push((&a.rule_id, Vec::new(), since));
                by_rule.len() - 1
            }
        };
        let entry = &mut by_rule[slot];
        entry.2 = entry.2.min(since);
        if seen.insert((&a.rule_id, &a.group_key)) {
            entry.1.push(&a.group_key);
        }
    }
    for (_, keys, _) in &mut by_rule {
        keys.sort_unstable();
    }
    by_rule.sort_unstable_by(|a, b| a.0.cmp(b.0));
    by_rule
}

/// The `WHERE` and `ORDER BY` of an incident listing; values are bound
/// from `$2` in this order: min severity, assignee, rule, text, cursor
/// value, cursor id. Column names and statuses come from enums, never
/// from input.
pub(crate) fn incident_listing(q: &IncidentQuery) -> String {
    let column = q.sort.column();
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let statuses = if q.statuses.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = q
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        format!(" AND status IN ({})", list.join(", "))
    };
    format!(
        "WHERE org_id = $1{statuses} AND ($2 IS NULL OR severity >= $2) \
         AND ($3 IS NULL OR assignee = $3) AND ($4 IS NULL OR rule_id = $4) \
         AND ($5 IS NULL OR LOWER(title) LIKE $5 ESCAPE '\\') \
         AND ($6 IS NULL OR {column} {cmp} $6 OR ({column} = $6 AND id {cmp} $7)) \
         ORDER BY {column} {dir}, id {dir} LIMIT $8"
    )
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower case, the pattern characters
/// escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", crate::shared_sql::like_escape(&text.to_lowercase()))
}

const INCIDENT_COLUMNS: &str = "id, org_id, title, description, severity, status, escalation, \
     assignee, rule_id, group_key, occurrences, entities, event_ids, first_seen, last_seen, \
     created_at, updated_at, created_by, acknowledged_at, resolved_at";
const ALERT_COLUMNS: &str = "id, org_id, rule_id, rule_title, severity, group_key, event_ids, \
     entities, ts, created_at, incident_id";

fn incident_from_row<R, DB>(row: &R) -> crate::Result<rampart_core::Incident>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    use crate::incidents_sql::{parse_entities, parse_ids, parse_status};
    use crate::shared_sql::parse_column;
    Ok(rampart_core::Incident {
        id: parse_column("incidents.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("incidents.org_id", row.try_get::<&str, _>("org_id")?)?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        severity: row.try_get::<i64, _>("severity")?.clamp(0, 255) as u8,
        status: parse_status(row.try_get::<&str, _>("status")?)?,
        escalation: row.try_get::<i64, _>("escalation")?.clamp(0, 255) as u8,
        assignee: row
            .try_get::<Option<&str>, _>("assignee")?
            .map(|a| parse_column("incidents.assignee", a))
            .transpose()?,
        rule_id: row.try_get("rule_id")?,
        group_key: row.try_get("group_key")?,
        occurrences: row.try_get("occurrences")?,
        entities: parse_entities("incidents.entities", row.try_get::<&str, _>("entities")?)?,
        event_ids: parse_ids("incidents.event_ids", row.try_get::<&str, _>("event_ids")?)?,
        first_seen: rampart_core::Timestamp(row.try_get("first_seen")?),
        last_seen: rampart_core::Timestamp(row.try_get("last_seen")?),
        created_at: rampart_core::Timestamp(row.try_get("created_at")?),
        updated_at: rampart_core::Timestamp(row.try_get("updated_at")?),
        created_by: row.try_get("created_by")?,
        acknowledged_at: row
            .try_get::<Option<i64>, _>("acknowledged_at")?
            .map(rampart_core::Timestamp),
        resolved_at: row
            .try_get::<Option<i64>, _>("resolved_at")?
            .map(rampart_core::Timestamp),
    })
}

fn alert_from_row<R, DB>(row: &R) -> crate::Result<rampart_core::Alert>
where
    R: sqlx::Row<Database = DB>,
    DB: Database,
    &'static str: ColumnIndex<R>,
    for<'r> &'r str: Type<DB> + Decode<'r, DB>,
    String: Type<DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'r> Decode<'r, DB>,
{
    use crate::incidents_sql::{parse_entities, parse_ids};
    use crate::shared_sql::parse_column;
    Ok(rampart_core::Alert {
        id: parse_column("alerts.id", row.try_get::<&str, _>("id")?)?,
        org_id: parse_column("alerts.org_id", row.try_get::<&str, _>("org_id")?)?,
        rule_id: row.try_get("rule_id")?,
        rule_title: row.try_get("rule_title")?,
        severity: row.try_get::<i64, _>("severity")?.clamp(0, 255) as u8,
        group_key: row.try_get("group_key")?,
        event_ids: parse_ids("alerts.event_ids", row.try_get::<&str, _>("event_ids")?)?,
        entities: parse_entities("alerts.entities", row.try_get::<&str, _>("entities")?)?,
        ts: rampart_core::Timestamp(row.try_get("ts")?),
        created_at: rampart_core::Timestamp(row.try_get("created_at")?),
        incident_id: parse_column("alerts.incident_id", row.try_get::<&str, _>("incident_id")?)?,
    })
}

/// How many columns [`INCIDENT_COLUMNS`] names.
const INCIDENT_WIDTH: usize = 20;

/// Binds an incident's columns, in `INCIDENT_COLUMNS` order.
fn bind_incident<'a, DB>(
    q: sqlx::query::Query<'a, DB, DB::Arguments<'a>>,
    i: &rampart_core::Incident,
) -> sqlx::query::Query<'a, DB, DB::Arguments<'a>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    use crate::incidents_sql::{entities_json, ids_json};
    q.bind(i.id.to_string())
        .bind(i.org_id.to_string())
        .bind(i.title.clone())
        .bind(i.description.clone())
        .bind(i64::from(i.severity))
        .bind(i.status.as_str())
        .bind(i64::from(i.escalation))
        .bind(i.assignee.map(|a| a.to_string()))
        .bind(i.rule_id.clone())
        .bind(i.group_key.clone())
        .bind(i.occurrences)
        .bind(entities_json(&i.entities))
        .bind(ids_json(&i.event_ids))
        .bind(i.first_seen.0)
        .bind(i.last_seen.0)
        .bind(i.created_at.0)
        .bind(i.updated_at.0)
        .bind(i.created_by.clone())
        .bind(i.acknowledged_at.map(|t| t.0))
        .bind(i.resolved_at.map(|t| t.0))
}

async fn write_incident<'e, E, DB>(
    executor: E,
    i: &rampart_core::Incident,
    insert: bool,
) -> crate::Result<()>
where
    E: sqlx::Executor<'e, Database = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    // One row: numbered parameters cost SQLite little here.
    let mut params = crate::sql_backend::Placeholders::new(true);
    let sql = if insert {
        format!(
            "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES {}",
            params.rows(1, INCIDENT_WIDTH)
        )
    } else {
        let row = params.rows(1, INCIDENT_WIDTH);
        let (id, org) = (params.next(), params.next());
        format!(
            "UPDATE incidents SET ({INCIDENT_COLUMNS}) = {row} WHERE id = {id} AND org_id = {org}"
        )
    };
    let mut q = bind_incident(sqlx::query(&sql), i);
    if !insert {
        q = q.bind(i.id.to_string()).bind(i.org_id.to_string());
    }
    q.execute(executor)
        .await
        .map_err(crate::StoreError::from_write)?;
    Ok(())
}

#[async_trait::async_trait]
impl<S, DB> crate::incidents_sql::IncidentStore for S
where
    S: SqlBackend<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    &'static str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: Type<DB> + Encode<'s, DB> + Decode<'s, DB>,
    for<'s> Option<&'s str>: Encode<'s, DB>,
    Option<String>: for<'q> Encode<'q, DB>,
    Option<i64>: for<'q> Encode<'q, DB>,
    Option<bool>: for<'q> Encode<'q, DB>,
    String: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i64: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    i32: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    bool: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB>,
    DB::QueryResult: RowsAffected,
{
    async fn record_alerts(
        &self,
        org: rampart_core::OrgId,
        alerts: &[crate::incidents_sql::NewAlert],
        window_ms: i64,
        now: rampart_core::Timestamp,
    ) -> crate::Result<Vec<crate::incidents_sql::RecordedAlert>> {
        use crate::incidents_sql::{
            entities_json, grouping_lookups, ids_json, CLOSED_STATUSES, LOOKUP_CHUNK, WRITE_CHUNK,
        };
        use crate::sql_backend::Placeholders;
        use rampart_core::alert_grouping::group_alerts;
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let org_text = org.to_string();
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        // The newest open incident of every rule and group key the
        // batch names: one query per rule and chunk of keys.
        let mut open: std::collections::HashMap<(String, String), rampart_core::Incident> =
            std::collections::HashMap::new();
        for (rule_id, keys, since) in grouping_lookups(alerts, window_ms) {
            for chunk in keys.chunks(LOOKUP_CHUNK) {
                // Rows are locked in id order, the same in every batch.
                let mut params = Placeholders::new(S::NUMBERED_PARAMETERS);
                let (org_p, rule_p, since_p) = (params.next(), params.next(), params.next());
                let keys_p = params.rows(1, chunk.len());
                let sql = format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = {org_p} \
                     AND rule_id = {rule_p} AND status NOT IN {CLOSED_STATUSES} \
                     AND last_seen >= {since_p} AND group_key IN {keys_p} ORDER BY id{}",
                    S::LOCK_ROWS
                );
                let mut q = sqlx::query(&sql)
                    .bind(org_text.as_str())
                    .bind(rule_id)
                    .bind(since);
                for key in chunk {
                    q = q.bind(*key);
                }
                for row in q.fetch_all(&mut *tx).await? {
                    let incident = incident_from_row(&row)?;
                    let key = (
                        incident.rule_id.clone().unwrap_or_default(),
                        incident.group_key.clone().unwrap_or_default(),
                    );
                    match open.get(&key) {
                        Some(newer) if newer.last_seen >= incident.last_seen => {}
                        _ => {
                            open.insert(key, incident);
                        }
                    }
                }
            }
        }
        // What decides notices, before the batch changes the incidents.
        let before: std::collections::HashMap<
            rampart_core::IncidentId,
            rampart_core::notification::IncidentState,
        > = open.values().map(|i| (i.id, i.into())).collect();
        let grouped = group_alerts(org, alerts, open, window_ms, now);
        // Every incident opened or changed, in one upsert per chunk.
        for chunk in grouped.incidents.chunks(WRITE_CHUNK) {
            // (Each incident's org_id is `org`: new ones are made so,
            // open ones were read from it.)
            let sql = format!(
                "INSERT INTO incidents ({INCIDENT_COLUMNS}) VALUES {} \
                 ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, \
                 occurrences = excluded.occurrences, entities = excluded.entities, \
                 event_ids = excluded.event_ids, first_seen = excluded.first_seen, \
                 last_seen = excluded.last_seen, updated_at = excluded.updated_at",
                Placeholders::new(S::NUMBERED_PARAMETERS).rows(chunk.len(), INCIDENT_WIDTH)
            );
            chunk
                .iter()
                .fold(sqlx::query(&sql), bind_incident)
                .execute(&mut *tx)
                .await
                .map_err(crate::StoreError::from_write)?;
        }
        let rows: Vec<_> = alerts.iter().zip(&grouped.alerts).collect();
        for chunk in rows.chunks(WRITE_CHUNK) {
            let sql = format!(
                "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES {}",
                Placeholders::new(S::NUMBERED_PARAMETERS).rows(chunk.len(), 11)
            );
            let q = chunk.iter().fold(sqlx::query(&sql), |q, (a, r)| {
                q.bind(r.alert.to_string())
                    .bind(org_text.as_str())
                    .bind(a.rule_id.as_str())
                    .bind(a.rule_title.as_str())
                    .bind(i64::from(a.severity))
                    .bind(a.group_key.as_str())
                    .bind(ids_json(&a.event_ids))
                    .bind(entities_json(&a.entities))
                    .bind(a.ts.0)
                    .bind(now.0)
                    .bind(r.incident.to_string())
            });
            q.execute(&mut *tx).await?;
        }
        // Incidents opened or escalated are told in the same transaction.
        let notices: Vec<_> = grouped
            .incidents
            .iter()
            .flat_map(|i| {
                rampart_core::notification::incident_notice_jobs(before.get(&i.id).copied(), i, now)
            })
            .collect();
        crate::jobs_sql::insert_jobs::<DB>(&mut tx, &notices, now, S::NUMBERED_PARAMETERS).await?;
        tx.commit().await?;
        Ok(grouped.alerts)
    }

    async fn create_incident(
        &self,
        org: rampart_core::OrgId,
        incident: &rampart_core::Incident,
        audit: &rampart_core::AuditEntry,
    ) -> crate::Result<()> {
        let mut tx = self.pool().begin().await?;
        let mut row = incident.clone();
        row.org_id = org;
        write_incident(&mut *tx, &row, true).await?;
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        let notices = rampart_core::notification::incident_notice_jobs(None, &row, row.created_at);
        crate::jobs_sql::insert_jobs::<DB>(
            &mut tx,
            &notices,
            row.created_at,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_incident(
        &self,
        org: rampart_core::OrgId,
        id: rampart_core::IncidentId,
    ) -> crate::Result<Option<rampart_core::Incident>> {
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(incident_from_row).transpose()
    }

    async fn list_incidents(
        &self,
        org: rampart_core::OrgId,
        q: &crate::incidents_sql::IncidentQuery,
    ) -> crate::Result<Vec<rampart_core::Incident>> {
        let sql = format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents {}",
            crate::incidents_sql::incident_listing(q)
        );
        let rows = sqlx::query(&sql)
            .bind(org.to_string())
            .bind(q.min_severity.map(i64::from))
            .bind(q.assignee.map(|a| a.to_string()))
            .bind(q.rule_id.as_deref())
            .bind(q.text.as_deref().map(crate::incidents_sql::like_pattern))
            .bind(q.after.map(|(v, _)| v))
            .bind(q.after.map(|(_, id)| id.to_string()))
            .bind(crate::shared_sql::page_limit(q.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn update_incident(
        &self,
        org: rampart_core::OrgId,
        id: rampart_core::IncidentId,
        apply: crate::incidents_sql::ApplyChange<'_>,
        audit: crate::incidents_sql::AuditChange<'_>,
    ) -> crate::Result<crate::incidents_sql::Change<rampart_core::Incident>> {
        use crate::incidents_sql::Change;
        let mut tx = self.pool().begin_with(S::BEGIN_WRITE).await?;
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 AND id = $2{}",
            S::LOCK_ROWS
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(before) = row.as_ref().map(incident_from_row).transpose()? else {
            return Ok(Change::Missing);
        };
        let mut after = match apply(&before) {
            Ok(after) => after,
            Err(reason) => return Ok(Change::Refused(reason)),
        };
        // The identity of an incident is not the caller's to change.
        after.id = before.id;
        after.org_id = org;
        write_incident(&mut *tx, &after, false).await?;
        crate::audit_sql::insert_audit(&mut tx, org, &audit(&before, &after)).await?;
        let notices = rampart_core::notification::incident_notice_jobs(
            Some((&before).into()),
            &after,
            after.updated_at,
        );
        crate::jobs_sql::insert_jobs::<DB>(
            &mut tx,
            &notices,
            after.updated_at,
            S::NUMBERED_PARAMETERS,
        )
        .await?;
        tx.commit().await?;
        Ok(Change::Done { before, after })
    }

    async fn add_comment(
        &self,
        org: rampart_core::OrgId,
        c: &rampart_core::Comment,
        audit: &rampart_core::AuditEntry,
    ) -> crate::Result<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "INSERT INTO incident_comments (id, org_id, incident_id, author, body, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS \
             (SELECT 1 FROM incidents WHERE org_id = $2 AND id = $3)",
        )
        .bind(c.id.to_string())
        .bind(org.to_string())
        .bind(c.incident_id.to_string())
        .bind(&c.author)
        .bind(&c.body)
        .bind(c.created_at.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit_sql::insert_audit(&mut tx, org, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_comments(
        &self,
        org: rampart_core::OrgId,
        incident: rampart_core::IncidentId,
    ) -> crate::Result<Vec<rampart_core::Comment>> {
        use crate::shared_sql::parse_column;
        let rows = sqlx::query(
            "SELECT id, incident_id, author, body, created_at FROM incident_comments \
             WHERE org_id = $1 AND incident_id = $2 ORDER BY id",
        )
        .bind(org.to_string())
        .bind(incident.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(rampart_core::Comment {
                    id: parse_column("incident_comments.id", r.try_get::<&str, _>("id")?)?,
                    incident_id: parse_column(
                        "incident_comments.incident_id",
                        r.try_get::<&str, _>("incident_id")?,
                    )?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    created_at: rampart_core::Timestamp(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    async fn incident_counts(
        &self,
        org: rampart_core::OrgId,
    ) -> crate::Result<Vec<crate::incidents_sql::IncidentCount>> {
        let rows = sqlx::query(
            "SELECT status, severity, COUNT(*) AS n FROM incidents WHERE org_id = $1 \
             GROUP BY status, severity ORDER BY status, severity",
        )
        .bind(org.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(crate::incidents_sql::IncidentCount {
                    status: crate::incidents_sql::parse_status(row.try_get::<&str, _>("status")?)?,
                    severity: row.try_get::<i64, _>("severity")?.clamp(0, 255) as u8,
                    count: row.try_get("n")?,
                })
            })
            .collect()
    }

    async fn open_incident_ages(
        &self,
        org: rampart_core::OrgId,
        since: &[rampart_core::Timestamp],
    ) -> crate::Result<Vec<i64>> {
        // One pass over the open incidents: a bucket column per limit.
        let mut columns = Vec::with_capacity(since.len() + 1);
        let mut lower = String::new();
        for (n, _) in since.iter().enumerate() {
            let limit = n + 2;
            columns.push(format!(
                "SUM(CASE WHEN created_at >= ${limit}{lower} THEN 1 ELSE 0 END) AS a{n}"
            ));
            lower = format!(" AND created_at < ${limit}");
        }
        columns.push(format!(
            "SUM(CASE WHEN 1 = 1{lower} THEN 1 ELSE 0 END) AS a{}",
            since.len()
        ));
        let sql = format!(
            "SELECT {} FROM incidents WHERE org_id = $1 \
             AND status IN ('open', 'acknowledged', 'investigating')",
            columns.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(org.to_string());
        for at in since {
            query = query.bind(at.0);
        }
        let row = query.fetch_one(self.pool()).await?;
        (0..=since.len())
            .map(|n| Ok(row.try_get::<Option<i64>, _>(n)?.unwrap_or(0)))
            .collect()
    }

    async fn response_times(
        &self,
        org: rampart_core::OrgId,
        since: rampart_core::Timestamp,
    ) -> crate::Result<crate::incidents_sql::ResponseTimes> {
        let mut times = crate::incidents_sql::ResponseTimes::default();
        for (column, count, mean) in [
            (
                "acknowledged_at",
                &mut times.acknowledged,
                &mut times.mean_to_acknowledge_ms,
            ),
            (
                "resolved_at",
                &mut times.closed,
                &mut times.mean_to_close_ms,
            ),
        ] {
            let row = sqlx::query(&format!(
                "SELECT COUNT(*) AS n, CAST(AVG({column} - created_at) AS BIGINT) AS mean \
                 FROM incidents WHERE org_id = $1 AND {column} >= $2"
            ))
            .bind(org.to_string())
            .bind(since.0)
            .fetch_one(self.pool())
            .await?;
            *count = row.try_get("n")?;
            *mean = row.try_get("mean")?;
        }
        Ok(times)
    }

    async fn incidents_about(
        &self,
        org: rampart_core::OrgId,
        entity: &str,
        limit: u32,
    ) -> crate::Result<Vec<rampart_core::Incident>> {
        let rows = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE org_id = $1 \
             AND entities LIKE $2 ESCAPE '\\' ORDER BY last_seen DESC, id DESC LIMIT $3"
        ))
        .bind(org.to_string())
        .bind(entity_pattern(entity))
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn alerts_about(
        &self,
        org: rampart_core::OrgId,
        entity: &str,
        limit: u32,
    ) -> crate::Result<Vec<rampart_core::Alert>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE org_id = $1 \
             AND entities LIKE $2 ESCAPE '\\' ORDER BY ts DESC, id DESC LIMIT $3"
        ))
        .bind(org.to_string())
        .bind(entity_pattern(entity))
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn list_alerts(
        &self,
        org: rampart_core::OrgId,
        incident: Option<rampart_core::IncidentId>,
        before: Option<rampart_core::AlertId>,
        limit: u32,
    ) -> crate::Result<Vec<rampart_core::Alert>> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE org_id = $1 \
             AND ($2 IS NULL OR incident_id = $2) AND ($3 IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4"
        ))
        .bind(org.to_string())
        .bind(incident.map(|i| i.to_string()))
        .bind(before.map(|a| a.to_string()))
        .bind(crate::shared_sql::page_limit(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn event_id_lists_are_json_arrays_of_hex_texts() {
        let ids = [EventId(0), EventId(0x1000a3), EventId(u64::MAX)];
        let text = ids_json(&ids);
        let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(text, serde_json::to_string(&texts).unwrap());
        assert_eq!(parse_ids("t", &text).unwrap(), ids);
        assert_eq!(ids_json(&[]), "[]");
    }
}
