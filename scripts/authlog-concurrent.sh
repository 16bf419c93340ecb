#!/usr/bin/env bash
# Out-of-order delivery from outside: a generated sshd auth.log split into
# files of 10,000 lines, sent with curl PARALLEL files at a time (as
# several shippers would) to a fresh server on the embedded default; then
# its brute-force incidents are compared with the log's ground truth.
#   cargo build --release -p rampart
#   PARALLEL=2 scripts/authlog-concurrent.sh
set -euo pipefail
RAMPART=${RAMPART:-target/release/rampart}
WORK=${WORK:-/tmp/rampart-authlog}
LINES=${LINES:-200000}
PARALLEL=${PARALLEL:-2}
PORT=${PORT:-8098}
rm -rf "$WORK" && mkdir -p "$WORK/parts"
"$RAMPART" bench auth-log --lines "$LINES" --truth "$WORK/truth.txt" > "$WORK/auth.log"
split -l 10000 -d "$WORK/auth.log" "$WORK/parts/part."
RAMPART_ADMIN_PASSWORD=bench-password-123 "$RAMPART" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
token=$(curl -sf "127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
ls "$WORK"/parts/part.* | xargs -P "$PARALLEL" -I{} curl -sf -o /dev/null \
  "127.0.0.1:$PORT/api/v1/events/raw?format=syslog" -H "authorization: Bearer $token" --data-binary @{}
curl -sf "127.0.0.1:$PORT/api/v1/incidents?limit=1000" -H "authorization: Bearer $token" | TRUTH="$WORK/truth.txt" python3 -c '
import json, os, sys
items = json.load(sys.stdin)["items"]
found = {i["group_key"].split("=", 1)[1]: i["occurrences"] for i in items if i["title"].startswith("SSH brute force")}
truth = {l.strip() for l in open(os.environ["TRUTH"]) if l.strip()}
print(f"brute-force incidents: {len(found)} of {len(truth)} true sources; missed {len(truth - set(found))}, "
      f"extra {len(set(found) - truth)}; occurrences in all {sum(found.values())}")
'
