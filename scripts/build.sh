#!/usr/bin/env bash
# Configures and builds stack into ./build (override with BUILD_DIR).
# BUILD_TYPE defaults to RelWithDebInfo; SANITIZE=1 builds with ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
SAN=OFF
[ "${SANITIZE:-0}" = 1 ] && SAN=ON
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DSTACK_SANITIZE="$SAN" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
