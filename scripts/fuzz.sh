#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in their own build dir
# and runs each one: first over its seed corpus (tests/fuzz/corpus/<target>),
# then FUZZ_SECONDS of mutation. Fails on any crash, leak, timeout or
# sanitizer report; the reproducer is left under $FUZZ_BUILD_DIR/artifacts.
#
#   bash scripts/fuzz.sh                       # every target, 15 s each
#   FUZZ_SECONDS=60 FUZZ_TARGETS="fuzz_dns_message" bash scripts/fuzz.sh
#   bash scripts/fuzz.sh --build-only
#
# Environment: FUZZ_SECONDS (15), FUZZ_TARGETS (all), FUZZ_BUILD_DIR
# (build-fuzz; never the gcc build dir), FUZZ_BUILD_LOCK (a file to flock
# around the build, for shared machines), NO_INSTALL=1 (skip apt).
# Long runs with statistics: bench/fuzz_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
ALL_TARGETS="fuzz_compose fuzz_oci_spec fuzz_image_manifest fuzz_layer_unpack fuzz_api_request fuzz_dns_message"
FUZZ_TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}

# clang, and libFuzzer's runtime (libclang_rt.fuzzer*.a is in libclang-rt-14-dev,
# pulled in by libclang-rt-dev; clang alone does not depend on it).
if [ "${NO_INSTALL:-0}" != 1 ]; then
  missing=()
  for p in clang libclang-rt-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "fuzz: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

build() {
  cmake -S . -B "$FUZZ_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSTACK_FUZZ=ON -DSTACK_BUILD_TESTS=OFF >/dev/null
  # shellcheck disable=SC2086
  cmake --build "$FUZZ_BUILD_DIR" -j"$(nproc)" --target $FUZZ_TARGETS
}
if [ -n "${FUZZ_BUILD_LOCK:-}" ]; then
  exec 9>>"$FUZZ_BUILD_LOCK"
  flock 9
fi
start=$(date +%s)
build
[ -n "${FUZZ_BUILD_LOCK:-}" ] && exec 9>&-  # unlock before fuzzing: runs need no lock
echo "fuzz: build took $(($(date +%s) - start)) s"
[ "${1:-}" = --build-only ] && exit 0

# Per-target input size caps: layers need room for a few tar blocks.
max_len() {
  case "$1" in
    fuzz_layer_unpack) echo 65536 ;;
    fuzz_dns_message) echo 4096 ;;
    *) echo 16384 ;;
  esac
}

artifacts="$FUZZ_BUILD_DIR/artifacts"
mkdir -p "$artifacts"
failed=()
for t in $FUZZ_TARGETS; do
  seeds="tests/fuzz/corpus/$t"
  work=$(mktemp -d)  # new inputs land here, not in the checked-in corpus
  log="$FUZZ_BUILD_DIR/$t.log"
  t0=$(date +%s)
  rc=0
  # A leak, UBSan report (built without recover), timeout or OOM all exit
  # non-zero; the grep catches a report printed by a path that does not.
  "$FUZZ_BUILD_DIR/tests/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    "$work" "$seeds" >"$log" 2>&1 || rc=$?
  rm -rf "$work"
  if [ $rc -ne 0 ] || grep -qE "runtime error:|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer" "$log"; then
    echo "fuzz: $t FAILED (exit $rc); log: $log"
    grep -E -A30 "ERROR|runtime error|==[0-9]+==" "$log" | head -60 || true
    failed+=("$t")
  else
    stats=$(grep -E "^stat::(number_of_executed_units|average_exec_per_sec)" "$log" | awk '{printf "%s ", $2}')
    cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1)
    echo "fuzz: $t ok in $(($(date +%s) - t0)) s (execs, execs/s: $stats; $cov)"
  fi
done
echo "fuzz: total $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]} (reproduce: $FUZZ_BUILD_DIR/tests/fuzz/<target> <artifact>)"
  exit 1
fi
