#!/usr/bin/env bash
# Two builds compared on one machine: `bash bench/compare.sh BEFORE_BIN AFTER_BIN`. Both serve
# side by side on SQLite with the same seed (`bench/seed.sh`); wrk loads one at a time,
# taking turns (the first of each round alternates), and prints requests/s per round. The
# ratios after/before, round by round, hold when the machine's speed drifts. Then both start
# the same capped rollout, and the update check (through the rollout) and device reports
# (durable, with the rollout counting them) are compared the same way.
set -uo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?the build before}
AFTER=${2:?the build after}
OUT=$(pwd)/target/bench-compare
command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
source bench/seed.sh
start() { # bin port dir
  rm -rf "$3"; mkdir -p "$3"
  DATABASE_URL="sqlite://$3/sluice.db" SLUICE_LISTEN=127.0.0.1:$2 RUST_LOG=warn "$1" serve >"$3/log" 2>&1 &
  echo $! > "$3/pid"
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
  seed_builds "$1" "sqlite://$3/sluice.db" "$2"
}
start "$BEFORE" 3931 "$OUT/before"
start "$AFTER" 3932 "$OUT/after"
for round in 1 2 3 4 5 6; do
  order="before:3931 after:3932"; [ $((round % 2)) = 0 ] && order="after:3932 before:3931"
  for ep in healthz upgrade; do
    for side in $order; do
      sleep 3  # the previous run's check-ins are written meanwhile, not during this run
      name=${side%%:*}; port=${side##*:}
      if [ $ep = healthz ]; then args=("http://127.0.0.1:$port/healthz"); else args=(-s bench/upgrade.lua "http://127.0.0.1:$port/"); fi
      rps=$(wrk -t2 -c64 -d5s "${args[@]}" | awk '/Requests\/sec/ {print $2}')
      echo "$round $ep $name $rps"
    done
  done
done
start_rollout "$BEFORE" "sqlite://$OUT/before/sluice.db" 3931
start_rollout "$AFTER" "sqlite://$OUT/after/sluice.db" 3932
for round in 1 2 3 4; do
  order="before:3931 after:3932"; [ $((round % 2)) = 0 ] && order="after:3932 before:3931"
  for ep in rollout report; do
    for side in $order; do
      sleep 3
      name=${side%%:*}; port=${side##*:}
      if [ $ep = rollout ]; then args=(-s bench/upgrade.lua "http://127.0.0.1:$port/"); else args=(-s bench/report.lua "http://127.0.0.1:$port/v1/log"); fi
      rps=$(wrk -t2 -c64 -d5s "${args[@]}" | awk '/Requests\/sec/ {print $2}')
      echo "$round $ep $name $rps"
    done
  done
done
kill "$(cat "$OUT/before/pid")" "$(cat "$OUT/after/pid")"
