//! Static files embedded in the binary, served under names that change
//! with their content (so browsers may cache them for good).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("rampart.css");

/// FNV-1a of the stylesheet: its name changes whenever it does.
const CSS_HASH: u64 = {
    let bytes = CSS.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
};

/// The stylesheet's file name under `/static/`.
pub fn css_name() -> String {
    format!("rampart-{:016x}.css", CSS_HASH)
}

pub async fn serve(Path(file): Path<String>) -> Response {
    if file == css_name() {
        (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            CSS,
        )
            .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
