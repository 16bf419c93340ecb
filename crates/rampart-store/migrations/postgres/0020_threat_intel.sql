-- Threat intelligence about vulnerabilities (the same for every
-- organisation): CISA's KEV catalogue, FIRST's EPSS scores, and which
-- release of each is loaded.
CREATE TABLE intel_kev (
    cve         TEXT PRIMARY KEY NOT NULL,
    vendor      TEXT NOT NULL,
    product     TEXT NOT NULL,
    name        TEXT NOT NULL,
    date_added  TEXT NOT NULL,
    due_date    TEXT,
    ransomware  BOOLEAN NOT NULL
);

CREATE TABLE intel_epss (
    cve         TEXT PRIMARY KEY NOT NULL,
    epss        DOUBLE PRECISION NOT NULL,
    percentile  DOUBLE PRECISION NOT NULL
);

CREATE TABLE intel_sources (
    source      TEXT PRIMARY KEY NOT NULL,
    version     TEXT NOT NULL,
    released    TEXT,
    row_count   BIGINT NOT NULL,
    loaded_at   BIGINT NOT NULL
);
