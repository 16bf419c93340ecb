#!/usr/bin/env python3
"""Indicator extraction accuracy (issue 19): Rampart (`rampart ioc extract
--json`), InQuest's iocextract and ioc-finder on the labelled corpus in
crates/rampart-mail/tests/data/ioc-corpus.jsonl. Prints precision, recall
and F1 per indicator type and tool (true/false positives, misses).

    python3 -m venv /tmp/iocenv && /tmp/iocenv/bin/pip install iocextract ioc-finder
    /tmp/iocenv/bin/python scripts/ioc-accuracy.py [RAMPART_BINARY]

Values are compared after the same normalisation for every tool: lower
case (except URL paths), `hxxp` as `http`, no trailing `/` on URLs."""
import json, subprocess, sys
from urllib.parse import urlsplit

import iocextract
import ioc_finder

KINDS = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "cve"]
binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/rampart"


def norm(kind, value):
    value = value.strip()
    if kind == "url":
        try:
            parts = urlsplit(value)
            rest = value[len(parts.scheme) + 3 + len(parts.netloc):]
            value = f"{parts.scheme.lower()}://{parts.netloc.lower()}{rest}"
        except ValueError:
            pass
        return value.rstrip("/")
    if kind == "ipv6":
        import ipaddress
        try:
            return str(ipaddress.IPv6Address(value.split("%")[0]))
        except ValueError:
            return value.lower()
    if kind == "cve":
        return value.upper()
    return value.lower()


def rampart(text):
    out = subprocess.run([binary, "ioc", "extract", "--json"], input=text.encode(),
                         capture_output=True, check=True).stdout.decode()
    found = {k: set() for k in KINDS}
    for line in out.splitlines():
        for k, values in json.loads(line).items():
            found[k].update(values)
    return found


def with_iocextract(text):
    found = {k: set() for k in KINDS}
    found["url"] = set(iocextract.extract_urls(text, refang=True))
    found["ipv4"] = set(iocextract.extract_ipv4s(text, refang=True))
    found["ipv6"] = set(iocextract.extract_ipv6s(text))
    found["email"] = set(iocextract.extract_emails(text, refang=True))
    found["md5"] = set(iocextract.extract_md5_hashes(text))
    found["sha1"] = set(iocextract.extract_sha1_hashes(text))
    found["sha256"] = set(iocextract.extract_sha256_hashes(text))
    return found  # no domains, no CVE ids


def with_ioc_finder(text):
    r = ioc_finder.find_iocs(text)
    keys = {"ipv4": "ipv4s", "ipv6": "ipv6s", "domain": "domains", "url": "urls",
            "email": "email_addresses", "md5": "md5s", "sha1": "sha1s", "sha256": "sha256s",
            "cve": "cves"}
    return {k: set(r.get(v, [])) for k, v in keys.items()}


tools = {"rampart": rampart, "iocextract": with_iocextract, "ioc-finder": with_ioc_finder}
score = {t: {k: [0, 0, 0] for k in KINDS} for t in tools}  # tp, fp, fn
misses = {t: [] for t in tools}
cases = [json.loads(l) for l in open("crates/rampart-mail/tests/data/ioc-corpus.jsonl")]
for case in cases:
    for tool, run in tools.items():
        found = run(case["text"])
        for k in KINDS:
            expected = {norm(k, v) for v in case["expected"].get(k, [])}
            ignore = {norm(k, v) for v in case.get("ignore", {}).get(k, [])}
            got = {norm(k, v) for v in found[k]} - ignore
            tp, fp, fn = len(got & expected), len(got - expected), len(expected - got)
            s = score[tool][k]
            s[0] += tp; s[1] += fp; s[2] += fn
            if fp or fn:
                misses[tool].append((case["source"], k, sorted(got - expected), sorted(expected - got)))

print(f"{len(cases)} cases")
print(f"{'type':8} " + " ".join(f"{t:>26}" for t in tools))
for k in KINDS:
    row = []
    for t in tools:
        tp, fp, fn = score[t][k]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        row.append(f"P {p:.2f} R {r:.2f} F1 {f1:.2f} ({fp}fp {fn}fn)")
    print(f"{k:8} " + " ".join(f"{c:>26}" for c in row))
if "-v" in sys.argv:
    for t in tools:
        print(f"\n{t}:")
        for m in misses[t]:
            print("  ", m)
