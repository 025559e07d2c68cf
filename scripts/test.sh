#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every tier
# (unit, privileged, integration) with ctest. Privileged and integration
# tests need root; without it they skip and say why.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
# Labels select a tier: LABEL=unit bash scripts/test.sh
ctest --output-on-failure --timeout 300 -j"$(nproc)" ${LABEL:+-L "$LABEL"}
