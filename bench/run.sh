#!/usr/bin/env bash
# `make bench`: one release server per backend, seeded with 100,000 devices and 50 builds, then
# wrk (64 connections) against /healthz, /v1/upgrade and POST /v1/log; then the update check
# again while a capped rollout steers the channel (`rollout`). Two yardsticks run in the same
# run, before each backend: nginx serving the static `recalbox.version` file devices used to
# poll (`nginx`), and a bare axum handler answering "ok" (`bare-axum`). Prints requests/s, p50,
# p99 and each throughput as a ratio of /healthz, of nginx and of the bare handler.
# BENCH_BACKENDS="sqlite" runs one backend only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${SLUICE_BIN:-$ROOT/target/release/sluice}
PORT=${BENCH_PORT:-3917}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=64
DEVICES=100000
BUILDS=50
PG_BASE=${SLUICE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${BENCH_OUT:-$ROOT/target/bench}
mkdir -p "$OUT"

command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
command -v sqlite3 >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y sqlite3; }
command -v nginx >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light; }
[ -x "$BIN" ] || cargo build --release -p server --bin sluice
BARE=${BENCH_BARE_BIN:-$ROOT/target/release/examples/bare_axum}
[ -x "$BARE" ] || cargo build --release -p server --example bare_axum

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
trap stop_server EXIT

wait_for() { # url
  for _ in $(seq 1 100); do curl -fs "$1" >/dev/null && return; sleep 0.1; done
  echo "nothing answers $1"; exit 1
}

# nginx on the file devices polled before an update server answered them, at its fastest for
# such a file: its descriptor cached, copied rather than sent with sendfile (faster for a few
# bytes: 112,000 against 82,000 requests/s here), keep-alive, no access log.
start_nginx() {
  local dir=$OUT/nginx
  rm -rf "$dir" && mkdir -p "$dir/www" "$dir/tmp"
  echo "$NEWEST" >"$dir/www/recalbox.version"
  chmod -R a+rX "$dir"
  cat >"$dir/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile off;
  open_file_cache max=16 inactive=60s;
  open_file_cache_valid 60s;
  keepalive_requests 1000000;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$PORT;
    root $dir/www;
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/stdout.log" 2>&1 &
  server_pid=$!
  wait_for "http://127.0.0.1:$PORT/recalbox.version"
}

start_bare() {
  BENCH_LISTEN=127.0.0.1:$PORT "$BARE" &
  server_pid=$!
  wait_for "http://127.0.0.1:$PORT/"
}

start_server() { # database_url
  DATABASE_URL="$1" SLUICE_LISTEN=127.0.0.1:$PORT RUST_LOG=warn "$BIN" serve >"$OUT/${BACKEND:-server}-server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$OUT/${BACKEND:-server}-server.log"; exit 1
}

source bench/seed.sh

DEVICE_SQL="INSERT INTO devices (dist_id, uuid, board, branch, user_name, current_version, first_seen, last_seen)"

measure() { # label path-or-script method
  local label=$1 target=$2 script=${3:-}
  local args=(-t2 -c$CONNECTIONS -d"$DURATION" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  wrk "${args[@]}" "http://127.0.0.1:$PORT$target" >"$OUT/$BACKEND-$label.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$BACKEND-$label.txt")
  p50=$(awk '$1=="50%" {print $2}' "$OUT/$BACKEND-$label.txt")
  p99=$(awk '$1=="99%" {print $2}' "$OUT/$BACKEND-$label.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$OUT/$BACKEND-$label.txt")
  echo "$BACKEND $label $rps $p50 $p99 ${non2xx:-0}" >>"$OUT/results.txt"
}

: >"$OUT/results.txt"
for BACKEND in ${BENCH_BACKENDS:-sqlite postgres}; do
  start_nginx; measure nginx /recalbox.version; stop_server
  start_bare; measure bare-axum /; stop_server
  if [ "$BACKEND" = sqlite ]; then
    rm -rf "$OUT/sqlite" && mkdir -p "$OUT/sqlite"
    URL="sqlite://$OUT/sqlite/sluice.db"
    start_server "$URL"; seed_builds "$BIN" "$URL" "$PORT"
    sqlite3 "$OUT/sqlite/sluice.db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $DEVICES - 1)
      $DEVICE_SQL SELECT 1, 'device-' || i, 'rpi3', 'stable', 'bench', '$NEWEST', 0, 0 FROM n;"
  else
    bash scripts/ensure-postgres.sh
    psql "$PG_BASE" -qc "DROP DATABASE IF EXISTS sluice_bench WITH (FORCE)" -c "CREATE DATABASE sluice_bench"
    URL="${PG_BASE%/*}/sluice_bench"
    start_server "$URL"; seed_builds "$BIN" "$URL" "$PORT"
    psql "$URL" -qc "$DEVICE_SQL SELECT 1, 'device-' || i, 'rpi3', 'stable', 'bench', '$NEWEST', 0, 0 FROM generate_series(0, $DEVICES - 1) AS i"
  fi
  measure healthz /healthz
  measure upgrade / bench/upgrade.lua
  measure report /v1/log bench/report.lua
  start_rollout "$BIN" "$URL" "$PORT"
  measure rollout / bench/upgrade.lua
  stop_server
done

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk -t2 -c$CONNECTIONS -d$DURATION on the same machine"
awk '
  { rps[$1" "$2] = $3; line[NR] = $0 }
  END {
    printf "%-9s %-10s %12s %10s %10s %8s %12s %9s %10s\n", "backend", "endpoint", "requests/s", "p50", "p99", "non-2xx", "vs /healthz", "vs nginx", "vs axum"
    for (i = 1; i <= NR; i++) {
      split(line[i], f, " ")
      printf "%-9s %-10s %12s %10s %10s %8s %12.2f %9.2f %10.2f\n", f[1], f[2], f[3], f[4], f[5], f[6], f[3] / rps[f[1]" healthz"], f[3] / rps[f[1]" nginx"], f[3] / rps[f[1]" bare-axum"]
    }
  }' "$OUT/results.txt" | tee "$OUT/summary.txt"
