-- Reports uploaded to be imported by a job (large ones, or when the client
-- asks): the file until the import has run, then the import's reply or
-- error.
CREATE TABLE report_uploads (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    actor        TEXT NOT NULL,
    request      TEXT NOT NULL,   -- JSON: the import's parameters
    size         BIGINT NOT NULL,
    body         BLOB,            -- the report; cleared once imported
    state        TEXT NOT NULL,
    result       TEXT,            -- JSON: the import's reply
    error        TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX report_uploads_by_org ON report_uploads (org_id, created_at DESC);
