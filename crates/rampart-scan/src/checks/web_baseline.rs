//! The `web-baseline` scan's verdicts: a page's response headers, cookies
//! and scripts graded as Mozilla's HTTP Observatory grades them (its
//! tests, score modifiers, two rounds of scoring and grade chart), plus
//! information disclosure (version banners, stack traces, debug pages).
//! Every failed test becomes a finding named after the Observatory's test
//! result (`csp-not-implemented`, …), so teams can look it up.

use rampart_core::finding::{FindingSeverity, ParsedFinding};
use serde::Serialize;

use super::finding;

/// What the scan is called in fingerprints and scan types.
pub const SCAN: &str = "web-baseline";

/// Six months, the least HSTS max-age the Observatory accepts.
const HSTS_MIN_AGE: u64 = 15_768_000;

/// The origin sent to probe CORS.
pub const PROBE_ORIGIN: &str = "https://cors-probe.rampart.invalid";

/// What was observed of one target.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// The URL requested (after redirects within the target's origin).
    pub url: String,
    pub status: u16,
    /// Header names in lower case; one entry per header line.
    pub headers: Vec<(String, String)>,
    /// The start of the body (at most what the scanner read).
    pub body: String,
    /// The same page asked for with `Origin: PROBE_ORIGIN`:
    /// `Access-Control-Allow-Origin` and `-Allow-Credentials`.
    pub cors: Option<(Option<String>, Option<String>)>,
    /// The plain-HTTP redirection chain, when the site was asked over
    /// HTTP: every URL from the first to the last.
    pub http_chain: Option<Vec<String>>,
}

impl Observed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_https(&self) -> bool {
        self.url.starts_with("https://")
    }
}

/// One Observatory test's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestResult {
    pub test: &'static str,
    /// The Observatory's result name, e.g. `hsts-not-implemented`.
    pub result: &'static str,
    pub modifier: i32,
    pub detail: String,
}

/// The grade of one target, with its findings.
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    pub url: String,
    pub score: i32,
    pub grade: &'static str,
    pub tests: Vec<TestResult>,
    #[serde(skip)]
    pub findings: Vec<ParsedFinding>,
}

/// The Observatory's letter for a score.
pub fn grade(score: i32) -> &'static str {
    const CHART: [(i32, &str); 12] = [
        (100, "A+"),
        (90, "A"),
        (85, "A-"),
        (80, "B+"),
        (70, "B"),
        (65, "B-"),
        (60, "C+"),
        (50, "C"),
        (45, "C-"),
        (40, "D+"),
        (30, "D"),
        (25, "D-"),
    ];
    CHART
        .iter()
        .find(|(least, _)| score >= *least)
        .map_or("F", |(_, letter)| letter)
}

fn result(test: &'static str, result: &'static str, modifier: i32, detail: String) -> TestResult {
    TestResult {
        test,
        result,
        modifier,
        detail,
    }
}

/// A CSP header's directives: lower-case names with their sources.
fn csp_directives(policy: &str) -> Vec<(String, Vec<String>)> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_ascii_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_ascii_lowercase).collect()))
        })
        .collect()
}

