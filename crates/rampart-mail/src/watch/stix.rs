//! STIX 2.1 bundles in and out. In: `indicator` objects whose pattern is
//! one equality or several joined by `OR` (`[ipv4-addr:value = '…']`,
//! `[domain-name:value = '…']`, `[url:value = '…']`,
//! `[email-addr:value = '…']`, `[file:hashes.'SHA-256' = '…']`), with
//! `valid_until` as the expiry, `labels` and `indicator_types` as tags,
//! and `name`/`description`; observable objects (`ipv4-addr`,
//! `domain-name`, `file` with hashes, …) as indicators too. Patterns with
//! `AND`, other comparisons or qualifiers are refused by index: they are
//! not single values a watchlist can hold. Out: one `indicator` per entry.

use rampart_core::watchlist::{IndicatorType, WatchlistEntry};
use rampart_core::Timestamp;
use serde_json::{json, Map, Value};

use super::canonical;
use super::feed::{FeedItem, ParsedFeed, MAX_ITEMS};

/// Reads a bundle (or a single object, or an array of objects).
pub fn parse_bundle(text: &str) -> Result<ParsedFeed, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON: {e} (line {}, column {})", e.line(), e.column()))?;
    let objects = match value {
        Value::Object(mut bundle)
            if bundle.get("type").and_then(Value::as_str) == Some("bundle") =>
        {
            match bundle.remove("objects") {
                Some(Value::Array(objects)) => objects,
                None => Vec::new(),
                Some(_) => return Err("the bundle's `objects` is not an array".into()),
            }
        }
        Value::Object(object) => vec![Value::Object(object)],
        Value::Array(objects) => objects,
        _ => return Err("not a STIX bundle, object or array of objects".into()),
    };
    let mut feed = ParsedFeed::default();
    for (index, object) in objects.iter().enumerate() {
        if feed.items.len() >= MAX_ITEMS {
            return Err(format!("more than {MAX_ITEMS} indicators"));
        }
        let Some(object) = object.as_object() else {
            feed.refuse(index, "invalid_object", None, "not a JSON object".into());
            continue;
        };
        match object.get("type").and_then(Value::as_str) {
            Some("indicator") => read_indicator(index, object, &mut feed),
            Some(kind) => read_observable(index, kind, object, &mut feed),
            None => feed.refuse(index, "invalid_object", Some("type"), "has no type".into()),
        }
    }
    Ok(feed)
}

fn strings(object: &Map<String, Value>, key: &str) -> Vec<String> {
    object
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn read_indicator(index: usize, object: &Map<String, Value>, feed: &mut ParsedFeed) {
    if object
        .get("pattern_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "stix")
    {
        feed.refuse(
            index,
            "unsupported_pattern",
            Some("pattern_type"),
            "only STIX patterns are read".into(),
        );
        return;
    }
    let Some(pattern) = object.get("pattern").and_then(Value::as_str) else {
        feed.refuse(
            index,
            "invalid_object",
            Some("pattern"),
            "has no pattern".into(),
        );
        return;
    };
    let comparisons = match parse_pattern(pattern) {
        Ok(c) => c,
        Err(detail) => {
            feed.refuse(index, "unsupported_pattern", Some("pattern"), detail);
            return;
        }
    };
    let mut tags = strings(object, "labels");
    for kind in strings(object, "indicator_types") {
        if !tags.contains(&kind) {
            tags.push(kind);
        }
    }
    let description = ["description", "name"]
        .iter()
        .find_map(|k| object.get(*k).and_then(Value::as_str))
        .map(|d| d.trim().chars().take(1000).collect::<String>())
        .filter(|d| !d.is_empty());
    let expires_at = object
        .get("valid_until")
        .and_then(Value::as_str)
        .and_then(Timestamp::parse_rfc3339);
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        feed.refuse(
            index,
            "revoked",
            Some("revoked"),
            "the indicator is revoked".into(),
        );
        return;
    }
    for (path, value) in comparisons {
        let Some(kind) = type_of_path(&path, &value) else {
            feed.refuse(
                index,
                "unsupported_pattern",
                Some("pattern"),
                format!("`{path}` is not a value a watchlist holds"),
            );
            continue;
        };
        match canonical::canonical(kind, &value) {
            Ok(value) => feed.items.push(FeedItem {
                kind,
                value,
                include_subdomains: false,
                tags: tags.clone(),
                description: description.clone(),
                severity: None,
                expires_at,
            }),
            Err(why) => feed.refuse(
                index,
                "invalid_value",
                Some("pattern"),
                format!("`{value}` {why}"),
            ),
        }
    }
}

/// The watchlist type of a pattern's object path.
fn type_of_path(path: &str, value: &str) -> Option<IndicatorType> {
    let path = path.replace(['\'', '"'], "");
    Some(match path.as_str() {
        "ipv4-addr:value" | "ipv6-addr:value" => {
            if value.contains('/') {
                IndicatorType::Cidr
            } else {
                IndicatorType::Ip
            }
        }
        "domain-name:value" => IndicatorType::Domain,
        "url:value" => IndicatorType::Url,
        "email-addr:value" | "email-message:from_ref.value" | "email-message:sender_ref.value" => {
            IndicatorType::Email
        }
        "file:hashes.MD5" | "file:hashes.md5" => IndicatorType::Md5,
        "file:hashes.SHA-1" | "file:hashes.SHA1" | "file:hashes.sha1" => IndicatorType::Sha1,
        "file:hashes.SHA-256" | "file:hashes.SHA256" | "file:hashes.sha256" => {
            IndicatorType::Sha256
        }
        _ => return None,
    })
}

/// An observable object (`ipv4-addr`, `domain-name`, `url`, `email-addr`,
/// `file`): its value or hashes. Other objects (identities, reports,
/// relationships, marking definitions) carry no indicator and are passed
/// over silently.
fn read_observable(index: usize, kind: &str, object: &Map<String, Value>, feed: &mut ParsedFeed) {
    let mut values = Vec::new();
    match kind {
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" => {
            if let Some(value) = object.get("value").and_then(Value::as_str) {
                values.push((format!("{kind}:value"), value.to_owned()));
            }
        }
        "file" => {
            if let Some(hashes) = object.get("hashes").and_then(Value::as_object) {
                for (name, value) in hashes {
                    if let Some(value) = value.as_str() {
                        values.push((format!("file:hashes.{name}"), value.to_owned()));
                    }
                }
            }
        }
        _ => return,
    }
    for (path, value) in values {
        let Some(kind) = type_of_path(&path, &value) else {
            continue;
        };
        match canonical::canonical(kind, &value) {
            Ok(value) => feed.items.push(FeedItem {
                kind,
                value,
                include_subdomains: false,
                tags: Vec::new(),
                description: None,
                severity: None,
                expires_at: None,
            }),
            Err(why) => feed.refuse(
                index,
                "invalid_value",
                Some("value"),
                format!("`{value}` {why}"),
            ),
        }
    }
}

