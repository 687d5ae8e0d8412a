#!/usr/bin/env bash
# One command from a fresh Debian machine to a running server on the embedded store:
# installs build dependencies, builds, and runs `sightline serve` (arguments pass through,
# e.g. scripts/run.sh --data-dir /var/lib/sightline).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
TARGETS=sightline bash scripts/build.sh -DSIGHTLINE_TESTS=OFF
exec build/sightline serve "$@"
