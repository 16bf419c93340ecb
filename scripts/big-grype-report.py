#!/usr/bin/env python3
"""A Grype JSON report with N findings (default 30,000), for the import
benchmark (scripts/bench-import.sh). Every match is a distinct advisory
and package, shaped as the sample reports in
crates/rampart-scan/tests/data/defectdojo/grype/ are (Grype's own output),
with CVSS vectors, fix versions and descriptions of realistic length.

Usage: big-grype-report.py [N] > report.json"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
rng = random.Random(18)
severities = ["Critical", "High", "Medium", "Low", "Negligible"]
vectors = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
]
phrases = ["allows remote attackers to execute arbitrary code",
           "allows a denial of service via a crafted request",
           "leads to information disclosure", "permits unauthenticated access"]
matches = []
for i in range(n):
    cve = f"CVE-20{10 + i % 15}-{10000 + i}"
    package = f"pkg-{i // 3:05d}"
    version = f"{i % 7}.{i % 11}.{i % 5}"
    vector = rng.choice(vectors)
    matches.append({
        "vulnerability": {
            "id": cve,
            "dataSource": f"https://nvd.nist.gov/vuln/detail/{cve}",
            "namespace": "nvd",
            "severity": rng.choice(severities),
            "urls": [f"https://example.org/advisories/{cve}"],
            "description": f"{package} before {version}1 {rng.choice(phrases)}. " * 3,
            "cvss": [{"version": "3.1", "vector": vector,
                      "metrics": {"baseScore": 7.5, "exploitabilityScore": 3.9, "impactScore": 3.6},
                      "vendorMetadata": {}}],
            "fix": {"versions": [f"{version}1"], "state": "fixed"},
            "advisories": [],
        },
        "relatedVulnerabilities": [],
        "matchDetails": [{"matcher": "javascript-matcher",
                          "searchedBy": {"namespace": "nvd", "cpes": []},
                          "found": {"versionConstraint": f"< {version}1", "cpes": []}}],
        "artifact": {"name": package, "version": version, "type": "npm",
                     "locations": [{"path": f"services/app-{i % 40}/package-lock.json"}],
                     "language": "javascript", "licenses": [], "cpes": [],
                     "purl": f"pkg:npm/{package}@{version}", "metadata": None},
    })
json.dump({"matches": matches,
           "source": {"type": "directory", "target": "/srv/shop"},
           "distro": {"name": "", "version": "", "idLike": None},
           "descriptor": {"name": "grype", "version": "0.34.4"}}, sys.stdout)
