//! The signals of a message, each a weighted reason with its evidence:
//! authentication verdicts, addresses that disagree, names and domains that
//! imitate, links that lie about where they go, risky attachments, the
//! language of pressure, and a sender never seen before.

use std::net::IpAddr;

use super::auth::AuthResults;
use super::language::pressure;
use super::lookalike::{brand_in_name, contains_word, is_owned, lookalike, Lookalike};
use super::message::{domain_of, Facts};
use super::{Policy, Reason};
use crate::ioc::{extract, known_tld, registrable_domain, IndicatorSet};

/// Link shorteners: the target is hidden until clicked.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "bl.ink",
    "s.id",
    "v.gd",
    "shorte.st",
    "adf.ly",
    "qrco.de",
    "lnkd.in",
    "encurtador.com.br",
    "bitly.com",
    "x.gd",
    "urlz.fr",
    "short.gy",
];

/// Free hosting, storage and form services phishing pages live on.
const HOSTING: &[&str] = &[
    "storage.googleapis.com",
    "storage.cloud.google.com",
    "firebasestorage.googleapis.com",
    "sites.google.com",
    "forms.gle",
    "share.google",
    "docs.google.com",
    "drive.google.com",
    "web.app",
    "firebaseapp.com",
    "appspot.com",
    "blob.core.windows.net",
    "web.core.windows.net",
    "azurewebsites.net",
    "r2.dev",
    "pages.dev",
    "workers.dev",
    "netlify.app",
    "vercel.app",
    "github.io",
    "glitch.me",
    "repl.co",
    "weebly.com",
    "wixsite.com",
    "webflow.io",
    "000webhostapp.com",
    "ngrok.io",
    "ngrok-free.app",
    "ipfs.io",
    "dweb.link",
    "mypinata.cloud",
    "s3.amazonaws.com",
    "myshopify.com",
    "godaddysites.com",
    "square.site",
    "jimdosite.com",
    "sharepoint.com",
    "1drv.ms",
    "dropbox.com",
    "wetransfer.com",
    "notion.site",
    "canva.site",
    "typeform.com",
    "jotform.com",
    "formstack.com",
];

/// Top-level domains abused most for throw-away sites (Spamhaus, Interisle).
const ABUSED_TLDS: &[&str] = &[
    "xyz", "top", "click", "site", "online", "live", "icu", "buzz", "rest", "cfd", "sbs", "shop",
    "store", "monster", "quest", "cyou", "bond", "lol", "mom", "tk", "ml", "ga", "cf", "gq",
    "work", "fit", "surf", "pw", "cam", "zip", "mov", "today", "support", "life", "fun", "space",
    "website", "digital", "vip",
];

/// Mail providers anyone can sign up to.
const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.com.br",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "web.de",
    "protonmail.com",
    "proton.me",
    "zoho.com",
    "mail.com",
    "bol.com.br",
    "uol.com.br",
    "terra.com.br",
    "qq.com",
    "163.com",
];

fn reason(code: &str, weight: u32, evidence: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        weight,
        evidence: evidence.into(),
    }
}

