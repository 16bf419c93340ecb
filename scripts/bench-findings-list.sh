#!/usr/bin/env bash
# Findings list benchmark (issue 18): GET /api/v1/findings with common
# filters over 1,000,000 stored findings (30 assets, each given the same
# 33,334-finding Grype report with `rampart import`), on the embedded
# default, measured from outside with Python's http.client (one client,
# keep-alive, sequential requests): p50/p95/p99 per filter. Run it alone:
# a build beside it halves the figures.
#
#   scripts/bench-findings-list.sh [RAMPART_BINARY] [ASSETS] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/rampart}
assets=${2:-30}
requests=${3:-200}
work=${BENCH_WORK:-$(mktemp -d)}
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
api=http://127.0.0.1:18493

if [ ! -f "$work/loaded" ]; then
  python3 scripts/big-grype-report.py 33334 > "$work/grype.json"
  # The first start creates the organisation and its admin.
  RAMPART_ADMIN_PASSWORD=bench-admin-password "$bin" serve --listen 127.0.0.1:18493 --data-dir "$work/data" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf $api/ready >/dev/null 2>&1 && break; sleep 0.1; done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  start=$(date +%s)
  for n in $(seq 1 "$assets"); do
    "$bin" import "$work/grype.json" --asset "image-$n" --data-dir "$work/data" --json > /dev/null
  done
  echo "loaded $assets x 33,334 findings in $(( $(date +%s) - start )) s"
  touch "$work/loaded"
fi

RAMPART_ADMIN_PASSWORD=bench-admin-password "$bin" serve --listen 127.0.0.1:18493 --data-dir "$work/data" >"$work/server.log" 2>&1 &
for _ in $(seq 1 100); do curl -sf $api/ready >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$api" "$requests" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
api, requests = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlparse(api)
conn = http.client.HTTPConnection(host.hostname, host.port)
def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, data
def login():
    status, body = call("POST", "/api/v1/auth/login", {"email": "admin@localhost", "password": "bench-admin-password"})
    return json.loads(body)["access_token"]
token = login()
status, body = call("GET", "/api/v1/assets?limit=1", token=token)
asset = json.loads(body)["items"][0]["id"]
status, body = call("GET", "/api/v1/findings?limit=1", token=token)
cve = json.loads(body)["items"][0]["report"]["vulnerability_ids"][0]
filters = [
    ("default page (active, 100)", "/api/v1/findings"),
    ("status=active&band=critical", "/api/v1/findings?status=active&band=critical"),
    ("severity=high", "/api/v1/findings?severity=high"),
    ("asset_id=<one of 30>", f"/api/v1/findings?asset_id={asset}"),
    ("min_priority=90", "/api/v1/findings?min_priority=90"),
    ("cve=<one>", f"/api/v1/findings?cve={cve}"),
    ("q=<a package name>", "/api/v1/findings?q=pkg-01234"),
    ("q=<absent word> (matches nothing)", "/api/v1/findings?q=zzzznotthere"),
    ("status=false_positive (none)", "/api/v1/findings?status=false_positive"),
]
print(f"{'filter':40} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'rows':>5}")
for name, path in filters:
    token = login()  # access tokens last 15 minutes
    times, rows = [], 0
    for i in range(requests):
        t = time.perf_counter()
        status, body = call("GET", path, token=token)
        times.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise SystemExit(f"{path}: {status} {body[:200]}")
        if i == 0:
            rows = len(json.loads(body)["items"])
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))]
    print(f"{name:40} {q(0.5):8.1f} {q(0.95):8.1f} {q(0.99):8.1f} {rows:5}")
PY
