//! Logsource routing: what product, category and service an event comes
//! from, inferred from its content, so a rule only sees events its
//! `logsource` describes. What cannot be inferred is left open, and an open
//! attribute does not exclude any rule.

use rampart_core::event::Json;

use crate::sigma::LogSource;

/// The logsource attributes known of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EventSource {
    pub product: Option<&'static str>,
    /// The categories the event belongs to (a Sysmon registry event is
    /// both `registry_event` and, say, `registry_set`); empty when unknown.
    pub categories: &'static [&'static str],
    pub service: Option<&'static str>,
}

impl EventSource {
    /// Whether a rule with this logsource may apply to the event.
    pub fn admits(&self, rule: &LogSource) -> bool {
        let agrees = |want: &Option<String>, have: Option<&'static str>| match (want, have) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        };
        let category = match &rule.category {
            Some(want) if !self.categories.is_empty() => self.categories.contains(&want.as_str()),
            _ => true,
        };
        category && agrees(&rule.product, self.product) && agrees(&rule.service, self.service)
    }

    /// Infers the logsource from well-known fields: the Windows channel and
    /// event id (EVTX JSON, flat Sysmon/Winlogbeat fields), ECS
    /// `host.os.type`, and sshd events.
    pub fn infer(event: &Json<'_>) -> EventSource {
        if event.as_object().is_none() {
            return EventSource::default();
        }
        let system_present = event.path(SYSTEM_PATH.iter().copied()).is_some();
        EventSource::infer_from(system_present, |slot| {
            let value = event.path(slot.path().iter().copied())?;
            let value = match slot.unwraps_text() {
                true => value.get("#text").unwrap_or(value),
                false => value,
            };
            Some(match value {
                Json::String(s) => SlotValue::Text(s),
                Json::Number(n) => SlotValue::Number(n.as_u64()),
                _ => SlotValue::Other,
            })
        })
    }

    /// Infers the logsource from the values found at each [`Slot`] (`None`
    /// where the event has nothing), and whether the event has an
    /// `Event.System` member.
    pub fn infer_from<'v>(
        system_present: bool,
        value_at: impl Fn(Slot) -> Option<SlotValue<'v>>,
    ) -> EventSource {
        let first = |slots: &[Slot]| slots.iter().find_map(|&slot| value_at(slot));
        let text = |value: SlotValue<'v>| match value {
            SlotValue::Text(t) => Some(t),
            _ => None,
        };
        let channel = first(&[
            Slot::SystemChannel,
            Slot::Channel,
            Slot::WinlogChannelFlat,
            Slot::WinlogChannel,
        ])
        .and_then(text);
        let event_id = first(&[Slot::SystemEventId, Slot::EventId, Slot::WinlogEventIdFlat])
            .and_then(|v| match v {
                SlotValue::Number(n) => n,
                SlotValue::Text(s) => s.trim().parse().ok(),
                SlotValue::Other => None,
            });
        if let Some(channel) = channel {
            let service = windows_service(channel);
            let categories = event_id.map_or(&[][..], |id| windows_categories(service, id));
            return EventSource {
                product: Some("windows"),
                categories,
                service,
            };
        }
        if system_present {
            return EventSource {
                product: Some("windows"),
                ..EventSource::default()
            };
        }
        let os = first(&[Slot::HostOsTypeFlat, Slot::HostOsType])
            .and_then(text)
            .map(str::to_ascii_lowercase);
        let product = match os.as_deref() {
            Some("windows") => Some("windows"),
            Some("linux") => Some("linux"),
            Some("macos") => Some("macos"),
            _ => None,
        };
        let process = first(&[Slot::ProcessNameFlat, Slot::ProcessName]).and_then(text);
        if process == Some("sshd") {
            return EventSource {
                product: Some("linux"),
                categories: &[],
                service: Some("sshd"),
            };
        }
        EventSource {
            product,
            ..EventSource::default()
        }
    }
}

/// Where the EVTX layout keeps an event's system part; its presence alone
/// says the event comes from Windows.
pub const SYSTEM_PATH: [&str; 2] = ["Event", "System"];

/// A place in an event that logsource inference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    SystemChannel,
    Channel,
    WinlogChannelFlat,
    WinlogChannel,
    SystemEventId,
    EventId,
    WinlogEventIdFlat,
    HostOsTypeFlat,
    HostOsType,
    ProcessNameFlat,
    ProcessName,
}

impl Slot {
    /// Every slot, in declaration order (`slot as usize` indexes it).
    pub const ALL: [Slot; 11] = [
        Slot::SystemChannel,
        Slot::Channel,
        Slot::WinlogChannelFlat,
        Slot::WinlogChannel,
        Slot::SystemEventId,
        Slot::EventId,
        Slot::WinlogEventIdFlat,
        Slot::HostOsTypeFlat,
        Slot::HostOsType,
        Slot::ProcessNameFlat,
        Slot::ProcessName,
    ];

