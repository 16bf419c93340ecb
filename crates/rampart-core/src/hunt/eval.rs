//! Whether an event matches a query's condition: the reference semantics
//! every execution (the stores' pushdown plus this check) agrees with.
//! Field values compare ignoring case; addresses as addresses; numbers as
//! numbers when both sides are numbers; free text is the message.

use std::cell::OnceCell;
use std::net::IpAddr;

use serde_json::Value;

use super::{Expr, Match};
use crate::event::Event;
use crate::event::{contains_ignore_case, Filterable};

/// An event's fields by name, for matching: the well-known ones, `@timestamp`,
/// `tags`, and every other field (dotted paths into nested objects or
/// dotted keys), read from its JSON text when first asked for.
pub struct EventFields<'a> {
    event: &'a Event,
    other: OnceCell<Value>,
}

impl<'a> EventFields<'a> {
    pub fn new(event: &'a Event) -> Self {
        EventFields {
            event,
            other: OnceCell::new(),
        }
    }

    pub fn event(&self) -> &'a Event {
        self.event
    }

    /// Every value of the field as text (lists give one each).
    pub fn values(&self, name: &str) -> Vec<String> {
        match name {
            "@timestamp" => return vec![self.event.timestamp.to_rfc3339()],
            "tags" => return self.event.tags.clone(),
            "event.severity" | "event.category" | "event.action" | "event.outcome"
            | "source.ip" | "source.port" | "destination.ip" | "destination.port" | "host.name"
            | "user.name" | "process.name" | "url.full" | "message" | "source" => {
                return self.event.field_text(name).into_iter().collect()
            }
            _ => {}
        }
        let other = self
            .other
            .get_or_init(|| serde_json::from_str(&self.event.fields).unwrap_or(Value::Null));
        let mut out = Vec::new();
        if let Some(value) = lookup(other, name) {
            texts(value, &mut out, 0);
        }
        out
    }
}

/// A dotted path in nested objects, a dotted key, or a mix.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let object = value.as_object()?;
    if let Some(found) = object.get(path) {
        return Some(found);
    }
    let mut at = 0;
    while let Some(dot) = path[at..].find('.') {
        let (head, rest) = (&path[..at + dot], &path[at + dot + 1..]);
        if let Some(found) = object.get(head).and_then(|inner| lookup(inner, rest)) {
            return Some(found);
        }
        at += dot + 1;
    }
    None
}

