-- The advisories (CVE, GHSA, …) each finding names, one row each, so a
-- list filtered by one reads that advisory's findings only.
CREATE TABLE finding_advisories (
    org_id      TEXT NOT NULL,
    advisory    TEXT NOT NULL,
    finding_id  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, advisory, finding_id)
);
CREATE INDEX finding_advisories_by_finding ON finding_advisories (finding_id);

-- findings.vulnerability_ids is ' A B ' (upper case, space-separated).
INSERT INTO finding_advisories (org_id, advisory, finding_id)
SELECT org_id, advisory, id
FROM findings, unnest(string_to_array(trim(vulnerability_ids), ' ')) AS advisory
WHERE advisory <> ''
ON CONFLICT DO NOTHING;
