//! The stored form of a SQLite event block, formats 2 and 3: its events
//! in frames of up to [`FRAME_EVENTS`], after a 16-bit hash of every
//! event's source and destination address. A search for an exact address
//! reads the hashes and opens only the frames that can hold it, and one
//! event is read from its frame alone, where a block of format 1 (one zstd
//! stream, still read) is decompressed whole.
//!
//! Layout: format byte, event count, base received time, the hash section
//! (the source hashes of all events, then the destination hashes, little
//! endian, 0 for no address), then each frame as its event count and its
//! [`section`]s. A frame of format 3, the one written, is a section per
//! field ([`columns`]), so a scan decodes only the fields it reads; one of
//! format 2 is a single section of [`codec`]-encoded events.

use std::borrow::Cow;
use std::net::IpAddr;

use rampart_core::event::{Filterable, IpMatch};
use rampart_core::{Event, EventFilter};

use super::codec::{self, Reader};
use super::columns::{self, ColumnFrame};
use super::section::{self, Section};
use super::MAX_BLOCK_EVENTS;

/// Format byte of a block of row frames (format 1 starts with 1, or with
/// zstd's magic number when compressed).
const ROW_FRAMES: u8 = 2;
/// Format byte of a block of column frames, the one written.
const COLUMN_FRAMES: u8 = 3;
/// Events per frame: small enough that one event costs little to read,
/// large enough to compress well.
const FRAME_EVENTS: usize = 256;

/// Encodes and compresses a block of events (at most [`MAX_BLOCK_EVENTS`]).
pub(crate) fn encode(events: &[Event]) -> Vec<u8> {
    let base = events.first().map_or(0, |e| e.received.0);
    let mut out = Vec::with_capacity(events.len() * 64);
    out.push(COLUMN_FRAMES);
    codec::put_varint(&mut out, events.len() as u64);
    codec::put_varint(&mut out, codec::zigzag(base));
    let mut hashes = Vec::with_capacity(events.len() * 4);
    for ip in events.iter().map(|e| e.source_ip) {
        hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
    }
    for ip in events.iter().map(|e| e.destination_ip) {
        hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
    }
    section::put(&mut out, &hashes);
    let mut raw = Vec::with_capacity(FRAME_EVENTS * 64);
    for frame in events.chunks(FRAME_EVENTS) {
        codec::put_varint(&mut out, frame.len() as u64);
        columns::encode_frame(&mut out, frame, base, &mut raw);
    }
    out
}

/// The exact addresses a filter asks for, hashed as blocks store them:
/// what picks the frames a scan opens.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Addresses {
    source: Option<u16>,
    destination: Option<u16>,
}

impl Addresses {
    pub(crate) fn of(filter: &EventFilter) -> Addresses {
        let exact = |want: &Option<IpMatch>| match want {
            Some(IpMatch::Exact(ip)) => Some(address_hash(*ip)),
            _ => None,
        };
        Addresses {
            source: exact(&filter.source_ip),
            destination: exact(&filter.destination_ip),
        }
    }

    fn any(&self) -> bool {
        self.source.is_some() || self.destination.is_some()
    }
}

/// Calls `visit(index, event)` for every event of a stored block (any
/// format) that `keep` accepts, as it reads it before decoding it whole
/// (in place from a row frame, column by column from a column frame); of
/// a framed block, only the frames that can hold the `wanted` addresses
/// are read.
pub(crate) fn scan(
    stored: &[u8],
    wanted: &Addresses,
    mut keep: impl FnMut(usize, &dyn Filterable) -> bool,
    mut visit: impl FnMut(usize, Event),
) -> Result<(), String> {
    let Some(block) = Framed::read(stored)? else {
        return codec::scan_block(&open_format1(stored)?, |i, e| keep(i, e), visit);
    };
    let open = block.frames_holding(wanted)?;
    for (frame, _) in block.frames.iter().zip(open).filter(|(_, open)| *open) {
        match block.format {
            ROW_FRAMES => codec::scan_events(
                &frame.sections[0].open()?,
                frame.first,
                frame.events,
                block.base,
                |i, e| keep(i, e),
                &mut visit,
            )?,
            _ => {
                let columns = frame.columns(block.base)?;
                for i in 0..columns.len() {
                    if keep(frame.first + i, &columns.row(i)) {
                        visit(frame.first + i, columns.event(i)?);
                    }
                }
                columns.check()?;
            }
        }
    }
    Ok(())
}

