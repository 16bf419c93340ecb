//! Indicators of compromise in prose: addresses (IPv4, IPv6), domains
//! (checked against the Public Suffix List), URLs of any scheme, e-mail
//! addresses, MD5/SHA-1/SHA-256 hashes and CVE ids. Defanged forms are
//! refanged first (`fang`); each indicator keeps its original words, its
//! place and a confidence: defanged (someone marked it), inside a URL,
//! or bare. One pass over the text; no regular expressions.

mod fang;
mod psl;
mod scan;

pub use fang::{defang, fang, refang};
pub use psl::{known_tld, registrable_domain};
use serde::Serialize;

/// What an indicator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum IocKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Cve,
}

impl IocKind {
    pub const ALL: [IocKind; 9] = [
        IocKind::Ipv4,
        IocKind::Ipv6,
        IocKind::Domain,
        IocKind::Url,
        IocKind::Email,
        IocKind::Md5,
        IocKind::Sha1,
        IocKind::Sha256,
        IocKind::Cve,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IocKind::Ipv4 => "ipv4",
            IocKind::Ipv6 => "ipv6",
            IocKind::Domain => "domain",
            IocKind::Url => "url",
            IocKind::Email => "email",
            IocKind::Md5 => "md5",
            IocKind::Sha1 => "sha1",
            IocKind::Sha256 => "sha256",
            IocKind::Cve => "cve",
        }
    }
}

/// How sure the extraction is that this was meant as an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IocConfidence {
    /// Written bare in prose.
    Bare,
    /// The host of a URL.
    InUrl,
    /// Defanged by whoever wrote it: meant as an indicator.
    Defanged,
}

impl IocConfidence {
    /// As the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            IocConfidence::Bare => "bare",
            IocConfidence::InUrl => "in_url",
            IocConfidence::Defanged => "defanged",
        }
    }
}

/// One indicator found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    pub kind: IocKind,
    /// Canonical: refanged, lower case where case does not matter.
    pub value: String,
    /// As written.
    pub original: String,
    pub confidence: IocConfidence,
    /// Byte range of `original` in the text.
    pub start: usize,
    pub end: usize,
}

/// Every indicator of the text, in order of appearance (each place once).
pub fn extract(text: &str) -> Vec<Indicator> {
    let refanged = refang(text);
    let mut found = scan::scan(&refanged.text, &|start, end| {
        refanged.original_span(start, end).2
    });
    found.sort_by_key(|f| (f.start, f.end));
    found
        .into_iter()
        .map(|f| {
            let (start, end, defanged) = refanged.original_span(f.start, f.end);
            Indicator {
                kind: f.kind,
                value: f.value,
                original: text.get(start..end).unwrap_or("").to_owned(),
                confidence: if defanged {
                    IocConfidence::Defanged
                } else if f.in_url {
                    IocConfidence::InUrl
                } else {
                    IocConfidence::Bare
                },
                start,
                end,
            }
        })
        .collect()
}

/// The distinct values of each kind, in order of first appearance: the
/// shape `rampart ioc extract --json` prints per line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndicatorSet {
    pub ipv4: Vec<String>,
    pub ipv6: Vec<String>,
    pub domain: Vec<String>,
    pub url: Vec<String>,
    pub email: Vec<String>,
    pub md5: Vec<String>,
    pub sha1: Vec<String>,
    pub sha256: Vec<String>,
    pub cve: Vec<String>,
}

impl IndicatorSet {
    pub fn of(indicators: &[Indicator]) -> Self {
        let mut set = IndicatorSet::default();
        for indicator in indicators {
            let list = match indicator.kind {
                IocKind::Ipv4 => &mut set.ipv4,
                IocKind::Ipv6 => &mut set.ipv6,
                IocKind::Domain => &mut set.domain,
                IocKind::Url => &mut set.url,
                IocKind::Email => &mut set.email,
                IocKind::Md5 => &mut set.md5,
                IocKind::Sha1 => &mut set.sha1,
                IocKind::Sha256 => &mut set.sha256,
                IocKind::Cve => &mut set.cve,
            };
            if !list.contains(&indicator.value) {
                list.push(indicator.value.clone());
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        self.ipv4.len()
            + self.ipv6.len()
            + self.domain.len()
            + self.url.len()
            + self.email.len()
            + self.md5.len()
            + self.sha1.len()
            + self.sha256.len()
            + self.cve.len()
    }
}
