//! Threat intelligence about vulnerabilities: CISA's Known Exploited
//! Vulnerabilities catalogue and FIRST's EPSS probabilities, as loaded
//! from their published files and consulted when findings are scored.
//! Public reference data, the same for every organisation.

use serde::{Deserialize, Serialize};

/// One entry of the KEV catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KevEntry {
    /// `CVE-2021-44228`, upper case.
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    /// `YYYY-MM-DD`, as the catalogue writes it.
    pub date_added: String,
    pub due_date: Option<String>,
    /// Known to be used in ransomware campaigns.
    pub ransomware: bool,
}

/// One row of the EPSS file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EpssScore {
    pub cve: String,
    /// Probability of exploitation in the next 30 days, 0–1.
    pub epss: f64,
    /// Share of CVEs scored lower, 0–1.
    pub percentile: f64,
}

/// Which source a loaded data set came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IntelSourceName {
    Kev,
    Epss,
}

impl IntelSourceName {
    pub fn as_str(self) -> &'static str {
        match self {
            IntelSourceName::Kev => "kev",
            IntelSourceName::Epss => "epss",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "kev" => Some(IntelSourceName::Kev),
            "epss" => Some(IntelSourceName::Epss),
            _ => None,
        }
    }
}

/// The data set currently loaded from a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntelSource {
    pub source: IntelSourceName,
    /// The catalogue version (KEV) or model version (EPSS).
    pub version: String,
    /// When the publisher released it (KEV) or scored it (EPSS).
    pub released: Option<String>,
    pub rows: u64,
    pub loaded_at: crate::Timestamp,
}

/// What is known about one CVE.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CveIntel {
    pub kev: Option<KevEntry>,
    pub epss: Option<EpssScore>,
}
