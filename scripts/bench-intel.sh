#!/usr/bin/env bash
# Threat-intelligence benchmark (issue 18): a full-size EPSS file (300,000
# CVEs, gzip, in FIRST's layout) and the real KEV catalogue loaded with
# `rampart intel load`, into a database holding a 30,000-finding Grype
# import whose CVEs the EPSS file scores, so every load also scores those
# findings again. Reports the load alone (parse + replace, `load_ms`) and
# the whole command (with re-scoring). Run it alone: a build beside it
# halves the figures.
#
#   scripts/bench-intel.sh [RAMPART_BINARY] [RUNS]
#
# PostgreSQL figures need RAMPART_BENCH_DATABASE_URL (a database the
# script may fill).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/rampart}
runs=${2:-3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 scripts/big-grype-report.py 30000 > "$work/grype.json"
# Two EPSS releases that score the same CVEs differently, alternated so
# every load changes the findings' priorities.
python3 - "$work" <<'PY'
import gzip, random, sys
work = sys.argv[1]
cves = [f"CVE-20{10 + i % 15}-{10000 + i}" for i in range(30000)]
cves += [f"CVE-{1999 + i % 27}-{100000 + i}" for i in range(270000)]
for release in (1, 2):
    rng = random.Random(release)
    with gzip.open(f"{work}/epss-{release}.csv.gz", "wt") as out:
        out.write(f"#model_version:v2025.03.14,score_date:2026-12-0{release}T12:55:00Z\n")
        out.write("cve,epss,percentile\n")
        for cve in cves:
            out.write(f"{cve},{rng.random():.5f},{rng.random():.5f}\n")
PY
kev=crates/rampart-scan/tests/data/cisa-kev/known_exploited_vulnerabilities.json.gz
echo "EPSS file: 300000 rows, $(du -h "$work/epss-1.csv.gz" | cut -f1) gzip"

bootstrap() {
  RAMPART_ADMIN_PASSWORD=bench-admin-password "$bin" serve --listen 127.0.0.1:18482 "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -sf http://127.0.0.1:18482/ready >/dev/null 2>&1 && break
    sleep 0.1
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

load() { # source file options... → "wall load_ms rescored"
  local source=$1 file=$2; shift 2
  local start end
  start=$(date +%s.%N)
  "$bin" intel load "$source" "$file" --json "$@" > "$work/out.json"
  end=$(date +%s.%N)
  python3 -c "import json; r=json.load(open('$work/out.json')); print('%.2f %d %d' % ($end - $start, r['load_ms'], r['rescored']))"
}

run_backend() {
  local name=$1; shift
  "$bin" import "$work/grype.json" --asset "bench-intel-$$" "$@" --json > /dev/null
  for run in $(seq 1 "$runs"); do
    local release=$(( (run - 1) % 2 + 1 ))
    read -r wall ms rescored < <(load epss "$work/epss-$release.csv.gz" "$@")
    printf '%s run %s: EPSS 300,000 rows: load %d ms, whole command %.2f s (%d findings scored again)\n' \
      "$name" "$run" "$ms" "$wall" "$rescored"
    read -r wall ms rescored < <(load kev "$kev" "$@")
    printf '%s run %s: KEV 1,404 rows: load %d ms, whole command %.2f s (%d findings scored again)\n' \
      "$name" "$run" "$ms" "$wall" "$rescored"
  done
}

mkdir -p "$work/data"
bootstrap --data-dir "$work/data"
run_backend sqlite --data-dir "$work/data"

if [ -n "${RAMPART_BENCH_DATABASE_URL:-}" ]; then
  bootstrap --database-url "$RAMPART_BENCH_DATABASE_URL"
  run_backend postgres --database-url "$RAMPART_BENCH_DATABASE_URL"
fi
