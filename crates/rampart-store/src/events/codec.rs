//! A compact binary encoding of events for the embedded store's blocks:
//! varints and length-prefixed text, in a fixed field order (the rows of
//! formats 1 and 2; format 3's columns encode each value the same way). Decoding
//! checks every length, so a damaged block is an error, never a panic.
//! A block of format 1 is a header and its events; the frames of format 2
//! ([`super::framed`]) hold runs of events without a header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rampart_core::{Event, Timestamp};

/// Format version written at the start of every block.
pub(crate) const BLOCK_FORMAT: u8 = 1;

/// A whole block of format 1 (kept for tests: blocks are now written in
/// frames, but those of format 1 on disk must still read).
#[cfg(test)]
pub(crate) fn encode_block(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 256);
    out.push(BLOCK_FORMAT);
    put_varint(&mut out, events.len() as u64);
    let base = events.first().map_or(0, |e| e.received.0);
    put_varint(&mut out, zigzag(base));
    encode_events(&mut out, events, base);
    out
}

/// Appends these events, their received times relative to `base` (as
/// frames of format 2 hold them; kept for tests that such blocks still read).
#[cfg(test)]
pub(crate) fn encode_events(out: &mut Vec<u8>, events: &[Event], base: i64) {
    for event in events {
        encode_event(out, event, base);
    }
}

#[cfg(test)]
fn encode_event(out: &mut Vec<u8>, e: &Event, base: i64) {
    put_varint(out, zigzag(e.timestamp.0));
    put_varint(out, zigzag(e.received.0.wrapping_sub(base)));
    put_str(out, &e.source);
    put_varint(out, e.severity.map_or(0, |s| u64::from(s) + 1));
    put_opt(out, e.category.as_deref());
    put_opt(out, e.action.as_deref());
    put_opt(out, e.outcome.as_deref());
    put_ip(out, e.source_ip);
    put_varint(out, e.source_port.map_or(0, |p| u64::from(p) + 1));
    put_ip(out, e.destination_ip);
    put_varint(out, e.destination_port.map_or(0, |p| u64::from(p) + 1));
    put_opt(out, e.host.as_deref());
    put_opt(out, e.user.as_deref());
    put_opt(out, e.process.as_deref());
    put_opt(out, e.url.as_deref());
    put_opt(out, e.message.as_deref());
    put_list(out, &e.tags);
    put_str(out, &e.fields);
    put_list(out, &e.warnings);
}

/// Decodes a whole block of format 1.
pub(crate) fn decode_block(data: &[u8]) -> Result<Vec<Event>, String> {
    let mut r = Reader { data, at: 0 };
    let (count, base) = r.header()?;
    let mut events = Vec::with_capacity(count.min(1 << 16));
    decode_events(&data[r.at..], count, base, &mut events)?;
    Ok(events)
}

/// Decodes `count` headerless events and appends them to `out`.
pub(crate) fn decode_events(
    data: &[u8],
    count: usize,
    base: i64,
    out: &mut Vec<Event>,
) -> Result<(), String> {
    let mut r = Reader { data, at: 0 };
    for _ in 0..count {
        out.push(r.event(base)?);
    }
    r.finished()
}

