-- Watchlists: indicators an organisation watches for in its events, one
-- row per (organisation, type, canonical value), and a version per
-- organisation that every change bumps (nodes recompile their matcher
-- when it moves).
CREATE TABLE watchlist_entries (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    value               TEXT NOT NULL,
    include_subdomains  BOOLEAN NOT NULL,
    source              TEXT NOT NULL,
    tags                TEXT NOT NULL,   -- JSON array of strings
    description         TEXT,
    severity            INTEGER NOT NULL,
    expires_at          BIGINT,
    hits                BIGINT NOT NULL DEFAULT 0,
    last_hit_at         BIGINT,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (org_id, kind, value)
);
CREATE INDEX watchlist_entries_by_org ON watchlist_entries (org_id, id);

CREATE TABLE watchlist_versions (
    org_id   TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    version  BIGINT NOT NULL
);