/// Every reason `facts` give, unsorted.
pub fn reasons(
    facts: &Facts,
    policy: &Policy,
    authentication: Option<&AuthResults>,
    known_sender: Option<bool>,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let from_domain = facts.from.as_ref().map(|f| f.domain()).unwrap_or_default();
    let from_org = registrable_domain(&from_domain).to_owned();
    if facts.from.is_none() || from_domain.is_empty() {
        reasons.push(reason(
            "no_sender",
            15,
            "the message names no sender address",
        ));
    }
    if let Some(results) = authentication {
        authentication_reasons(results, &from_org, &mut reasons);
    }
    address_reasons(facts, &from_org, &mut reasons);
    name_reasons(facts, policy, &from_domain, &from_org, &mut reasons);
    link_reasons(facts, policy, &mut reasons);
    if let Some(risky) = facts
        .attachments
        .iter()
        .filter_map(|a| a.risk_kind.map(|risk| (risk, a)))
        .max_by_key(|(risk, _)| risk.weight())
    {
        let (risk, attachment) = risky;
        reasons.push(reason(
            "risky_attachment",
            risk.weight(),
            format!(
                "{} ({}, sha256 {})",
                if attachment.name.is_empty() {
                    "unnamed"
                } else {
                    &attachment.name
                },
                risk.as_str(),
                attachment.sha256
            ),
        ));
    }
    if facts.has_form {
        reasons.push(reason(
            "html_form",
            20,
            "the HTML body holds a form or a password field",
        ));
    }
    let words = format!("{}\n{}", facts.subject, facts.text);
    let found = pressure(&words);
    if !found.urgency.is_empty() {
        let weight = if found.urgency.len() >= 2 { 15 } else { 10 };
        reasons.push(reason("urgency_language", weight, quoted(&found.urgency)));
    }
    if !found.credentials.is_empty() {
        let weight = if found.credentials.len() >= 2 { 20 } else { 15 };
        reasons.push(reason(
            "credential_language",
            weight,
            quoted(&found.credentials),
        ));
    }
    if !found.lure.is_empty() {
        let weight = if found.lure.len() >= 2 { 15 } else { 10 };
        reasons.push(reason("lure_language", weight, quoted(&found.lure)));
    }
    if !facts.attachments.is_empty() {
        if let Some(hint) = password_hint(&facts.text) {
            reasons.push(reason(
                "password_protected_attachment",
                30,
                format!("the text gives the attachment's password: \"{hint}\""),
            ));
        }
    }
    let shown = format!(
        "{} {}",
        facts
            .from
            .as_ref()
            .and_then(|f| f.name.as_deref())
            .unwrap_or(""),
        facts.subject
    );
    if let Some(evidence) = obfuscated(&shown) {
        reasons.push(reason("obfuscated_text", 20, evidence));
    }
    if known_sender == Some(false) {
        if let Some(from) = &facts.from {
            reasons.push(reason(
                "new_sender",
                10,
                format!(
                    "the organisation has had no mail from {} before",
                    from.address
                ),
            ));
        }
    }
    reasons
}

/// `password: 1234` and its translations, near each other.
fn password_hint(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for word in [
        "password",
        "passwort",
        "senha",
        "mot de passe",
        "contraseña",
        "wachtwoord",
        "pdf pass",
    ] {
        for (at, _) in lower.match_indices(word).take(20) {
            let after = &lower[at + word.len()..];
            let window: String = after.chars().take(24).collect();
            let digits = window.chars().filter(char::is_ascii_digit).count();
            let separated = window.trim_start().starts_with([':', '=', '-', ']', ' '])
                || window.starts_with(" is");
            if digits >= 3 && separated {
                return Some(format!("{word}{}", window.trim_end()));
            }
        }
    }
    None
}

/// Letters from the mathematical alphanumeric block or invisible characters
/// in what the reader sees first: ways around word filters.
fn obfuscated(text: &str) -> Option<String> {
    // Mathematical letters, small capitals, full-width and circled forms.
    let math = text.chars().any(|c| {
        matches!(c, '\u{1D400}'..='\u{1D7FF}' | '\u{1D00}'..='\u{1D2B}' | '\u{FF01}'..='\u{FF5E}' | '\u{24B6}'..='\u{24E9}' | '\u{0299}' | '\u{029C}' | '\u{0280}')
    });
    let invisible = text
        .chars()
        .any(|c| matches!(c, '\u{200b}'..='\u{200f}' | '\u{00ad}' | '\u{2060}'..='\u{2064}' | '\u{feff}'));
    match (math, invisible) {
        (true, _) => Some(format!("styled letters in \"{}\"", text.trim())),
        (_, true) => Some(format!(
            "invisible characters in \"{}\"",
            text.trim()
                .replace(|c: char| c.is_control() || c.is_whitespace(), " ")
        )),
        _ => None,
    }
}