fn csp(observed: &Observed) -> TestResult {
    let policies: Vec<&str> = observed.all("content-security-policy").collect();
    if policies.is_empty() {
        return result(
            "content-security-policy",
            "csp-not-implemented",
            -25,
            "no Content-Security-Policy header".into(),
        );
    }
    let directives = csp_directives(&policies.join(";"));
    let sources = |name: &str| -> Option<&Vec<String>> {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
            .or_else(|| {
                directives
                    .iter()
                    .find(|(n, _)| n == "default-src")
                    .map(|(_, s)| s)
            })
    };
    let broad = |s: &str| matches!(s, "*" | "https:" | "http:" | "data:" | "'unsafe-inline'");
    let script = sources("script-src");
    let object = sources("object-src");
    let script_unsafe = script
        .is_none_or(|s| s.iter().any(|x| broad(x)) && !s.iter().any(|x| x == "'strict-dynamic'"));
    let object_unsafe = object.is_none_or(|s| {
        s.iter()
            .any(|x| matches!(x.as_str(), "*" | "https:" | "http:" | "data:"))
    });
    if script_unsafe || object_unsafe {
        return result(
            "content-security-policy",
            "csp-implemented-with-unsafe-inline",
            -20,
            "the policy allows inline or broadly sourced scripts or objects \
             ('unsafe-inline', data:, https:, * or no script-src/object-src)"
                .into(),
        );
    }
    let insecure = |names: &[&str]| {
        names.iter().any(|n| {
            sources(n).is_some_and(|s| s.iter().any(|x| x == "http:" || x.starts_with("http://")))
        })
    };
    if observed.is_https()
        && insecure(&[
            "script-src",
            "style-src",
            "object-src",
            "connect-src",
            "frame-src",
            "font-src",
        ])
    {
        return result(
            "content-security-policy",
            "csp-implemented-with-insecure-scheme",
            -20,
            "an HTTPS site lets resources load over HTTP".into(),
        );
    }
    if script.is_some_and(|s| s.iter().any(|x| x == "'unsafe-eval'")) {
        return result(
            "content-security-policy",
            "csp-implemented-with-unsafe-eval",
            -10,
            "script-src allows 'unsafe-eval'".into(),
        );
    }
    if observed.is_https() && insecure(&["img-src", "media-src"]) {
        return result(
            "content-security-policy",
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
            "an HTTPS site lets images or media load over HTTP".into(),
        );
    }
    let default_none = directives
        .iter()
        .any(|(n, s)| n == "default-src" && s.iter().any(|x| x == "'none'"));
    if default_none {
        result(
            "content-security-policy",
            "csp-implemented-with-no-unsafe-default-src-none",
            10,
            "default-src 'none' without unsafe sources".into(),
        )
    } else {
        result(
            "content-security-policy",
            "csp-implemented-with-no-unsafe",
            5,
            "no unsafe sources".into(),
        )
    }
}

/// One `Set-Cookie` line: its name and attributes (lower case).
struct Cookie {
    name: String,
    secure: bool,
    http_only: bool,
    same_site: Option<String>,
}

fn cookies(observed: &Observed) -> Vec<Cookie> {
    observed
        .all("set-cookie")
        .filter_map(|line| {
            let mut parts = line.split(';');
            let name = parts.next()?.split('=').next()?.trim().to_owned();
            let mut cookie = Cookie {
                name,
                secure: false,
                http_only: false,
                same_site: None,
            };
            for attribute in parts {
                let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.trim().to_ascii_lowercase().as_str() {
                    "secure" => cookie.secure = true,
                    "httponly" => cookie.http_only = true,
                    "samesite" => cookie.same_site = Some(value.trim().to_ascii_lowercase()),
                    _ => {}
                }
            }
            Some(cookie)
        })
        .collect()
}

fn is_session(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["sess", "sid", "login", "token", "auth"]
        .iter()
        .any(|s| name.contains(s))
}

/// Which cookies fail a test, its result name, modifier and wording.
type CookieRule<'a> = (&'a dyn Fn(&Cookie) -> bool, &'static str, i32, &'static str);

