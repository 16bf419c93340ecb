-- Rampart's own scans: each organisation's scope (what may be scanned)
-- and its scans with their progress and outcome.
CREATE TABLE scope_entries (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    ports       TEXT NOT NULL,   -- JSON array of numbers; empty: any port
    note        TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, target)
);

CREATE TABLE scans (
    id                TEXT PRIMARY KEY NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    asset_id          TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL,
    targets           TEXT NOT NULL,   -- JSON array of strings
    ports             TEXT NOT NULL,   -- JSON array of numbers
    status            TEXT NOT NULL,
    progress          INTEGER NOT NULL,
    checks_done       BIGINT NOT NULL,
    checks_total      BIGINT NOT NULL,
    cancel_requested  BOOLEAN NOT NULL,
    counts            TEXT,            -- JSON ImportCounts once completed
    summary           TEXT NOT NULL,   -- JSON
    error             TEXT,
    requested_by      TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT
);
CREATE INDEX scans_by_org ON scans (org_id, id DESC);
CREATE INDEX scans_by_asset ON scans (org_id, asset_id, id DESC);
