#!/usr/bin/env bash
# Runs the Sluice browser tests (Playwright + Debian's Chromium at /usr/bin/chromium).
# Expects a built server: target/debug/sluice and target/site (cargo leptos build),
# or SLUICE_BIN / SLUICE_SITE_ROOT pointing elsewhere. Arguments go to `playwright test`,
# e.g.  bash end2end/run.sh --project=nojs   or   bash end2end/run.sh tests/login.spec.ts
set -uo pipefail
cd "$(dirname "$0")" || exit 1

if [ ! -d node_modules/@playwright/test ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund || exit $?
fi

npx playwright test "$@"
exit $?
