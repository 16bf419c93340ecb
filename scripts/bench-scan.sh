#!/usr/bin/env bash
# Scan benchmark (issue 18): a web-baseline scan of 1,000 local targets
# (http://127.0.X.Y:PORT/, every one a distinct loopback address served by
# one threaded Python server that answers like a misconfigured site), on
# the default settings (256 checks in flight, 10 requests/s per target),
# through the API of a release server on the embedded default. Reports the
# wall time from the request to completion, requests per second and the
# server's peak memory (VmHWM). Run it alone: a build beside it halves the
# figures.
#
#   scripts/bench-scan.sh [RAMPART_BINARY] [TARGETS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/rampart}
targets=${2:-1000}
runs=${3:-3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
site_port=18490
api=http://127.0.0.1:18491

python3 - "$site_port" <<'PY' &
import http.server, socketserver, sys
class Site(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"<!doctype html><html><script src='http://cdn.example.net/x.js'></script></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Server", "Apache/2.4.51")
        self.send_header("Set-Cookie", "PHPSESSID=1; path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
Server(("0.0.0.0", int(sys.argv[1])), Site).serve_forever()
PY

RAMPART_ADMIN_PASSWORD=bench-admin-password "$bin" serve --listen 127.0.0.1:18491 --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf $api/ready >/dev/null 2>&1 && break
  sleep 0.1
done
token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"email": "admin@localhost", "password": "bench-admin-password"}' $api/api/v1/auth/login |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
auth="Authorization: Bearer $token"
curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"target": "127.0.0.0/8"}' \
  $api/api/v1/scope >/dev/null
body=$(python3 -c "
import json
print(json.dumps({'kind': 'web-baseline', 'asset': 'bench', 'targets':
  ['http://127.%d.%d.%d:$site_port/' % (1 + i // 62500, (i // 250) % 250, 1 + i % 250) for i in range($targets)]}))")

for run in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  id=$(curl -sf -H "$auth" -H 'Content-Type: application/json' -d "$body" $api/api/v1/scans |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while :; do
    status=$(curl -sf -H "$auth" $api/api/v1/scans/$id | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["checks_done"], (s.get("summary") or {}).get("failed_checks", 0))')
    case $status in completed*|failed*|cancelled*) break ;; esac
    sleep 0.2
  done
  end=$(date +%s.%N)
  peak=$(grep VmHWM /proc/$server/status | awk '{print $2}')
  python3 -c "
s, e = $start, $end
print('run $run: %d targets, %s; %.2f s, %.0f requests/s (2 per target), server peak RSS %.0f MiB' % ($targets, '$status', e - s, 2 * $targets / (e - s), $peak / 1024))"
done
