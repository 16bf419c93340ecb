//! Sigma field names → where the value sits in an event: the name itself,
//! a default mapping onto ECS (as Rampart, Winlogbeat and Elastic agents
//! write events), the EVTX-as-JSON layout (`Event.System.*`,
//! `Event.EventData.*`), and per-organisation overrides.

use std::collections::HashMap;

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

/// Per-organisation field mapping: Sigma field name → event paths tried in
/// order. The event's own key of that name is always tried first, so events
/// already written with Sigma's names need no mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    #[serde(flatten)]
    pub overrides: HashMap<String, Vec<String>>,
}

impl FieldMapping {
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
            paths.push(format!("winlog.event_data.{name}"));
        }
        FieldPaths::new(paths)
    }
}
