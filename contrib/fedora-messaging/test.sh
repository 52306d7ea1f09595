#!/usr/bin/env bash
# Installs fedora-messaging and this schema package into a virtualenv of their own (once), makes
# sure RabbitMQ runs, then reads a real Sluice's messages with fedora-messaging's own code.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/fedora-messaging-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import fedora_messaging, sluice_messages' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "fedora-messaging>=3.6" "$here"
fi
# The package is installed from the working tree; install it again so edits are seen.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall "$here"
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  rabbitmq-server -detached
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
    sleep 1
  done
fi
SLUICE_BIN="${SLUICE_BIN:-$root/target/debug/sluice}" "$venv/bin/python" "$here/test_with_sluice.py"