fn cookie_test(observed: &Observed, hsts: bool) -> TestResult {
    let jar = cookies(observed);
    if jar.is_empty() {
        return result("cookies", "cookies-not-found", 0, "no cookies set".into());
    }
    let names = |pick: &dyn Fn(&Cookie) -> bool| {
        jar.iter()
            .filter(|c| pick(c))
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let secure = |c: &Cookie| c.secure && observed.is_https();
    let worst: [CookieRule<'_>; 6] = [
        (
            &|c| is_session(&c.name) && !secure(c) && !hsts,
            "cookies-session-without-secure-flag",
            -40,
            "session cookies sent without Secure",
        ),
        (
            &|c| is_session(&c.name) && !c.http_only,
            "cookies-session-without-httponly-flag",
            -30,
            "session cookies readable by scripts (no HttpOnly)",
        ),
        (
            &|c| {
                c.same_site
                    .as_deref()
                    .is_some_and(|s| !matches!(s, "strict" | "lax" | "none"))
            },
            "cookies-samesite-flag-invalid",
            -20,
            "cookies with an invalid SameSite value",
        ),
        (
            &|c| {
                let n = c.name.to_ascii_lowercase();
                (n.contains("csrf") || n.contains("xsrf")) && c.same_site.is_none()
            },
            "cookies-anticsrf-without-samesite-flag",
            -20,
            "anti-CSRF cookies without SameSite",
        ),
        (
            &|c| !secure(c) && !hsts,
            "cookies-without-secure-flag",
            -20,
            "cookies sent without Secure",
        ),
        (
            &|c| is_session(&c.name) && !secure(c),
            "cookies-session-without-secure-flag-but-protected-by-hsts",
            -10,
            "session cookies without Secure (HSTS protects them)",
        ),
    ];
    for (pick, name, modifier, what) in worst {
        let hit = names(pick);
        if !hit.is_empty() {
            return result("cookies", name, modifier, format!("{what}: {hit}"));
        }
    }
    let unsecured = names(&|c| !secure(c));
    if !unsecured.is_empty() {
        return result(
            "cookies",
            "cookies-without-secure-flag-but-protected-by-hsts",
            -5,
            format!("cookies without Secure (HSTS protects them): {unsecured}"),
        );
    }
    if jar.iter().all(|c| c.same_site.is_some()) {
        result(
            "cookies",
            "cookies-secure-with-httponly-sessions-and-samesite",
            5,
            "every cookie is Secure with SameSite, session cookies HttpOnly".into(),
        )
    } else {
        result(
            "cookies",
            "cookies-secure-with-httponly-sessions",
            0,
            "every cookie is Secure, session cookies HttpOnly".into(),
        )
    }
}

fn cors(observed: &Observed) -> TestResult {
    match &observed.cors {
        Some((Some(origin), credentials))
            if origin.trim() == PROBE_ORIGIN
                && credentials
                    .as_deref()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("true")) =>
        {
            result(
                "cross-origin-resource-sharing",
                "cross-origin-resource-sharing-implemented-with-universal-access",
                -50,
                format!("any origin may read responses with credentials: {PROBE_ORIGIN} was echoed with Access-Control-Allow-Credentials: true"),
            )
        }
        Some((Some(origin), _)) if origin.trim() == "*" || origin.trim() == PROBE_ORIGIN => result(
            "cross-origin-resource-sharing",
            "cross-origin-resource-sharing-implemented-with-public-access",
            0,
            format!("Access-Control-Allow-Origin: {}", origin.trim()),
        ),
        Some((Some(origin), _)) => result(
            "cross-origin-resource-sharing",
            "cross-origin-resource-sharing-implemented-with-restricted-access",
            0,
            format!("Access-Control-Allow-Origin: {}", origin.trim()),
        ),
        _ => result(
            "cross-origin-resource-sharing",
            "cross-origin-resource-sharing-not-implemented",
            0,
            "no CORS headers".into(),
        ),
    }
}

/// The HSTS result, and whether HSTS is in force.
fn hsts(observed: &Observed) -> (TestResult, bool) {
    if !observed.is_https() {
        return (
            result(
                "strict-transport-security",
                "hsts-not-implemented-no-https",
                -20,
                "the site is not served over HTTPS".into(),
            ),
            false,
        );
    }
    let Some(value) = observed.header("strict-transport-security") else {
        return (
            result(
                "strict-transport-security",
                "hsts-not-implemented",
                -20,
                "no Strict-Transport-Security header".into(),
            ),
            false,
        );
    };
    let max_age = value.split(';').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
            .flatten()
    });
    match max_age {
        None => (
            result(
                "strict-transport-security",
                "hsts-header-invalid",
                -20,
                format!("cannot read max-age in {value:?}"),
            ),
            false,
        ),
        Some(age) if age < HSTS_MIN_AGE => (
            result(
                "strict-transport-security",
                "hsts-implemented-max-age-less-than-six-months",
                -10,
                format!("max-age={age}"),
            ),
            age > 0,
        ),
        Some(age) => (
            result(
                "strict-transport-security",
                "hsts-implemented-max-age-at-least-six-months",
                0,
                format!("max-age={age}"),
            ),
            true,
        ),
    }
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.starts_with('[') {
        return authority.find(']').map(|i| &authority[..=i]);
    }
    authority.split(':').next()
}