    /// The object keys leading to the slot from the top of the event.
    pub fn path(self) -> &'static [&'static str] {
        match self {
            Slot::SystemChannel => &["Event", "System", "Channel"],
            Slot::Channel => &["Channel"],
            Slot::WinlogChannelFlat => &["winlog.channel"],
            Slot::WinlogChannel => &["winlog", "channel"],
            Slot::SystemEventId => &["Event", "System", "EventID"],
            Slot::EventId => &["EventID"],
            Slot::WinlogEventIdFlat => &["winlog.event_id"],
            Slot::HostOsTypeFlat => &["host.os.type"],
            Slot::HostOsType => &["host", "os", "type"],
            Slot::ProcessNameFlat => &["process.name"],
            Slot::ProcessName => &["process", "name"],
        }
    }

    /// Whether an object found there stands for its `#text` member (EVTX
    /// writes `EventID` with attributes that way).
    pub fn unwraps_text(self) -> bool {
        self == Slot::SystemEventId
    }
}

/// What a [`Slot`] holds, as far as inference cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotValue<'v> {
    Text(&'v str),
    /// A JSON number, as an unsigned integer if it is one.
    Number(Option<u64>),
    /// Anything else (an object, an array, a boolean, null).
    Other,
}

/// Windows channels (lower-cased) and the Sigma service of each.
const WINDOWS_SERVICES: &[(&str, &str)] = &[
    ("security", "security"),
    ("system", "system"),
    ("application", "application"),
    ("microsoft-windows-sysmon/operational", "sysmon"),
    ("windows powershell", "powershell-classic"),
    ("microsoft-windows-powershell/operational", "powershell"),
    (
        "microsoft-windows-windows defender/operational",
        "windefend",
    ),
    (
        "microsoft-windows-taskscheduler/operational",
        "taskscheduler",
    ),
    ("microsoft-windows-wmi-activity/operational", "wmi"),
    ("microsoft-windows-applocker/exe and dll", "applocker"),
    ("microsoft-windows-applocker/msi and script", "applocker"),
    (
        "microsoft-windows-applocker/packaged app-deployment",
        "applocker",
    ),
    (
        "microsoft-windows-applocker/packaged app-execution",
        "applocker",
    ),
    ("microsoft-windows-bits-client/operational", "bits-client"),
    (
        "microsoft-windows-codeintegrity/operational",
        "codeintegrity-operational",
    ),
    ("microsoft-windows-dns-client/operational", "dns-client"),
    ("dns server", "dns-server"),
    (
        "microsoft-windows-windows firewall with advanced security/firewall",
        "firewall-as",
    ),
    (
        "microsoft-windows-terminalservices-localsessionmanager/operational",
        "terminalservices-localsessionmanager",
    ),
    (
        "microsoft-windows-appxdeployment-server/operational",
        "appxdeployment-server",
    ),
    ("microsoft-windows-smbclient/security", "smbclient-security"),
    ("microsoft-windows-ntlm/operational", "ntlm"),
    ("microsoft-windows-ldap-client/debug", "ldap"),
    ("microsoft-windows-printservice/admin", "printservice-admin"),
    (
        "microsoft-windows-printservice/operational",
        "printservice-operational",
    ),
    ("microsoft-windows-shell-core/operational", "shell-core"),
    ("microsoft-windows-openssh/operational", "openssh"),
    ("microsoft-windows-vhdmp/operational", "vhdmp"),
    (
        "microsoft-windows-diagnosis-scripted/operational",
        "diagnosis-scripted",
    ),
    (
        "microsoft-windows-security-mitigations/kernel mode",
        "security-mitigations",
    ),
    (
        "microsoft-windows-security-mitigations/user mode",
        "security-mitigations",
    ),
];

/// The Sigma service of a Windows channel (compared ignoring ASCII case,
/// without allocating: this runs for every event).
fn windows_service(channel: &str) -> Option<&'static str> {
    WINDOWS_SERVICES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(channel))
        .map(|(_, service)| *service)
}

/// The Sigma categories of a Windows event: Sysmon event ids, the
/// Security log's process creation (4688) and PowerShell's logs.
fn windows_categories(service: Option<&str>, id: u64) -> &'static [&'static str] {
    match service {
        Some("sysmon") => match id {
            1 => &["process_creation"],
            2 => &["file_change"],
            3 => &["network_connection"],
            5 => &["process_termination"],
            6 => &["driver_load"],
            7 => &["image_load"],
            8 => &["create_remote_thread"],
            9 => &["raw_access_thread"],
            10 => &["process_access"],
            11 => &["file_event"],
            12 => &["registry_event", "registry_add", "registry_delete"],
            13 => &["registry_event", "registry_set"],
            14 => &["registry_event", "registry_rename"],
            15 => &["create_stream_hash"],
            17 | 18 => &["pipe_created"],
            19..=21 => &["wmi_event"],
            22 => &["dns_query"],
            23 => &["file_delete"],
            24 => &["clipboard_capture"],
            25 => &["process_tampering"],
            26 => &["file_delete", "file_delete_detected"],
            29 => &["file_executable_detected"],
            _ => &[],
        },
        Some("security") if id == 4688 => &["process_creation"],
        Some("powershell") => match id {
            4103 => &["ps_module"],
            4104 => &["ps_script"],
            _ => &[],
        },
        Some("powershell-classic") => match id {
            400 | 403 => &["ps_classic_start"],
            600 => &["ps_classic_provider_start"],
            800 => &["ps_classic_script"],
            _ => &[],
        },
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_is_listed_at_its_own_index() {
        for (i, slot) in Slot::ALL.into_iter().enumerate() {
            assert_eq!(slot as usize, i);
        }
    }
}
