//! The stored form of a SQLite event block, format 2: its events in frames
//! of up to [`FRAME_EVENTS`], each zstd-compressed on its own, after a
//! 16-bit hash of every event's source and destination address. A search
//! for an exact address reads the hashes and decompresses only the frames
//! that can hold it, and one event is read from its frame alone, where a
//! block of format 1 (one zstd stream, still read) is decompressed whole.
//!
//! Layout: format byte, event count, base received time, the hash section
//! (the source hashes of all events, then the destination hashes, little
//! endian, 0 for no address), then each frame as its event count and a
//! section of [`codec`]-encoded events. A section is a flag (0 raw,
//! 1 zstd), its raw length, its stored length and its bytes.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::IpAddr;

use rampart_core::event::IpMatch;
use rampart_core::{Event, EventFilter};

use super::codec::{self, EventRef, Reader};
use super::MAX_BLOCK_EVENTS;

/// Format byte of a framed block (format 1 starts with 1, or with zstd's
/// magic number when compressed).
pub(crate) const FRAMED_FORMAT: u8 = 2;
/// Events per frame: small enough that one event costs little to read,
/// large enough to compress well.
const FRAME_EVENTS: usize = 256;
/// zstd level: the fastest levels already shrink log events several-fold.
const COMPRESSION_LEVEL: i32 = 1;
/// No section is this large (a frame holds 256 events of one request,
/// whose body is limited far below): a larger length is damage, not data.
const MAX_SECTION_BYTES: usize = 256 << 20;

const RAW: u8 = 0;
const ZSTD: u8 = 1;