fn texts(value: &Value, out: &mut Vec<String>, depth: usize) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Array(items) if depth < 8 => {
            for item in items {
                texts(item, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Where the evaluator reads values: each value of a field is offered to
/// `each` until it says yes. `None`: this source cannot tell (an event
/// read in place knows its well-known fields, not the others).
pub trait FieldSource {
    fn any_value(&self, name: &str, each: &mut dyn FnMut(&str) -> bool) -> Option<bool>;
    fn message_text(&self) -> Option<&str>;
    /// An address field's value, typed (`None`: not such a field here),
    /// so that matches compare it without formatting it as text.
    fn address(&self, _name: &str) -> Option<Option<IpAddr>> {
        None
    }
    /// A numeric field's value, typed (`None`: not such a field here).
    fn numeric(&self, _name: &str) -> Option<Option<f64>> {
        None
    }
}

/// The typed address field `name` of a well-known event view.
fn address_of<F: Filterable + ?Sized>(event: &F, name: &str) -> Option<Option<IpAddr>> {
    match name {
        "source.ip" => Some(event.source_ip()),
        "destination.ip" => Some(event.destination_ip()),
        _ => None,
    }
}

/// The typed numeric field `name` of a well-known event view.
fn numeric_of<F: Filterable + ?Sized>(event: &F, name: &str) -> Option<Option<f64>> {
    match name {
        "event.severity" => Some(event.severity().map(f64::from)),
        "source.port" => Some(event.source_port().map(f64::from)),
        "destination.port" => Some(event.destination_port().map(f64::from)),
        _ => None,
    }
}

impl FieldSource for EventFields<'_> {
    fn any_value(&self, name: &str, each: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        Some(self.values(name).iter().any(|v| each(v)))
    }

    fn message_text(&self) -> Option<&str> {
        self.event.message.as_deref()
    }

    fn address(&self, name: &str) -> Option<Option<IpAddr>> {
        address_of(self.event, name)
    }

    fn numeric(&self, name: &str) -> Option<Option<f64>> {
        numeric_of(self.event, name)
    }
}

/// A field an event read in place knows (every store can filter them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InPlaceField {
    Category,
    Action,
    Outcome,
    Host,
    User,
    Process,
    Url,
    Message,
    Source,
    Timestamp,
    Severity,
    SourceIp,
    SourcePort,
    DestinationIp,
    DestinationPort,
}

impl InPlaceField {
    pub(super) fn named(name: &str) -> Option<InPlaceField> {
        Some(match name {
            "event.category" => InPlaceField::Category,
            "event.action" => InPlaceField::Action,
            "event.outcome" => InPlaceField::Outcome,
            "host.name" => InPlaceField::Host,
            "user.name" => InPlaceField::User,
            "process.name" => InPlaceField::Process,
            "url.full" => InPlaceField::Url,
            "message" => InPlaceField::Message,
            "source" => InPlaceField::Source,
            "@timestamp" => InPlaceField::Timestamp,
            "event.severity" => InPlaceField::Severity,
            "source.ip" => InPlaceField::SourceIp,
            "source.port" => InPlaceField::SourcePort,
            "destination.ip" => InPlaceField::DestinationIp,
            "destination.port" => InPlaceField::DestinationPort,
            _ => return None,
        })
    }
}

/// Whether an event read in place knows this field.
pub fn known_in_place(field: &str) -> bool {
    InPlaceField::named(field).is_some()
}

/// Whether events read in place decide the condition (it names only the
/// fields they know): then [`may_match`] is exactly [`matches`].
pub fn decided_in_place(expr: &Expr) -> bool {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().all(decided_in_place),
        Expr::Not(inner) => decided_in_place(inner),
        Expr::Exists(field) | Expr::Field(field, _) => known_in_place(field),
        Expr::Text(_) => true,
    }
}

/// Appends the first value of a field an event read in place knows
/// (nothing when absent) to `out`, as counts key it.
pub fn first_value_into<F: Filterable + ?Sized>(event: &F, field: &str, out: &mut String) {
    InPlace(event).any_value(field, &mut |v| {
        out.push_str(v);
        true
    });
}

/// An event read in place, through the fields every store can filter: what
/// it cannot say (tags, other fields) is unknown.
struct InPlace<'a, F: ?Sized>(&'a F);

impl<F: Filterable + ?Sized> FieldSource for InPlace<'_, F> {
    fn any_value(&self, name: &str, each: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        let event = self.0;
        let text =
            |value: Option<&str>, each: &mut dyn FnMut(&str) -> bool| value.is_some_and(each);
        Some(match name {
            "event.category" => text(event.category(), each),
            "event.action" => text(event.action(), each),
            "event.outcome" => text(event.outcome(), each),
            "host.name" => text(event.host(), each),
            "user.name" => text(event.user(), each),
            "process.name" => text(event.process(), each),
            "url.full" => text(event.url(), each),
            "message" => text(event.message(), each),
            "source" => each(event.source()),
            "@timestamp" => each(&event.timestamp().to_rfc3339()),
            "event.severity" | "source.ip" | "source.port" | "destination.ip"
            | "destination.port" => event.field_text(name).is_some_and(|v| each(&v)),
            _ => return None,
        })
    }

    fn message_text(&self) -> Option<&str> {
        self.0.message()
    }

    fn address(&self, name: &str) -> Option<Option<IpAddr>> {
        address_of(self.0, name)
    }

    fn numeric(&self, name: &str) -> Option<Option<f64>> {
        numeric_of(self.0, name)
    }
}

