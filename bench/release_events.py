#!/usr/bin/env python3
"""Writes N release events over 50 releases ("1".."49" and the rolling "0") and 10 states, in
the JSON Lines format of `sluice events export`, to standard output. Deterministic (seeded).
Each event toggles its (release, state) pair, with one in twenty a repeat (1-1 or 0-0)."""
import json, random, sys
from datetime import datetime, timedelta, timezone

n = int(sys.argv[1])
rng = random.Random(4)
releases = [str(r) for r in range(1, 50)] + ["0"]
states = ["active", "development", "branched", "pre-beta", "beta", "pre-release",
          "stable", "pre-eol", "eol", "frozen"]
held = set()
t = datetime(2000, 1, 1, tzinfo=timezone.utc)
out = sys.stdout
for i in range(1, n + 1):
    t += timedelta(seconds=rng.randint(1, 600))
    pair = (rng.choice(releases), rng.choice(states))
    was = pair in held
    entered = (not was) if rng.random() > 0.05 else was
    if entered:
        held.add(pair)
    else:
        held.discard(pair)
    at = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.write(json.dumps({"id": i, "dist": "fedora", "release": pair[0], "state": pair[1],
                          "action": "entered" if entered else "left", "at": at,
                          "recorded_at": at, "actor": "bench", "note": "",
                          "was_in_state": was}, separators=(",", ":")) + "\n")
