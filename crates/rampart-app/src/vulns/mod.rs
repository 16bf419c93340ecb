//! Vulnerability management: assets, imports of scanner reports (parsed,
//! prioritised and de-duplicated in one transaction) and findings with
//! their lifecycle.

mod assets;
mod findings;
mod imports;
mod intel;
mod intel_feed;
mod policy;
mod reports;
mod scoring;
mod uploads;

use std::sync::Arc;

use rampart_core::Clock;
use rampart_store::Store;

use crate::audit::Audit;

pub use imports::{guess_kind, FindingBatch};
pub use intel::{CveReport, IntelLoad};
pub use intel_feed::{
    download, feed_client, is_url, IntelConfig, IntelRefresh, REFRESH_JOB as INTEL_REFRESH_JOB,
};
pub use policy::{PolicyCheck, PolicyRun, POLICY_JOB};
pub use reports::{ImportDiff, RenderedReport, ReportFormat, MAX_REPORT_FINDINGS};
pub use uploads::{ImportUpload, UploadStatus, ASYNC_IMPORT_BYTES};

/// The vulnerability management service.
#[derive(Clone)]
pub struct Vulnerabilities {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
}

impl Vulnerabilities {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, audit: Audit) -> Self {
        Self {
            store,
            clock,
            audit,
        }
    }
}

/// An input error naming the field and the line and column of a file.
fn positioned(
    code: &'static str,
    field: &str,
    detail: String,
    line: Option<usize>,
    column: Option<usize>,
) -> rampart_core::Error {
    let position = |n: usize| u32::try_from(n).ok();
    rampart_core::Error::bad_request(code, detail)
        .with_field(field)
        .at(line.and_then(position), column.and_then(position))
}
