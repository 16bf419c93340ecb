-- Validation rules of incoming events, and their pass/fail counts per minute.
CREATE TABLE validation_rules (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    source      TEXT,
    field       TEXT NOT NULL,
    check_json  TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('warn', 'reject')),
    enabled     BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT validation_rules_name_key UNIQUE (org_id, name)
);
CREATE INDEX validation_rules_org_idx ON validation_rules (org_id, id);

CREATE TABLE validation_counts (
    org_id   TEXT NOT NULL,
    rule_id  TEXT NOT NULL,
    minute   BIGINT NOT NULL, -- epoch ms of the minute's start
    passed   BIGINT NOT NULL,
    failed   BIGINT NOT NULL,
    PRIMARY KEY (org_id, rule_id, minute)
);