/// The `(object path, value)` comparisons of a pattern made only of
/// equalities joined by `OR`, with or without brackets around each.
pub fn parse_pattern(pattern: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = pattern.trim();
    let mut expect_comparison = true;
    while !rest.is_empty() {
        rest = rest.trim_start_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        if !expect_comparison {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if word == "OR" {
                rest = &rest[2..];
                expect_comparison = true;
                continue;
            }
            return Err(format!(
                "only equalities joined by OR are read; found `{}`",
                rest.chars().take(20).collect::<String>()
            ));
        }
        let path_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '!' || c == '<' || c == '>')
            .ok_or("a comparison has no operator")?;
        let path = rest[..path_end].to_owned();
        rest = rest[path_end..].trim_start();
        let Some(after) = rest.strip_prefix('=') else {
            return Err(format!("`{path}` is compared with other than `=`"));
        };
        rest = after.trim_start();
        let Some(after) = rest.strip_prefix('\'') else {
            return Err(format!("`{path}` is not compared with a quoted string"));
        };
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' => {
                    end = Some(i + 1);
                    break;
                }
                _ => value.push(c),
            }
        }
        let end = end.ok_or("a string is not closed")?;
        rest = &after[end..];
        out.push((path, value));
        expect_comparison = false;
    }
    if out.is_empty() {
        return Err("the pattern has no comparison".into());
    }
    Ok(out)
}

/// The pattern of an entry.
fn pattern_of(entry: &WatchlistEntry) -> String {
    let value = entry.value.replace('\\', "\\\\").replace('\'', "\\'");
    let path = match entry.kind {
        IndicatorType::Ip | IndicatorType::Cidr => {
            if entry.value.contains(':') {
                "ipv6-addr:value"
            } else {
                "ipv4-addr:value"
            }
        }
        IndicatorType::Domain => "domain-name:value",
        IndicatorType::Url => "url:value",
        IndicatorType::Email => "email-addr:value",
        IndicatorType::Md5 => "file:hashes.MD5",
        IndicatorType::Sha1 => "file:hashes.'SHA-1'",
        IndicatorType::Sha256 => "file:hashes.'SHA-256'",
    };
    format!("[{path} = '{value}']")
}

/// The entries as a STIX 2.1 bundle of indicators (ids from the entries'
/// own, so exporting twice gives the same objects).
pub fn bundle(entries: &[WatchlistEntry], bundle_id: &str) -> Value {
    let objects: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut object = json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": format!("indicator--{}", e.id),
                "created": e.created_at.to_rfc3339(),
                "modified": e.updated_at.to_rfc3339(),
                "name": e.value,
                "pattern": pattern_of(e),
                "pattern_type": "stix",
                "valid_from": e.created_at.to_rfc3339(),
            });
            if let Some(at) = e.expires_at {
                object["valid_until"] = json!(at.to_rfc3339());
            }
            if !e.tags.is_empty() {
                object["labels"] = json!(e.tags);
            }
            if let Some(d) = &e.description {
                object["description"] = json!(d);
            }
            object
        })
        .collect();
    json!({"type": "bundle", "id": format!("bundle--{bundle_id}"), "objects": objects})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_of_equalities_joined_by_or_are_read() {
        assert_eq!(
            parse_pattern(
                "[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '203.0.113.0/24']"
            ),
            Ok(vec![
                ("ipv4-addr:value".into(), "198.51.100.1".into()),
                ("ipv4-addr:value".into(), "203.0.113.0/24".into()),
            ])
        );
        assert_eq!(
            parse_pattern(
                "[file:hashes.'SHA-256' = 'ab\\'c'] OR [url:value = 'http://x.example/']"
            ),
            Ok(vec![
                ("file:hashes.'SHA-256'".into(), "ab'c".into()),
                ("url:value".into(), "http://x.example/".into()),
            ])
        );
        assert!(parse_pattern("[a:value = 'x' AND b:value = 'y']").is_err());
        assert!(parse_pattern("[a:value != 'x']").is_err());
        assert!(parse_pattern("[a:value MATCHES 'x']").is_err());
        assert!(parse_pattern("[a:value = 'x'] WITHIN 5 SECONDS").is_err());
        assert!(parse_pattern("[a:value = 'x").is_err());
        assert!(parse_pattern("").is_err());
    }
}
