//! Watchlists as CSV. In: a header row naming the columns (`type`,
//! `value`, `include_subdomains`, `tags`, `description`, `severity`,
//! `expires_at`; only `value` is required, any order, unknown columns
//! ignored), or no header and one value per row with the type inferred
//! from its shape. Tags are separated by `;` or `|`. Out: the same
//! columns plus `source`, `hits` and `last_hit_at`, cells defused for
//! spreadsheets.

use rampart_core::csv_text::cell;
use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::Timestamp;

use super::canonical;
use super::feed::{FeedItem, ParsedFeed, MAX_ITEMS};

const COLUMNS: [&str; 7] = [
    "type",
    "value",
    "include_subdomains",
    "tags",
    "description",
    "severity",
    "expires_at",
];

/// Reads a CSV watchlist; rows are indexed from 0 (the header is row 0).
pub fn parse_csv(text: &str) -> Result<ParsedFeed, String> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let mut feed = ParsedFeed::default();
    let Some(first) = rows.next() else {
        return Ok(feed);
    };
    let first = first.map_err(|e| format!("row 1: {e}"))?;
    let header: Vec<String> = first.iter().map(|c| c.to_ascii_lowercase()).collect();
    let columns: Option<Vec<Option<usize>>> = header.iter().any(|h| h == "value").then(|| {
        COLUMNS
            .iter()
            .map(|c| header.iter().position(|h| h == c))
            .collect()
    });
    if columns.is_none() {
        read_row(0, &first, None, &mut feed);
    }
    for (index, row) in rows.enumerate() {
        if feed.items.len() >= MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} indicators"));
        }
        match row {
            Ok(row) => read_row(index + 1, &row, columns.as_deref(), &mut feed),
            Err(e) => feed.refuse(index + 1, "invalid_row", None, e.to_string()),
        }
    }
    Ok(feed)
}

fn read_row(
    index: usize,
    row: &::csv::StringRecord,
    columns: Option<&[Option<usize>]>,
    feed: &mut ParsedFeed,
) {
    let get = |name: &str| -> Option<&str> {
        match columns {
            Some(columns) => {
                let at = COLUMNS.iter().position(|c| *c == name)?;
                columns[at]
                    .and_then(|i| row.get(i))
                    .filter(|v| !v.is_empty())
            }
            None => (name == "value").then(|| row.get(0)).flatten(),
        }
    };
    let Some(value) = get("value") else {
        if row.iter().any(|c| !c.is_empty()) {
            feed.refuse(index, "invalid_value", Some("value"), "has no value".into());
        }
        return;
    };
    let kind = match get("type") {
        Some(name) => {
            match IndicatorType::parse(name) {
                Some(kind) => kind,
                None => {
                    feed.refuse(
                    index,
                    "invalid_type",
                    Some("type"),
                    format!("`{name}` is not one of ip, cidr, domain, url, email, md5, sha1, sha256"),
                );
                    return;
                }
            }
        }
        None => match canonical::infer_type(value) {
            Some(kind) => kind,
            None => {
                feed.refuse(
                    index,
                    "invalid_value",
                    Some("value"),
                    format!("`{value}` is no indicator"),
                );
                return;
            }
        },
    };
    let value_text = value;
    let value = match canonical::canonical(kind, value_text) {
        Ok(v) => v,
        Err(why) => {
            feed.refuse(
                index,
                "invalid_value",
                Some("value"),
                format!("`{value_text}` {why}"),
            );
            return;
        }
    };
    let include_subdomains = match get("include_subdomains")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false" | "no" | "0") => {
            kind == IndicatorType::Domain && value_text.trim().starts_with("*.")
        }
        Some("true" | "yes" | "1") => true,
        Some(other) => {
            feed.refuse(
                index,
                "invalid_value",
                Some("include_subdomains"),
                format!("`{other}` is not true or false"),
            );
            return;
        }
    };
    let severity = match get("severity") {
        None => None,
        Some(s) => match s.parse::<u8>().ok().filter(|s| (1..=5).contains(s)) {
            Some(s) => Some(s),
            None => {
                feed.refuse(
                    index,
                    "invalid_value",
                    Some("severity"),
                    "must be 1 to 5".into(),
                );
                return;
            }
        },
    };
    let expires_at = match get("expires_at") {
        None => None,
        Some(t) => match Timestamp::parse_rfc3339(t) {
            Some(t) => Some(t),
            None => {
                feed.refuse(
                    index,
                    "invalid_value",
                    Some("expires_at"),
                    "is not an RFC 3339 time".into(),
                );
                return;
            }
        },
    };
    feed.items.push(FeedItem {
        kind,
        value,
        include_subdomains,
        tags: get("tags")
            .map(|t| {
                t.split([';', '|'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        description: get("description").map(|d| d.chars().take(1000).collect()),
        severity,
        expires_at,
    });
}

/// The entries as CSV with a header row.
pub fn to_csv(entries: &[WatchlistEntry]) -> String {
    let mut out = String::from(
        "type,value,include_subdomains,tags,description,severity,expires_at,source,hits,last_hit_at\r\n",
    );
    for e in entries {
        let row = [
            e.kind.as_str().to_owned(),
            e.value.clone(),
            e.include_subdomains.to_string(),
            e.tags.join(";"),
            e.description.clone().unwrap_or_default(),
            e.severity.to_string(),
            e.expires_at.map(Timestamp::to_rfc3339).unwrap_or_default(),
            e.source.clone(),
            e.hits.to_string(),
            e.last_hit_at.map(Timestamp::to_rfc3339).unwrap_or_default(),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_headed_file_is_read_by_column_names() {
        let feed = parse_csv(
            "value,type,tags,severity\n198.51.100.7,ip,c2;apt,5\n\"evil.example\",domain,,\n999.1.1.1,ip,,\nx,bogus,,\n",
        )
        .unwrap_or_default();
        assert_eq!(feed.items.len(), 2);
        assert_eq!(feed.items[0].tags, ["c2", "apt"]);
        assert_eq!(feed.items[0].severity, Some(5));
        let refused: Vec<(usize, &str)> = feed
            .errors
            .iter()
            .map(|e| (e.index, e.code.as_str()))
            .collect();
        assert_eq!(refused, [(3, "invalid_value"), (4, "invalid_type")]);
    }

    #[test]
    fn a_bare_list_has_its_types_inferred() {
        let feed =
            parse_csv("# a feed\n198.51.100.7\n*.evil.example\nd41d8cd98f00b204e9800998ecf8427e\n")
                .unwrap_or_default();
        let got: Vec<(IndicatorType, &str, bool)> = feed
            .items
            .iter()
            .map(|i| (i.kind, i.value.as_str(), i.include_subdomains))
            .collect();
        assert_eq!(
            got,
            [
                (IndicatorType::Ip, "198.51.100.7", false),
                (IndicatorType::Domain, "evil.example", true),
                (
                    IndicatorType::Md5,
                    "d41d8cd98f00b204e9800998ecf8427e",
                    false
                ),
            ]
        );
    }
}