/// Every event of a stored block (any format).
pub(crate) fn decode(stored: &[u8]) -> Result<Vec<Event>, String> {
    let Some(block) = Framed::read(stored)? else {
        return codec::decode_block(&open_format1(stored)?);
    };
    let mut events = Vec::with_capacity(block.count);
    for frame in &block.frames {
        block.decode_frame(frame, &mut events)?;
    }
    Ok(events)
}

/// The event at `index` of a stored block (any format), reading only its
/// frame of a framed block.
pub(crate) fn get(stored: &[u8], index: usize) -> Result<Option<Event>, String> {
    let Some(block) = Framed::read(stored)? else {
        let mut events = codec::decode_block(&open_format1(stored)?)?;
        return Ok((index < events.len()).then(|| events.swap_remove(index)));
    };
    let Some(frame) = block
        .frames
        .iter()
        .find(|f| (f.first..f.first + f.events).contains(&index))
    else {
        return Ok(None);
    };
    if block.format == ROW_FRAMES {
        let mut events = Vec::with_capacity(frame.events);
        block.decode_frame(frame, &mut events)?;
        return Ok(events.into_iter().nth(index - frame.first));
    }
    frame
        .columns(block.base)?
        .event(index - frame.first)
        .map(Some)
}

/// A block of format 1: uncompressed (its format byte first) or one zstd
/// stream.
fn open_format1(stored: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if stored.first() == Some(&codec::BLOCK_FORMAT) {
        return Ok(Cow::Borrowed(stored));
    }
    zstd::stream::decode_all(stored)
        .map(Cow::Owned)
        .map_err(|e| e.to_string())
}

/// A framed block's header, read in place.
struct Framed<'a> {
    format: u8,
    count: usize,
    base: i64,
    hashes: Section<'a>,
    frames: Vec<Frame<'a>>,
}

struct Frame<'a> {
    /// The block index of the frame's first event.
    first: usize,
    events: usize,
    /// One section of a row frame; one per column of a column frame.
    sections: Vec<Section<'a>>,
}

impl Frame<'_> {
    fn columns(&self, base: i64) -> Result<ColumnFrame<'_>, String> {
        ColumnFrame::new(&self.sections, self.events, base)
    }
}