fn quoted(phrases: &[&str]) -> String {
    phrases
        .iter()
        .take(5)
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn authentication_reasons(results: &AuthResults, from_org: &str, reasons: &mut Vec<Reason>) {
    let by = if results.authserv_id.is_empty() {
        "the receiving server"
    } else {
        &results.authserv_id
    };
    let spf = results.spf.as_deref().unwrap_or("none");
    match spf {
        "fail" => reasons.push(reason("spf_fail", 25, format!("spf=fail by {by}"))),
        "softfail" => reasons.push(reason("spf_softfail", 10, format!("spf=softfail by {by}"))),
        _ => {}
    }
    let dkim_pass: Vec<&str> = results
        .dkim
        .iter()
        .filter(|(result, _)| result == "pass")
        .map(|(_, domain)| domain.as_str())
        .collect();
    if dkim_pass.is_empty() && results.dkim.iter().any(|(result, _)| result == "fail") {
        reasons.push(reason("dkim_fail", 20, format!("dkim=fail by {by}")));
    }
    let dmarc = results.dmarc.as_deref().unwrap_or("none");
    if dmarc == "fail" {
        reasons.push(reason("dmarc_fail", 40, format!("dmarc=fail by {by}")));
    }
    let spf_weak = !matches!(spf, "pass");
    if spf_weak && dkim_pass.is_empty() && matches!(dmarc, "none" | "temperror" | "permerror") {
        reasons.push(reason(
            "unauthenticated",
            30,
            format!("no SPF pass, no DKIM signature that passes, dmarc={dmarc} by {by}"),
        ));
    }
    if !from_org.is_empty()
        && !dkim_pass.is_empty()
        && !dkim_pass.iter().any(|d| registrable_domain(d) == from_org)
        && !dmarc.ends_with("pass")
    {
        reasons.push(reason(
            "dkim_not_aligned",
            15,
            format!(
                "signed by {} for mail from {from_org}",
                dkim_pass.join(", ")
            ),
        ));
    }
}

fn address_reasons(facts: &Facts, from_org: &str, reasons: &mut Vec<Reason>) {
    if from_org.is_empty() {
        return;
    }
    // A mailing list sets Reply-To to itself.
    let list_post = facts
        .headers
        .iter()
        .filter(|(name, _)| {
            name.eq_ignore_ascii_case("List-Post") || name.eq_ignore_ascii_case("List-Id")
        })
        .map(|(_, value)| value.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(reply_to) = facts.reply_to.as_ref().filter(|r| {
        let domain = r.domain();
        domain.is_empty() || !list_post.contains(registrable_domain(&domain))
    }) {
        let reply_domain = reply_to.domain();
        let reply_org = registrable_domain(&reply_domain);
        if !reply_org.is_empty() && reply_org != from_org {
            let free = FREEMAIL.contains(&reply_org) && !FREEMAIL.contains(&from_org);
            reasons.push(reason(
                if free {
                    "reply_to_freemail"
                } else {
                    "reply_to_mismatch"
                },
                if free { 30 } else { 15 },
                format!("From {from_org}, Reply-To {}", reply_to.address),
            ));
        }
    }
    if let Some(return_path) = &facts.return_path {
        let path_org = registrable_domain(&domain_of(return_path)).to_owned();
        if !path_org.is_empty() && path_org != from_org {
            reasons.push(reason(
                "return_path_mismatch",
                5,
                format!("From {from_org}, Return-Path {return_path}"),
            ));
        }
    }
}

fn name_reasons(
    facts: &Facts,
    policy: &Policy,
    from_domain: &str,
    from_org: &str,
    reasons: &mut Vec<Reason>,
) {
    let Some(from) = &facts.from else { return };
    let name = from.name.as_deref().unwrap_or("");
    let own: Vec<&str> = policy.own_domains.iter().map(String::as_str).collect();
    let from_is_own = !from_org.is_empty() && is_owned(from_org, &own);
    // An address in the display name that is not the sender's.
    if let Some(shown) = name.split_whitespace().find(|w| w.contains('@')) {
        let shown = shown.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '@');
        let shown_org = registrable_domain(&domain_of(shown)).to_owned();
        if !shown_org.is_empty() && shown_org != from_org {
            reasons.push(reason(
                "display_name_address",
                25,
                format!("\"{name}\" <{}>", from.address),
            ));
        }
    }
    // A domain in the display name that is not the sender's.
    if let Some(shown) = name
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"' | ',' | '|'))
        .map(|w| w.trim_matches('.').to_ascii_lowercase())
        .find(|w| {
            !w.contains('@')
                && w.contains('.')
                && known_tld(w)
                && w.split('.').all(|l| !l.is_empty())
        })
    {
        let shown_org = registrable_domain(&shown);
        if shown_org.contains('.')
            && shown_org != from_org
            && !reasons.iter().any(|r| r.code == "display_name_address")
        {
            reasons.push(reason(
                "display_name_domain",
                25,
                format!("\"{name}\" <{}> shows {shown}", from.address),
            ));
        }
    }
    if !from_is_own {
        let lower = name.to_lowercase();
        if let Some(own_domain) = own.iter().find(|d| {
            let label = d.split('.').next().unwrap_or("");
            lower.contains(*d) || (label.len() >= 4 && contains_word(&lower, label))
        }) {
            reasons.push(reason(
                "own_domain_impersonation",
                40,
                format!(
                    "\"{name}\" <{}> names {own_domain} from outside it",
                    from.address
                ),
            ));
        }
    }
    if let Some(brand) = brand_in_name(name) {
        if !from_org.is_empty() && !is_owned(from_org, brand.domains) && !from_is_own {
            reasons.push(reason(
                "brand_impersonation",
                40,
                format!(
                    "\"{name}\" <{}> names {} from outside its domains",
                    from.address, brand.name
                ),
            ));
        }
    }
    let tld = from_org.rsplit('.').next().unwrap_or("");
    if ABUSED_TLDS.contains(&tld) {
        reasons.push(reason(
            "abused_tld_sender",
            10,
            format!("sent from {from_domain}"),
        ));
    }
    if FREEMAIL.contains(&from_org) && !reasons.iter().any(|r| r.code == "brand_impersonation") {
        if let Some(brand) = brand_in_name(&facts.subject) {
            if !is_owned(from_org, brand.domains) {
                reasons.push(reason(
                    "brand_from_freemail",
                    25,
                    format!(
                        "\"{}\" from {}, a free mail address",
                        facts.subject, from.address
                    ),
                ));
            }
        }
    }
    if let Some(found) = lookalike(from_domain, &policy.own_domains) {
        let (code, weight, evidence) = describe_lookalike(from_domain, found);
        reasons.push(reason(code, weight, evidence));
    }
}

fn describe_lookalike(domain: &str, found: Lookalike) -> (&'static str, u32, String) {
    match found {
        Lookalike::Confusable { like } => (
            "lookalike_domain",
            40,
            format!("{domain} looks like {like}"),
        ),
        Lookalike::Typo { like } => (
            "lookalike_domain",
            40,
            format!("{domain} is one slip from {like}"),
        ),
        Lookalike::MixedScripts { label } => (
            "mixed_script_domain",
            35,
            format!("{domain} mixes scripts in \"{label}\""),
        ),
        Lookalike::BrandInside { brand } => (
            "brand_in_domain",
            25,
            format!("{domain} carries {brand}'s name without being theirs"),
        ),
    }
}

/// The host of an http(s) URL: lower case, without user, port or brackets.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = ["http://", "https://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    })?;
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// The domain a link's text shows, when it shows one.
fn shown_host(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches(['/', '.', ',']);
    if text.contains(char::is_whitespace) || text.len() > 300 {
        return None;
    }
    if let Some(host) = url_host(text) {
        return Some(host);
    }
    let host = text
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_like_domain = host.contains('.')
        && !host.contains('@')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.chars().all(char::is_alphabetic))
        && known_tld(&host);
    looks_like_domain.then_some(host)
}

