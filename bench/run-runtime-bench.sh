#!/usr/bin/env bash
# Runtime start benchmark: stack-runtime against runc (and crun) on this
# machine, plus stack-shim's memory against conmon's. See bench/README.md.
#
#   sudo bench/run-runtime-bench.sh [extra stack-bench-runtime flags]
#
# Environment: RUNS (default 100), BUILD_DIR (default <repo>/build-bench),
# JSON (default $BUILD_DIR/bench/runtime-bench.json), NO_INSTALL=1 to never
# call apt-get.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}
runs=${RUNS:-100}
json=${JSON:-$build/bench/runtime-bench.json}

if [[ $(id -u) -ne 0 ]]; then
  echo "run-runtime-bench.sh: must run as root (containers need namespaces and cgroups)" >&2
  exit 1
fi

# apt-get install, refreshing the package lists once if a package is unknown.
apt_install() {
  [[ -n ${NO_INSTALL:-} ]] && return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 && return 0
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

# Required: runc (the reference every ratio is against) and a static busybox
# (the container's rootfs has no libc).
for pkg in runc busybox-static; do
  if ! installed "$pkg"; then
    echo "installing $pkg" >&2
    apt_install "$pkg" || { echo "run-runtime-bench.sh: cannot install $pkg" >&2; exit 1; }
  fi
done
# Optional peers: crun (another runtime row) and conmon (the shim's memory peer).
for pkg in crun conmon; do
  if ! installed "$pkg"; then
    echo "installing $pkg (optional)" >&2
    apt_install "$pkg" || echo "note: $pkg not installed; its part is reported as n/a" >&2
  fi
done
for tool in cmake ninja; do
  command -v "$tool" >/dev/null || apt_install cmake ninja-build ||
    { echo "run-runtime-bench.sh: need cmake and ninja" >&2; exit 1; }
done

echo "building (Release) in $build" >&2
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target stack-bench-runtime
# The shim is only needed for the memory part; a shim that does not build is
# reported by the bench as skipped rather than stopping it.
cmake --build "$build" -j"$(nproc)" --target stack-shim >/dev/null 2>&1 ||
  echo "note: stack-shim did not build; the shim memory part will be skipped or use a stale binary" >&2

mkdir -p "$(dirname "$json")"
exec "$build/bench/stack-bench-runtime" --runs "$runs" --json "$json" "$@"
