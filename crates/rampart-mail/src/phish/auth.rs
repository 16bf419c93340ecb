//! `Authentication-Results` (RFC 8601) read from the top: the SPF, DKIM and
//! DMARC verdicts of the organisation's own receiving server. Anyone on the
//! way can add such a header, so only one written by a server the
//! organisation trusts (by its authserv-id) counts, and only the topmost.

use serde::Serialize;

/// The verdicts of one `Authentication-Results` header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResults {
    /// Who wrote it (`mx.example.com`); empty when the header names no one,
    /// as Microsoft 365 writes them.
    pub authserv_id: String,
    /// `pass`, `fail`, `softfail`, `neutral`, `none`, `temperror`, …
    pub spf: Option<String>,
    /// The envelope sender's domain SPF checked (`smtp.mailfrom`).
    pub spf_domain: Option<String>,
    /// Each DKIM signature's result and signing domain (`header.d`).
    pub dkim: Vec<(String, String)>,
    pub dmarc: Option<String>,
}

/// Microsoft 365 writes its results without an authserv-id; naming one of
/// its receiving domains in the trusted list trusts those.
const MICROSOFT_RECEIVERS: [&str; 2] = ["outlook.com", "protection.outlook.com"];

/// The verdicts of the topmost header of `headers` (in message order)
/// whose writer is trusted: its authserv-id equals an entry of `trusted`
/// or is a name under one. A server that writes one header per method
/// (Proton does) has its headers with that id read together.
pub fn trusted_results<'a>(
    headers: impl IntoIterator<Item = &'a str>,
    trusted: &[String],
) -> Option<AuthResults> {
    let mut merged: Option<AuthResults> = None;
    for results in headers.into_iter().map(parse) {
        match &mut merged {
            None if is_trusted(&results.authserv_id, trusted) => merged = Some(results),
            None => {}
            Some(first) if first.authserv_id == results.authserv_id => {
                if first.spf.is_none() {
                    first.spf = results.spf;
                    first.spf_domain = results.spf_domain;
                }
                first.dkim.extend(results.dkim);
                if first.dmarc.is_none() {
                    first.dmarc = results.dmarc;
                }
            }
            Some(_) => {}
        }
    }
    merged
}

fn is_trusted(id: &str, trusted: &[String]) -> bool {
    trusted.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        if id.is_empty() {
            MICROSOFT_RECEIVERS.contains(&entry.as_str())
        } else {
            id == entry
                || id
                    .strip_suffix(entry.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        }
    })
}

/// Reads one header's value; parts it cannot read are left out.
pub fn parse(value: &str) -> AuthResults {
    let text = strip_comments(value).to_ascii_lowercase();
    let mut results = AuthResults::default();
    for (n, clause) in text.split(';').enumerate() {
        let mut tokens = clause.split_whitespace();
        let Some(first) = tokens.next() else { continue };
        if n == 0 && !first.contains('=') {
            results.authserv_id = first.to_owned();
            continue;
        }
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        let props: Vec<(&str, &str)> = tokens.filter_map(|t| t.split_once('=')).collect();
        let prop = |name: &str| {
            props
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.trim_matches('"').to_owned())
        };
        let result = result.to_owned();
        match method {
            "spf" if results.spf.is_none() => {
                results.spf_domain = prop("smtp.mailfrom")
                    .map(|from| from.rsplit('@').next().unwrap_or("").to_owned());
                results.spf = Some(result);
            }
            "dkim" => {
                let domain = prop("header.d")
                    .or_else(|| prop("header.i").map(|i| i.rsplit('@').next().unwrap_or("").into()))
                    .unwrap_or_default();
                results.dkim.push((result, domain));
            }
            "dmarc" if results.dmarc.is_none() => results.dmarc = Some(result),
            _ => {}
        }
    }
    results
}

/// The text without its `(comments)`, which may nest.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc_and_microsoft_forms() {
        let rfc = parse(
            "mx.example.com 1; spf=softfail (domain does not designate) smtp.mailfrom=bounce@evil.test; \
             dkim=pass header.d=mailer.test header.s=s1; dkim=fail header.i=@other.test; dmarc=fail (p=reject) header.from=bank.test",
        );
        assert_eq!(rfc.authserv_id, "mx.example.com");
        assert_eq!(rfc.spf.as_deref(), Some("softfail"));
        assert_eq!(rfc.spf_domain.as_deref(), Some("evil.test"));
        assert_eq!(
            rfc.dkim,
            vec![
                ("pass".into(), "mailer.test".into()),
                ("fail".into(), "other.test".into())
            ]
        );
        assert_eq!(rfc.dmarc.as_deref(), Some("fail"));

        let microsoft = parse(
            "spf=pass (sender IP is 40.107.21.137)\r\n smtp.mailfrom=qmhs.onmicrosoft.com; dkim=pass (signature was verified)\r\n \
             header.d=qmhs.onmicrosoft.com;dmarc=bestguesspass action=none\r\n header.from=qmhs.onmicrosoft.com;compauth=pass reason=109",
        );
        assert_eq!(microsoft.authserv_id, "");
        assert_eq!(microsoft.spf.as_deref(), Some("pass"));
        assert_eq!(microsoft.dmarc.as_deref(), Some("bestguesspass"));
    }

    #[test]
    fn only_the_trusted_writer_counts() {
        let forged = "mx.example.com.evil.test; spf=pass smtp.mailfrom=a@b.test";
        let real = "mx.example.com; spf=fail smtp.mailfrom=a@b.test";
        let trusted = vec!["example.com".to_owned()];
        let found = trusted_results([forged, real], &trusted).unwrap();
        assert_eq!(found.spf.as_deref(), Some("fail"));
        assert!(trusted_results([forged], &trusted).is_none());
        assert!(trusted_results([real], &[]).is_none());
        let microsoft = "spf=none smtp.mailfrom=x.test";
        assert!(trusted_results([microsoft], &trusted).is_none());
        assert!(trusted_results([microsoft], &["outlook.com".into()]).is_some());
    }

    #[test]
    fn one_header_per_method_is_read_together() {
        let found = trusted_results(
            [
                "mail.protonmail.ch; dmarc=pass (p=none dis=none) header.from=a.test",
                "mail.protonmail.ch; spf=pass smtp.mailfrom=a.test",
                "mail.protonmail.ch; dkim=none",
                "forged.test; dkim=pass header.d=a.test",
            ],
            &["protonmail.ch".into()],
        )
        .unwrap();
        assert_eq!(found.dmarc.as_deref(), Some("pass"));
        assert_eq!(found.spf.as_deref(), Some("pass"));
        assert_eq!(found.dkim, vec![("none".into(), String::new())]);
    }
}
