//! Keyset pagination: the `limit` and `cursor` parameters of list
//! endpoints, the page they answer with, and opaque cursors over text keys.
//! Shared by the routes and the services that build pages.

use serde::{Deserialize, Serialize};

use rampart_core::Error;

/// Keyset pagination parameters of list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// [`PageParams`] of a list keyed by text (rules): the cursor is hex.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TextPageParams {
    /// At most this many items (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^(?:[0-9a-f]{2})*$")]
    pub cursor: Option<String>,
}

impl From<TextPageParams> for PageParams {
    fn from(page: TextPageParams) -> Self {
        PageParams {
            limit: page.limit,
            cursor: page.cursor,
        }
    }
}

impl PageParams {
    pub fn limit(&self) -> Result<u32, Error> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n),
            Some(_) => Err(Error::invalid_field("limit", "must be between 1 and 1000")),
        }
    }

    pub fn cursor<T: std::str::FromStr>(&self) -> Result<Option<T>, Error> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|_| Error::invalid_field("cursor", "not a cursor this API returned"))
            })
            .transpose()
    }
}

/// The cursor of a list keyed by free text (rule ids are whatever a
/// rule's YAML says): the key's bytes in lower-case hex. Anything else is
/// refused like any other list's bad cursor; any hex text is a position
/// in the order of keys (bytes that are not UTF-8 read as U+FFFD).
pub struct TextCursor(pub String);

impl TextCursor {
    pub fn encode(key: &str) -> String {
        use std::fmt::Write as _;
        key.bytes()
            .fold(String::with_capacity(key.len() * 2), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
    }
}

impl std::str::FromStr for TextCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if !s.len().is_multiple_of(2) || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(());
        }
        let bytes: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&s[at..at + 2], 16).map_err(|_| ()))
            .collect::<Result<_, _>>()?;
        Ok(TextCursor(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page; a full page may have more after it.
    pub fn new(items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let full = items.len() >= limit as usize;
        let next_cursor = if full {
            items.last().map(cursor_of)
        } else {
            None
        };
        Self { items, next_cursor }
    }
}