/// Calls `visit(index, event)` for every event of a block of format 1
/// that `keep` accepts (see [`scan_events`]).
pub(crate) fn scan_block(
    data: &[u8],
    keep: impl FnMut(usize, &EventRef<'_>) -> bool,
    visit: impl FnMut(usize, Event),
) -> Result<(), String> {
    let mut r = Reader { data, at: 0 };
    let (count, base) = r.header()?;
    scan_events(&data[r.at..], 0, count, base, keep, visit)
}

/// Calls `visit(index, event)` for every one of `count` headerless events
/// (numbered from `first`) that `keep` accepts, decoding each event
/// borrowed first and allocating an owned [`Event`] only for those kept.
pub(crate) fn scan_events(
    data: &[u8],
    first: usize,
    count: usize,
    base: i64,
    mut keep: impl FnMut(usize, &EventRef<'_>) -> bool,
    mut visit: impl FnMut(usize, Event),
) -> Result<(), String> {
    let mut r = Reader { data, at: 0 };
    for index in first..first + count {
        let start = r.at;
        let view = r.event_ref(base)?;
        if keep(index, &view) {
            let mut again = Reader { data, at: start };
            visit(index, again.event(base)?);
        }
    }
    r.finished()
}

/// An encoded event read in place: the filtered fields borrowed (text as
/// bytes, checked as UTF-8 only when a filter reads it), the rest skipped.
pub(crate) struct EventRef<'a> {
    pub timestamp: Timestamp,
    source: &'a [u8],
    severity: Option<u8>,
    category: Option<&'a [u8]>,
    action: Option<&'a [u8]>,
    outcome: Option<&'a [u8]>,
    source_ip: Option<IpAddr>,
    source_port: Option<u16>,
    destination_ip: Option<IpAddr>,
    destination_port: Option<u16>,
    host: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    process: Option<&'a [u8]>,
    url: Option<&'a [u8]>,
    message: Option<&'a [u8]>,
}

/// Stored text, as a filter reads it (damaged text reads as absent; a kept
/// event is decoded in full, which reports it).
fn text(bytes: Option<&[u8]>) -> Option<&str> {
    bytes.and_then(|b| std::str::from_utf8(b).ok())
}

impl rampart_core::event::Filterable for EventRef<'_> {
    fn timestamp(&self) -> Timestamp {
        self.timestamp
    }
    fn source(&self) -> &str {
        text(Some(self.source)).unwrap_or_default()
    }
    fn source_port(&self) -> Option<u16> {
        self.source_port
    }
    fn destination_port(&self) -> Option<u16> {
        self.destination_port
    }
    fn process(&self) -> Option<&str> {
        text(self.process)
    }
    fn url(&self) -> Option<&str> {
        text(self.url)
    }
    fn severity(&self) -> Option<u8> {
        self.severity
    }
    fn category(&self) -> Option<&str> {
        text(self.category)
    }
    fn action(&self) -> Option<&str> {
        text(self.action)
    }
    fn outcome(&self) -> Option<&str> {
        text(self.outcome)
    }
    fn host(&self) -> Option<&str> {
        text(self.host)
    }
    fn user(&self) -> Option<&str> {
        text(self.user)
    }
    fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }
    fn destination_ip(&self) -> Option<IpAddr> {
        self.destination_ip
    }
    fn message(&self) -> Option<&str> {
        text(self.message)
    }
}

pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(crate) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

pub(crate) fn put_list(out: &mut Vec<u8>, items: &[String]) {
    put_varint(out, items.len() as u64);
    for item in items {
        put_str(out, item);
    }
}

