//! Reading an ingest request body: its size limit, gzip or zstd
//! decompression that stops at the limit (so a decompression bomb costs no
//! more memory than an honest body of the largest allowed size), and the
//! `charset` of its Content-Type (UTF-16 and Latin-1 are read as such).

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};

use crate::error::ApiError;

/// Reads and decompresses a body, as UTF-8; the limit applies before and
/// after decompression.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let charset = charset(headers)?;
    let bytes = decompressed(headers, body, limit).await?;
    charset.to_utf8(bytes)
}

/// The text encodings a body may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    /// `utf-16`: by its byte-order mark, big-endian without one (RFC 2781).
    Utf16,
    Utf16Le,
    Utf16Be,
    Latin1,
}

fn charset(headers: &HeaderMap) -> Result<Charset, ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|v| v.split(';').skip(1))
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_ascii_lowercase());
    match declared.as_deref() {
        None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => Ok(Charset::Utf8),
        Some("utf-16") => Ok(Charset::Utf16),
        Some("utf-16le") => Ok(Charset::Utf16Le),
        Some("utf-16be") => Ok(Charset::Utf16Be),
        Some("iso-8859-1" | "latin1" | "latin-1") => Ok(Charset::Latin1),
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_charset",
            format!("charset {other:?} is not supported: send UTF-8, UTF-16 or ISO-8859-1"),
        )),
    }
}

impl Charset {
    fn to_utf8(self, bytes: Vec<u8>) -> Result<Vec<u8>, ApiError> {
        let little_endian = match self {
            Charset::Utf8 => return Ok(bytes),
            Charset::Latin1 => {
                return Ok(bytes
                    .iter()
                    .map(|&b| char::from(b))
                    .collect::<String>()
                    .into_bytes())
            }
            Charset::Utf16Le => true,
            Charset::Utf16Be => false,
            Charset::Utf16 => bytes.starts_with(&[0xff, 0xfe]),
        };
        if !bytes.len().is_multiple_of(2) {
            return Err(ApiError::bad_request(
                "bad_charset",
                "a UTF-16 body must have an even number of bytes",
            ));
        }
        let units = bytes.chunks_exact(2).map(|pair| {
            let pair = [pair[0], pair[1]];
            if little_endian {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        let mut text = String::with_capacity(bytes.len() / 2);
        for (at, unit) in char::decode_utf16(units).enumerate() {
            match unit {
                // A byte-order mark at the start is not text.
                Ok('\u{feff}') if at == 0 => {}
                Ok(c) => text.push(c),
                Err(_) => {
                    return Err(ApiError::bad_request(
                        "bad_charset",
                        format!(
                            "the body is not valid UTF-16 (unpaired surrogate near byte {})",
                            2 * at
                        ),
                    ))
                }
            }
        }
        Ok(text.into_bytes())
    }
}

/// Reads and decompresses a body; the limit applies before and after.
async fn decompressed(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let raw = collect_limited(body, limit).await?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") | Some("") => Ok(raw),
        Some("gzip") | Some("x-gzip") => {
            inflate(flate2::read::MultiGzDecoder::new(&raw[..]), limit, "gzip")
        }
        Some("zstd") => {
            let decoder = zstd::stream::read::Decoder::new(&raw[..])
                .map_err(|e| ApiError::bad_request("bad_encoding", format!("zstd: {e}")))?;
            inflate(decoder, limit, "zstd")
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?} is not supported: use gzip, zstd or none"),
        )),
    }
}

/// Most extra bytes read (and discarded) after the limit, so that the
/// client, still sending, reads the 413 instead of a reset connection.
const DRAIN_MAX: usize = 64 << 20;

/// Collects the body up to `limit` bytes; past it, keeps reading without
/// keeping (up to [`DRAIN_MAX`]) and then answers 413.
async fn collect_limited(mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    use http_body::Body as _;
    let mut kept = Vec::new();
    let mut over = false;
    let mut drained = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            ApiError::bad_request("bad_body", format!("reading the body failed: {e}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if over {
            drained += data.len();
            if drained > DRAIN_MAX.max(limit) {
                break;
            }
        } else if kept.len() + data.len() > limit {
            over = true;
            kept = Vec::new();
        } else {
            kept.extend_from_slice(&data);
        }
    }
    if over {
        return Err(too_large(limit));
    }
    Ok(kept)
}

fn inflate(reader: impl Read, limit: usize, name: &str) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::bad_request("bad_encoding", format!("{name} body: {e}")))?;
    if read > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than {limit} bytes (after decompression)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn headers(encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_ENCODING, encoding.parse().unwrap());
        h
    }

    fn content_type(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, value.parse().unwrap());
        h
    }

    #[tokio::test]
    async fn declared_charsets_are_read_as_such() {
        let text = "{\"message\":\"Überweisung € ok\"}\n";
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (ct, body) in [
            ("application/x-ndjson; charset=utf-16", le.clone()),
            ("application/x-ndjson; charset=UTF-16LE", le[2..].to_vec()),
            ("application/x-ndjson; charset=\"utf-16\"", be.clone()),
            ("application/x-ndjson; charset=utf-16be", be),
            (
                "application/x-ndjson; charset=utf-8",
                text.as_bytes().to_vec(),
            ),
        ] {
            let got = read_body(&content_type(ct), Body::from(body), 1 << 20)
                .await
                .unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), text, "{ct}");
        }
        let latin = read_body(
            &content_type("text/plain; charset=ISO-8859-1"),
            Body::from(vec![0x55, 0xdc]),
            10,
        )
        .await
        .unwrap();
        assert_eq!(String::from_utf8(latin).unwrap(), "UÜ");
        let err = read_body(
            &content_type("text/plain; charset=koi8-r"),
            Body::from("x"),
            10,
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let err = read_body(
            &content_type("text/plain; charset=utf-16le"),
            Body::from(vec![0x00, 0xd8]),
            10,
        )
        .await
        .unwrap_err();
        assert_eq!(err.error.code, "bad_charset");
    }

    #[tokio::test]
    async fn gzip_and_zstd_decompress_and_bombs_stop_at_the_limit() {
        let text = b"{\"message\":\"hello\"}\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let gz = gz.finish().unwrap();
        let got = read_body(&headers("gzip"), Body::from(gz), 1 << 20)
            .await
            .unwrap();
        assert_eq!(got, text);
        let zs = zstd::bulk::compress(&text, 1).unwrap();
        let got = read_body(&headers("zstd"), Body::from(zs), 1 << 20)
            .await
            .unwrap();
        assert_eq!(got, text);

        // 64 MiB of zeros compress to a few kilobytes; reading stops at 1 MiB.
        let bomb = zstd::bulk::compress(&vec![0u8; 64 << 20], 3).unwrap();
        let err = read_body(&headers("zstd"), Body::from(bomb), 1 << 20)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        let err = read_body(&headers("br"), Body::from("x"), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let err = read_body(&HeaderMap::new(), Body::from("x".repeat(11)), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