fn link_reasons(facts: &Facts, policy: &Policy, reasons: &mut Vec<Reason>) {
    let mut mismatched = Vec::new();
    let mut literal = Vec::new();
    let mut shortened = Vec::new();
    let mut lookalikes = Vec::new();
    let mut hosted = Vec::new();
    let mut abused = Vec::new();
    for link in &facts.links {
        let Some(host) = url_host(&link.url) else {
            continue;
        };
        if hosted.len() < 3 && is_owned(&host, HOSTING) && !hosted.contains(&host) {
            hosted.push(host.clone());
        }
        let tld = host.rsplit('.').next().unwrap_or("");
        if abused.len() < 3 && ABUSED_TLDS.contains(&tld) && !abused.contains(&host) {
            abused.push(host.clone());
        }
        if let Some(shown) = shown_host(&link.text) {
            if registrable_domain(&shown) != registrable_domain(&host) && mismatched.len() < 3 {
                mismatched.push(format!("\"{}\" goes to {host}", link.text.trim()));
            }
        }
        if host.parse::<IpAddr>().is_ok() && literal.len() < 3 {
            literal.push(link.url.clone());
        }
        if SHORTENERS.contains(&host.as_str()) && shortened.len() < 3 {
            shortened.push(link.url.clone());
        }
        if lookalikes.len() < 3 {
            if let Some(found) = lookalike(&host, &policy.own_domains) {
                if !matches!(found, Lookalike::BrandInside { .. }) {
                    lookalikes.push(describe_lookalike(&host, found).2);
                }
            }
        }
    }
    // Bare URLs of a plain-text body count for addresses and shorteners too.
    for url in facts
        .text
        .split_whitespace()
        .filter(|w| w.starts_with("http"))
        .take(500)
    {
        if let Some(host) = url_host(url) {
            if host.parse::<IpAddr>().is_ok()
                && literal.len() < 3
                && !literal.iter().any(|l| l == url)
            {
                literal.push(url.to_owned());
            }
            if SHORTENERS.contains(&host.as_str())
                && shortened.len() < 3
                && !shortened.iter().any(|l| l == url)
            {
                shortened.push(url.to_owned());
            }
        }
    }
    if !mismatched.is_empty() {
        reasons.push(reason("link_text_mismatch", 25, mismatched.join("; ")));
    }
    if !literal.is_empty() {
        reasons.push(reason("address_literal_link", 20, literal.join(" ")));
    }
    if !shortened.is_empty() {
        reasons.push(reason("url_shortener", 10, shortened.join(" ")));
    }
    if !lookalikes.is_empty() {
        reasons.push(reason("lookalike_link", 35, lookalikes.join("; ")));
    }
    if !hosted.is_empty() {
        reasons.push(reason(
            "hosted_link",
            20,
            format!("links to pages on {}", hosted.join(", ")),
        ));
    }
    if !abused.is_empty() {
        reasons.push(reason(
            "abused_tld_link",
            10,
            format!("links to {}", abused.join(", ")),
        ));
    }
}

