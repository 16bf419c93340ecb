-- Phishing reports: each raw message (kept for re-reading and download)
-- with its analysis once done, one per organisation and SHA-256; the
-- senders an organisation has had clean mail from; and each
-- organisation's phishing policy (JSON).
CREATE TABLE phishing_messages (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    sha256       TEXT NOT NULL,
    source       TEXT NOT NULL,
    reporter     TEXT NOT NULL,
    size         BIGINT NOT NULL,
    raw          BYTEA NOT NULL,
    status       TEXT NOT NULL,
    sender       TEXT,
    subject      TEXT,
    score        BIGINT,
    verdict      TEXT,
    result       TEXT,             -- JSON: the analysis
    error        TEXT,
    incident_id  TEXT,
    received_at  BIGINT NOT NULL,
    analysed_at  BIGINT,
    UNIQUE (org_id, sha256)
);
CREATE INDEX phishing_messages_by_org ON phishing_messages (org_id, id);

CREATE TABLE phishing_senders (
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    address     TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    messages    BIGINT NOT NULL,
    PRIMARY KEY (org_id, address)
);

CREATE TABLE phishing_policies (
    org_id      TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    policy      TEXT NOT NULL,     -- JSON
    updated_at  BIGINT NOT NULL
);