impl<'a> Framed<'a> {
    /// The block's header and frames; `None` for a block of format 1.
    fn read(stored: &'a [u8]) -> Result<Option<Framed<'a>>, String> {
        let format = match stored.first() {
            Some(&f) if f == ROW_FRAMES || f == COLUMN_FRAMES => f,
            _ => return Ok(None),
        };
        let mut r = Reader::new(&stored[1..]);
        let count = r.len()?;
        // Blocks never hold more; a larger count is damage, and must not
        // size an allocation.
        if count > MAX_BLOCK_EVENTS {
            return Err(format!("block of {count} events"));
        }
        let base = codec::unzigzag(r.varint()?);
        let hashes = Section::read(&mut r)?;
        let sections = if format == ROW_FRAMES {
            1
        } else {
            columns::COLUMNS.len()
        };
        let mut frames = Vec::with_capacity(count.div_ceil(FRAME_EVENTS));
        let mut first = 0usize;
        while first < count {
            let events = r.len()?;
            if events == 0 || events > count - first {
                return Err(format!(
                    "frame of {events} events at event {first} of {count}"
                ));
            }
            frames.push(Frame {
                first,
                events,
                sections: (0..sections)
                    .map(|_| Section::read(&mut r))
                    .collect::<Result<_, _>>()?,
            });
            first += events;
        }
        if !r.rest().is_empty() {
            return Err("bytes after the last frame".into());
        }
        Ok(Some(Framed {
            format,
            count,
            base,
            hashes,
            frames,
        }))
    }

    /// Appends every event of one of its frames.
    fn decode_frame(&self, frame: &Frame<'_>, out: &mut Vec<Event>) -> Result<(), String> {
        if self.format == ROW_FRAMES {
            let raw = frame.sections[0].open()?;
            return codec::decode_events(&raw, frame.events, self.base, out);
        }
        let columns = frame.columns(self.base)?;
        for i in 0..columns.len() {
            out.push(columns.event(i)?);
        }
        Ok(())
    }

    /// For each frame, whether it may hold an event with the wanted
    /// addresses (every frame when none are wanted).
    fn frames_holding(&self, wanted: &Addresses) -> Result<Vec<bool>, String> {
        if !wanted.any() {
            return Ok(vec![true; self.frames.len()]);
        }
        let hashes = self.hashes.open()?;
        if hashes.len() != self.count * 4 {
            return Err(format!(
                "{} bytes of address hashes for {} events",
                hashes.len(),
                self.count
            ));
        }
        let (sources, destinations) = hashes.split_at(self.count * 2);
        let at = |column: &[u8], i: usize| u16::from_le_bytes([column[2 * i], column[2 * i + 1]]);
        let holds = |i: usize| {
            wanted.source.is_none_or(|h| at(sources, i) == h)
                && wanted.destination.is_none_or(|h| at(destinations, i) == h)
        };
        Ok(self
            .frames
            .iter()
            .map(|f| (f.first..f.first + f.events).any(holds))
            .collect())
    }
}

/// An address's 16-bit hash (never 0, which stands for no address).
fn address_hash(ip: IpAddr) -> u16 {
    let bits = match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) | (1 << 64),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let folded = (bits as u64) ^ ((bits >> 64) as u64).rotate_left(29);
    let mixed = folded.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 48) as u16).max(1)
}

