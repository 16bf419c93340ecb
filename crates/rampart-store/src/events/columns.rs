//! The events of one frame of a block of format 3, column by column: each
//! field of the frame's events is a [`Section`] of its own, opened and
//! decoded the first time a scan reads that field. A message regex opens
//! timestamps and messages; a count by user, timestamps and users; the
//! other columns are opened only when an event is kept and decoded whole.
//!
//! Each column holds one value per event, encoded as [`codec`] encodes
//! that field: timestamps as differences from the previous event's,
//! received times from the block's base, text (the source and the
//! other-fields JSON too) with its length plus one (0: absent).

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::net::IpAddr;

use rampart_core::{Event, Timestamp};

use super::codec::{self, Reader};
use super::section::{self, Section};

/// The stored columns, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    Timestamp,
    Received,
    Source,
    Severity,
    Category,
    Action,
    Outcome,
    SourceIp,
    SourcePort,
    DestinationIp,
    DestinationPort,
    Host,
    User,
    Process,
    Url,
    Message,
    Tags,
    Fields,
    Warnings,
}

/// Every column, in stored order.
pub(crate) const COLUMNS: [Column; 19] = [
    Column::Timestamp,
    Column::Received,
    Column::Source,
    Column::Severity,
    Column::Category,
    Column::Action,
    Column::Outcome,
    Column::SourceIp,
    Column::SourcePort,
    Column::DestinationIp,
    Column::DestinationPort,
    Column::Host,
    Column::User,
    Column::Process,
    Column::Url,
    Column::Message,
    Column::Tags,
    Column::Fields,
    Column::Warnings,
];

/// How a column's values are encoded.
#[derive(Clone, Copy)]
enum Kind {
    /// Zigzag varint differences from the previous event's value.
    Deltas,
    /// Zigzag varint differences from the block's base.
    FromBase,
    /// Varint, 0 for absent, else the value plus one.
    Small,
    Address,
    Text,
    List,
}

impl Column {
    fn kind(self) -> Kind {
        match self {
            Column::Timestamp => Kind::Deltas,
            Column::Received => Kind::FromBase,
            Column::Severity | Column::SourcePort | Column::DestinationPort => Kind::Small,
            Column::SourceIp | Column::DestinationIp => Kind::Address,
            Column::Tags | Column::Warnings => Kind::List,
            Column::Source
            | Column::Category
            | Column::Action
            | Column::Outcome
            | Column::Host
            | Column::User
            | Column::Process
            | Column::Url
            | Column::Message
            | Column::Fields => Kind::Text,
        }
    }

    fn text(self, e: &Event) -> Option<&str> {
        match self {
            Column::Source => Some(&e.source),
            Column::Category => e.category.as_deref(),
            Column::Action => e.action.as_deref(),
            Column::Outcome => e.outcome.as_deref(),
            Column::Host => e.host.as_deref(),
            Column::User => e.user.as_deref(),
            Column::Process => e.process.as_deref(),
            Column::Url => e.url.as_deref(),
            Column::Message => e.message.as_deref(),
            Column::Fields => Some(&e.fields),
            _ => None,
        }
    }

    fn small(self, e: &Event) -> Option<u16> {
        match self {
            Column::Severity => e.severity.map(u16::from),
            Column::SourcePort => e.source_port,
            Column::DestinationPort => e.destination_port,
            _ => None,
        }
    }

    fn address(self, e: &Event) -> Option<IpAddr> {
        match self {
            Column::SourceIp => e.source_ip,
            Column::DestinationIp => e.destination_ip,
            _ => None,
        }
    }

    fn list(self, e: &Event) -> &[String] {
        match self {
            Column::Tags => &e.tags,
            Column::Warnings => &e.warnings,
            _ => &[],
        }
    }
}

