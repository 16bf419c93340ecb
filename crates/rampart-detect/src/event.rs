//! The event as detection sees it: a JSON document (borrowing its text
//! from the input) whose fields are looked up by the paths a Sigma field
//! name maps to, each field resolved once per event and its text
//! lower-cased once.

use std::borrow::Cow;

use rampart_core::event::Json;

/// Index of a Sigma field name in a rule set's field table.
pub type FieldId = u32;

/// Where a Sigma field's value may be found, tried in order.
#[derive(Debug, Clone)]
pub struct FieldPaths {
    paths: Vec<FieldPath>,
}

#[derive(Debug, Clone)]
struct FieldPath {
    /// The whole path as one key (`"process.name"` written flat).
    flat: String,
    /// The path split on dots, for nested objects.
    segments: Vec<String>,
}

/// A path segment that matches any one key (`Event.UserData.*.Consumer`:
/// the element under `UserData` is named after the event).
pub const ANY_KEY: &str = "*";

/// Follows `segments` from `at`; [`ANY_KEY`] tries each member in order.
fn lookup<'e>(at: &'e Json<'e>, segments: &[String]) -> Option<&'e Json<'e>> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(at);
    };
    if first == ANY_KEY {
        return at
            .as_object()?
            .iter()
            .find_map(|(_, member)| lookup(member, rest));
    }
    lookup(at.get(first)?, rest)
}

impl FieldPaths {
    pub fn new(paths: impl IntoIterator<Item = String>) -> FieldPaths {
        let mut seen: Vec<FieldPath> = Vec::new();
        for flat in paths {
            if seen.iter().any(|p| p.flat == flat) {
                continue;
            }
            let segments = flat.split('.').map(str::to_owned).collect();
            seen.push(FieldPath { flat, segments });
        }
        FieldPaths { paths: seen }
    }

    /// Every key path the field may be read from, from the top of the
    /// event: the flat key, and the nested keys of a dotted path.
    pub fn key_paths(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        self.paths.iter().flat_map(|path| {
            let flat = std::iter::once(vec![path.flat.as_str()]);
            let nested = (path.segments.len() > 1)
                .then(|| path.segments.iter().map(String::as_str).collect());
            flat.chain(nested)
        })
    }

    /// The first path present in the event, as the value found there.
    pub fn resolve<'e>(&self, event: &'e Json<'e>) -> Option<&'e Json<'e>> {
        let object = event.as_object()?;
        for path in &self.paths {
            if let Some(value) = object.get(&path.flat) {
                return Some(unwrap_text(value));
            }
            if path.segments.len() > 1 {
                if let Some(at) = lookup(event, &path.segments) {
                    return Some(unwrap_text(at));
                }
            }
        }
        None
    }
}

/// XML-to-JSON converters of EVTX write an element with attributes as
/// `{"#attributes": {...}, "#text": value}`; the value is the text.
fn unwrap_text<'e>(value: &'e Json<'e>) -> &'e Json<'e> {
    match value {
        Json::Object(map) => map.get("#text").unwrap_or(value),
        other => other,
    }
}

/// One scalar of a field (an array field has several).
#[derive(Debug)]
pub struct Scalar<'e> {
    pub json: &'e Json<'e>,
    /// The value as text; numbers and booleans written as JSON writes them.
    pub text: Cow<'e, str>,
    /// `text` lower-cased, for case-insensitive matching.
    pub lower: Cow<'e, str>,
    /// `text` read as an IP address, once the first CIDR test asks.
    ip: std::cell::OnceCell<Option<std::net::IpAddr>>,
}

