//! Count keys as compact bytes while counting: addresses, ports and
//! severities stay binary and text is copied as it is, so counting many
//! events formats nothing and hashes short keys; each distinct key is
//! turned into the text key of [`CountBy::fill_key_in_place`] once.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::eval::InPlaceField as Field;
use super::pipes::CountBy;
use crate::event::Filterable;
use crate::Timestamp;

// Each field's part starts with one of these tags.
const ABSENT: u8 = 0;
const TEXT: u8 = 1;
const V4: u8 = 2;
const V6: u8 = 3;
const NUMBER: u8 = 4;
const TIME: u8 = 5;

/// Writes and reads byte keys for one [`CountBy`] whose fields events read
/// in place all know.
#[derive(Clone, Debug)]
pub struct KeyEncoder {
    bucket_ms: Option<i64>,
    fields: Vec<Field>,
}

impl KeyEncoder {
    /// `None` when a field is not one events read in place know.
    pub fn new(by: &CountBy) -> Option<KeyEncoder> {
        Some(KeyEncoder {
            bucket_ms: by.bucket_ms,
            fields: by
                .fields
                .iter()
                .map(|f| Field::named(f))
                .collect::<Option<_>>()?,
        })
    }

    /// Whether every event has the same (empty) key: a plain count.
    pub fn is_empty(&self) -> bool {
        self.bucket_ms.is_none() && self.fields.is_empty()
    }

    /// Writes the event's key into `out` (cleared first).
    pub fn encode<F: Filterable + ?Sized>(&self, event: &F, out: &mut Vec<u8>) {
        out.clear();
        if let Some(bucket_ms) = self.bucket_ms {
            let ts = event.timestamp().0;
            out.extend_from_slice(&(ts - ts.rem_euclid(bucket_ms)).to_le_bytes());
        }
        for field in &self.fields {
            let text = match field {
                Field::Category => event.category(),
                Field::Action => event.action(),
                Field::Outcome => event.outcome(),
                Field::Host => event.host(),
                Field::User => event.user(),
                Field::Process => event.process(),
                Field::Url => event.url(),
                Field::Message => event.message(),
                Field::Source => Some(event.source()),
                Field::Timestamp => {
                    out.push(TIME);
                    out.extend_from_slice(&event.timestamp().0.to_le_bytes());
                    continue;
                }
                Field::Severity => {
                    put_number(out, event.severity().map(u32::from));
                    continue;
                }
                Field::SourcePort => {
                    put_number(out, event.source_port().map(u32::from));
                    continue;
                }
                Field::DestinationPort => {
                    put_number(out, event.destination_port().map(u32::from));
                    continue;
                }
                Field::SourceIp => {
                    put_address(out, event.source_ip());
                    continue;
                }
                Field::DestinationIp => {
                    put_address(out, event.destination_ip());
                    continue;
                }
            };
            match text {
                Some(text) => {
                    out.push(TEXT);
                    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&len.to_le_bytes());
                    out.extend_from_slice(&text.as_bytes()[..len as usize]);
                }
                None => out.push(ABSENT),
            }
        }
    }

    /// The text key of a byte key this encoder wrote: the bucket start,
    /// then each field's value (empty when absent).
    pub fn decode(&self, mut key: &[u8]) -> Vec<String> {
        let mut parts = Vec::with_capacity(self.fields.len() + 1);
        if self.bucket_ms.is_some() {
            parts.push(take_i64(&mut key).to_string());
        }
        for _ in &self.fields {
            let Some((&tag, rest)) = key.split_first() else {
                parts.push(String::new());
                continue;
            };
            key = rest;
            parts.push(match tag {
                TEXT => {
                    let len = take::<4>(&mut key).map_or(0, u32::from_le_bytes) as usize;
                    let (text, rest) = key.split_at(len.min(key.len()));
                    key = rest;
                    String::from_utf8_lossy(text).into_owned()
                }
                V4 => {
                    take::<4>(&mut key).map_or_else(String::new, |b| Ipv4Addr::from(b).to_string())
                }
                V6 => take::<16>(&mut key)
                    .map_or_else(String::new, |b| IpAddr::from(Ipv6Addr::from(b)).to_string()),
                NUMBER => take::<4>(&mut key)
                    .map_or_else(String::new, |b| u32::from_le_bytes(b).to_string()),
                TIME => Timestamp(take_i64(&mut key)).to_rfc3339(),
                _ => String::new(),
            });
        }
        parts
    }
}

fn put_number(out: &mut Vec<u8>, value: Option<u32>) {
    match value {
        Some(n) => {
            out.push(NUMBER);
            out.extend_from_slice(&n.to_le_bytes());
        }
        None => out.push(ABSENT),
    }
}

fn put_address(out: &mut Vec<u8>, ip: Option<IpAddr>) {
    match ip {
        Some(IpAddr::V4(v4)) => {
            out.push(V4);
            out.extend_from_slice(&v4.octets());
        }
        Some(IpAddr::V6(v6)) => {
            out.push(V6);
            out.extend_from_slice(&v6.octets());
        }
        None => out.push(ABSENT),
    }
}

fn take<const N: usize>(key: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = key.split_first_chunk::<N>()?;
    *key = rest;
    Some(*head)
}

fn take_i64(key: &mut &[u8]) -> i64 {
    take::<8>(key).map_or(0, i64::from_le_bytes)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::event::Event;

    fn any_event() -> impl Strategy<Value = Event> {
        (
            -10_000_000_000_000i64..10_000_000_000_000,
            proptest::option::of("\\PC{0,12}"),
            proptest::option::of(any::<u8>()),
            proptest::option::of(any::<IpAddr>()),
            proptest::option::of(any::<u16>()),
            "[a-z]{0,6}",
        )
            .prop_map(|(ts, user, severity, ip, port, source)| Event {
                timestamp: Timestamp(ts),
                user: user.clone(),
                host: user.map(|u| format!("{u}\u{0}x")),
                severity,
                source_ip: ip,
                destination_ip: ip.map(|ip| match ip {
                    IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                    IpAddr::V6(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                }),
                source_port: port,
                source,
                ..Event::default()
            })
    }

    proptest! {
        /// A byte key reads back as the text key counting in place makes,
        /// and two events share a byte key exactly when they share a text key.
        #[test]
        fn byte_keys_read_back_as_text_keys(a in any_event(), b in any_event(), bucket in proptest::option::of(1i64..10_000_000)) {
            let fields = [
                "user.name", "host.name", "event.severity", "source.ip", "destination.ip",
                "source.port", "destination.port", "source", "@timestamp", "process.name",
            ];
            for pair in fields.windows(2) {
                let by = CountBy { bucket_ms: bucket, fields: pair.iter().map(|f| (*f).to_owned()).collect() };
                let encoder = KeyEncoder::new(&by).unwrap();
                let (mut ka, mut kb, mut text) = (Vec::new(), Vec::new(), Vec::new());
                encoder.encode(&a, &mut ka);
                encoder.encode(&b, &mut kb);
                by.fill_key_in_place(&a, &mut text);
                prop_assert_eq!(&encoder.decode(&ka), &text);
                let mut text_b = Vec::new();
                by.fill_key_in_place(&b, &mut text_b);
                // Absent and empty text share a text key, never a byte key.
                if ka == kb {
                    prop_assert_eq!(&text, &text_b);
                }
            }
        }
    }

    #[test]
    fn fields_events_in_place_do_not_know_have_no_encoder() {
        let by = CountBy {
            bucket_ms: None,
            fields: vec!["dns.question.name".into()],
        };
        assert!(KeyEncoder::new(&by).is_none());
    }
}