/// Appends a frame of `events` (received times relative to `base`): its
/// columns in order, each a section; `raw` is scratch space.
pub(crate) fn encode_frame(out: &mut Vec<u8>, events: &[Event], base: i64, raw: &mut Vec<u8>) {
    for column in COLUMNS {
        raw.clear();
        match column.kind() {
            Kind::Deltas => {
                let mut previous = 0i64;
                for e in events {
                    codec::put_varint(raw, codec::zigzag(e.timestamp.0.wrapping_sub(previous)));
                    previous = e.timestamp.0;
                }
            }
            Kind::FromBase => {
                for e in events {
                    codec::put_varint(raw, codec::zigzag(e.received.0.wrapping_sub(base)));
                }
            }
            Kind::Small => {
                for e in events {
                    codec::put_varint(raw, column.small(e).map_or(0, |v| u64::from(v) + 1));
                }
            }
            Kind::Address => events
                .iter()
                .for_each(|e| codec::put_ip(raw, column.address(e))),
            Kind::Text => events
                .iter()
                .for_each(|e| codec::put_opt(raw, column.text(e))),
            Kind::List => events
                .iter()
                .for_each(|e| codec::put_list(raw, column.list(e))),
        }
        section::put(out, raw);
    }
}

/// One column's values, decoded.
#[derive(Default)]
enum Values {
    /// Not readable: the frame's damage says why.
    #[default]
    Damaged,
    Numbers(Vec<i64>),
    Addresses(Vec<Option<IpAddr>>),
    Texts(Texts),
    Lists(Vec<Vec<String>>),
}

/// A text column: its bytes and each value's span in them.
struct Texts {
    bytes: Vec<u8>,
    /// `(start, length)`; `start == ABSENT` for no value.
    spans: Vec<(u32, u32)>,
}

const ABSENT: u32 = u32::MAX;

impl Texts {
    fn get(&self, index: usize) -> Option<&[u8]> {
        let &(start, len) = self.spans.get(index)?;
        if start == ABSENT {
            return None;
        }
        self.bytes
            .get(start as usize..start as usize + len as usize)
    }
}

/// A frame's columns, each decoded on first use.
pub(crate) struct ColumnFrame<'a> {
    events: usize,
    base: i64,
    sections: &'a [Section<'a>],
    values: [OnceCell<Values>; COLUMNS.len()],
    /// The first column found damaged, if any.
    damage: RefCell<Option<String>>,
}

