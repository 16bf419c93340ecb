#!/usr/bin/env bash
# Ingest rate of one build from outside: a fresh server on the embedded
# default, an ingest+read API key, then wrk with scripts/wrk-background.lua
# for 15 s (STORM=1 as second argument: the alert storm). Prints wrk's
# rate and latency and the server's peak RSS. WATCHLIST=feed.csv imports
# a watchlist feed first (scripts/watchlist-feed.py). Run it alone (2 cores).
#   scripts/wrk-ingest.sh target/release/rampart [1]
set -euo pipefail
BIN=$1; PORT=8097; W=/tmp/wrkrun; rm -rf $W; mkdir -p $W
RAMPART_ADMIN_PASSWORD=bench-password-123 $BIN serve --listen 127.0.0.1:$PORT --data-dir $W/data > $W/server.log 2>&1 &
srv=$!; trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf 127.0.0.1:$PORT/health >/dev/null && break; sleep 0.2; done
tok=$(curl -sf 127.0.0.1:$PORT/api/v1/auth/login -H 'content-type: application/json' -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
key=$(curl -sf 127.0.0.1:$PORT/api/v1/api-keys -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"name":"b","scopes":["ingest","read"]}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["key"])')
if [ -n "${WATCHLIST:-}" ]; then
  curl -sf 127.0.0.1:$PORT/api/v1/watchlists/import -H "authorization: Bearer $tok" -H 'content-type: text/csv' --data-binary "@$WATCHLIST" | head -c 120; echo
fi
RAMPART_TOKEN=$key STORM=${2:-0} wrk -t2 -c8 -d15s --latency -s "$(dirname "$0")/wrk-background.lua" http://127.0.0.1:$PORT | grep -E "Requests/sec|50%|99%"
grep VmHWM /proc/$srv/status
