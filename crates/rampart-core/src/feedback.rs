//! Feedback from users to their organisation's admins: a bug, an idea or a
//! question, from the page it was sent on, answered and closed by admins.

use serde::{Deserialize, Serialize};

use crate::{FeedbackId, OrgId, Timestamp, UserId};

/// Longest message and answer.
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Longest page reference.
pub const MAX_PAGE_CHARS: usize = 500;
/// Most feedback one user may send per hour.
pub const PER_USER_PER_HOUR: i64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    Bug,
    Idea,
    Question,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedbackStatus {
    Open,
    Answered,
    Closed,
}

impl FeedbackKind {
    pub const ALL: [FeedbackKind; 3] = [
        FeedbackKind::Bug,
        FeedbackKind::Idea,
        FeedbackKind::Question,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Bug => "bug",
            FeedbackKind::Idea => "idea",
            FeedbackKind::Question => "question",
        }
    }

    pub fn parse(text: &str) -> Option<FeedbackKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl FeedbackStatus {
    pub const ALL: [FeedbackStatus; 3] = [
        FeedbackStatus::Open,
        FeedbackStatus::Answered,
        FeedbackStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackStatus::Open => "open",
            FeedbackStatus::Answered => "answered",
            FeedbackStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<FeedbackStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One piece of feedback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feedback {
    pub id: FeedbackId,
    pub org_id: OrgId,
    pub author: UserId,
    pub kind: FeedbackKind,
    pub message: String,
    /// Where it was sent from (a page of the UI, say).
    pub page: Option<String>,
    pub status: FeedbackStatus,
    pub answer: Option<String>,
    pub answered_by: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
