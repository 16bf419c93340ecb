//! Users' feedback as the API shows and takes it.

use rampart_core::feedback::{Feedback, FeedbackKind, FeedbackStatus};
use rampart_core::{FeedbackId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    pub id: FeedbackId,
    pub author: UserId,
    pub kind: FeedbackKind,
    pub message: String,
    pub page: Option<String>,
    pub status: FeedbackStatus,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Feedback> for FeedbackView {
    fn from(f: Feedback) -> Self {
        FeedbackView {
            id: f.id,
            author: f.author,
            kind: f.kind,
            message: f.message,
            page: f.page,
            status: f.status,
            answer: f.answer,
            answered_by: f.answered_by,
            answered_at: f.answered_at,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// Feedback to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    pub kind: FeedbackKind,
    #[schema(min_length = 1, max_length = 5000, pattern = "[^\\s\\u0085]")]
    pub message: String,
    /// Where it was sent from (e.g. the UI page's path).
    #[schema(max_length = 500)]
    pub page: Option<String>,
}

/// An admin's answer or status change; absent fields stay.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackChange {
    /// Sets the status to `answered` unless a status is given.
    #[schema(min_length = 1, max_length = 5000, pattern = "[^\\s\\u0085]")]
    pub answer: Option<String>,
    pub status: Option<FeedbackStatus>,
}
