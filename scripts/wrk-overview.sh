#!/usr/bin/env bash
# The dashboard's API with and without its cache: a fresh server on the
# embedded default per configuration, EVENTS events from `rampart bench
# ingest` and 2,000 incidents, then wrk with 100 connections on
# GET /api/v1/overview?range=24h. One API key makes every request, so its
# read rate limit is raised (the default would answer most with 429).
# Needs wrk; run it alone (2 cores).
#   cargo build --release -p rampart && EVENTS=1000000 scripts/wrk-overview.sh
set -euo pipefail
BIN=${BIN:-target/release/rampart}
PORT=${PORT:-8099}
EVENTS=${EVENTS:-1000000}
DURATION=${DURATION:-10s}
W=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$W"' EXIT
limits='[rate_limits.read]\nlimit = 1000000\nperiod_secs = 1\nburst = 1000000\n[rate_limits.write]\nlimit = 1000000\nperiod_secs = 1\nburst = 1000000\n'
for setup in "cache on (default):" "cache off:[cache]\nenabled = false\n"; do
  name=${setup%%:*}; extra=${setup#*:}
  rm -rf "$W/data"
  printf '%b%b' "$extra" "$limits" > "$W/rampart.toml"
  RAMPART_ADMIN_PASSWORD=bench-password-123 "$BIN" serve --config "$W/rampart.toml" \
    --listen "127.0.0.1:$PORT" --data-dir "$W/data" > "$W/server.log" 2>&1 &
  srv=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
  tok=$(curl -sf "127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  key=$(curl -sf "127.0.0.1:$PORT/api/v1/api-keys" -H "authorization: Bearer $tok" -H 'content-type: application/json' \
    -d '{"name":"b","scopes":["ingest","read","admin"]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
  "$BIN" bench ingest --url "http://127.0.0.1:$PORT" --token "$key" --events "$EVENTS" > /dev/null
  python3 - "$PORT" "$key" <<'PY'
import http.client, json, sys
port, key = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
for i in range(2000):
    body = json.dumps({"title": f"Case {i}", "severity": i % 5 + 1})
    c.request("POST", "/api/v1/incidents", body, {"authorization": "Bearer " + key, "content-type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
PY
  echo "== $name ($EVENTS events, 2,000 incidents)"
  wrk -t2 -c100 -d"$DURATION" --latency -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$PORT/api/v1/overview?range=24h" | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx"
  kill $srv; wait $srv 2>/dev/null || true
done