fn redirection(observed: &Observed) -> TestResult {
    let Some(chain) = &observed.http_chain else {
        return result(
            "redirection",
            "redirection-not-needed-no-http",
            0,
            "the site does not answer over plain HTTP".into(),
        );
    };
    let (Some(first), Some(last)) = (chain.first(), chain.last()) else {
        return result(
            "redirection",
            "redirection-not-needed-no-http",
            0,
            "the site does not answer over plain HTTP".into(),
        );
    };
    if chain.len() == 1 {
        return result(
            "redirection",
            "redirection-missing",
            -20,
            format!("{first} does not redirect to HTTPS"),
        );
    }
    if !last.starts_with("https://") {
        return result(
            "redirection",
            "redirection-not-to-https",
            -20,
            format!("{first} redirects to {last}, not to HTTPS"),
        );
    }
    let second = &chain[1];
    if !second.starts_with("https://") {
        return result(
            "redirection",
            "redirection-not-to-https-on-initial-redirection",
            -10,
            format!("{first} first redirects to {second}"),
        );
    }
    if host_of(first) != host_of(second) {
        return result(
            "redirection",
            "redirection-off-host-from-http",
            -5,
            format!("{first} redirects to another host, {second}"),
        );
    }
    result(
        "redirection",
        "redirection-to-https",
        0,
        format!("{first} redirects to {second}"),
    )
}

fn referrer(observed: &Observed) -> TestResult {
    let Some(value) = observed.header("referrer-policy") else {
        return result(
            "referrer-policy",
            "referrer-policy-not-implemented",
            0,
            "no Referrer-Policy header".into(),
        );
    };
    // The last policy a browser recognises wins.
    let known = [
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    let policy = value
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .rfind(|p| known.contains(&p.as_str()));
    match policy.as_deref() {
        Some(
            "no-referrer" | "same-origin" | "strict-origin" | "strict-origin-when-cross-origin",
        ) => result(
            "referrer-policy",
            "referrer-policy-private",
            5,
            format!("Referrer-Policy: {value}"),
        ),
        Some("origin" | "origin-when-cross-origin" | "unsafe-url") => result(
            "referrer-policy",
            "referrer-policy-unsafe",
            -5,
            format!("Referrer-Policy: {value} sends the origin or full URL across sites"),
        ),
        Some(_) => result(
            "referrer-policy",
            "referrer-policy-no-referrer-when-downgrade",
            0,
            format!("Referrer-Policy: {value}"),
        ),
        None => result(
            "referrer-policy",
            "referrer-policy-header-invalid",
            -5,
            format!("Referrer-Policy: {value} is not a policy"),
        ),
    }
}

/// `<script>` tags with a `src`: the source and whether it has `integrity`.
fn scripts(html: &str) -> Vec<(String, bool)> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<script") {
        let start = at + found + "<script".len();
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &html[start..end];
        let attribute = |name: &str| -> Option<String> {
            let tag_lower = tag.to_ascii_lowercase();
            let mut from = 0;
            while let Some(i) = tag_lower[from..].find(name) {
                let i = from + i;
                let before_ok = i == 0 || tag_lower.as_bytes()[i - 1].is_ascii_whitespace();
                let rest = tag[i + name.len()..].trim_start();
                if before_ok {
                    if let Some(value) = rest.strip_prefix('=') {
                        let value = value.trim_start();
                        let text = match value.chars().next() {
                            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                            _ => value.split_ascii_whitespace().next().unwrap_or(""),
                        };
                        return Some(text.to_owned());
                    }
                    if name == "integrity" {
                        return Some(String::new());
                    }
                }
                from = i + name.len();
            }
            None
        };
        if let Some(src) = attribute("src") {
            out.push((src, attribute("integrity").is_some_and(|i| !i.is_empty())));
        }
        at = end.min(lower.len());
        if at >= lower.len() {
            break;
        }
    }
    out
}

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