pub(crate) fn put_ip(out: &mut Vec<u8>, ip: Option<IpAddr>) {
    match ip {
        None => out.push(0),
        Some(IpAddr::V4(v4)) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

/// Reads encoded values in order, checking every length.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }

    /// How far it has read.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// What is left to read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.at..]
    }

    /// The block header: format byte, event count, base received time.
    fn header(&mut self) -> Result<(usize, i64), String> {
        let format = self.byte()?;
        if format != BLOCK_FORMAT {
            return Err(format!("unknown block format {format}"));
        }
        let count = usize::try_from(self.varint()?).map_err(|_| "bad event count")?;
        Ok((count, unzigzag(self.varint()?)))
    }

    /// Events are followed by nothing: trailing bytes mean damage.
    fn finished(&self) -> Result<(), String> {
        if self.at == self.data.len() {
            Ok(())
        } else {
            Err("bytes after the last event".into())
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let slice = self.data.get(self.at..end).ok_or("block ends early")?;
        self.at = end;
        Ok(slice)
    }

    pub(crate) fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err("varint too long".into())
    }

    pub(crate) fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.varint()?).map_err(|_| "bad length".into())
    }

    fn str(&mut self) -> Result<String, String> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "invalid UTF-8".into())
    }

    fn opt(&mut self) -> Result<Option<String>, String> {
        match self.len()? {
            0 => Ok(None),
            n => {
                let bytes = self.take(n - 1)?;
                String::from_utf8(bytes.to_vec())
                    .map(Some)
                    .map_err(|_| "invalid UTF-8".into())
            }
        }
    }

    pub(crate) fn list(&mut self) -> Result<Vec<String>, String> {
        let n = self.len()?;
        (0..n).map(|_| self.str()).collect()
    }

    pub(crate) fn small<T: TryFrom<u64>>(&mut self) -> Result<Option<T>, String> {
        match self.varint()? {
            0 => Ok(None),
            n => T::try_from(n - 1)
                .map(Some)
                .map_err(|_| "value out of range".into()),
        }
    }

    pub(crate) fn ip(&mut self) -> Result<Option<IpAddr>, String> {
        match self.byte()? {
            0 => Ok(None),
            4 => {
                let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| "bad IPv4")?;
                Ok(Some(IpAddr::V4(Ipv4Addr::from(b))))
            }
            6 => {
                let b: [u8; 16] = self.take(16)?.try_into().map_err(|_| "bad IPv6")?;
                Ok(Some(IpAddr::V6(Ipv6Addr::from(b))))
            }
            other => Err(format!("bad IP tag {other}")),
        }
    }

    fn opt_ref(&mut self) -> Result<Option<&'a [u8]>, String> {
        match self.len()? {
            0 => Ok(None),
            n => self.take(n - 1).map(Some),
        }
    }

    fn skip_str(&mut self) -> Result<(), String> {
        let n = self.len()?;
        self.take(n).map(|_| ())
    }

    fn skip_list(&mut self) -> Result<(), String> {
        for _ in 0..self.len()? {
            self.skip_str()?;
        }
        Ok(())
    }

    fn event_ref(&mut self, base: i64) -> Result<EventRef<'a>, String> {
        let timestamp = Timestamp(unzigzag(self.varint()?));
        let _received = base.wrapping_add(unzigzag(self.varint()?));
        let n = self.len()?;
        let source = self.take(n)?;
        let severity = self.small()?;
        let category = self.opt_ref()?;
        let action = self.opt_ref()?;
        let outcome = self.opt_ref()?;
        let source_ip = self.ip()?;
        let source_port = self.small()?;
        let destination_ip = self.ip()?;
        let destination_port = self.small()?;
        let host = self.opt_ref()?;
        let user = self.opt_ref()?;
        let process = self.opt_ref()?;
        let url = self.opt_ref()?;
        let message = self.opt_ref()?;
        self.skip_list()?; // tags
        self.skip_str()?; // fields
        self.skip_list()?; // warnings
        Ok(EventRef {
            timestamp,
            source,
            severity,
            category,
            action,
            outcome,
            source_ip,
            source_port,
            destination_ip,
            destination_port,
            host,
            user,
            process,
            url,
            message,
        })
    }

    fn event(&mut self, base: i64) -> Result<Event, String> {
        Ok(Event {
            timestamp: Timestamp(unzigzag(self.varint()?)),
            received: Timestamp(base.wrapping_add(unzigzag(self.varint()?))),
            source: self.str()?,
            severity: self.small()?,
            category: self.opt()?,
            action: self.opt()?,
            outcome: self.opt()?,
            source_ip: self.ip()?,
            source_port: self.small()?,
            destination_ip: self.ip()?,
            destination_port: self.small()?,
            host: self.opt()?,
            user: self.opt()?,
            process: self.opt()?,
            url: self.opt()?,
            message: self.opt()?,
            tags: self.list()?,
            fields: self.str()?,
            warnings: self.list()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_damage_is_an_error() {
        let full = Event {
            timestamp: Timestamp(-5),
            received: Timestamp(1_700_000_000_000),
            source: "http".into(),
            severity: Some(255),
            category: Some("authentication".into()),
            action: Some(String::new()),
            source_ip: Some("203.0.113.9".parse().unwrap()),
            source_port: Some(65535),
            destination_ip: Some("2001:db8::1".parse().unwrap()),
            destination_port: Some(0),
            message: Some("héllo".into()),
            tags: vec!["a".into(), "b".into()],
            fields: r#"{"x":1}"#.into(),
            warnings: vec!["rule".into()],
            ..Event::default()
        };
        let events = vec![full, Event::default()];
        let block = encode_block(&events);
        assert_eq!(decode_block(&block).unwrap(), events);
        let mut kept = Vec::new();
        scan_block(&block, |_, e| e.timestamp.0 < 0, |i, e| kept.push((i, e))).unwrap();
        assert_eq!(kept, vec![(0, events[0].clone())]);
        for cut in 0..block.len() {
            assert!(decode_block(&block[..cut]).is_err());
        }
    }
}
