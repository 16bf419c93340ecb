#!/usr/bin/env python3
"""The naive SQLite baseline of BENCHMARKS.md: the rows of `rampart bench rows`
(TSV on stdin) into one table with indexes on (org_id, ts) and
(org_id, src_ip, ts), in one transaction with executemany."""
import os, sqlite3, sys, time

path = sys.argv[1] if len(sys.argv) > 1 else "naive-bench.db"
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
rows = [line.rstrip("\n").split("\t", 3) for line in sys.stdin]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, ts INTEGER NOT NULL, src_ip TEXT, doc TEXT NOT NULL)")
db.execute("CREATE INDEX events_org_ts ON events (org_id, ts)")
db.execute("CREATE INDEX events_org_ip_ts ON events (org_id, src_ip, ts)")
started = time.perf_counter()
with db:
    db.executemany("INSERT INTO events (org_id, ts, src_ip, doc) VALUES (?, ?, ?, ?)", rows)
elapsed = time.perf_counter() - started
print(f"naive SQLite (executemany): {len(rows)} rows in one transaction in {elapsed:.2f} s: {len(rows)/elapsed:.0f} rows/s")