fn sri(observed: &Observed) -> TestResult {
    let html = observed
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    if !html {
        return result(
            "subresource-integrity",
            "sri-not-implemented-response-not-html",
            0,
            "not an HTML page".into(),
        );
    }
    let found = scripts(&observed.body);
    if found.is_empty() {
        return result(
            "subresource-integrity",
            "sri-not-implemented-but-no-scripts-loaded",
            0,
            "no scripts loaded".into(),
        );
    }
    let own = origin_of(&observed.url);
    let external: Vec<&(String, bool)> = found
        .iter()
        .filter(|(src, _)| {
            let absolute = if let Some(rest) = src.strip_prefix("//") {
                format!("https://{rest}")
            } else {
                src.clone()
            };
            absolute.contains("://") && origin_of(&absolute) != own
        })
        .collect();
    if external.is_empty() {
        return result(
            "subresource-integrity",
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            0,
            "every script comes from the page's own origin".into(),
        );
    }
    let plain: Vec<&str> = external
        .iter()
        .filter(|(src, _)| src.to_ascii_lowercase().starts_with("http://"))
        .map(|(src, _)| src.as_str())
        .collect();
    let without: Vec<&str> = external
        .iter()
        .filter(|(_, integrity)| !integrity)
        .map(|(src, _)| src.as_str())
        .collect();
    match (without.is_empty(), plain.is_empty()) {
        (false, false) => result(
            "subresource-integrity",
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            -50,
            format!(
                "external scripts over HTTP without integrity: {}",
                plain.join(", ")
            ),
        ),
        (false, true) => result(
            "subresource-integrity",
            "sri-not-implemented-but-external-scripts-loaded-securely",
            -5,
            format!("external scripts without integrity: {}", without.join(", ")),
        ),
        (true, false) => result(
            "subresource-integrity",
            "sri-implemented-but-external-scripts-not-loaded-securely",
            -20,
            format!("external scripts over HTTP: {}", plain.join(", ")),
        ),
        (true, true) => result(
            "subresource-integrity",
            "sri-implemented-and-external-scripts-loaded-securely",
            5,
            "every external script has an integrity hash".into(),
        ),
    }
}

fn nosniff(observed: &Observed) -> TestResult {
    match observed.header("x-content-type-options") {
        None => result(
            "x-content-type-options",
            "x-content-type-options-not-implemented",
            -5,
            "no X-Content-Type-Options header".into(),
        ),
        Some(v) if v.eq_ignore_ascii_case("nosniff") => result(
            "x-content-type-options",
            "x-content-type-options-nosniff",
            0,
            "nosniff".into(),
        ),
        Some(v) => result(
            "x-content-type-options",
            "x-content-type-options-header-invalid",
            -5,
            format!("X-Content-Type-Options: {v}"),
        ),
    }
}

fn framing(observed: &Observed) -> TestResult {
    let ancestors = observed
        .all("content-security-policy")
        .flat_map(csp_directives)
        .any(|(name, _)| name == "frame-ancestors");
    if ancestors {
        return result(
            "x-frame-options",
            "x-frame-options-implemented-via-csp",
            5,
            "CSP frame-ancestors".into(),
        );
    }
    match observed.header("x-frame-options").map(str::to_ascii_lowercase) {
        None => result(
            "x-frame-options",
            "x-frame-options-not-implemented",
            -20,
            "neither X-Frame-Options nor CSP frame-ancestors: the page can be framed (clickjacking)"
                .into(),
        ),
        Some(v) if v == "deny" || v == "sameorigin" => result(
            "x-frame-options",
            "x-frame-options-sameorigin-or-deny",
            0,
            format!("X-Frame-Options: {v}"),
        ),
        Some(v) if v.starts_with("allow-from") => result(
            "x-frame-options",
            "x-frame-options-allow-from-origin",
            0,
            format!("X-Frame-Options: {v}"),
        ),
        Some(v) => result(
            "x-frame-options",
            "x-frame-options-header-invalid",
            -20,
            format!("X-Frame-Options: {v} is not a value browsers know"),
        ),
    }
}

/// Severity of a failed test, from its modifier.
fn severity_of(modifier: i32) -> FindingSeverity {
    match modifier {
        m if m <= -40 => FindingSeverity::High,
        m if m <= -20 => FindingSeverity::Medium,
        _ => FindingSeverity::Low,
    }
}

