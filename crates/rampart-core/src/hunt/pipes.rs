//! Matching events into rows: the events themselves (newest first, at most
//! the limit), or counts per field values (`stats`) or per time bucket
//! (`timechart`), then sorted, cut and projected by the later pipes.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::eval::EventFields;
use super::Pipe;
use crate::event::{event_view, EventId};
use crate::Timestamp;

pub type Row = Map<String, Value>;

/// What counting pipes key their counts by: the time bucket (timechart)
/// and the first value of each field (empty when absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountBy {
    pub bucket_ms: Option<i64>,
    pub fields: Vec<String>,
}

impl CountBy {
    /// Writes the key of an event read in place (its fields all known in
    /// place) into `key`, reusing its
    /// strings (counting looks the key up and copies it only when new).
    pub fn fill_key_in_place<F: crate::event::Filterable + ?Sized>(
        &self,
        event: &F,
        key: &mut Vec<String>,
    ) {
        let parts = self.fields.len() + usize::from(self.bucket_ms.is_some());
        key.resize_with(parts, String::new);
        let mut slots = key.iter_mut();
        if let Some(bucket_ms) = self.bucket_ms {
            if let Some(slot) = slots.next() {
                let ts = event.timestamp().0;
                slot.clear();
                slot.push_str(&(ts - ts.rem_euclid(bucket_ms)).to_string());
            }
        }
        for (field, slot) in self.fields.iter().zip(slots) {
            slot.clear();
            super::eval::first_value_into(event, field, slot);
        }
    }
}

/// Rows being built from matching events.
pub struct Rows {
    pipes: Vec<Pipe>,
    /// Events kept (no aggregating pipe first).
    events: Vec<Row>,
    /// Counts per key (the by-values, and the bucket for timecharts).
    counts: HashMap<Vec<String>, u64>,
    limit: usize,
    /// Events that matched.
    pub matched: u64,
}

/// The value of a row's column as a sort key: numbers before text.
fn sort_key(value: Option<&Value>) -> (u8, f64, String) {
    match value {
        Some(Value::Number(n)) => (0, n.as_f64().unwrap_or(0.0), String::new()),
        Some(Value::String(s)) => (1, 0.0, s.clone()),
        Some(other) => (1, 0.0, other.to_string()),
        None => (2, 0.0, String::new()),
    }
}

impl Rows {
    /// `limit` bounds the events kept when no pipe aggregates them.
    pub fn new(pipes: Vec<Pipe>, limit: usize) -> Rows {
        Rows {
            pipes,
            events: Vec::new(),
            counts: HashMap::new(),
            limit,
            matched: 0,
        }
    }

    fn aggregates(&self) -> bool {
        matches!(
            self.pipes.first(),
            Some(Pipe::Stats { .. } | Pipe::Timechart { .. })
        )
    }

    /// False once more events cannot change the answer (event rows, the
    /// limit reached: a sort orders the newest `limit` matches).
    pub fn wants_more(&self) -> bool {
        self.aggregates() || self.events.len() < self.limit
    }

    /// How the first pipe counts, when events read in place can be counted
    /// for it (every field it keys by is known in place).
    pub fn count_by(&self) -> Option<CountBy> {
        let count_by = match self.pipes.first()? {
            Pipe::Stats { by } => CountBy {
                bucket_ms: None,
                fields: by.clone(),
            },
            Pipe::Timechart { bucket_ms, by } => CountBy {
                bucket_ms: Some(*bucket_ms),
                fields: by.iter().cloned().collect(),
            },
            _ => return None,
        };
        count_by
            .fields
            .iter()
            .all(|f| super::eval::known_in_place(f))
            .then_some(count_by)
    }

    /// Adds `n` matching events of one key of [`Rows::count_by`].
    pub fn add_count(&mut self, key: Vec<String>, n: u64) {
        self.matched += n;
        *self.counts.entry(key).or_default() += n;
    }

    /// Adds a matching event (events arrive newest first).
    pub fn push(&mut self, id: EventId, event: &EventFields<'_>) {
        self.matched += 1;
        match self.pipes.first() {
            Some(Pipe::Stats { by }) => {
                let key = by.iter().map(|f| first_value(event, f)).collect();
                *self.counts.entry(key).or_default() += 1;
            }
            Some(Pipe::Timechart { bucket_ms, by }) => {
                let ts = event.event().timestamp.0;
                let bucket = ts - ts.rem_euclid(*bucket_ms);
                let mut key = vec![bucket.to_string()];
                if let Some(field) = by {
                    key.push(first_value(event, field));
                }
                *self.counts.entry(key).or_default() += 1;
            }
            _ => {
                // The newest `limit` events are kept (memory stays
                // bounded); a sort orders those.
                if self.events.len() < self.limit {
                    if let Value::Object(row) = event_view(id, event.event()) {
                        self.events.push(row);
                    }
                }
            }
        }
    }

