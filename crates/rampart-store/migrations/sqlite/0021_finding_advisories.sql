-- The advisories (CVE, GHSA, …) each finding names, one row each, so a
-- list filtered by one reads that advisory's findings only.
CREATE TABLE finding_advisories (
    org_id      TEXT NOT NULL,
    advisory    TEXT NOT NULL,
    finding_id  TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    PRIMARY KEY (org_id, advisory, finding_id)
) WITHOUT ROWID;
CREATE INDEX finding_advisories_by_finding ON finding_advisories (finding_id);

-- findings.vulnerability_ids is ' A B ' (upper case, space-separated).
INSERT OR IGNORE INTO finding_advisories (org_id, advisory, finding_id)
WITH RECURSIVE split (org_id, finding_id, rest, advisory) AS (
    SELECT org_id, id, ltrim(vulnerability_ids) || ' ', NULL FROM findings
    UNION ALL
    SELECT org_id, finding_id,
           ltrim(substr(rest, instr(rest, ' '))),
           substr(rest, 1, instr(rest, ' ') - 1)
    FROM split WHERE rest <> ''
)
SELECT org_id, advisory, finding_id FROM split
WHERE advisory IS NOT NULL AND advisory <> '';

-- The list's own order carries the columns a text search (q) reads, so
-- a search that matches little reads this index, not every finding row.
DROP INDEX findings_by_priority;
CREATE INDEX findings_by_priority ON findings (org_id, priority DESC, id DESC, title, component);
