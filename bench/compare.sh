#!/usr/bin/env bash
# Two builds compared on one machine: `bash bench/compare.sh BEFORE_BIN AFTER_BIN`. Both serve
# side by side on SQLite with the same seed (one dist, 50 builds); wrk loads one at a time,
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
BUILDS=50; DEVICES=100000
build_version() { printf 'master-2026-%02d-%02d-%d' $((1 + ($1 - 1) / 28)) $((1 + ($1 - 1) % 28)) "$1"; }
NEWEST=$(build_version $BUILDS)
start() { # bin port dir
  rm -rf "$3"; mkdir -p "$3"
  DATABASE_URL="sqlite://$3/sluice.db" SLUICE_LISTEN=127.0.0.1:$2 RUST_LOG=warn "$1" serve >"$3/log" 2>&1 &
  echo $! > "$3/pid"
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
  local token api="http://127.0.0.1:$2/api/v1" sha
  token=$(DATABASE_URL="sqlite://$3/sluice.db" "$1" token create --name bench --role admin | tail -n 1)
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"recalbox","version_scheme":"dated","stable_channel":"stable","stable_branch":"master"}' "$api/dists"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"url_template":"https://mirror-a.example/{dist}/{version}/{board}","weight":2}' "$api/dists/recalbox/mirrors"
  sha=$(printf 'a%.0s' $(seq 1 64))
  for i in $(seq 1 $BUILDS); do
    v=$(build_version "$i")
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"dist\":\"recalbox\",\"branch\":\"master\",\"version\":\"$v\",\"base_url\":\"https://$v-archive.example\",\"boards\":{\"rpi3\":{\"files\":[{\"name\":\"root.tar.gz\",\"size\":157286400,\"sha256\":\"$sha\"}]}}}" "$api/builds"
  done
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"version\":\"$NEWEST\"}" "$api/channels/recalbox/stable/publish"
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
start_rollout() { # bin port dir: a fresher build to 10% under both caps, as bench/run.sh
  local token api="http://127.0.0.1:$2/api/v1" v sha
  token=$(DATABASE_URL="sqlite://$3/sluice.db" "$1" token create --name bench-rollout --role admin | tail -n 1)
  v=$(build_version $((BUILDS + 1)))
  sha=$(printf 'b%.0s' $(seq 1 64))
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"dist\":\"recalbox\",\"branch\":\"master\",\"version\":\"$v\",\"base_url\":\"https://$v-archive.example\",\"boards\":{\"rpi3\":{\"files\":[{\"name\":\"root.tar.gz\",\"size\":157286400,\"sha256\":\"$sha\"}]}}}" \
    "$api/builds"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"dist\":\"recalbox\",\"channel\":\"stable\",\"version\":\"$v\",\"steps\":[{\"percent\":10,\"hold_minutes\":600},{\"percent\":100}],\"health\":{\"min_reports\":20,\"max_failure_ratio\":0.05},\"max_grants_per_hour\":500,\"max_in_flight\":200}" \
    "$api/rollouts"
}
start_rollout "$BEFORE" 3931 "$OUT/before"
start_rollout "$AFTER" 3932 "$OUT/after"
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
