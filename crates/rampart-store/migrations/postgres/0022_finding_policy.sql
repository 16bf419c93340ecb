-- Each organisation's rules for findings (deadlines per severity, warning
-- before an accepted risk's review date, priority phrases) as JSON, and
-- which findings have had their breach notice or expiry warning.
CREATE TABLE finding_policy (
    org_id      TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    policy      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
ALTER TABLE findings ADD COLUMN sla_notified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE findings ADD COLUMN expiry_warned BOOLEAN NOT NULL DEFAULT FALSE;
