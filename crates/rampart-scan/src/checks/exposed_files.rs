//! The `exposed-files` scan's list: well-known paths that must never be
//! public (repositories, environment files, server status pages,
//! backups, keys, debug endpoints), each confirmed by what its content
//! must contain, so a site that answers 200 to everything reports nothing.

use rampart_core::finding::{FindingSeverity, ParsedFinding};

use super::finding;

/// What the scan is called in fingerprints and scan types.
pub const SCAN: &str = "exposed-files";

/// How many bytes of a response are read to confirm it.
pub const READ_BYTES: usize = 64 * 1024;

/// A path to ask for, and how to tell the real file from an error page.
pub struct ExposedPath {
    pub path: &'static str,
    pub what: &'static str,
    pub severity: FindingSeverity,
    confirm: fn(&[u8]) -> bool,
}

impl ExposedPath {
    /// Whether `body` (the start of a 200 response) is the file itself.
    pub fn confirms(&self, body: &[u8]) -> bool {
        (self.confirm)(body)
    }
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn contains(body: &[u8], needle: &str) -> bool {
    text(body).contains(needle)
}

fn contains_any(body: &[u8], needles: &[&str]) -> bool {
    let t = text(body);
    needles.iter().any(|n| t.contains(n))
}

fn looks_like_html(body: &[u8]) -> bool {
    let start = text(&body[..body.len().min(512)]).to_ascii_lowercase();
    start.contains("<html") || start.contains("<!doctype")
}

/// `KEY=value` lines, as `.env` files have, and no HTML.
fn dotenv(body: &[u8]) -> bool {
    if looks_like_html(body) {
        return false;
    }
    let t = text(body);
    let assignments = t
        .lines()
        .filter(|l| {
            let l = l.trim();
            l.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty()
                    && k.trim_start_matches("export ")
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
        })
        .count();
    assignments >= 2
}

fn sql_dump(body: &[u8]) -> bool {
    !looks_like_html(body)
        && contains_any(
            body,
            &[
                "CREATE TABLE",
                "INSERT INTO",
                "-- MySQL dump",
                "PostgreSQL database dump",
            ],
        )
}

fn zip(body: &[u8]) -> bool {
    body.starts_with(b"PK\x03\x04")
}

fn gzip(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
}

fn private_key(body: &[u8]) -> bool {
    contains_any(
        body,
        &[
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN DSA PRIVATE KEY-----",
        ],
    )
}

const CRITICAL: FindingSeverity = FindingSeverity::Critical;
const HIGH: FindingSeverity = FindingSeverity::High;
const MEDIUM: FindingSeverity = FindingSeverity::Medium;
const LOW: FindingSeverity = FindingSeverity::Low;

/// The paths asked for, in order.
pub const PATHS: &[ExposedPath] = &[
    ExposedPath {
        path: "/.git/config",
        what: "Git repository configuration",
        severity: HIGH,
        confirm: |b| contains(b, "[core]") && !looks_like_html(b),
    },
    ExposedPath {
        path: "/.git/HEAD",
        what: "Git repository HEAD",
        severity: HIGH,
        confirm: |b| text(b).trim_start().starts_with("ref: refs/"),
    },
    ExposedPath {
        path: "/.svn/entries",
        what: "Subversion working copy",
        severity: HIGH,
        confirm: |b| {
            let t = text(b);
            let t = t.trim_start();
            (t.starts_with("8") || t.starts_with("9") || t.starts_with("10") || t.starts_with("12"))
                && t.contains("dir")
        },
    },
    ExposedPath {
        path: "/.svn/wc.db",
        what: "Subversion working copy database",
        severity: HIGH,
        confirm: |b| b.starts_with(b"SQLite format 3\0"),
    },
    ExposedPath {
        path: "/.hg/hgrc",
        what: "Mercurial repository configuration",
        severity: HIGH,
        confirm: |b| contains(b, "[paths]") && !looks_like_html(b),
    },
    ExposedPath {
        path: "/.env",
        what: "environment file with settings and secrets",
        severity: CRITICAL,
        confirm: dotenv,
    },
    ExposedPath {
        path: "/.env.production",
        what: "production environment file",
        severity: CRITICAL,
        confirm: dotenv,
    },
    ExposedPath {
        path: "/.aws/credentials",
        what: "AWS credentials",
        severity: CRITICAL,
        confirm: |b| contains(b, "aws_access_key_id"),
    },
    ExposedPath {
        path: "/.npmrc",
        what: "npm configuration with a registry token",
        severity: HIGH,
        confirm: |b| contains(b, "_authToken"),
    },
    ExposedPath {
        path: "/.docker/config.json",
        what: "Docker registry credentials",
        severity: HIGH,
        confirm: |b| contains(b, "\"auths\""),
    },
    ExposedPath {
        path: "/id_rsa",
        what: "SSH private key",
        severity: CRITICAL,
        confirm: private_key,
    },
    ExposedPath {
        path: "/.ssh/id_rsa",
        what: "SSH private key",
        severity: CRITICAL,
        confirm: private_key,
    },
    ExposedPath {
        path: "/.htpasswd",
        what: "password file",
        severity: HIGH,
        confirm: |b| {
            let t = text(b);
            !looks_like_html(b)
                && t.lines().any(|l| {
                    l.split_once(':').is_some_and(|(u, h)| {
                        !u.is_empty()
                            && (h.starts_with("$apr1$")
                                || h.starts_with("{SHA}")
                                || h.starts_with("$2y$")
                                || h.starts_with("$2a$")
                                || h.starts_with("$5$")
                                || h.starts_with("$6$"))
                    })
                })
        },
    },
    ExposedPath {
        path: "/server-status",
        what: "Apache server status (live requests and client addresses)",
        severity: MEDIUM,
        confirm: |b| contains(b, "Apache Server Status for"),
    },
    ExposedPath {
        path: "/server-info",
        what: "Apache server information (modules and configuration)",
        severity: MEDIUM,
        confirm: |b| contains(b, "Apache Server Information"),
    },
    ExposedPath {
        path: "/phpinfo.php",
        what: "phpinfo() page",
        severity: MEDIUM,
        confirm: |b| {
            contains_any(
                b,
                &[
                    "<title>phpinfo()</title>",
                    "PHP Version </td>",
                    "PHP License",
                ],
            ) && contains(b, "PHP")
        },
    },
    ExposedPath {
        path: "/info.php",
        what: "phpinfo() page",
        severity: MEDIUM,
        confirm: |b| contains_any(b, &["<title>phpinfo()</title>", "PHP License"]),
    },
    ExposedPath {
        path: "/.DS_Store",
        what: "macOS folder index (lists file names)",
        severity: LOW,
        confirm: |b| b.len() >= 8 && &b[4..8] == b"Bud1",
    },
    ExposedPath {
        path: "/backup.sql",
        what: "database dump",
        severity: CRITICAL,
        confirm: sql_dump,
    },
    ExposedPath {
        path: "/dump.sql",
        what: "database dump",
        severity: CRITICAL,
        confirm: sql_dump,
    },
    ExposedPath {
        path: "/database.sql",
        what: "database dump",
        severity: CRITICAL,
        confirm: sql_dump,
    },
    ExposedPath {
        path: "/backup.zip",
        what: "backup archive",
        severity: HIGH,
        confirm: zip,
    },
    ExposedPath {
        path: "/backup.tar.gz",
        what: "backup archive",
        severity: HIGH,
        confirm: gzip,
    },
    ExposedPath {
        path: "/wp-config.php.bak",
        what: "WordPress configuration backup (database password)",
        severity: CRITICAL,
        confirm: |b| contains(b, "<?php") && contains(b, "DB_PASSWORD"),
    },
    ExposedPath {
        path: "/config.php.bak",
        what: "PHP configuration backup",
        severity: HIGH,
        confirm: |b| contains(b, "<?php"),
    },
    ExposedPath {
        path: "/web.config",
        what: "IIS configuration",
        severity: MEDIUM,
        confirm: |b| contains(b, "<configuration") && !looks_like_html(b),
    },
    ExposedPath {
        path: "/.vscode/sftp.json",
        what: "editor SFTP settings with credentials",
        severity: HIGH,
        confirm: |b| {
            contains(b, "\"host\"") && contains_any(b, &["\"password\"", "\"privateKeyPath\""])
        },
    },
    ExposedPath {
        path: "/actuator/env",
        what: "Spring Boot environment endpoint",
        severity: HIGH,
        confirm: |b| contains_any(b, &["\"propertySources\"", "\"activeProfiles\""]),
    },
    ExposedPath {
        path: "/actuator/heapdump",
        what: "Spring Boot heap dump (memory with secrets)",
        severity: CRITICAL,
        confirm: |b| b.starts_with(b"JAVA PROFILE") || b.starts_with(&[0x1f, 0x8b]),
    },
    ExposedPath {
        path: "/debug/pprof/",
        what: "Go profiling endpoint",
        severity: MEDIUM,
        confirm: |b| contains(b, "Types of profiles available"),
    },
    ExposedPath {
        path: "/elmah.axd",
        what: "ELMAH error log",
        severity: MEDIUM,
        confirm: |b| contains(b, "Error Log for"),
    },
    ExposedPath {
        path: "/trace.axd",
        what: "ASP.NET application trace",
        severity: MEDIUM,
        confirm: |b| contains(b, "Application Trace"),
    },
    ExposedPath {
        path: "/storage/logs/laravel.log",
        what: "Laravel application log",
        severity: MEDIUM,
        confirm: |b| contains_any(b, &["production.ERROR", "local.ERROR", "production.INFO"]),
    },
    ExposedPath {
        path: "/docker-compose.yml",
        what: "Docker Compose file (services and their settings)",
        severity: LOW,
        confirm: |b| !looks_like_html(b) && contains(b, "services:"),
    },
    ExposedPath {
        path: "/.idea/workspace.xml",
        what: "JetBrains project workspace",
        severity: LOW,
        confirm: |b| contains(b, "<project version="),
    },
];

/// The finding for a path confirmed on `base` (an origin, no trailing `/`).
pub fn found(base: &str, path: &ExposedPath, status: u16) -> ParsedFinding {
    let url = format!("{base}{}", path.path);
    let mut f = finding(
        SCAN,
        path.path,
        &url,
        format!("Exposed {}: {}", path.what, path.path),
        path.severity,
        format!(
            "{url} answered {status} with the content of a {} (confirmed by its content, not only its status).",
            path.what
        ),
        "Remove the file from the web root, or deny the path in the server's configuration, and rotate any secret it held.",
        "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/02-Configuration_and_Deployment_Management_Testing/04-Review_Old_Backup_and_Unreferenced_Files_for_Sensitive_Information",
        Some(538),
    );
    f.file_path = Some(path.path.to_owned());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> &'static ExposedPath {
        PATHS.iter().find(|e| e.path == p).unwrap()
    }

