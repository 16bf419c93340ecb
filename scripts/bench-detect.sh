#!/usr/bin/env bash
# Sigma evaluation, Rampart beside rsigma 0.23.0, on one core (taskset -c 1),
# same events and same rules in the same run: the first 100 and 1,000 rules
# of rules/windows (by path) and all of them.
#   cargo install rsigma --version 0.23.0 --locked --root /tmp/rsigma
#   cargo build --release -p rampart
#   RSIGMA=/tmp/rsigma/bin/rsigma scripts/bench-detect.sh
set -euo pipefail
RAMPART=${RAMPART:-target/release/rampart}
RSIGMA=${RSIGMA:-rsigma}
WINDOWS=${WINDOWS:-../shared/data/sigmahq/rules/windows}
WORK=${WORK:-/tmp/rampart-bench-detect}
EVENTS=${EVENTS:-200000}
mkdir -p "$WORK"
"$RAMPART" bench sysmon-events --events "$EVENTS" > "$WORK/events.ndjson"
for n in 100 1000; do
  rm -rf "$WORK/rules$n" && mkdir -p "$WORK/rules$n"
  find "$WINDOWS" -name '*.yml' | LC_ALL=C sort > "$WORK/all-rules.txt"
  head -n "$n" "$WORK/all-rules.txt" | while read -r f; do
    cp "$f" "$WORK/rules$n/$(echo "${f#"$WINDOWS"/}" | tr / _)"
  done
done
for set in rules100 rules1000 all; do
  dir="$WORK/$set"; [ "$set" = all ] && dir="$WINDOWS"
  echo "== $set"
  taskset -c 1 "$RAMPART" bench detect --rules "$dir" --events "$WORK/events.ndjson" --runs 3 \
    --verdicts "$WORK/rampart-$set.tsv" | tail -2
  for run in 1 2 3; do
    start=$(date +%s.%N)
    taskset -c 1 "$RSIGMA" engine eval -r "$dir" -e "@$WORK/events.ndjson" --output-format ndjson \
      > "$WORK/rsigma-$set.ndjson" 2>/dev/null
    end=$(date +%s.%N)
    python3 -c "print(f'rsigma run $run: {$EVENTS/($end-$start):.0f} events/s (whole process, rules loaded)')"
  done
  python3 - "$WORK/rsigma-$set.ndjson" "$WORK/rampart-$set.tsv" <<'PY'
import collections, json, sys
rs = collections.Counter(json.loads(l)["rule_id"] for l in open(sys.argv[1]))
ra = collections.Counter(l.split("\t")[1].strip() for l in open(sys.argv[2]))
print(f"matches: rsigma {sum(rs.values())}, rampart {sum(ra.values())}")
for rule in sorted(set(rs) | set(ra)):
    if rs[rule] != ra[rule]:
        print(f"  differs: {rule}: rsigma {rs[rule]}, rampart {ra[rule]}")
PY
done
