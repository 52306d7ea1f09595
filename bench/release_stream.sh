#!/usr/bin/env bash
# `make bench-stream`: the release-stream views over 100,000 events on 50 releases (wrk, on
# SQLite and PostgreSQL), and the time `sluice events import` takes for 1,000,000 events on
# SQLite. Prints p50/p99 per view and the import time; the issue asks p99 < 50 ms and < 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${SLUICE_BENCH_BIN:-$ROOT/target/release/sluice}
PORT=${BENCH_PORT:-3918}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
EVENTS=${BENCH_EVENTS:-100000}
IMPORT_EVENTS=${BENCH_IMPORT_EVENTS:-1000000}
PG_BASE=${SLUICE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${BENCH_OUT:-$ROOT/target/bench}/stream
mkdir -p "$OUT"

command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
[ -x "$BIN" ] || cargo build --release -p server --bin sluice

server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
trap stop_server EXIT
start_server() { # database_url
  DATABASE_URL="$1" SLUICE_LISTEN=127.0.0.1:$PORT RUST_LOG=warn "$BIN" serve >"$OUT/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$OUT/server.log"; exit 1
}
now() { date +%s.%N; }

[ -s "$OUT/events-$EVENTS.jsonl" ] || python3 bench/release_events.py "$EVENTS" >"$OUT/events-$EVENTS.jsonl"
# A time in the middle of the stream, for the "at a past time" views.
MIDDLE=$(sed -n "$((EVENTS / 2))p" "$OUT/events-$EVENTS.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["at"])')
# A month after it, for the diff (about 4,000 events' worth of transitions).
MONTH_LATER=$(python3 -c "import datetime as d; t=d.datetime.fromisoformat('${MIDDLE%Z}'); print((t+d.timedelta(days=30)).strftime('%Y-%m-%dT%H:%M:%SZ'))")

measure() { # label path
  wrk -t$(( CONNECTIONS < 2 ? 1 : 2 )) -c$CONNECTIONS -d"$DURATION" --latency "http://127.0.0.1:$PORT$2" >"$OUT/$BACKEND-$1.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$BACKEND-$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/$BACKEND-$1.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/$BACKEND-$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$OUT/$BACKEND-$1.txt")
  printf "%-9s %-26s %10s %10s %10s %8s\n" "$BACKEND" "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" | tee -a "$OUT/results.txt"
}

: >"$OUT/results.txt"
printf "%-9s %-26s %10s %10s %10s %8s\n" backend view requests/s p50 p99 non-2xx | tee -a "$OUT/results.txt"
for BACKEND in sqlite postgres; do
  if [ "$BACKEND" = sqlite ]; then
    rm -rf "$OUT/sqlite" && mkdir -p "$OUT/sqlite"
    URL="sqlite://$OUT/sqlite/sluice.db"
  else
    bash scripts/ensure-postgres.sh
    psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS sluice_bench_stream WITH (FORCE)" -c "CREATE DATABASE sluice_bench_stream"
    URL="${PG_BASE%/*}/sluice_bench_stream"
  fi
  start=$(now)
  DATABASE_URL="$URL" RUST_LOG=warn "$BIN" events import "$OUT/events-$EVENTS.jsonl" >/dev/null 2>&1
  echo "$BACKEND import of $EVENTS events: $(echo "$(now) - $start" | bc) s" | tee -a "$OUT/results.txt"
  token=$(DATABASE_URL="$URL" "$BIN" token create --name bench --role admin | tail -n 1)
  start_server "$URL"
  curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"public":true}' "http://127.0.0.1:$PORT/api/v1/dists/fedora/release-settings"
  # The first view after a start waits for the timeline the server loads as it starts.
  first=$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/v1/dists/fedora/states-by-release")
  echo "$BACKEND first view after the start: $first s" | tee -a "$OUT/results.txt"
  measure healthz /healthz
  measure states-by-release /api/v1/dists/fedora/states-by-release
  measure states-by-release-past "/api/v1/dists/fedora/states-by-release?at=$MIDDLE"
  measure releases-by-state-past "/api/v1/dists/fedora/releases-by-state?at=$MIDDLE"
  measure history-past "/api/v1/dists/fedora/releases/25/history?at=$MIDDLE"
  measure diff-30-days "/api/v1/dists/fedora/diff?from=$MIDDLE&to=$MONTH_LATER"
  measure release.json /release.json
  stop_server
done

[ -s "$OUT/events-$IMPORT_EVENTS.jsonl" ] || python3 bench/release_events.py "$IMPORT_EVENTS" >"$OUT/events-$IMPORT_EVENTS.jsonl"
rm -rf "$OUT/import" && mkdir -p "$OUT/import"
start=$(now)
DATABASE_URL="sqlite://$OUT/import/sluice.db" RUST_LOG=warn "$BIN" events import "$OUT/events-$IMPORT_EVENTS.jsonl" >/dev/null 2>&1
echo "sqlite import of $IMPORT_EVENTS events: $(echo "$(now) - $start" | bc) s" | tee -a "$OUT/results.txt"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t2 -c$CONNECTIONS -d$DURATION on the same machine (one thread when one connection)"
