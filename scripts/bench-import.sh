#!/usr/bin/env bash
# Import benchmark (issue 18): a 30,000-finding Grype report imported into
# a fresh asset, then the same report again (all unchanged), then a
# report with a tenth of the findings gone (closed), with `rampart
# import` on the embedded default and on PostgreSQL. Run it alone: a build
# beside it halves the figures.
#
#   scripts/bench-import.sh [RAMPART_BINARY] [FINDINGS] [RUNS]
#
# PostgreSQL figures need RAMPART_BENCH_DATABASE_URL (a database the
# script may fill; each run imports into an asset of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/rampart}
findings=${2:-30000}
runs=${3:-3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 scripts/big-grype-report.py "$findings" > "$work/full.json"
python3 - "$work/full.json" "$work/fewer.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["matches"] = [m for i, m in enumerate(doc["matches"]) if i % 10]
json.dump(doc, open(sys.argv[2], "w"))
PY
echo "report: $findings findings, $(du -h "$work/full.json" | cut -f1)"

# The first start creates the organisation 'default'.
bootstrap() {
  RAMPART_ADMIN_PASSWORD=bench-admin-password "$bin" serve --listen 127.0.0.1:18481 "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:18481/ready >/dev/null 2>&1 && break
    sleep 0.1
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

seconds() { # command... → wall seconds, with the import's counts on stderr
  local start end
  start=$(date +%s.%N)
  "$@" --json > "$work/out.json"
  end=$(date +%s.%N)
  python3 -c "import json; r=json.load(open('$work/out.json')); import sys; print({k: r[k] for k in ('findings','new','unchanged','reopened','closed')}, file=sys.stderr)"
  echo "$end - $start" | bc
}

run_backend() {
  local name=$1; shift
  for run in $(seq 1 "$runs"); do
    local asset="bench-$name-$run-$$"
    local first again fewer
    first=$(seconds "$bin" import "$work/full.json" --asset "$asset" "$@")
    again=$(seconds "$bin" import "$work/full.json" --asset "$asset" "$@")
    fewer=$(seconds "$bin" import "$work/fewer.json" --asset "$asset" "$@")
    printf '%s run %s: first import %.2f s, re-import (unchanged) %.2f s, 10%% fixed %.2f s\n' \
      "$name" "$run" "$first" "$again" "$fewer"
  done
}

mkdir -p "$work/data"
bootstrap --data-dir "$work/data"
run_backend sqlite --data-dir "$work/data"

if [ -n "${RAMPART_BENCH_DATABASE_URL:-}" ]; then
  bootstrap --database-url "$RAMPART_BENCH_DATABASE_URL"
  run_backend postgres --database-url "$RAMPART_BENCH_DATABASE_URL"
fi