impl<'a> ColumnFrame<'a> {
    /// A frame of `events` events from its columns' sections, in order.
    pub(crate) fn new(
        sections: &'a [Section<'a>],
        events: usize,
        base: i64,
    ) -> Result<Self, String> {
        if sections.len() != COLUMNS.len() {
            return Err(format!("frame of {} columns", sections.len()));
        }
        Ok(ColumnFrame {
            events,
            base,
            sections,
            values: std::array::from_fn(|_| OnceCell::new()),
            damage: RefCell::new(None),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.events
    }

    /// The event at `index`, read to [`Row`] for filtering.
    pub(crate) fn row(&self, index: usize) -> Row<'_> {
        Row { frame: self, index }
    }

    /// Fails when a column read so far was damaged.
    pub(crate) fn check(&self) -> Result<(), String> {
        match &*self.damage.borrow() {
            Some(damage) => Err(damage.clone()),
            None => Ok(()),
        }
    }

    /// The whole event at `index`.
    pub(crate) fn event(&self, index: usize) -> Result<Event, String> {
        if index >= self.events {
            return Err(format!("event {index} of a frame of {}", self.events));
        }
        let text = |column| {
            self.text(column, index)
                .map(|b| String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8".to_string()))
                .transpose()
        };
        let list = |column| match self.values(column) {
            Values::Lists(lists) => lists.get(index).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        let event = Event {
            timestamp: Timestamp(self.number(Column::Timestamp, index)),
            received: Timestamp(self.number(Column::Received, index)),
            source: text(Column::Source)?.unwrap_or_default(),
            severity: self
                .small(Column::Severity, index)
                .and_then(|s| u8::try_from(s).ok()),
            category: text(Column::Category)?,
            action: text(Column::Action)?,
            outcome: text(Column::Outcome)?,
            source_ip: self.address(Column::SourceIp, index),
            source_port: self.small(Column::SourcePort, index),
            destination_ip: self.address(Column::DestinationIp, index),
            destination_port: self.small(Column::DestinationPort, index),
            host: text(Column::Host)?,
            user: text(Column::User)?,
            process: text(Column::Process)?,
            url: text(Column::Url)?,
            message: text(Column::Message)?,
            tags: list(Column::Tags),
            fields: text(Column::Fields)?.unwrap_or_default(),
            warnings: list(Column::Warnings),
        };
        self.check()?;
        Ok(event)
    }

    fn values(&self, column: Column) -> &Values {
        self.values[column as usize].get_or_init(|| {
            self.sections[column as usize]
                .open()
                .and_then(|raw| self.decode(column, raw))
                .unwrap_or_else(|e| {
                    self.damage
                        .borrow_mut()
                        .get_or_insert_with(|| format!("column {column:?}: {e}"));
                    Values::Damaged
                })
        })
    }

    fn decode(&self, column: Column, raw: Cow<'_, [u8]>) -> Result<Values, String> {
        let mut r = Reader::new(&raw);
        let n = self.events;
        let values = match column.kind() {
            Kind::Deltas => {
                let mut previous = 0i64;
                let mut times = Vec::with_capacity(n);
                for _ in 0..n {
                    previous = previous.wrapping_add(codec::unzigzag(r.varint()?));
                    times.push(previous);
                }
                Values::Numbers(times)
            }
            Kind::FromBase => Values::Numbers(
                (0..n)
                    .map(|_| Ok(self.base.wrapping_add(codec::unzigzag(r.varint()?))))
                    .collect::<Result<_, String>>()?,
            ),
            Kind::Small => Values::Numbers(
                (0..n)
                    .map(|_| match r.small::<u16>()? {
                        Some(v) if column == Column::Severity && v > 255 => {
                            Err(format!("severity {v}"))
                        }
                        Some(v) => Ok(i64::from(v)),
                        None => Ok(-1),
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Kind::Address => Values::Addresses((0..n).map(|_| r.ip()).collect::<Result<_, _>>()?),
            Kind::List => Values::Lists((0..n).map(|_| r.list()).collect::<Result<_, _>>()?),
            Kind::Text => {
                let mut spans = Vec::with_capacity(n);
                for _ in 0..n {
                    spans.push(match r.len()? {
                        0 => (ABSENT, 0),
                        len => {
                            let start = r.position();
                            r.take(len - 1)?;
                            (start as u32, (len - 1) as u32)
                        }
                    });
                }
                if !r.rest().is_empty() {
                    return Err("bytes after the last value".into());
                }
                return Ok(Values::Texts(Texts {
                    bytes: raw.into_owned(),
                    spans,
                }));
            }
        };
        if !r.rest().is_empty() {
            return Err("bytes after the last value".into());
        }
        Ok(values)
    }

    fn number(&self, column: Column, index: usize) -> i64 {
        match self.values(column) {
            Values::Numbers(numbers) => numbers.get(index).copied().unwrap_or_default(),
            _ => 0,
        }
    }

    fn small(&self, column: Column, index: usize) -> Option<u16> {
        u16::try_from(self.number(column, index)).ok()
    }

    fn address(&self, column: Column, index: usize) -> Option<IpAddr> {
        match self.values(column) {
            Values::Addresses(addresses) => addresses.get(index).copied().flatten(),
            _ => None,
        }
    }

    fn text(&self, column: Column, index: usize) -> Option<&[u8]> {
        match self.values(column) {
            Values::Texts(texts) => texts.get(index),
            _ => None,
        }
    }

    /// Text as a filter reads it: damaged text reads as absent (a kept
    /// event is decoded whole, which reports it).
    fn str(&self, column: Column, index: usize) -> Option<&str> {
        self.text(column, index)
            .and_then(|b| std::str::from_utf8(b).ok())
    }
}

/// One event of a [`ColumnFrame`], read column by column.
#[derive(Clone, Copy)]
pub(crate) struct Row<'f> {
    frame: &'f ColumnFrame<'f>,
    index: usize,
}

impl rampart_core::event::Filterable for Row<'_> {
    fn timestamp(&self) -> Timestamp {
        Timestamp(self.frame.number(Column::Timestamp, self.index))
    }
    fn source(&self) -> &str {
        self.frame
            .str(Column::Source, self.index)
            .unwrap_or_default()
    }
    fn severity(&self) -> Option<u8> {
        self.frame
            .small(Column::Severity, self.index)
            .and_then(|s| u8::try_from(s).ok())
    }
    fn category(&self) -> Option<&str> {
        self.frame.str(Column::Category, self.index)
    }
    fn action(&self) -> Option<&str> {
        self.frame.str(Column::Action, self.index)
    }
    fn outcome(&self) -> Option<&str> {
        self.frame.str(Column::Outcome, self.index)
    }
    fn host(&self) -> Option<&str> {
        self.frame.str(Column::Host, self.index)
    }
    fn user(&self) -> Option<&str> {
        self.frame.str(Column::User, self.index)
    }
    fn source_ip(&self) -> Option<IpAddr> {
        self.frame.address(Column::SourceIp, self.index)
    }
    fn source_port(&self) -> Option<u16> {
        self.frame.small(Column::SourcePort, self.index)
    }
    fn destination_ip(&self) -> Option<IpAddr> {
        self.frame.address(Column::DestinationIp, self.index)
    }
    fn destination_port(&self) -> Option<u16> {
        self.frame.small(Column::DestinationPort, self.index)
    }
    fn process(&self) -> Option<&str> {
        self.frame.str(Column::Process, self.index)
    }
    fn url(&self) -> Option<&str> {
        self.frame.str(Column::Url, self.index)
    }
    fn message(&self) -> Option<&str> {
        self.frame.str(Column::Message, self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rampart_core::event::Filterable;

    impl ColumnFrame<'_> {
        /// The columns decoded so far.
        fn opened(&self) -> Vec<Column> {
            COLUMNS
                .into_iter()
                .filter(|c| self.values[*c as usize].get().is_some())
                .collect()
        }
    }

    fn sections(stored: &[u8]) -> Vec<Section<'_>> {
        let mut r = Reader::new(stored);
        let sections = COLUMNS.iter().map(|_| Section::read(&mut r).unwrap());
        sections.collect()
    }

    fn encoded(events: &[Event]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, events, 1_700_000_000_000, &mut Vec::new());
        out
    }

    fn sample(i: usize) -> Event {
        Event {
            timestamp: Timestamp(1_700_000_000_000 + (i as i64 % 7) * 1000 - 3000),
            received: Timestamp(1_700_000_000_000 + i as i64),
            source: "syslog".into(),
            severity: Some((i % 5) as u8),
            outcome: i.is_multiple_of(2).then(|| "failure".into()),
            user: Some(format!("user{}", i % 10)),
            source_ip: format!("10.0.{}.{}", i / 256, i % 256).parse().ok(),
            message: Some(format!(
                "Failed password for user{} port {}",
                i % 10,
                40000 + i
            )),
            fields: format!(r#"{{"n":{i}}}"#),
            tags: vec![format!("t{}", i % 3)],
            ..Event::default()
        }
    }

    #[test]
    fn a_scan_decodes_only_the_columns_it_reads() {
        let events: Vec<Event> = (0..256).map(sample).collect();
        let stored = encoded(&events);
        let sections = sections(&stored);
        let frame = ColumnFrame::new(&sections, events.len(), 1_700_000_000_000).unwrap();
        let hits = (0..frame.len())
            .filter(|&i| {
                frame
                    .row(i)
                    .message()
                    .is_some_and(|m| m.contains("port 40017"))
            })
            .count();
        assert_eq!(hits, 1);
        assert_eq!(frame.opened(), vec![Column::Message]);
        let users = (0..frame.len())
            .filter(|&i| frame.row(i).timestamp().0 > 0 && frame.row(i).user() == Some("user3"))
            .count();
        assert_eq!(users, 26);
        assert_eq!(
            frame.opened(),
            vec![Column::Timestamp, Column::User, Column::Message]
        );
        // A kept event is decoded whole.
        assert_eq!(frame.event(17).unwrap(), events[17]);
        assert_eq!(frame.opened().len(), COLUMNS.len());
        frame.check().unwrap();
    }

    #[test]
    fn a_damaged_column_is_an_error_once_read() {
        let events: Vec<Event> = (0..100).map(sample).collect();
        let stored = encoded(&events);
        let mut sections = sections(&stored);
        // A message column whose first value runs past its end.
        let mut damaged = Vec::new();
        section::put(&mut damaged, &[200, 1]);
        sections[Column::Message as usize] = Section::read(&mut Reader::new(&damaged)).unwrap();
        let frame = ColumnFrame::new(&sections, events.len(), 0).unwrap();
        assert!(frame.row(0).user().is_some());
        frame.check().unwrap();
        let _ = (0..frame.len())
            .filter(|&i| frame.row(i).message().is_some())
            .count();
        assert!(frame.check().unwrap_err().contains("Message"));
        assert!(frame.event(0).is_err());
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-zA-Z0-9 äß€İ\"\\\\]{0,12}")
    }

    prop_compose! {
        fn event()(
            timestamp in any::<i64>(),
            received in any::<i64>(),
            source in "[a-z]{0,6}",
            severity in proptest::option::of(any::<u8>()),
            (category, action, outcome, host) in (text(), text(), text(), text()),
            (user, process, url, message) in (text(), text(), text(), text()),
            source_ip in proptest::option::of(any::<std::net::IpAddr>()),
            destination_ip in proptest::option::of(any::<std::net::IpAddr>()),
            source_port in proptest::option::of(any::<u16>()),
            destination_port in proptest::option::of(any::<u16>()),
            tags in proptest::collection::vec("[a-z]{0,4}", 0..3),
            warnings in proptest::collection::vec("[a-z ]{0,8}", 0..2),
            fields in "\\{(\"[a-z]\":[0-9]{1,3})?\\}",
        ) -> Event {
            Event {
                timestamp: Timestamp(timestamp),
                received: Timestamp(received),
                source, severity, category, action, outcome, host, user, process, url,
                message, source_ip, destination_ip, source_port, destination_port,
                tags, warnings, fields,
            }
        }
    }

    proptest! {
        #[test]
        fn frames_read_back_what_was_written(
            events in proptest::collection::vec(event(), 1..40),
            base in any::<i64>(),
        ) {
            let mut stored = Vec::new();
            encode_frame(&mut stored, &events, base, &mut Vec::new());
            let sections = sections(&stored);
            let frame = ColumnFrame::new(&sections, events.len(), base).unwrap();
            for (i, e) in events.iter().enumerate() {
                let row = frame.row(i);
                prop_assert_eq!(row.timestamp(), e.timestamp);
                prop_assert_eq!(row.user(), e.user.as_deref());
                prop_assert_eq!(row.message(), e.message.as_deref());
                prop_assert_eq!(row.severity(), e.severity);
                prop_assert_eq!(row.destination_ip(), e.destination_ip);
                prop_assert_eq!(row.source_port(), e.source_port);
                prop_assert_eq!(row.source(), e.source.as_str());
                prop_assert_eq!(&frame.event(i).unwrap(), e);
            }
            frame.check().unwrap();
        }
    }
}
