//! Sigma field names → where the value sits in an event: the name itself,
//! a default mapping onto ECS (as Rampart, Winlogbeat and Elastic agents
//! write events), the EVTX-as-JSON layout (`Event.System.*`,
//! `Event.EventData.*`), and per-organisation overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::FieldPaths;

/// The default Sigma → ECS field names.
const DEFAULT_MAPPING: &[(&str, &[&str])] = &[
    // Windows process, file, registry, network and DNS events (Sysmon names).
    ("Image", &["process.executable"]),
    ("CommandLine", &["process.command_line"]),
    ("ParentImage", &["process.parent.executable"]),
    ("ParentCommandLine", &["process.parent.command_line"]),
    ("ProcessId", &["process.pid"]),
    ("ParentProcessId", &["process.parent.pid"]),
    ("OriginalFileName", &["process.pe.original_file_name"]),
    ("Product", &["process.pe.product"]),
    ("Company", &["process.pe.company"]),
    ("Description", &["process.pe.description"]),
    ("CurrentDirectory", &["process.working_directory"]),
    ("IntegrityLevel", &["winlog.event_data.IntegrityLevel"]),
    ("User", &["user.name"]),
    ("TargetFilename", &["file.path"]),
    ("TargetObject", &["registry.path"]),
    ("Details", &["registry.data.strings"]),
    ("ImageLoaded", &["dll.path", "file.path"]),
    ("DestinationIp", &["destination.ip"]),
    ("DestinationPort", &["destination.port"]),
    ("DestinationHostname", &["destination.domain"]),
    ("SourceIp", &["source.ip"]),
    ("SourcePort", &["source.port"]),
    ("SourceHostname", &["source.domain"]),
    ("Protocol", &["network.transport"]),
    ("QueryName", &["dns.question.name"]),
    ("PipeName", &["file.name"]),
    ("EventID", &["event.code", "winlog.event_id"]),
    ("Channel", &["winlog.channel"]),
    (
        "Provider_Name",
        &[
            "Event.System.Provider.#attributes.Name",
            "winlog.provider_name",
        ],
    ),
    ("Computer", &["host.name"]),
    ("ComputerName", &["host.name"]),
    ("Hostname", &["host.name"]),
    ("TargetUserName", &["user.target.name", "user.name"]),
    ("SubjectUserName", &["user.name"]),
    ("IpAddress", &["source.ip"]),
    ("IpPort", &["source.port"]),
    // Generic and Linux names.
    ("src_ip", &["source.ip"]),
    ("src_port", &["source.port"]),
    ("dst_ip", &["destination.ip"]),
    ("dst_port", &["destination.port"]),
    ("username", &["user.name"]),
    ("user", &["user.name"]),
    ("exe", &["process.executable"]),
    ("comm", &["process.name"]),
    ("ProcessName", &["process.name"]),
    ("host", &["host.name"]),
    ("hostname", &["host.name"]),
    // Web server and proxy logs (W3C names).
    ("c-ip", &["source.ip"]),
    ("c-uri", &["url.full", "url.original"]),
    ("cs-uri", &["url.full", "url.original"]),
    ("cs-uri-query", &["url.query"]),
    ("cs-uri-stem", &["url.path"]),
    ("cs-method", &["http.request.method"]),
    ("cs-host", &["url.domain"]),
    ("cs-referrer", &["http.request.referrer"]),
    ("c-useragent", &["user_agent.original"]),
    ("cs-user-agent", &["user_agent.original"]),
    ("sc-status", &["http.response.status_code"]),
    ("r-dns", &["url.domain"]),
];

/// Most Sigma field names one organisation may map.
pub const MAX_MAPPED_FIELDS: usize = 1000;
/// Most event paths one Sigma field name may map to.
pub const MAX_PATHS_PER_FIELD: usize = 8;
/// Longest field name or path accepted, in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// The built-in mapping: Sigma field name → event paths, tried in order.
pub fn default_mapping() -> impl Iterator<Item = (&'static str, &'static [&'static str])> {
    DEFAULT_MAPPING.iter().copied()
}

/// Why an organisation's mapping was refused, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MappingError {
    /// The Sigma field name of the offending entry (empty for the whole).
    pub field: String,
    pub reason: String,
}

/// Per-organisation field mapping: Sigma field name → event paths tried in
/// order. The event's own key of that name is always tried first, so events
/// already written with Sigma's names need no mapping; the organisation's
/// paths come next, then the built-in ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    #[serde(flatten)]
    pub overrides: BTreeMap<String, Vec<String>>,
}