fn stored_hash(ip: Option<IpAddr>) -> u16 {
    ip.map_or(0, address_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::Timestamp;

    fn events(n: usize) -> Vec<Event> {
        (0..n)
            .map(|i| Event {
                timestamp: Timestamp(i as i64),
                received: Timestamp(1_700_000_000_000 + i as i64),
                source_ip: format!("10.0.{}.{}", i / 256, i % 256).parse().ok(),
                destination_ip: (i % 3 == 0).then(|| "2001:db8::1".parse().ok()).flatten(),
                message: Some(format!("event {i} of a block")),
                fields: format!(r#"{{"n":{i}}}"#),
                ..Event::default()
            })
            .collect()
    }

    fn scanned(stored: &[u8], filter: &EventFilter) -> (Vec<usize>, usize) {
        let (mut kept, mut seen) = (Vec::new(), 0);
        scan(
            stored,
            &Addresses::of(filter),
            |_, e| {
                seen += 1;
                filter.matches(e)
            },
            |i, _| kept.push(i),
        )
        .unwrap();
        (kept, seen)
    }

    #[test]
    fn framed_blocks_read_back_whole_and_by_index() {
        for n in [0, 1, FRAME_EVENTS, FRAME_EVENTS + 1, 4096] {
            let events = events(n);
            let stored = encode(&events);
            assert_eq!(decode(&stored).unwrap(), events, "{n} events");
            for index in [0, n / 2, n.saturating_sub(1), n] {
                assert_eq!(get(&stored, index).unwrap(), events.get(index).cloned());
            }
        }
    }

    #[test]
    fn an_exact_address_opens_only_the_frames_holding_it() {
        let events = events(4096);
        let stored = encode(&events);
        // 10.0.3.7 is event 775, in the fourth frame.
        let one = EventFilter {
            source_ip: "10.0.3.7".parse().ok(),
            ..EventFilter::default()
        };
        let (kept, seen) = scanned(&stored, &one);
        assert_eq!(kept, vec![775]);
        assert_eq!(seen, FRAME_EVENTS);
        // Both addresses must meet; a network opens every frame.
        let both = EventFilter {
            source_ip: "10.0.3.7".parse().ok(),
            destination_ip: "2001:db8::1".parse().ok(),
            ..EventFilter::default()
        };
        assert_eq!(scanned(&stored, &both).0, Vec::<usize>::new());
        let network = EventFilter {
            source_ip: "10.0.3.0/24".parse().ok(),
            ..EventFilter::default()
        };
        let (kept, seen) = scanned(&stored, &network);
        assert_eq!(kept, (768..1024).collect::<Vec<_>>());
        assert_eq!(seen, 4096);
        let absent = EventFilter {
            source_ip: "192.0.2.1".parse().ok(),
            ..EventFilter::default()
        };
        assert_eq!(scanned(&stored, &absent), (vec![], 0));
    }

    /// A block of format 2, as written before column frames.
    fn encode_row_frames(events: &[Event]) -> Vec<u8> {
        let base = events.first().map_or(0, |e| e.received.0);
        let mut out = vec![ROW_FRAMES];
        codec::put_varint(&mut out, events.len() as u64);
        codec::put_varint(&mut out, codec::zigzag(base));
        let mut hashes = Vec::new();
        for ip in events.iter().map(|e| e.source_ip) {
            hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
        }
        for ip in events.iter().map(|e| e.destination_ip) {
            hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
        }
        section::put(&mut out, &hashes);
        for frame in events.chunks(FRAME_EVENTS) {
            let mut raw = Vec::new();
            codec::encode_events(&mut raw, frame, base);
            codec::put_varint(&mut out, frame.len() as u64);
            section::put(&mut out, &raw);
        }
        out
    }

    #[test]
    fn blocks_of_format_2_still_read() {
        let events = events(600);
        let stored = encode_row_frames(&events);
        assert_eq!(decode(&stored).unwrap(), events);
        for index in [0, 255, 256, 599, 600] {
            assert_eq!(get(&stored, index).unwrap(), events.get(index).cloned());
        }
        let one = EventFilter {
            source_ip: "10.0.1.20".parse().ok(),
            ..EventFilter::default()
        };
        assert_eq!(scanned(&stored, &one), (vec![276], FRAME_EVENTS));
        let text = EventFilter {
            text: Some("EVENT 59".into()),
            ..EventFilter::default()
        };
        assert_eq!(
            scanned(&stored, &text).0,
            [59].into_iter().chain(590..600).collect::<Vec<_>>()
        );
        for cut in 0..stored.len() {
            assert!(decode(&stored[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn blocks_of_format_1_still_read() {
        let events = events(300);
        let raw = codec::encode_block(&events);
        let compressed = zstd::bulk::compress(&raw, 1).unwrap();
        for stored in [&raw, &compressed] {
            assert_eq!(decode(stored).unwrap(), events);
            assert_eq!(get(stored, 299).unwrap(), Some(events[299].clone()));
            let filter = EventFilter {
                source_ip: "10.0.1.20".parse().ok(),
                ..EventFilter::default()
            };
            assert_eq!(scanned(stored, &filter).0, vec![276]);
        }
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let stored = encode(&events(600));
        let filter = EventFilter {
            source_ip: "10.0.1.20".parse().ok(),
            ..EventFilter::default()
        };
        for cut in 0..stored.len() {
            assert!(decode(&stored[..cut]).is_err(), "cut at {cut}");
            let _ = get(&stored[..cut], 276);
            let _ = scan(
                &stored[..cut],
                &Addresses::of(&filter),
                |_, _| true,
                |_, _| {},
            );
        }
        // A damaged event count is refused before it sizes anything.
        let mut huge = vec![COLUMN_FRAMES];
        codec::put_varint(&mut huge, 1 << 40);
        huge.extend_from_slice(&stored[1 + 2..]); // 600 took two varint bytes
        assert!(decode(&huge).unwrap_err().contains("events"));
        let mut flipped = stored.clone();
        for at in (0..flipped.len()).step_by(7) {
            flipped[at] ^= 0x5a;
            let _ = decode(&flipped);
            let _ = get(&flipped, 10);
            let _ = scan(&flipped, &Addresses::default(), |_, _| true, |_, _| {});
            flipped[at] ^= 0x5a;
        }
    }
}
