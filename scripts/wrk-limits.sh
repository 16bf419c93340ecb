#!/usr/bin/env bash
# The rate limiter's cost per request from outside: wrk against GET
# /api/v1/me (authenticated, one read check) on a release build with limits
# off, in-process, and in Redis (quotas too large to refuse anything), each
# run alone on the embedded default. Prints wrk's latency and rate.
#   cargo build --release -p rampart && scripts/wrk-limits.sh
set -euo pipefail
RAMPART=${RAMPART:-target/release/rampart}
PORT=${PORT:-8098}
DURATION=${DURATION:-10s}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
WORK=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$WORK"' EXIT
run() {
  local name=$1 config=$2
  rm -rf "$WORK/data"
  printf '%b' "$config" > "$WORK/rampart.toml"
  RAMPART_ADMIN_PASSWORD=wrk-password-123 "$RAMPART" serve --config "$WORK/rampart.toml" \
    --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
  token=$(curl -sf "127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"admin@localhost","password":"wrk-password-123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  echo "== $name"
  wrk -t2 -c32 -d"$DURATION" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v1/me" \
    | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx"
  kill $server; wait $server 2>/dev/null || true
}
huge='[rate_limits.read]\nlimit = 1000000000\nperiod_secs = 1\nburst = 1000000000\n'
run "limits off" '[rate_limits]\nenabled = false\n'
run "in-process" "$huge"
run "redis" "redis_url = \"$REDIS_URL\"\n$huge"