    #[test]
    fn at_least_twenty_five_paths_each_once() {
        assert!(PATHS.len() >= 25, "{}", PATHS.len());
        let mut seen: Vec<&str> = PATHS.iter().map(|p| p.path).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), PATHS.len());
    }

    #[test]
    fn real_files_are_confirmed_and_error_pages_are_not() {
        let soft_404 = b"<!DOCTYPE html><html><body>Page not found [core] DB_PASSWORD CREATE TABLE services:</body></html>";
        for p in PATHS {
            assert!(!p.confirms(b""), "{} on nothing", p.path);
            assert!(!p.confirms(b"Not Found"), "{} on Not Found", p.path);
            assert!(!p.confirms(soft_404), "{} on a soft 404", p.path);
        }
        assert!(path("/.git/config").confirms(b"[core]\n\trepositoryformatversion = 0\n"));
        assert!(path("/.git/HEAD").confirms(b"ref: refs/heads/main\n"));
        assert!(path("/.env").confirms(b"APP_KEY=base64:x\nDB_PASSWORD=hunter2\n"));
        assert!(!path("/.env").confirms(b"<html>APP_KEY=1\nB=2</html>"));
        assert!(path("/.DS_Store").confirms(b"\0\0\0\x01Bud1\0\0"));
        assert!(path("/backup.sql").confirms(b"-- MySQL dump 10.13\nCREATE TABLE `users`"));
        assert!(path("/.htpasswd").confirms(b"admin:$apr1$x$y\n"));
        assert!(
            path("/server-status").confirms(b"<html><h1>Apache Server Status for localhost</h1>")
        );
        assert!(path("/id_rsa").confirms(b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"));
    }

    #[test]
    fn findings_are_named_by_path_and_place() {
        let f = found("http://127.0.0.1:8080", path("/.env"), 200);
        assert_eq!(f.endpoints, ["http://127.0.0.1:8080/.env"]);
        assert_eq!(f.severity, Some(FindingSeverity::Critical));
        assert_ne!(
            f.fingerprint,
            found("http://127.0.0.1:8081", path("/.env"), 200).fingerprint
        );
    }
}
