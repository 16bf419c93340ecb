//! The `ports` scan's list and verdicts: Nmap's 100 most common TCP ports
//! by default, and what an open one means (a database, a remote desktop
//! or an unauthenticated Docker API open to the network is worse than a
//! web server).

use rampart_core::finding::{FindingSeverity, ParsedFinding};

use super::finding;

/// What the scan is called in fingerprints and scan types.
pub const SCAN: &str = "ports";

/// Nmap's top 100 TCP ports (`nmap --top-ports 100`).
pub const TOP_100: [u16; 100] = [
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143,
    144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 646,
    873, 990, 993, 995, 1025, 1026, 1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1900, 2000,
    2001, 2049, 2121, 2717, 3000, 3128, 3306, 3389, 3986, 4899, 5000, 5009, 5051, 5060, 5101, 5190,
    5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008, 8009, 8080, 8081, 8443,
    8888, 9100, 9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157,
];

/// The service usually behind a port, and how bad it is to expose it.
pub fn service(port: u16) -> (&'static str, FindingSeverity) {
    use FindingSeverity::{High, Info, Low, Medium};
    match port {
        2375 => ("Docker API without TLS (full control of the host)", High),
        23 => ("telnet (clear-text logins)", High),
        6379 => ("Redis", High),
        11211 => ("memcached", High),
        27017 => ("MongoDB", High),
        9200 => ("Elasticsearch", High),
        21 => ("FTP (clear-text logins)", Medium),
        445 | 139 => ("SMB file sharing", Medium),
        3389 => ("remote desktop (RDP)", Medium),
        5900 | 5800 => ("VNC remote desktop", Medium),
        1433 => ("Microsoft SQL Server", Medium),
        3306 => ("MySQL", Medium),
        5432 => ("PostgreSQL", Medium),
        111 | 2049 => ("RPC / NFS", Medium),
        135 => ("Microsoft RPC", Medium),
        22 => ("SSH", Low),
        25 | 465 | 587 => ("SMTP", Info),
        53 => ("DNS", Info),
        80 | 8080 | 8000 | 8008 | 8081 | 8888 | 3000 | 5000 => ("HTTP", Info),
        443 | 8443 => ("HTTPS", Info),
        110 | 995 => ("POP3", Info),
        143 | 993 => ("IMAP", Info),
        _ => ("unknown service", Info),
    }
}

/// Parses a port list such as `22,80,443,8000-8100` (at most 65,535
/// ports, each 1–65535).
pub fn parse_list(text: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{s:?} is not a port (1–65535)"))
        };
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to)?);
                if from > to {
                    return Err(format!("{part}: the range runs backwards"));
                }
                ports.extend(from..=to);
            }
            None => ports.push(number(part)?),
        }
    }
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        return Err("name at least one port".into());
    }
    Ok(ports)
}

/// The finding for an open port on `host`.
pub fn open(host: &str, port: u16) -> ParsedFinding {
    let (name, severity) = service(port);
    let place = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut f = finding(
        SCAN,
        &port.to_string(),
        &place,
        format!("Port {port}/tcp open ({name})"),
        severity,
        format!("{place} accepts TCP connections; the port usually serves {name}."),
        "Close the port or restrict it to the addresses that need it (firewall, security group), unless it is meant to be public.",
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/02-Configuration_and_Deployment_Management_Testing/",
        None,
    );
    f.component = Some(name.to_owned());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_is_one_hundred_distinct_ports() {
        let mut ports = TOP_100.to_vec();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 100);
    }

    #[test]
    fn lists_and_ranges_are_read_and_bad_ones_named() {
        assert_eq!(
            parse_list("443, 22,80-82,22").unwrap(),
            [22, 80, 81, 82, 443]
        );
        assert!(parse_list("0").is_err());
        assert!(parse_list("70000").is_err());
        assert!(parse_list("90-80").unwrap_err().contains("backwards"));
        assert!(parse_list(" , ").is_err());
        assert_eq!(parse_list("1-65535").unwrap().len(), 65535);
    }

    #[test]
    fn exposed_databases_rank_above_web_servers() {
        assert_eq!(open("10.0.0.5", 6379).severity, Some(FindingSeverity::High));
        assert_eq!(open("10.0.0.5", 443).severity, Some(FindingSeverity::Info));
        assert_eq!(open("::1", 22).endpoints, ["[::1]:22"]);
    }
}
