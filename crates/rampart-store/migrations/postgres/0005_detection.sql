-- Detection rules, alerts, incidents with comments, and the audit trail.
CREATE TABLE detection_rules (
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    title        TEXT NOT NULL,
    level        TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('detection', 'correlation')),
    yaml         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    builtin      BOOLEAN NOT NULL,
    hits         BIGINT NOT NULL DEFAULT 0,
    last_hit_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT detection_rules_pkey PRIMARY KEY (org_id, id)
);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT,
    severity     BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'investigating', 'resolved', 'false_positive')),
    escalation   BIGINT NOT NULL,
    assignee     TEXT,
    rule_id      TEXT,
    group_key    TEXT,
    occurrences  BIGINT NOT NULL,
    entities     TEXT NOT NULL,
    event_ids    TEXT NOT NULL,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX incidents_last_seen_idx ON incidents (org_id, last_seen, id);
CREATE INDEX incidents_created_idx ON incidents (org_id, created_at, id);
CREATE INDEX incidents_severity_idx ON incidents (org_id, severity, id);
CREATE INDEX incidents_grouping_idx ON incidents (org_id, rule_id, group_key, last_seen);

CREATE TABLE alerts (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    rule_id      TEXT NOT NULL,
    rule_title   TEXT NOT NULL,
    severity     BIGINT NOT NULL,
    group_key    TEXT NOT NULL,
    event_ids    TEXT NOT NULL,
    entities     TEXT NOT NULL,
    ts           BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE
);
CREATE INDEX alerts_org_idx ON alerts (org_id, id);
CREATE INDEX alerts_incident_idx ON alerts (org_id, incident_id, id);

CREATE TABLE incident_comments (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    incident_id  TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author       TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX incident_comments_idx ON incident_comments (org_id, incident_id, id);

CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (org_id, target_type, target_id, id);

-- Append-only: entries can be neither changed nor removed.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
