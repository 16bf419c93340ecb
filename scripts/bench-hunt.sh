#!/usr/bin/env bash
# Hunts over the events a `scripts/bench-ingest.sh` run stored (WORK, its
# data directory), each query RUNS times through `POST /api/v1/hunt`
# (the server's took_ms and curl's wall time, medians), and ripgrep over
# the same sample events as NDJSON (`rampart bench rows`) for scale.
# Run it alone (2 cores).
#   EVENTS=2000000 RUNS=1 WORK=/tmp/bh scripts/bench-ingest.sh
#   WORK=/tmp/bh ROWS=2000000 scripts/bench-hunt.sh
set -euo pipefail
RAMPART=${RAMPART:-target/release/rampart}
WORK=${WORK:-/tmp/rampart-bench-ingest}
ROWS=${ROWS:-2000000}
RUNS=${RUNS:-5}
PORT=${PORT:-8113}
RAMPART_ADMIN_PASSWORD=bench-password-123 "$RAMPART" serve --config "$WORK/rampart.toml" \
  --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" > "$WORK/hunt-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$PORT/api/v1"
token=$(curl -sf -XPOST "$base/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ -f "$WORK/events.ndjson" ] || "$RAMPART" bench rows --rows "$ROWS" | cut -f4 > "$WORK/events.ndjson"
from=$(python3 -c 'import datetime; print((datetime.datetime.utcnow()-datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
while IFS=$'\t' read -r name query rg_args; do
  python3 - "$base" "$token" "$query" "$from" "$RUNS" "$name" <<'PY'
import json, statistics, sys, time, urllib.request
base, token, query, start, runs, name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
took, wall = [], []
for _ in range(runs):
    body = json.dumps({"query": query, "from": start, "limit": 100}).encode()
    req = urllib.request.Request(base + "/hunt", body, {"authorization": "Bearer " + token, "content-type": "application/json"})
    t = time.time()
    reply = json.load(urllib.request.urlopen(req, timeout=120))
    wall.append((time.time() - t) * 1000)
    took.append(reply["took_ms"])
print(f"{name}: {query!r}: took_ms median {statistics.median(took):.0f} (min {min(took)}, max {max(took)}), wall median {statistics.median(wall):.0f} ms; matched {reply['matched']}, scanned {reply['scanned']}, truncated {reply['truncated']}")
PY
  if [ -n "$rg_args" ]; then
    start=$(date +%s.%N); n=$(eval rg -c $rg_args "$WORK/events.ndjson" || true)
    echo "   rg $rg_args: $n lines in $(python3 -c "print(round(($(date +%s.%N)-$start)*1000))") ms"
  fi
done <<'QUERIES'
regex	message:/port 4[0-9]{4} ssh2$/ | stats count()	'port 4[0-9]{4} ssh2"'
absent word	zzqxv | stats count()	-i zzqxv
CIDR /15	source.ip:198.18.0.0/15 | stats count()	'"ip":"198\.1[89]\.'
CIDR /12	source.ip:172.16.0.0/12 | stats count()	'"source":\{"ip":"172\.(1[6-9]|2[0-9]|3[01])\.'
/8 and severity	source.ip:10.0.0.0/8 AND event.severity >= 4 | stats count()	
stats by one field	* | stats count() by user.name | head 10	
rows of a user	user.name:user7 | head 100	'"user":\{"name":"user7"\}'
count of a user	user.name:user7 | stats count()	'"user":\{"name":"user7"\}'
stats by, filtered	event.outcome:failure | stats count() by source.ip | head 10	
stats by many-valued	* | stats count() by source.ip | head 10	
count of a pattern	host.name:web-* | stats count() by host.name	'"host":\{"name":"web-'
chart of everything	* | timechart 1h	
regex, nothing	message:/zzq[0-9]+x/ | head 10	'zzq[0-9]+x'
absent phrase	"accepted publickey" | head 10	-i 'accepted publickey'
regex, absent names	message:/(mimikatz|psexec)\.exe/ | stats count()	'(mimikatz|psexec)\.exe'
word in a third	drop | stats count()	-i drop
QUERIES
