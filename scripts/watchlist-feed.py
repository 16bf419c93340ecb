#!/usr/bin/env python3
"""A synthetic watchlist feed as CSV on stdout, for benchmarks: N entries
of every type (40% addresses, 5% networks, 30% domains, 10% SHA-256,
10% URLs, 5% e-mail addresses), seeded so runs compare. Networks lie in
210.0.0.0–223.255.255.255, outside the addresses `rampart bench ingest`
sends (10–209.x.x.x), so the feed costs lookups, not an alert storm;
HITS=n entries are taken from the bench's own addresses so that some
events do match.
    scripts/watchlist-feed.py 1000000 > /tmp/feed.csv
"""
import os
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
hits = int(os.environ.get("HITS", "20"))
rng = random.Random(19)
out = sys.stdout
out.write("type,value,tags\n")
words = ["cdn", "update", "secure", "login", "mail", "static", "api", "files", "auth", "portal"]
tlds = ["com", "net", "org", "io", "ru", "xyz", "top", "info", "co.uk", "de"]


def bench_ip(i):
    return f"{10 + i % 200}.{(i // 7) % 256}.{(i // 13) % 256}.{i % 251}"


for i in range(hits):
    out.write(f"ip,{bench_ip(rng.randrange(1_000_000))},bench-hit\n")
for i in range(n - hits):
    r = i % 20
    if r < 8:
        out.write(f"ip,{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)},feed\n")
    elif r < 9:
        prefix = rng.randrange(20, 29)
        out.write(f"cidr,{rng.randrange(210, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.0/{prefix},feed\n")
    elif r < 15:
        out.write(f"domain,{rng.choice(words)}-{i:x}.{rng.choice(words)}{rng.randrange(100)}.{rng.choice(tlds)},feed\n")
    elif r < 17:
        out.write(f"sha256,{rng.getrandbits(256):064x},feed\n")
    elif r < 19:
        out.write(f"url,https://{rng.choice(words)}-{i:x}.example.{rng.choice(tlds)}/{rng.choice(words)}/{i}.php,feed\n")
    else:
        out.write(f"email,{rng.choice(words)}{i}@{rng.choice(words)}-{i % 997}.{rng.choice(tlds)},feed\n")