impl<'e> Scalar<'e> {
    fn new(json: &'e Json<'e>) -> Option<Scalar<'e>> {
        let text: Cow<'e, str> = match json {
            Json::String(s) => Cow::Borrowed(s.as_ref()),
            Json::Number(n) => Cow::Owned(n.to_string()),
            Json::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Json::Null => Cow::Borrowed(""),
            Json::Array(_) | Json::Object(_) => return None,
        };
        let lower = lower_case(&text);
        Some(Scalar {
            json,
            text,
            lower,
            ip: std::cell::OnceCell::new(),
        })
    }

    /// The value as an IP address, if it is one (read once per event
    /// however many CIDR tests ask).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        *self.ip.get_or_init(|| self.text.trim().parse().ok())
    }

    pub fn number(&self) -> Option<f64> {
        match self.json {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Lower-cases text, borrowing it when it has nothing to change.
pub fn lower_case<'a>(text: &Cow<'a, str>) -> Cow<'a, str> {
    let unchanged = text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase());
    if unchanged {
        match text {
            Cow::Borrowed(s) => Cow::Borrowed(s),
            Cow::Owned(s) => Cow::Owned(s.clone()),
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// A resolved field: absent, or its scalars.
#[derive(Debug)]
pub enum Resolved<'e> {
    Absent,
    Present(Vec<Scalar<'e>>),
}

impl<'e> Resolved<'e> {
    fn of(value: Option<&'e Json<'e>>) -> Resolved<'e> {
        match value {
            None => Resolved::Absent,
            Some(Json::Array(items)) => Resolved::Present(
                items
                    .iter()
                    .map(unwrap_text)
                    .filter_map(Scalar::new)
                    .collect(),
            ),
            Some(value) => Resolved::Present(Scalar::new(value).into_iter().collect()),
        }
    }

    pub fn scalars(&self) -> &[Scalar<'e>] {
        match self {
            Resolved::Absent => &[],
            Resolved::Present(s) => s,
        }
    }

    /// Absent, or present only as JSON null.
    pub fn is_null(&self) -> bool {
        match self {
            Resolved::Absent => true,
            Resolved::Present(s) => s.iter().all(|v| v.json.is_null()),
        }
    }
}

/// Per-event state: the event and the fields resolved so far.
pub struct EventContext<'e, 'f> {
    event: &'e Json<'e>,
    fields: &'f [FieldPaths],
    resolved: Vec<(FieldId, Resolved<'e>)>,
    all_scalars: Option<Vec<Scalar<'e>>>,
}

impl<'e, 'f> EventContext<'e, 'f> {
    pub fn new(event: &'e Json<'e>, fields: &'f [FieldPaths]) -> Self {
        EventContext {
            event,
            fields,
            resolved: Vec::new(),
            all_scalars: None,
        }
    }

    /// Resolves the field if this event has not yet.
    pub fn resolve(&mut self, id: FieldId) {
        if self.resolved.iter().any(|(f, _)| *f == id) {
            return;
        }
        let value = self
            .fields
            .get(id as usize)
            .and_then(|paths| paths.resolve(self.event));
        self.resolved.push((id, Resolved::of(value)));
    }

    /// A field resolved before with [`EventContext::resolve`]; absent
    /// otherwise.
    pub fn resolved(&self, id: FieldId) -> &Resolved<'e> {
        const ABSENT: &Resolved<'static> = &Resolved::Absent;
        self.resolved
            .iter()
            .find(|(f, _)| *f == id)
            .map_or(ABSENT, |(_, r)| r)
    }

    /// Collects every scalar of the event, once, for keyword searches.
    pub fn resolve_all_scalars(&mut self) {
        if self.all_scalars.is_some() {
            return;
        }
        let mut out = Vec::new();
        for_each_leaf(self.event, &mut |v| {
            if !v.is_null() {
                out.extend(Scalar::new(v));
            }
        });
        self.all_scalars = Some(out);
    }

    /// Every scalar of the event, once collected by
    /// [`EventContext::resolve_all_scalars`].
    pub fn all_scalars(&self) -> &[Scalar<'e>] {
        self.all_scalars.as_deref().unwrap_or_default()
    }
}

/// Calls `f` on every scalar leaf of a JSON value (of duplicate keys, the
/// last).
pub fn for_each_leaf<'e>(value: &'e Json<'e>, f: &mut impl FnMut(&'e Json<'e>)) {
    match value {
        Json::Object(map) => map.iter().for_each(|(_, v)| for_each_leaf(v, f)),
        Json::Array(items) => items.iter().for_each(|v| for_each_leaf(v, f)),
        leaf => f(leaf),
    }
}
