#!/usr/bin/env bash
# Page render times with many events and incidents: a fresh server on the
# embedded default, about a million events from wrk (background traffic,
# EVENT_SECS=5 seconds) or EVENTS=N from `rampart bench ingest`, 10,000
# incidents by hand, then wrk on each page with a browser session cookie,
# and the first overview after a restart (cold caches). Needs wrk; run it
# alone (2 cores).
set -euo pipefail
BIN=${BIN:-target/release/rampart}
PORT=8096; W=/tmp/uibench; rm -rf $W; mkdir -p $W
# One API key makes 10,000 incidents: more than its write rate limit.
printf '[rate_limits]\nenabled = false\n' > $W/rampart.toml
RAMPART_ADMIN_PASSWORD=bench-password-123 $BIN serve --config $W/rampart.toml --listen 127.0.0.1:$PORT --data-dir $W/data > $W/server.log 2>&1 &
srv=$!; trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:$PORT/health >/dev/null && break; sleep 0.2; done
tok=$(curl -sf 127.0.0.1:$PORT/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
key=$(curl -sf 127.0.0.1:$PORT/api/v1/api-keys -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"name":"b","scopes":["ingest","read","admin"]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
if [ -n "${EVENTS:-}" ]; then
  $BIN bench ingest --url http://127.0.0.1:$PORT --token "$key" --events "$EVENTS" | tail -3
else
  RAMPART_TOKEN=$key wrk -t2 -c8 -d${EVENT_SECS:-5}s -s scripts/wrk-background.lua http://127.0.0.1:$PORT | grep Requests
fi
python3 - "$PORT" "$key" <<'PY'
import http.client, json, sys
port, key = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
for i in range(10000):
    body = json.dumps({"title": f"Case {i}", "severity": i % 5 + 1, "entities": {"ips": [f"10.0.{i % 250}.{i % 200}"]}})
    c.request("POST", "/api/v1/incidents", body, {"authorization": "Bearer " + key, "content-type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
print("10000 incidents")
PY
total=$(curl -s "127.0.0.1:$PORT/api/v1/overview?range=24h" -H "authorization: Bearer $key" | python3 -c 'import json,sys;print(json.load(sys.stdin)["events_total"])')
echo "events stored: $total"
cookie="rampart_access=$tok"
for page in "/" "/?range=15m" "/incidents" "/incidents?status=open&min_severity=4" "/events" "/events?source_ip=198.18.0.0/15" "/events?q=nosuchwordanywhere&range=1h" "/events?panel=1" "/events?panel=1&host=fw-1" "/?range=7d" "/rules"; do
  cat > $W/cookie.lua <<LUA
wrk.headers["Cookie"] = "$cookie"
LUA
  echo "== $page"
  wrk -t1 -c2 -d8s --latency -s $W/cookie.lua "http://127.0.0.1:$PORT$page" | grep -E "Requests/sec|50%|90%|99%|Non-2xx"
done
# Cold: a restarted server reads the block directory and rollups from disk.
kill $srv; wait $srv 2>/dev/null || true
RAMPART_ADMIN_PASSWORD=bench-password-123 $BIN serve --config $W/rampart.toml --listen 127.0.0.1:$PORT --data-dir $W/data > $W/server2.log 2>&1 &
srv=$!
for _ in $(seq 1 100); do curl -sf 127.0.0.1:$PORT/health >/dev/null && break; sleep 0.2; done
tok=$(curl -sf 127.0.0.1:$PORT/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
for n in 1 2 3; do
  curl -s -o /dev/null -w "overview after restart, request $n: %{time_total} s\n" -H "Cookie: rampart_access=$tok" "127.0.0.1:$PORT/?range=24h"
done