/// A hunt's condition as stores check it (`EventFilter::condition`).
impl crate::event::EventCondition for Expr {
    fn may_match(&self, event: &dyn Filterable) -> bool {
        may_match(self, event)
    }

    fn decided_in_place(&self) -> bool {
        decided_in_place(self)
    }

    fn message_needles(&self) -> Vec<Vec<String>> {
        super::message_needles(self)
    }

    fn single_field(&self) -> Option<&str> {
        match self {
            Expr::Field(field, _) if known_in_place(field) => Some(field),
            _ => None,
        }
    }

    fn value_matches(&self, value: &str) -> bool {
        match self {
            Expr::Field(_, m) => field_matches(m, value),
            _ => false,
        }
    }
}

/// Whether the event matches the condition.
pub fn matches(expr: &Expr, event: &EventFields<'_>) -> bool {
    evaluate(expr, event).unwrap_or(false)
}

/// False only when an event read in place (its well-known fields) cannot
/// match: what stores check before decoding an event whole. Every event
/// `matches` accepts passes.
pub fn may_match<F: Filterable + ?Sized>(expr: &Expr, event: &F) -> bool {
    evaluate(expr, &InPlace(event)) != Some(false)
}

/// Three-valued: `None` when the source cannot tell.
fn evaluate(expr: &Expr, event: &dyn FieldSource) -> Option<bool> {
    match expr {
        Expr::And(parts) => {
            let mut known = true;
            for part in parts {
                match evaluate(part, event) {
                    Some(false) => return Some(false),
                    None => known = false,
                    Some(true) => {}
                }
            }
            known.then_some(true)
        }
        Expr::Or(parts) => {
            let mut known = true;
            for part in parts {
                match evaluate(part, event) {
                    Some(true) => return Some(true),
                    None => known = false,
                    Some(false) => {}
                }
            }
            known.then_some(false)
        }
        Expr::Not(inner) => evaluate(inner, event).map(|b| !b),
        Expr::Exists(field) => event.any_value(field, &mut |_| true),
        Expr::Field(field, m) => typed_match(field, m, event)
            .or_else(|| event.any_value(field, &mut |v| field_matches(m, v))),
        Expr::Text(m) => Some(
            event
                .message_text()
                .is_some_and(|message| text_matches(m, message)),
        ),
    }
}

/// A match on a typed field (an address, a number), decided as
/// [`field_matches`] would decide it on the value's text, without that
/// text; `None` when the field or the match is not of that kind.
fn typed_match(field: &str, m: &Match, event: &dyn FieldSource) -> Option<bool> {
    let address = || event.address(field);
    let value = || event.numeric(field);
    match m {
        Match::Network(network) => Some(address()?.is_some_and(|ip| network.matches(ip))),
        // An address's text equals `want` only when `want` is that
        // address; a number's, when `want` is that number (an address's
        // text is never a number, nor a number's an address).
        Match::Is(want) => match address() {
            Some(ip) => Some(ip.is_some_and(|ip| want.parse::<IpAddr>() == Ok(ip))),
            None => {
                let want = number(want)?;
                Some(value()?.is_some_and(|n| n == want))
            }
        },
        Match::Compare(op, want) => {
            let want = number(want)?;
            let n = value()?;
            Some(n.is_some_and(|n| n.partial_cmp(&want).is_some_and(|o| ordered(op, o))))
        }
        _ => None,
    }
}

fn ordered(op: &str, o: std::cmp::Ordering) -> bool {
    match op {
        ">=" => o.is_ge(),
        "<=" => o.is_le(),
        ">" => o.is_gt(),
        _ => o.is_lt(),
    }
}

