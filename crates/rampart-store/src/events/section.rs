//! A stored byte string of a block, raw or zstd-compressed, whichever is
//! smaller: a section is a flag (0 raw, 1 zstd), its raw length, its
//! stored length and its bytes. Framed blocks are made of sections.

use std::borrow::Cow;
use std::cell::RefCell;

use super::codec::{self, Reader};

/// zstd level: the fastest levels already shrink log events several-fold.
const COMPRESSION_LEVEL: i32 = 1;
/// No section is this large (a frame holds 256 events of one request,
/// whose body is limited far below): a larger length is damage, not data.
const MAX_SECTION_BYTES: usize = 256 << 20;
/// Sections shorter than this are stored raw without trying: zstd's
/// frame header alone would take most of what it could save.
const MIN_COMPRESSED_BYTES: usize = 64;

const RAW: u8 = 0;
const ZSTD: u8 = 1;

thread_local! {
    // Contexts reused per thread: creating one per frame is measurable.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// A stored byte string, raw or zstd-compressed.
pub(crate) struct Section<'a> {
    compressed: bool,
    raw_len: usize,
    bytes: &'a [u8],
}

impl<'a> Section<'a> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Section<'a>, String> {
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

    pub(crate) fn open(&self) -> Result<Cow<'a, [u8]>, String> {
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
pub(crate) fn put(out: &mut Vec<u8>, raw: &[u8]) {
    let compressed = (raw.len() >= MIN_COMPRESSED_BYTES)
        .then(|| {
            COMPRESSOR.with(|cell| {
                let mut slot = cell.borrow_mut();
                if slot.is_none() {
                    *slot = zstd::bulk::Compressor::new(COMPRESSION_LEVEL).ok();
                }
                match slot.as_mut() {
                    Some(compressor) => compressor.compress(raw).ok(),
                    None => zstd::bulk::compress(raw, COMPRESSION_LEVEL).ok(),
                }
            })
        })
        .flatten();
    let (flag, bytes) = match &compressed {
        Some(c) if c.len() < raw.len() => (ZSTD, &c[..]),
        _ => (RAW, raw),
    };
    out.push(flag);
    codec::put_varint(out, raw.len() as u64);
    codec::put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}
