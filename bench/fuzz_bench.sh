#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz) for FUZZ_MINUTES each, one after
# the other on one core, and prints per target: executions, execs/s, edge
# coverage, corpus size and crashes. Not a test: it never fails on numbers,
# only reports. Crash reproducers go to $OUT/crashes/<target>-crash-*.
#
#   bash bench/fuzz_bench.sh                      # 5 minutes per target
#   FUZZ_MINUTES=1 FUZZ_TARGETS=fuzz_dns_message bash bench/fuzz_bench.sh
#
# Environment: FUZZ_MINUTES (5), FUZZ_TARGETS (all), OUT
# (/tmp/stack-fuzz-bench: grown corpora, logs, crashes), FUZZ_BUILD_DIR
# (build-fuzz), FUZZ_BUILD_LOCK, NO_INSTALL=1 (passed to scripts/fuzz.sh,
# which builds). Grown corpora are kept in $OUT/corpus/<target>: a later run
# continues from them; copy interesting inputs into tests/fuzz/corpus by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_MINUTES=${FUZZ_MINUTES:-5}
OUT=${OUT:-/tmp/stack-fuzz-bench}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
ALL_TARGETS="fuzz_compose fuzz_oci_spec fuzz_image_manifest fuzz_layer_unpack fuzz_api_request fuzz_dns_message"
FUZZ_TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
export FUZZ_BUILD_DIR FUZZ_TARGETS

bash scripts/fuzz.sh --build-only
mkdir -p "$OUT/crashes" "$OUT/logs"

max_len() {
  case "$1" in
    fuzz_layer_unpack) echo 65536 ;;
    fuzz_dns_message) echo 4096 ;;
    *) echo 16384 ;;
  esac
}

seconds=$(awk "BEGIN { printf \"%d\", $FUZZ_MINUTES * 60 }")
rows=()
for t in $FUZZ_TARGETS; do
  mkdir -p "$OUT/corpus/$t"
  log="$OUT/logs/$t.log"
  echo "fuzz_bench: $t for ${seconds} s ..."
  rc=0
  # -fork=0, no -jobs: one process on one core. Keep going after a crash
  # (-ignore_crashes needs fork mode, so one crash ends the run early; the
  # row says so).
  "$FUZZ_BUILD_DIR/tests/fuzz/$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t-" \
    "$OUT/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")
  eps=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log")
  last=$(grep -E "^#[0-9]+" "$log" | tail -1)
  cov=$(grep -oE "cov: [0-9]+" <<<"$last" | awk '{print $2}')
  ft=$(grep -oE "ft: [0-9]+" <<<"$last" | awk '{print $2}')
  corp=$(grep -oE "corp: [0-9]+/[0-9a-zA-Z]+" <<<"$last" | awk '{print $2}')
  crashes=$(find "$OUT/crashes" -name "$t-*" | wc -l)
  status=ok
  [ $rc -ne 0 ] && status="stopped (exit $rc): see $log"
  rows+=("$(printf '%-22s %12s %9s %7s %8s %12s %8s  %s' "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$crashes" "$status")")
done

printf '\n%-22s %12s %9s %7s %8s %12s %8s  %s\n' target execs execs/s cov ft corpus crashes status
for r in "${rows[@]}"; do echo "$r"; done
echo "(cov: instrumented edges reached; ft: libFuzzer features; crashes: files in $OUT/crashes)"
