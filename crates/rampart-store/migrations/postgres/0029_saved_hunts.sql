-- Saved hunts: a named query of an organisation, optionally run on a
-- schedule over a look-back window, and what its last run found.
CREATE TABLE saved_hunts (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    query             TEXT NOT NULL,
    owner             TEXT NOT NULL,
    cron              TEXT,
    window_minutes    BIGINT NOT NULL,
    threshold         BIGINT NOT NULL,
    action            TEXT NOT NULL,
    severity          INTEGER NOT NULL,
    enabled           BOOLEAN NOT NULL,
    next_run_at       BIGINT,
    last_run_at       BIGINT,
    last_matched      BIGINT,
    last_error        TEXT,
    last_incident_id  TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX saved_hunts_due ON saved_hunts (next_run_at);
