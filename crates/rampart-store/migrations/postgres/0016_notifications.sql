-- Notifications: channels (target and secret as JSON), the rules that route
-- notices to them, users' own preferences, and the delivery log. A
-- delivery's dedupe key keeps a dispatch that runs twice from sending twice.
CREATE TABLE notification_channels (
    id         TEXT PRIMARY KEY NOT NULL,
    org_id     TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'slack')),
    target     TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE notification_rules (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    events       TEXT NOT NULL,
    min_severity BIGINT NOT NULL,
    channels     TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE notification_prefs (
    org_id     TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    prefs      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE notification_deliveries (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    notice       TEXT NOT NULL,
    channel_id   TEXT,
    recipient    TEXT,
    subject_ref  TEXT,
    message      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    dedupe_key   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (org_id, dedupe_key)
);
CREATE INDEX notification_deliveries_org_idx ON notification_deliveries (org_id, id);
