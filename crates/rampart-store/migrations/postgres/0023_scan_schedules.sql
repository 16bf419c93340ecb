-- Recurring scans: a scan request, its cron expression and the next run.
CREATE TABLE scan_schedules (
    id            TEXT PRIMARY KEY NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    request       TEXT NOT NULL,   -- JSON ScanRequest
    cron          TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    next_run_at   BIGINT NOT NULL,
    last_run_at   BIGINT,
    last_scan_id  TEXT,
    last_error    TEXT,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX scan_schedules_due ON scan_schedules (next_run_at);
