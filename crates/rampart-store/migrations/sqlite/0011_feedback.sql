-- Feedback from users to their organisation's admins.
CREATE TABLE feedback (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    author      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('bug', 'idea', 'question')),
    message     TEXT NOT NULL,
    page        TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    answer      TEXT,
    answered_by TEXT,
    answered_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX feedback_org_idx ON feedback (org_id, id);
CREATE INDEX feedback_author_idx ON feedback (org_id, author, created_at);
