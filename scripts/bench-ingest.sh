#!/usr/bin/env bash
# Sustained HTTP ingest against a fresh server: `rampart bench ingest`
# (NDJSON batches of 1,000 events, 8 clients) on the embedded default, or
# on PostgreSQL when DATABASE_URL is set (an empty schema `bench` is made).
# DETECTION=false turns detection off; QUERY_RUNS=N then times the search
# queries of `rampart bench query` over what was ingested. Events carry live
# timestamps; START_MS=epoch-ms sends late data instead (on PostgreSQL: into
# sealed hours, which pay for their source b-tree). WATCHLIST=feed.csv
# imports a watchlist feed first (scripts/watchlist-feed.py makes one) and
# prints how long that took. Run it with nothing else running.
#   cargo build --release -p rampart
#   scripts/bench-ingest.sh                      # SQLite
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench-ingest.sh
set -euo pipefail
RAMPART=${RAMPART:-target/release/rampart}
WORK=${WORK:-/tmp/rampart-bench-ingest}
EVENTS=${EVENTS:-1000000}
RUNS=${RUNS:-3}
PORT=${PORT:-8099}
DETECTION=${DETECTION:-true}
rm -rf "$WORK" && mkdir -p "$WORK"
cat > "$WORK/rampart.toml" <<TOML
[detection]
enabled = $DETECTION
TOML
args=(serve --config "$WORK/rampart.toml" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data")
if [ -n "${DATABASE_URL:-}" ]; then
  psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;"
  args+=(--database-url "${DATABASE_URL}?options=-csearch_path%3Dbench")
fi
RAMPART_ADMIN_PASSWORD=bench-password-123 "$RAMPART" "${args[@]}" > "$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
base="http://127.0.0.1:$PORT/api/v1"
token=$(curl -sf -XPOST "$base/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@localhost","password":"bench-password-123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
key=$(curl -sf -XPOST "$base/api-keys" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"bench","scopes":["ingest","read"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
if [ -n "${WATCHLIST:-}" ]; then
  start=$(date +%s.%N)
  curl -sf -XPOST "$base/watchlists/import?source=bench" -H "authorization: Bearer $token" \
    -H 'content-type: text/csv' --data-binary "@$WATCHLIST" | head -c 300; echo
  echo "watchlist import: $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"
fi
# The client's CPU too, where GNU time is installed.
timed=(); [ -x /usr/bin/time ] && timed=(/usr/bin/time -f "client CPU: %U s user, %S s system")
cpu() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$server/stat"; }
for run in $(seq 1 "$RUNS"); do
  echo "== run $run"
  before=$(cpu)
  ${timed[@]+"${timed[@]}"} "$RAMPART" bench ingest --url "http://127.0.0.1:$PORT" --token "$key" --events "$EVENTS" \
    --clients 8 --server-pid "$server" ${START_MS:+--start-ms "$START_MS"}
  echo "server CPU: $(python3 -c "print(round($(cpu) - $before, 2))") s"
done
if [ -n "${QUERY_RUNS:-}" ]; then
  [ -n "${DATABASE_URL:-}" ] && psql "$DATABASE_URL" -q -c "SET search_path = bench" -c "VACUUM ANALYZE events" -c "VACUUM ANALYZE event_block_summaries"
  "$RAMPART" bench query --url "http://127.0.0.1:$PORT" --token "$key" --runs "$QUERY_RUNS"
fi
