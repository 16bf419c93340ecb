//! From a decoded body to events: split into items, normalise each, and
//! collect per-item errors with the item's position. CPU-bound and pure.

use rampart_core::event::{normalise_json, Json};
use rampart_core::ingest::{json_items, ndjson_lines, parse_syslog, syslog_event};
use rampart_core::validation::RuleSet;
use rampart_core::{Error, Event, ItemError, Timestamp};

/// How a JSON body is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonLayout {
    /// One object or an array of objects.
    Json,
    /// One object per line.
    Ndjson,
}

/// How raw lines are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RawFormat {
    /// RFC 3164 or RFC 5424 syslog lines; sshd messages are structured.
    Syslog,
    /// Each line kept as the message.
    Plain,
}

/// The events of a body, what was wrong with the rest, and how each
/// validation rule fared.
#[derive(Default)]
pub struct Decoded<'r> {
    pub events: Vec<Event>,
    pub errors: Vec<ItemError>,
    /// `(passed, failed)` per rule of `rules`, in its order.
    pub tallies: Vec<(i64, i64)>,
    rules: Option<&'r RuleSet>,
}

impl<'r> Decoded<'r> {
    fn new(rules: &'r RuleSet) -> Self {
        Self {
            tallies: vec![(0, 0); rules.rules().count()],
            rules: (!rules.is_empty()).then_some(rules),
            ..Self::default()
        }
    }

    fn push(&mut self, index: usize, result: Result<Event, ItemError>) {
        let result = result.and_then(|event| self.validate(event));
        match result {
            Ok(event) => self.events.push(event),
            Err(mut error) => {
                error.index = index;
                self.errors.push(error);
            }
        }
    }

    fn validate(&mut self, mut event: Event) -> Result<Event, ItemError> {
        let Some(rules) = self.rules else {
            return Ok(event);
        };
        let verdict = rules.apply(&mut event);
        for (tally, result) in self.tallies.iter_mut().zip(&verdict.results) {
            match result {
                Some(true) => tally.0 += 1,
                Some(false) => tally.1 += 1,
                None => {}
            }
        }
        match verdict.rejected {
            None => Ok(event),
            Some((rule, field, detail)) => Err(item_error(
                "validation_failed",
                format!("validation rule {rule:?}: {detail}"),
                Some(field),
            )),
        }
    }
}

fn item_error(code: &str, detail: String, field: Option<String>) -> ItemError {
    ItemError {
        index: 0,
        code: code.to_owned(),
        detail,
        field,
    }
}

fn normalised(value: Json<'_>, received: Timestamp, source: &str) -> Result<Event, ItemError> {
    normalise_json(value, received, source)
        .map_err(|e| item_error(e.code, e.to_string(), Some(e.field)))
}

/// Decodes a JSON or NDJSON body. A JSON body that is not valid JSON at all
/// is refused whole (with its line and column); NDJSON lines fail alone.
pub fn decode_json<'r>(
    body: &[u8],
    layout: JsonLayout,
    received: Timestamp,
    source: &str,
    rules: &'r RuleSet,
) -> Result<Decoded<'r>, Error> {
    let mut out = Decoded::new(rules);
    match layout {
        JsonLayout::Json => {
            let items = json_items(body).map_err(|e| {
                Error::bad_request("malformed_json", e.detail)
                    .at(u32::try_from(e.line).ok(), u32::try_from(e.column).ok())
            })?;
            out.events.reserve(items.len());
            for (index, item) in items.into_iter().enumerate() {
                out.push(index, normalised(item, received, source));
            }
        }
        JsonLayout::Ndjson => {
            out.events.reserve(body.len() / 256);
            for (index, item) in ndjson_lines(body) {
                let result = item
                    .map_err(|e| item_error(e.code, e.detail, None))
                    .and_then(|value| normalised(value, received, source));
                out.push(index, result);
            }
        }
    }
    Ok(out)
}

/// Decodes raw text lines.
pub fn decode_raw<'r>(
    body: &[u8],
    format: RawFormat,
    received: Timestamp,
    source: &str,
    rules: &'r RuleSet,
) -> Decoded<'r> {
    let lines = body
        .split(|b| *b == b'\n')
        .map(String::from_utf8_lossy)
        .enumerate();
    decode_lines(lines, format, received, source, rules)
}

/// Decodes numbered text lines (a raw body's, or a syslog listener's
/// batch); blank lines are skipped.
pub fn decode_lines<'r, L: AsRef<str>>(
    lines: impl Iterator<Item = (usize, L)>,
    format: RawFormat,
    received: Timestamp,
    source: &str,
    rules: &'r RuleSet,
) -> Decoded<'r> {
    let mut out = Decoded::new(rules);
    for (index, line) in lines {
        let line = line.as_ref().trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let result = match format {
            RawFormat::Plain => Ok(Event {
                timestamp: received,
                received,
                source: source.to_owned(),
                message: Some(rampart_core::event::without_nul(line.to_owned())),
                fields: "{}".to_owned(),
                ..Event::default()
            }),
            RawFormat::Syslog => parse_syslog(line, received)
                .map(|m| syslog_event(m, received, source))
                .map_err(|e| {
                    item_error("invalid_syslog", format!("line {}: {e}", index + 1), None)
                }),
        };
        out.push(index, result);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_795_348_800_000);
    static NO_RULES: std::sync::LazyLock<RuleSet> = std::sync::LazyLock::new(RuleSet::default);

    #[test]
    fn good_items_survive_bad_neighbours_with_positions() {
        let body =
            b"{\"message\":\"a\"}\n{bad\n\n{\"source.ip\":\"nope\"}\n[1]\n{\"message\":\"b\"}\n";
        let d = decode_json(body, JsonLayout::Ndjson, NOW, "http", &NO_RULES).unwrap();
        assert_eq!(d.events.len(), 2);
        let at: Vec<(usize, &str)> = d
            .errors
            .iter()
            .map(|e| (e.index, e.code.as_str()))
            .collect();
        assert_eq!(
            at,
            [
                (1, "invalid_json"),
                (3, "invalid_field"),
                (4, "not_an_object")
            ]
        );
        assert_eq!(d.errors[1].field.as_deref(), Some("source.ip"));

        let d = decode_json(
            br#"[{"message":"a"}, 3]"#,
            JsonLayout::Json,
            NOW,
            "http",
            &NO_RULES,
        )
        .unwrap();
        assert_eq!((d.events.len(), d.errors[0].index), (1, 1));
        let err = decode_json(b"[{\"a\":1},\n{", JsonLayout::Json, NOW, "http", &NO_RULES)
            .err()
            .unwrap();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn raw_lines_become_events() {
        let body = b"<38>Nov 22 10:00:00 h sshd[1]: Invalid user bob from 10.0.0.1 port 22\r\nnot syslog\n";
        let d = decode_raw(body, RawFormat::Syslog, NOW, "raw", &NO_RULES);
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].action.as_deref(), Some("ssh_invalid_user"));
        assert_eq!(d.errors[0].index, 1);
        let d = decode_raw(body, RawFormat::Plain, NOW, "raw", &NO_RULES);
        assert_eq!(d.events.len(), 2);
        assert_eq!(d.events[1].message.as_deref(), Some("not syslog"));
    }
}