thread_local! {
    // Contexts reused per thread: creating one per frame is measurable.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes and compresses a block of events (at most [`MAX_BLOCK_EVENTS`]).
pub(crate) fn encode(events: &[Event]) -> Vec<u8> {
    let base = events.first().map_or(0, |e| e.received.0);
    let mut out = Vec::with_capacity(events.len() * 64);
    out.push(FRAMED_FORMAT);
    codec::put_varint(&mut out, events.len() as u64);
    codec::put_varint(&mut out, codec::zigzag(base));
    let mut hashes = Vec::with_capacity(events.len() * 4);
    for ip in events.iter().map(|e| e.source_ip) {
        hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
    }
    for ip in events.iter().map(|e| e.destination_ip) {
        hashes.extend_from_slice(&stored_hash(ip).to_le_bytes());
    }
    put_section(&mut out, &hashes);
    let mut raw = Vec::with_capacity(FRAME_EVENTS * 256);
    for frame in events.chunks(FRAME_EVENTS) {
        raw.clear();
        codec::encode_events(&mut raw, frame, base);
        codec::put_varint(&mut out, frame.len() as u64);
        put_section(&mut out, &raw);
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

/// Calls `visit(index, event)` for every event of a stored block (either
/// format) that `keep` accepts; of a framed block, only the frames that can
/// hold the `wanted` addresses are read.
pub(crate) fn scan(
    stored: &[u8],
    wanted: &Addresses,
    mut keep: impl FnMut(usize, &EventRef<'_>) -> bool,
    mut visit: impl FnMut(usize, Event),
) -> Result<(), String> {
    if stored.first() != Some(&FRAMED_FORMAT) {
        return codec::scan_block(&open_format1(stored)?, keep, visit);
    }
    let block = Framed::read(stored)?;
    let open = block.frames_holding(wanted)?;
    for (frame, _) in block.frames.iter().zip(open).filter(|(_, open)| *open) {
        let raw = frame.data.open()?;
        codec::scan_events(
            &raw,
            frame.first,
            frame.events,
            block.base,
            &mut keep,
            &mut visit,
        )?;
    }
    Ok(())
}

/// Every event of a stored block (either format).
pub(crate) fn decode(stored: &[u8]) -> Result<Vec<Event>, String> {
    if stored.first() != Some(&FRAMED_FORMAT) {
        return codec::decode_block(&open_format1(stored)?);
    }
    let block = Framed::read(stored)?;
    let mut events = Vec::with_capacity(block.count);
    for frame in &block.frames {
        codec::decode_events(&frame.data.open()?, frame.events, block.base, &mut events)?;
    }
    Ok(events)
}

/// The event at `index` of a stored block (either format), reading only
/// its frame of a framed block.
pub(crate) fn get(stored: &[u8], index: usize) -> Result<Option<Event>, String> {
    if stored.first() != Some(&FRAMED_FORMAT) {
        let mut events = codec::decode_block(&open_format1(stored)?)?;
        return Ok((index < events.len()).then(|| events.swap_remove(index)));
    }
    let block = Framed::read(stored)?;
    let Some(frame) = block
        .frames
        .iter()
        .find(|f| (f.first..f.first + f.events).contains(&index))
    else {
        return Ok(None);
    };
    let mut found = None;
    codec::scan_events(
        &frame.data.open()?,
        frame.first,
        frame.events,
        block.base,
        |at, _| at == index,
        |_, event| found = Some(event),
    )?;
    Ok(found)
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
    count: usize,
    base: i64,
    hashes: Section<'a>,
    frames: Vec<Frame<'a>>,
}

struct Frame<'a> {
    /// The block index of the frame's first event.
    first: usize,
    events: usize,
    data: Section<'a>,
}

impl<'a> Framed<'a> {
    fn read(stored: &'a [u8]) -> Result<Framed<'a>, String> {
        let mut r = Reader::new(stored);
        if r.byte()? != FRAMED_FORMAT {
            return Err("not a framed block".into());
        }
        let count = r.len()?;
        // Blocks never hold more; a larger count is damage, and must not
        // size an allocation.
        if count > MAX_BLOCK_EVENTS {
            return Err(format!("block of {count} events"));
        }
        let base = codec::unzigzag(r.varint()?);
        let hashes = Section::read(&mut r)?;
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
                data: Section::read(&mut r)?,
            });
            first += events;
        }
        if !r.rest().is_empty() {
            return Err("bytes after the last frame".into());
        }
        Ok(Framed {
            count,
            base,
            hashes,
            frames,
        })
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

/// A stored byte string, raw or zstd-compressed.
struct Section<'a> {
    compressed: bool,
    raw_len: usize,
    bytes: &'a [u8],
}

impl<'a> Section<'a> {
    fn read(r: &mut Reader<'a>) -> Result<Section<'a>, String> {
        let compressed = match r.byte()? {
            RAW => false,
            ZSTD => true,
            other => return Err(format!("unknown section flag {other}")),
        };
        let raw_len = r.len()?;
        let stored_len = r.len()?;
        if raw_len > MAX_SECTION_BYTES || (!compressed && raw_len != stored_len) {
            return Err(format!("section of {raw_len} bytes stored in {stored_len}"));
        }
        Ok(Section {
            compressed,
            raw_len,
            bytes: r.take(stored_len)?,
        })
    }

    fn open(&self) -> Result<Cow<'a, [u8]>, String> {
        if !self.compressed {
            return Ok(Cow::Borrowed(self.bytes));
        }
        let raw = DECOMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                *slot = zstd::bulk::Decompressor::new().ok();
            }
            match slot.as_mut() {
                Some(decompressor) => decompressor.decompress(self.bytes, self.raw_len),
                None => zstd::bulk::decompress(self.bytes, self.raw_len),
            }
        });
        match raw {
            Ok(raw) if raw.len() == self.raw_len => Ok(Cow::Owned(raw)),
            Ok(raw) => Err(format!(
                "section of {} bytes read {}",
                self.raw_len,
                raw.len()
            )),
            Err(e) => Err(format!("damaged section: {e}")),
        }
    }
}

/// Appends a section: compressed when that makes it smaller (compressing
/// in memory does not fail in practice; if it did, the bytes go raw).
fn put_section(out: &mut Vec<u8>, raw: &[u8]) {
    let compressed = COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(COMPRESSION_LEVEL).ok();
        }
        match slot.as_mut() {
            Some(compressor) => compressor.compress(raw).ok(),
            None => zstd::bulk::compress(raw, COMPRESSION_LEVEL).ok(),
        }
    });
    let (flag, bytes) = match &compressed {
        Some(c) if c.len() < raw.len() => (ZSTD, &c[..]),
        _ => (RAW, raw),
    };
    out.push(flag);
    codec::put_varint(out, raw.len() as u64);
    codec::put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
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
        let mut huge = vec![FRAMED_FORMAT];
        codec::put_varint(&mut huge, 1 << 40);
        huge.extend_from_slice(&stored[1 + 2..]); // 600 took two varint bytes
        assert!(decode(&huge).unwrap_err().contains("events"));
        let mut flipped = stored.clone();
        for at in (0..flipped.len()).step_by(7) {
            flipped[at] ^= 0x5a;
            let _ = decode(&flipped);
            let _ = get(&flipped, 10);
            flipped[at] ^= 0x5a;
        }
    }
}
