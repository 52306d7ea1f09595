# Sourced by bench/run.sh and bench/compare.sh: the seed every load runs against, through the
# real API (the recalbox dist, two weighted mirrors, $BUILDS dated builds of `master`, the
# newest published to `stable`), and the capped rollout of a build fresher than all of them.
BUILDS=${BUILDS:-50}

# Build i is dated 2026, month 1 + (i-1)/28, day 1 + (i-1)%28 (as bench/upgrade.lua).
build_version() { printf 'master-2026-%02d-%02d-%d' $((1 + ($1 - 1) / 28)) $((1 + ($1 - 1) % 28)) "$1"; }
NEWEST=$(build_version "$BUILDS")

admin_token() { # bin database_url name
  DATABASE_URL="$2" "$1" token create --name "$3" --role admin | tail -n 1
}

post() { # token url json
  curl -fsS -o /dev/null -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3" "$2"
}

build_json() { # version sha256-character
  local sha
  sha=$(printf "$2%.0s" $(seq 1 64))
  printf '{"dist":"recalbox","branch":"master","version":"%s","base_url":"https://%s-archive.example","boards":{"rpi3":{"files":[{"name":"root.tar.gz","size":157286400,"sha256":"%s"}]}}}' "$1" "$1" "$sha"
}

seed_builds() { # bin database_url port
  local token api="http://127.0.0.1:$3/api/v1" v
  token=$(admin_token "$1" "$2" bench)
  post "$token" "$api/dists" '{"name":"recalbox","version_scheme":"dated","stable_channel":"stable","stable_branch":"master"}'
  post "$token" "$api/dists/recalbox/mirrors" '{"url_template":"https://mirror-a.example/{dist}/{version}/{board}","weight":2}'
  post "$token" "$api/dists/recalbox/mirrors" '{"url_template":"https://mirror-b.example/{dist}/{version}/{board}","weight":1}'
  for i in $(seq 1 "$BUILDS"); do
    v=$(build_version "$i")
    post "$token" "$api/builds" "$(build_json "$v" a)" || { echo "registering $v failed"; exit 1; }
  done
  post "$token" "$api/channels/recalbox/stable/publish" "{\"version\":\"$NEWEST\"}"
}

# A build fresher than every seeded one, rolled out to 10% of the channel under both caps: the
# update check then goes through the rollout's cohort and cap counters on every request.
start_rollout() { # bin database_url port
  local token api="http://127.0.0.1:$3/api/v1" v
  token=$(admin_token "$1" "$2" bench-rollout)
  v=$(build_version $((BUILDS + 1)))
  post "$token" "$api/builds" "$(build_json "$v" b)"
  post "$token" "$api/rollouts" "{\"dist\":\"recalbox\",\"channel\":\"stable\",\"version\":\"$v\",\"steps\":[{\"percent\":10,\"hold_minutes\":600},{\"percent\":100}],\"health\":{\"min_reports\":20,\"max_failure_ratio\":0.05},\"max_grants_per_hour\":500,\"max_in_flight\":200}"
}
