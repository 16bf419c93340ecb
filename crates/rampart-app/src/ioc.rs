//! Indicator extraction for signed-in users (`POST /ioc/extract`): the
//! text is read on a blocking thread (large pastes take a while) and
//! nothing is stored.

use rampart_core::{Error, Permission};
use rampart_mail::ioc::{extract, Indicator, IndicatorSet};
use serde::{Deserialize, Serialize};

use crate::principal::Principal;

/// The most text one request may hold (characters as bytes).
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;

/// Text to read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IocRequest {
    /// Prose, a report, log lines: defanged forms are recognised.
    #[schema(max_length = 8388608)]
    pub text: String,
}

/// What the text holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IocReply {
    /// Every indicator where it stands, with its words and confidence.
    pub indicators: Vec<Indicator>,
    /// The distinct values by kind.
    pub summary: IndicatorSet,
}

/// The indicators of the text.
pub async fn extract_indicators(
    principal: &Principal,
    request: IocRequest,
) -> Result<IocReply, Error> {
    principal.require(Permission::Read)?;
    if request.text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid_field(
            "text",
            format!("at most {MAX_TEXT_BYTES} bytes"),
        ));
    }
    tokio::task::spawn_blocking(move || {
        let indicators = extract(&request.text);
        IocReply {
            summary: IndicatorSet::of(&indicators),
            indicators,
        }
    })
    .await
    .map_err(|e| Error::internal(&e))
}
