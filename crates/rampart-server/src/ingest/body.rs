//! Reading an ingest request body: its size limit, and gzip or zstd
//! decompression that stops at the limit, so a decompression bomb costs
//! no more memory than an honest body of the largest allowed size.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};

use crate::error::ApiError;

/// Reads and decompresses a body; the limit applies before and after.
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
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
