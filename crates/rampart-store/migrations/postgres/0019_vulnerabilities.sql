-- Vulnerability management: assets, findings de-duplicated by fingerprint
-- within an asset and scan type, and the log of imported reports.
CREATE TABLE assets (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    identifiers  TEXT NOT NULL,   -- JSON array of strings
    criticality  INTEGER NOT NULL,
    exposure     TEXT NOT NULL,
    owner        TEXT,
    tags         TEXT NOT NULL,   -- JSON array of strings
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE findings (
    id                   TEXT PRIMARY KEY NOT NULL,
    org_id               TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    asset_id             TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    scan_type            TEXT NOT NULL,
    fingerprint          TEXT NOT NULL,
    title                TEXT NOT NULL,
    severity             TEXT NOT NULL,
    status               TEXT NOT NULL,
    priority             INTEGER NOT NULL,
    band                 TEXT NOT NULL,
    contributions        TEXT NOT NULL,   -- JSON
    vulnerability_ids    TEXT NOT NULL,   -- ' CVE-… GHSA-… ' upper case, for filters
    component            TEXT,
    report               TEXT NOT NULL,   -- JSON: the latest report's finding
    report_digest        TEXT NOT NULL,   -- changes when report or priority do
    status_reason        TEXT,
    risk_accepted_until  BIGINT,
    first_seen           BIGINT NOT NULL,
    last_seen            BIGINT NOT NULL,
    closed_at            BIGINT,
    updated_at           BIGINT NOT NULL,
    UNIQUE (org_id, asset_id, scan_type, fingerprint)
);
CREATE INDEX findings_by_priority ON findings (org_id, priority DESC, id DESC);
CREATE INDEX findings_by_status ON findings (org_id, status, priority DESC, id DESC);
CREATE INDEX findings_by_asset ON findings (org_id, asset_id, priority DESC, id DESC);

CREATE TABLE finding_imports (
    id           TEXT PRIMARY KEY NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    asset_id     TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    scan_type    TEXT NOT NULL,
    format       TEXT NOT NULL,
    tool         TEXT NOT NULL,
    file_name    TEXT,
    actor        TEXT NOT NULL,
    findings     BIGINT NOT NULL,
    new          BIGINT NOT NULL,
    unchanged    BIGINT NOT NULL,
    reopened     BIGINT NOT NULL,
    closed       BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX finding_imports_by_org ON finding_imports (org_id, id DESC);