impl FieldMapping {
    /// Checks an organisation's own mapping: bounded in size, every name
    /// and path non-empty, paths without empty dotted segments.
    pub fn check(&self) -> Result<(), MappingError> {
        let refuse = |field: &str, reason: String| MappingError {
            field: field.to_owned(),
            reason,
        };
        if self.overrides.len() > MAX_MAPPED_FIELDS {
            return Err(refuse(
                "",
                format!("at most {MAX_MAPPED_FIELDS} fields may be mapped"),
            ));
        }
        for (name, paths) in &self.overrides {
            if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(refuse(
                    name,
                    format!("a field name must have 1 to {MAX_NAME_CHARS} characters"),
                ));
            }
            if paths.is_empty() || paths.len() > MAX_PATHS_PER_FIELD {
                return Err(refuse(
                    name,
                    format!("map a field to 1 to {MAX_PATHS_PER_FIELD} event paths"),
                ));
            }
            for path in paths {
                if path.is_empty()
                    || path.chars().count() > MAX_NAME_CHARS
                    || path.split('.').any(|segment| segment.trim().is_empty())
                {
                    return Err(refuse(
                        name,
                        format!(
                            "\"{path}\" is not an event path (dotted keys such as \
                             process.command_line, at most {MAX_NAME_CHARS} characters)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Where to look for `name`, most specific first.
    pub fn paths(&self, name: &str) -> FieldPaths {
        let mut paths = vec![name.to_owned()];
        if let Some(custom) = self.overrides.get(name) {
            paths.extend(custom.iter().cloned());
        }
        if let Some((_, mapped)) = DEFAULT_MAPPING.iter().find(|(n, _)| *n == name) {
            paths.extend(mapped.iter().map(|p| p.to_string()));
        }
        if !name.contains('.') {
            paths.push(format!("Event.EventData.{name}"));
            paths.push(format!("Event.System.{name}"));
            // WMI-Activity, AppLocker and some Defender events keep their
            // data in an element named after the event.
            paths.push(format!("Event.UserData.*.{name}"));
            paths.push(format!("winlog.event_data.{name}"));
            // Windows Defender writes `Threat Name` for Sigma's `ThreatName`.
            if let Some(spaced) = spaced_words(name) {
                paths.push(format!("Event.EventData.{spaced}"));
                paths.push(format!("winlog.event_data.{spaced}"));
            }
        }
        FieldPaths::new(paths)
    }
}

/// `ThreatName` as `Threat Name`: a space before each capital that follows
/// a lower-case letter; `None` when that changes nothing.
fn spaced_words(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push(' ');
        }
        previous_lower = c.is_ascii_lowercase();
        out.push(c);
    }
    (out.len() != name.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mapping(entries: &[(&str, &[&str])]) -> FieldMapping {
        FieldMapping {
            overrides: entries
                .iter()
                .map(|(n, p)| (n.to_string(), p.iter().map(|p| p.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn a_sound_mapping_passes_the_check() {
        let m = mapping(&[("Image", &["proc.exe", "process.executable"])]);
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn the_check_names_the_offending_field() {
        for (bad, reason) in [
            (mapping(&[("Image", &[])]), "1 to 8 event paths"),
            (mapping(&[("Image", &["proc..exe"])]), "not an event path"),
            (mapping(&[("Image", &[""])]), "not an event path"),
            (mapping(&[("", &["a"])]), "field name"),
        ] {
            let err = bad.check().unwrap_err();
            assert!(err.reason.contains(reason), "{err}");
            assert_eq!(&err.field, bad.overrides.keys().next().unwrap());
        }
    }

    #[test]
    fn spaced_evtx_names_are_read_for_their_sigma_names() {
        assert_eq!(spaced_words("ThreatName").as_deref(), Some("Threat Name"));
        assert_eq!(spaced_words("ProcessName").as_deref(), Some("Process Name"));
        assert_eq!(spaced_words("Image"), None);
        assert_eq!(spaced_words("IPAddress"), None);
        let paths = FieldMapping::default().paths("SourceName");
        assert!(paths
            .key_paths()
            .any(|p| p == ["Event", "EventData", "Source Name"]));
    }

    #[test]
    fn own_paths_come_after_the_name_and_before_the_defaults() {
        let m = mapping(&[("Image", &["proc.exe"])]);
        let resolved = m.paths("Image");
        let paths: Vec<Vec<&str>> = resolved.key_paths().collect();
        let flat: Vec<&str> = paths
            .iter()
            .filter(|p| p.len() == 1)
            .map(|p| p[0])
            .collect();
        assert_eq!(&flat[..3], ["Image", "proc.exe", "process.executable"]);
    }
}
