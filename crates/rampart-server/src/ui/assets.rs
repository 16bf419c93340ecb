//! Static files embedded in the binary, served under names that change
//! with their content (so browsers may cache them for good).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file: the start of its name, its extension, content type
/// and content.
struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    content: &'static str,
}

const CSS: Asset = Asset {
    stem: "rampart",
    extension: "css",
    content_type: "text/css; charset=utf-8",
    content: include_str!("rampart.css"),
};

const HTMX: Asset = Asset {
    stem: "htmx-2.0.4",
    extension: "js",
    content_type: "text/javascript; charset=utf-8",
    content: include_str!("vendor/htmx-2.0.4.min.js"),
};

const SCRIPT: Asset = Asset {
    stem: "rampart",
    extension: "js",
    content_type: "text/javascript; charset=utf-8",
    content: include_str!("rampart.js"),
};

const ASSETS: [&Asset; 3] = [&CSS, &HTMX, &SCRIPT];

/// FNV-1a of a file's content: its name changes whenever it does.
const fn content_hash(content: &str) -> u64 {
    let bytes = content.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

impl Asset {
    fn name(&self) -> String {
        format!(
            "{}-{:016x}.{}",
            self.stem,
            content_hash(self.content),
            self.extension
        )
    }
}

/// The stylesheet's file name under `/static/`.
pub fn css_name() -> String {
    CSS.name()
}

/// The UI's own script's file name under `/static/`.
pub fn script_name() -> String {
    SCRIPT.name()
}

/// htmx's file name under `/static/`.
pub fn htmx_name() -> String {
    HTMX.name()
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name() == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.content,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