    /// The rows, every pipe applied.
    pub fn finish(self) -> Vec<Row> {
        let (mut rows, rest) = match self.pipes.first() {
            Some(Pipe::Stats { by }) => {
                let rows = self
                    .counts
                    .into_iter()
                    .map(|(key, count)| {
                        let mut row = Row::new();
                        for (field, value) in by.iter().zip(key) {
                            row.insert(field.clone(), json!(value));
                        }
                        row.insert("count".into(), json!(count));
                        row
                    })
                    .collect::<Vec<_>>();
                let mut rows = rows;
                // By default the biggest counts first.
                rows.sort_by(|a, b| {
                    b["count"].as_u64().cmp(&a["count"].as_u64()).then_with(|| {
                        Value::Object(a.clone())
                            .to_string()
                            .cmp(&Value::Object(b.clone()).to_string())
                    })
                });
                (rows, &self.pipes[1..])
            }
            Some(Pipe::Timechart { by, .. }) => {
                let mut rows = self
                    .counts
                    .into_iter()
                    .map(|(key, count)| {
                        let mut row = Row::new();
                        let bucket = key[0].parse::<i64>().unwrap_or_default();
                        row.insert("time".into(), json!(Timestamp(bucket).to_rfc3339()));
                        if let (Some(field), Some(value)) = (by, key.get(1)) {
                            row.insert(field.clone(), json!(value));
                        }
                        row.insert("count".into(), json!(count));
                        row
                    })
                    .collect::<Vec<_>>();
                rows.sort_by(|a, b| {
                    let key = |r: &Row| {
                        (
                            r["time"].as_str().map(str::to_owned),
                            Value::Object(r.clone()).to_string(),
                        )
                    };
                    key(a).cmp(&key(b))
                });
                (rows, &self.pipes[1..])
            }
            _ => (self.events, &self.pipes[..]),
        };
        for pipe in rest {
            match pipe {
                Pipe::Sort { column, descending } => {
                    rows.sort_by(|a, b| {
                        let order = sort_key(field_of_row(a, column).as_ref())
                            .partial_cmp(&sort_key(field_of_row(b, column).as_ref()))
                            .unwrap_or(std::cmp::Ordering::Equal);
                        if *descending {
                            order.reverse()
                        } else {
                            order
                        }
                    });
                }
                Pipe::Head(n) => rows.truncate(*n),
                Pipe::Fields(fields) => {
                    for row in &mut rows {
                        let kept: Row = fields
                            .iter()
                            .filter_map(|f| field_of_row(row, f).map(|v| (f.clone(), v)))
                            .collect();
                        *row = kept;
                    }
                }
                // Only first in a query (checked by the caller).
                Pipe::Stats { .. } | Pipe::Timechart { .. } => {}
            }
        }
        rows
    }
}

/// A column of a row: the key itself, or a path into its `fields`.
fn field_of_row(row: &Row, name: &str) -> Option<Value> {
    if let Some(value) = row.get(name) {
        return Some(value.clone());
    }
    let mut value = row.get("fields")?;
    for part in name.split('.') {
        value = value.get(part)?;
    }
    Some(value.clone())
}

/// A field's first value (empty when absent), the key of counts.
fn first_value(event: &EventFields<'_>, field: &str) -> String {
    event.values(field).into_iter().next().unwrap_or_default()
}

/// Aggregating pipes (`stats`, `timechart`) may only come first.
pub fn check_order(pipes: &[Pipe]) -> Result<(), String> {
    if pipes
        .iter()
        .skip(1)
        .any(|p| matches!(p, Pipe::Stats { .. } | Pipe::Timechart { .. }))
    {
        return Err("stats and timechart must be the first pipe".into());
    }
    Ok(())
}

/// Applies pipes to events already matched, newest first (the reference
/// path, and for small sets).
pub fn run_pipes<'a>(
    pipes: &[Pipe],
    limit: usize,
    events: impl IntoIterator<Item = (EventId, &'a crate::event::Event)>,
) -> Vec<Row> {
    let mut rows = Rows::new(pipes.to_vec(), limit);
    for (id, event) in events {
        if !rows.wants_more() {
            break;
        }
        rows.push(id, &EventFields::new(event));
    }
    rows.finish()
}