/// Equal ignoring case, as their lower-case forms compare (without them
/// when both are ASCII).
fn equal_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.to_lowercase() == b.to_lowercase()
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn field_matches(m: &Match, value: &str) -> bool {
    match m {
        Match::Is(want) => {
            // Every address's text has a dot or a colon: plain words skip
            // the parser.
            let address = |text: &str| {
                text.contains(['.', ':'])
                    .then(|| text.parse::<IpAddr>().ok())
                    .flatten()
            };
            if let Some(a) = address(want) {
                if let Some(b) = address(value) {
                    return a == b;
                }
            }
            if let (Some(a), Some(b)) = (number(want), number(value)) {
                return a == b;
            }
            equal_ignoring_case(want, value)
        }
        Match::Phrase(want) => equal_ignoring_case(want, value),
        Match::Wildcard(re) | Match::Regex(re) => re.is_match(value),
        Match::Compare(op, want) => {
            let times = || {
                crate::Timestamp::parse_rfc3339(value).zip(crate::Timestamp::parse_rfc3339(want))
            };
            let order = match (number(value), number(want)) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => match times() {
                    Some((a, b)) => Some(a.cmp(&b)),
                    None => Some(value.cmp(want.as_str())),
                },
            };
            order.is_some_and(|o| ordered(op, o))
        }
        Match::Network(network) => value.parse::<IpAddr>().is_ok_and(|ip| network.matches(ip)),
    }
}

/// Free text against the message: a word or phrase is contained (any
/// case), a wildcard matches one of its words, a regex anywhere.
fn text_matches(m: &Match, message: &str) -> bool {
    match m {
        Match::Is(word) | Match::Phrase(word) => contains_ignore_case(message, word),
        Match::Wildcard(re) => message.split_whitespace().any(|w| re.is_match(w)),
        Match::Regex(re) => re.is_match(message),
        Match::Compare(..) | Match::Network(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    #[test]
    fn typed_fields_decide_as_their_text_does() {
        let wants = [
            "4",
            "4.0",
            " 4 ",
            "04",
            "abc",
            "",
            "-1",
            "1e0",
            "NaN",
            "inf",
            "255",
            "65535",
            "10.0.0.1",
            "::1",
            "2001:DB8::1",
            "::ffff:10.0.0.1",
            "10.0.0.1 ",
        ];
        let mut kinds: Vec<Match> = Vec::new();
        for want in wants {
            kinds.push(Match::Is(want.to_owned()));
            for op in [">=", "<=", ">", "<"] {
                kinds.push(Match::Compare(op, want.to_owned()));
            }
        }
        for network in ["10.0.0.0/8", "::/0", "10.0.0.1", "2001:db8::/32"] {
            kinds.push(Match::Network(network.parse().unwrap()));
        }
        let addresses = [
            None,
            Some("10.0.0.1"),
            Some("::1"),
            Some("2001:db8::1"),
            Some("::ffff:10.0.0.1"),
        ];
        let numbers = [None, Some(0u8), Some(1), Some(4), Some(255)];
        let mut decided = 0;
        for (i, address) in addresses.iter().enumerate() {
            for (j, number) in numbers.iter().enumerate() {
                let event = Event {
                    timestamp: Timestamp(0),
                    severity: *number,
                    source_port: number.map(|n| u16::from(n) * 257),
                    destination_port: numbers[(j + 1) % numbers.len()].map(u16::from),
                    source_ip: address.and_then(|a| a.parse().ok()),
                    destination_ip: addresses[(i + 2) % addresses.len()]
                        .and_then(|a| a.parse().ok()),
                    ..Event::default()
                };
                let fields = EventFields::new(&event);
                let in_place = InPlace(&event);
                for field in [
                    "event.severity",
                    "source.port",
                    "destination.port",
                    "source.ip",
                    "destination.ip",
                ] {
                    for m in &kinds {
                        let text = fields.any_value(field, &mut |v| field_matches(m, v));
                        for typed in [
                            typed_match(field, m, &fields),
                            typed_match(field, m, &in_place),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            decided += 1;
                            assert_eq!(Some(typed), text, "{field} {m:?} on {event:?}");
                        }
                    }
                }
            }
        }
        assert!(decided > 1000, "{decided}");
    }
}