/// The simulation campaign that sent the message, when the policy names it.
pub fn simulation(facts: &Facts, policy: &Policy) -> Option<String> {
    if let Some(from) = &facts.from {
        let domain = from.domain();
        let senders: Vec<&str> = policy.simulation_senders.iter().map(|s| s.trim()).collect();
        if !domain.is_empty() && is_owned(&domain, &senders) {
            return Some(format!("sent from {domain}, a simulation sender"));
        }
    }
    for rule in &policy.simulation_headers {
        let (name, value) = match rule.split_once(':') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (rule.trim(), None),
        };
        let hit = facts.headers.iter().find(|(n, v)| {
            n.eq_ignore_ascii_case(name)
                && value.is_none_or(|want| v.trim().eq_ignore_ascii_case(want))
        });
        if let Some((n, v)) = hit {
            return Some(format!("header {n}: {v}"));
        }
    }
    None
}

/// The message's indicators: from its text and links, its addresses and
/// its attachments' hashes.
pub fn indicators(facts: &Facts) -> IndicatorSet {
    let mut text = format!("{}\n{}", facts.subject, facts.text);
    for link in &facts.links {
        text.push('\n');
        text.push_str(&link.url);
    }
    let mut set = IndicatorSet::of(&extract(&text));
    let addresses = [
        facts.from.as_ref().map(|f| f.address.to_ascii_lowercase()),
        facts
            .reply_to
            .as_ref()
            .map(|f| f.address.to_ascii_lowercase()),
        facts.return_path.as_ref().map(|a| a.to_ascii_lowercase()),
    ];
    for address in addresses.into_iter().flatten() {
        if address.contains('@') && !set.email.contains(&address) {
            set.email.push(address);
        }
    }
    for attachment in &facts.attachments {
        if !set.sha256.contains(&attachment.sha256) {
            set.sha256.push(attachment.sha256.clone());
        }
        if !set.md5.contains(&attachment.md5) {
            set.md5.push(attachment.md5.clone());
        }
    }
    set
}
