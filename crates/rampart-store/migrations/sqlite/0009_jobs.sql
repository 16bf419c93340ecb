-- The durable job queue: one row per job, claimed by workers under a lease.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT REFERENCES organisations (id) ON DELETE CASCADE,
    queue        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    run_at       BIGINT NOT NULL,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT,
    state        TEXT NOT NULL CHECK (state IN ('available', 'running', 'retryable', 'completed', 'dead', 'cancelled')),
    unique_key   TEXT,
    locked_by    TEXT,
    locked_until BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
-- What workers claim: the ready jobs of a queue, highest priority first.
CREATE INDEX jobs_ready_idx ON jobs (queue, priority DESC, run_at, id)
    WHERE state IN ('available', 'retryable');
-- Leases that may have run out.
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE state = 'running';
-- One pending job per unique key.
CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'running', 'retryable');
CREATE INDEX jobs_org_idx ON jobs (org_id, id);
CREATE INDEX jobs_state_idx ON jobs (state, queue, run_at);

-- Recurring jobs: each schedule's next run, advanced by whichever node
-- enqueues it (compare and set), so a run happens once across nodes.
CREATE TABLE job_schedules (
    name        TEXT PRIMARY KEY NOT NULL,
    cron        TEXT NOT NULL,
    next_run_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
