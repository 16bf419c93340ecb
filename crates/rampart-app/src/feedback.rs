//! Feedback: any signed-in user sends a bug, an idea or a question (at
//! most [`PER_USER_PER_HOUR`] an hour); their organisation's admins list,
//! answer (audited) and close it; the user reads the answers to their own.

use std::sync::Arc;

use rampart_core::feedback::{
    Feedback, FeedbackStatus, MAX_MESSAGE_CHARS, MAX_PAGE_CHARS, PER_USER_PER_HOUR,
};
use rampart_core::{Clock, Error, FeedbackId, Permission, Timestamp};
use rampart_store::{FeedbackQuery, Store};

use crate::api::feedback::{FeedbackChange, FeedbackView, NewFeedback};
use crate::audit::{self, Audit};
use crate::notifications::Notifier;
use crate::paging::{Page, PageParams};
use crate::principal::Principal;
use rampart_core::notification::{Notice, NoticeKind};

const HOUR_MS: i64 = 3_600_000;

#[derive(Clone)]
pub struct Feedbacks {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    audit: Audit,
    notifier: Notifier,
}

fn text(field: &str, value: &str, most: usize) -> Result<String, Error> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > most {
        return Err(Error::invalid_field(
            field,
            format!("must have 1 to {most} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

impl Feedbacks {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        audit: Audit,
        notifier: Notifier,
    ) -> Self {
        Self {
            store,
            clock,
            audit,
            notifier,
        }
    }

    pub async fn submit(
        &self,
        principal: &Principal,
        input: NewFeedback,
    ) -> Result<FeedbackView, Error> {
        principal.require(Permission::Read)?;
        let user = principal
            .user()
            .ok_or_else(|| Error::forbidden("feedback comes from users, not API keys"))?;
        let message = text("message", &input.message, MAX_MESSAGE_CHARS)?;
        let page = input
            .page
            .filter(|p| !p.trim().is_empty())
            .map(|p| text("page", &p, MAX_PAGE_CHARS))
            .transpose()?;
        let now = self.clock.now();
        let recent = self
            .store
            .count_feedback_since(principal.org_id, user.id, Timestamp(now.0 - HOUR_MS))
            .await?;
        if recent >= PER_USER_PER_HOUR {
            return Err(Error::too_many_requests(
                format!(
                    "at most {PER_USER_PER_HOUR} feedback messages an hour; thank you for them"
                ),
                HOUR_MS / 1000 / PER_USER_PER_HOUR,
            ));
        }
        let feedback = Feedback {
            id: FeedbackId::new(),
            org_id: principal.org_id,
            author: user.id,
            kind: input.kind,
            message,
            page,
            status: FeedbackStatus::Open,
            answer: None,
            answered_by: None,
            answered_at: None,
            created_at: now,
            updated_at: now,
        };
        self.store.create_feedback(&feedback).await?;
        Ok(FeedbackView::from(feedback))
    }

    /// The caller's own feedback with its answers.
    pub async fn mine(
        &self,
        principal: &Principal,
        page: &PageParams,
    ) -> Result<Page<FeedbackView>, Error> {
        let user = principal
            .user()
            .ok_or_else(|| Error::forbidden("feedback comes from users, not API keys"))?;
        self.page(principal, Some(user.id), None, page).await
    }

    /// The organisation's feedback (admins).
    pub async fn list(
        &self,
        principal: &Principal,
        status: Option<FeedbackStatus>,
        page: &PageParams,
    ) -> Result<Page<FeedbackView>, Error> {
        principal.require(Permission::Admin)?;
        self.page(principal, None, status, page).await
    }

    async fn page(
        &self,
        principal: &Principal,
        author: Option<rampart_core::UserId>,
        status: Option<FeedbackStatus>,
        page: &PageParams,
    ) -> Result<Page<FeedbackView>, Error> {
        let limit = page.limit()?;
        let query = FeedbackQuery {
            status,
            author,
            before: page.cursor()?,
            limit,
        };
        let items = self.store.list_feedback(principal.org_id, &query).await?;
        Ok(Page::new(
            items.into_iter().map(FeedbackView::from).collect(),
            limit,
            |f| f.id.to_string(),
        ))
    }

    /// Answers or changes the status of one (admins; audited).
    pub async fn change(
        &self,
        principal: &Principal,
        id: FeedbackId,
        change: FeedbackChange,
    ) -> Result<FeedbackView, Error> {
        principal.require(Permission::Admin)?;
        let mut feedback = self
            .store
            .get_feedback(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("feedback"))?;
        let before = FeedbackView::from(feedback.clone());
        let now = self.clock.now();
        if let Some(answer) = &change.answer {
            feedback.answer = Some(text("answer", answer, MAX_MESSAGE_CHARS)?);
            feedback.answered_by = Some(principal.audit_actor());
            feedback.answered_at = Some(now);
            feedback.status = FeedbackStatus::Answered;
        }
        if let Some(status) = change.status {
            feedback.status = status;
        }
        feedback.updated_at = now;
        let after = FeedbackView::from(feedback.clone());
        let action = if change.answer.is_some() {
            "feedback.answer"
        } else {
            "feedback.update"
        };
        let entry = self.audit.entry(
            principal,
            action,
            ("feedback", id.to_string()),
            audit::snapshot(&before),
            audit::snapshot(&after),
        );
        if !self.store.update_feedback(&feedback, &entry).await? {
            return Err(Error::not_found("feedback"));
        }
        if change.answer.is_some() {
            // The author hears of the answer by e-mail.
            let notice = Notice {
                feedback: Some(id),
                user: Some(feedback.author),
                ..Notice::new(NoticeKind::FeedbackAnswered)
            };
            self.notifier.notify(principal.org_id, &notice).await?;
        }
        Ok(after)
    }
}