/// How to fix each test, and the MDN page on it.
fn advice(test: &str) -> (&'static str, &'static str, Option<u32>) {
    match test {
        "content-security-policy" => ("Send a Content-Security-Policy that restricts script-src and object-src (ideally default-src 'none') without 'unsafe-inline' or 'unsafe-eval'.", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/CSP", Some(693)),
        "cookies" => ("Set Secure on every cookie, HttpOnly on session cookies, and SameSite=Lax or Strict.", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/Cookies", Some(614)),
        "cross-origin-resource-sharing" => ("Allow only named origins, and never echo an arbitrary Origin together with Access-Control-Allow-Credentials: true.", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/CORS", Some(942)),
        "strict-transport-security" => ("Serve the site over HTTPS with Strict-Transport-Security: max-age=63072000 (at least six months).", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS", Some(319)),
        "redirection" => ("Redirect plain HTTP to HTTPS on the same host first.", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/TLS", Some(319)),
        "referrer-policy" => ("Send Referrer-Policy: strict-origin-when-cross-origin (or stricter).", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/Referrer_policy", Some(200)),
        "subresource-integrity" => ("Load external scripts over HTTPS with integrity hashes, or host them yourself.", "https://developer.mozilla.org/en-US/docs/Web/Security/Subresource_Integrity", Some(353)),
        "x-content-type-options" => ("Send X-Content-Type-Options: nosniff.", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/MIME_types", Some(693)),
        _ => ("Send CSP frame-ancestors 'none' (or X-Frame-Options: DENY).", "https://developer.mozilla.org/en-US/docs/Web/Security/Practical_implementation_guides/Clickjacking", Some(1021)),
    }
}

/// Version banners in response headers (`Server: Apache/2.4.51`).
fn banners(observed: &Observed) -> Vec<(&'static str, String)> {
    let with_version = |v: &str| v.chars().any(|c| c.is_ascii_digit());
    let mut out = Vec::new();
    for (header, rule) in [
        ("server", "server-version-disclosed"),
        ("x-powered-by", "x-powered-by-disclosed"),
        ("x-aspnet-version", "x-aspnet-version-disclosed"),
        ("x-aspnetmvc-version", "x-aspnet-version-disclosed"),
    ] {
        if let Some(value) = observed.header(header) {
            if header != "server" || with_version(value) {
                out.push((rule, format!("{header}: {value}")));
            }
        }
    }
    out
}

/// Error pages and stack traces that give away internals, by a phrase
/// that only they contain.
const DEBUG_SIGNS: [(&str, &str); 14] = [
    ("Traceback (most recent call last)", "a Python traceback"),
    (
        "Werkzeug Debugger",
        "the Werkzeug debugger (remote code execution)",
    ),
    (
        "You're seeing this error because you have <code>DEBUG = True</code>",
        "Django's debug page",
    ),
    ("Whoops! There was an error", "Laravel's Whoops debug page"),
    ("Exception in thread \"main\"", "a Java exception"),
    ("at java.lang.", "a Java stack trace"),
    ("Fatal error</b>:  Uncaught", "a PHP fatal error"),
    ("Stack trace:\n#0 ", "a PHP stack trace"),
    ("Server Error in '/' Application", "an ASP.NET error page"),
    (
        "Microsoft .NET Framework Version:",
        "an ASP.NET error page with versions",
    ),
    ("System.NullReferenceException", "a .NET exception"),
    ("ActionController::RoutingError", "a Rails debug page"),
    ("at Object.<anonymous> (", "a Node.js stack trace"),
    ("goroutine 1 [running]:", "a Go panic"),
];

/// Grades what was observed of one target and lists its findings.
pub fn assess(observed: &Observed) -> Baseline {
    let (hsts_result, hsts_on) = hsts(observed);
    let tests = vec![
        csp(observed),
        cookie_test(observed, hsts_on),
        cors(observed),
        redirection(observed),
        referrer(observed),
        hsts_result,
        sri(observed),
        nosniff(observed),
        framing(observed),
    ];
    let penalties: i32 = tests.iter().map(|t| t.modifier.min(0)).sum();
    let mut score = 100 + penalties;
    if score >= 90 {
        score += tests.iter().map(|t| t.modifier.max(0)).sum::<i32>();
    }
    let score = score.max(0);
    let place = origin_of(&observed.url).unwrap_or_else(|| observed.url.clone());
    let mut findings: Vec<ParsedFinding> = tests
        .iter()
        .filter(|t| t.modifier < 0)
        .map(|t| {
            let (mitigation, reference, cwe) = advice(t.test);
            finding(
                SCAN,
                t.result,
                &place,
                format!("{}: {}", t.test, t.result),
                severity_of(t.modifier),
                format!("{} (Observatory modifier {}).", t.detail, t.modifier),
                mitigation,
                reference,
                cwe,
            )
        })
        .collect();
    for (rule, detail) in banners(observed) {
        findings.push(finding(
            SCAN,
            rule,
            &place,
            format!("Software version disclosed ({})", detail.split(':').next().unwrap_or(rule)),
            FindingSeverity::Low,
            format!("The response names its software and version ({detail}), which tells attackers which exploits to try."),
            "Remove or genericise the header (e.g. server_tokens off, expose_php Off).",
            "https://owasp.org/www-project-web-security-testing-guide/latest/4-Web_Application_Security_Testing/01-Information_Gathering/02-Fingerprint_Web_Server",
            Some(200),
        ));
    }
    if let Some((_, what)) = DEBUG_SIGNS
        .iter()
        .find(|(sign, _)| observed.body.contains(sign))
    {
        findings.push(finding(
            SCAN,
            "debug-page-or-stack-trace",
            &place,
            "Stack trace or debug page exposed".into(),
            FindingSeverity::Medium,
            format!("The page shows {what} (HTTP status {}).", observed.status),
            "Turn off debug mode in production and serve generic error pages.",
            "https://owasp.org/www-community/Improper_Error_Handling",
            Some(209),
        ));
    }
    let letter = grade(score);
    findings.push(finding(
        SCAN,
        "observatory-grade",
        &place,
        format!("Security headers grade {letter} ({score})"),
        FindingSeverity::Info,
        tests
            .iter()
            .map(|t| format!("{}: {} ({:+})", t.test, t.result, t.modifier))
            .collect::<Vec<_>>()
            .join("\n"),
        "Fix the failed tests listed; each is also a finding of its own.",
        "https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring",
        None,
    ));
    Baseline {
        url: observed.url.clone(),
        score,
        grade: letter,
        tests,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(url: &str, headers: &[(&str, &str)], body: &str) -> Observed {
        Observed {
            url: url.into(),
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            body: body.into(),
            cors: None,
            http_chain: Some(vec!["http://shop.example/".into(), url.into()]),
        }
    }

    fn results(b: &Baseline) -> Vec<&'static str> {
        b.tests.iter().map(|t| t.result).collect()
    }

    #[test]
    fn a_hardened_site_scores_a_plus_with_its_bonuses() {
        let b = assess(&observed(
            "https://shop.example/",
            &[
                (
                    "Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; frame-ancestors 'none'",
                ),
                (
                    "Strict-Transport-Security",
                    "max-age=63072000; includeSubDomains",
                ),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
                ("Set-Cookie", "session=abc; Secure; HttpOnly; SameSite=Lax"),
                ("Content-Type", "text/html"),
            ],
            "<html><script src=\"/app.js\"></script></html>",
        ));
        assert_eq!(b.score, 100 + 10 + 5 + 5 + 5, "{:?}", b.tests);
        assert_eq!(b.grade, "A+");
        assert_eq!(b.findings.len(), 1, "only the grade");
        assert_eq!(b.findings[0].severity, Some(FindingSeverity::Info));
    }

    #[test]
    fn a_bare_http_site_fails_and_says_why() {
        let mut o = observed(
            "http://shop.example/",
            &[
                ("Server", "Apache/2.4.51 (Debian)"),
                ("X-Powered-By", "PHP/8.1.2"),
                ("Set-Cookie", "PHPSESSID=1; path=/"),
                ("Content-Type", "text/html; charset=utf-8"),
            ],
            "<script src=\"http://cdn.example/jquery.js\"></script><b>Fatal error</b>:  Uncaught Exception",
        );
        o.http_chain = Some(vec!["http://shop.example/".into()]);
        o.cors = Some((Some(PROBE_ORIGIN.into()), Some("true".into())));
        let b = assess(&o);
        assert_eq!(
            results(&b),
            [
                "csp-not-implemented",
                "cookies-session-without-secure-flag",
                "cross-origin-resource-sharing-implemented-with-universal-access",
                "redirection-missing",
                "referrer-policy-not-implemented",
                "hsts-not-implemented-no-https",
                "sri-not-implemented-and-external-scripts-not-loaded-securely",
                "x-content-type-options-not-implemented",
                "x-frame-options-not-implemented",
            ]
        );
        assert_eq!(b.score, 0);
        assert_eq!(b.grade, "F");
        let rules: Vec<&str> = b
            .findings
            .iter()
            .filter_map(|f| f.rule_id.as_deref())
            .collect();
        assert!(rules.contains(&"server-version-disclosed"));
        assert!(rules.contains(&"x-powered-by-disclosed"));
        assert!(rules.contains(&"debug-page-or-stack-trace"));
        let cors = b
            .findings
            .iter()
            .find(|f| {
                f.rule_id.as_deref()
                    == Some("cross-origin-resource-sharing-implemented-with-universal-access")
            })
            .unwrap();
        assert_eq!(cors.severity, Some(FindingSeverity::High));
        assert_eq!(cors.endpoints, ["http://shop.example"]);
    }

    #[test]
    fn penalties_below_ninety_earn_no_bonus() {
        let b = assess(&observed(
            "https://shop.example/",
            &[
                ("Content-Security-Policy", "default-src 'none'"),
                ("Strict-Transport-Security", "max-age=300"),
                ("Referrer-Policy", "unsafe-url"),
            ],
            "",
        ));
        // -10 HSTS, -5 referrer, -5 nosniff, -20 framing = 60; no +10 bonus.
        assert_eq!(b.score, 60, "{:?}", b.tests);
        assert_eq!(b.grade, "C+");
    }

    #[test]
    fn grades_follow_the_chart() {
        for (score, letter) in [
            (135, "A+"),
            (100, "A+"),
            (99, "A"),
            (85, "A-"),
            (84, "B+"),
            (65, "B-"),
            (45, "C-"),
            (25, "D-"),
            (24, "F"),
            (0, "F"),
        ] {
            assert_eq!(grade(score), letter, "{score}");
        }
    }

    #[test]
    fn csp_with_unsafe_inline_scripts_is_unsafe_but_strict_dynamic_is_not() {
        let unsafe_inline = observed(
            "https://a.example/",
            &[(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' 'unsafe-inline'",
            )],
            "",
        );
        assert_eq!(
            csp(&unsafe_inline).result,
            "csp-implemented-with-unsafe-inline"
        );
        let no_object = observed(
            "https://a.example/",
            &[("Content-Security-Policy", "script-src 'self'")],
            "",
        );
        assert_eq!(csp(&no_object).result, "csp-implemented-with-unsafe-inline");
        let eval = observed(
            "https://a.example/",
            &[(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' 'unsafe-eval'",
            )],
            "",
        );
        assert_eq!(csp(&eval).result, "csp-implemented-with-unsafe-eval");
        let strict = observed("https://a.example/", &[("Content-Security-Policy", "object-src 'none'; script-src 'nonce-r4nd' 'strict-dynamic' 'unsafe-inline' https:")], "");
        assert_eq!(csp(&strict).result, "csp-implemented-with-no-unsafe");
    }

    #[test]
    fn scripts_are_found_in_any_case_and_quoting() {
        let found = scripts("<SCRIPT type=module SRC='https://cdn.example/a.js' integrity=\"sha384-x\"></SCRIPT><script src=//cdn.example/b.js></script><script>inline()</script><script data-src=\"x\"");
        assert_eq!(
            found,
            [
                ("https://cdn.example/a.js".to_owned(), true),
                ("//cdn.example/b.js".to_owned(), false)
            ]
        );
    }

    #[test]
    fn redirections_are_judged_by_their_first_and_last_hop() {
        let mut o = observed("https://a.example/", &[], "");
        o.http_chain = Some(vec![
            "http://a.example/".into(),
            "https://www.a.example/".into(),
        ]);
        assert_eq!(redirection(&o).result, "redirection-off-host-from-http");
        o.http_chain = Some(vec![
            "http://a.example/".into(),
            "http://a.example/x".into(),
            "https://a.example/".into(),
        ]);
        assert_eq!(
            redirection(&o).result,
            "redirection-not-to-https-on-initial-redirection"
        );
        o.http_chain = Some(vec![
            "http://a.example:80/".into(),
            "https://a.example/".into(),
        ]);
        assert_eq!(redirection(&o).result, "redirection-to-https");
        o.http_chain = None;
        assert_eq!(redirection(&o).result, "redirection-not-needed-no-http");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for body in [
            "<script",
            "<script src=",
            "<script src='",
            "<scriptsrc=x>",
            "\u{1F600}<script src=\u{e9}>",
        ] {
            let _ = assess(&observed(
                "https://a.example/",
                &[("Content-Type", "text/html"), ("Set-Cookie", ";;=;")],
                body,
            ));
        }
        assert_eq!(host_of("http://[::1]:8080/x"), Some("[::1]"));
        assert_eq!(host_of("http://a.example:80/"), Some("a.example"));
        assert_eq!(host_of("https://u@a.example/"), Some("a.example"));
    }
}
