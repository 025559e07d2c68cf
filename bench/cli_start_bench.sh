#!/usr/bin/env bash
# How long a `stack` verb takes as a user sees it: the CLI's start, its API
# call and its output, for `stack version` and `stack ps` against a private
# stackd with one running replica; `podman ps` (its own CLI start and
# state read) beside it. With a second `stack` binary (BASE, e.g. an older
# build) both are run interleaved, run by run, against the same daemon.
#
#   sudo bench/cli_start_bench.sh [BASE_STACK]
#
# Environment: RUNS (default 40). Prints the median and p90 in ms; the
# /bin/true row is what the shell's timing itself costs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_setup clistart
base=${1:-}
runs=${RUNS:-40}
cleanup() {
  "$STACK" -f "$work/s.yaml" down >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT
podman_conf
bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" >/dev/null
start_stackd 15303
cat >"$work/s.yaml" <<EOF
name: clistart
services:
  web:
    image: stack-demo/busybox:1
    command: ["sleep", "1d"]
EOF
"$STACK" -f "$work/s.yaml" up -d >/dev/null

now_us() { echo $(($(date +%s%N) / 1000)); }
declare -A T
once() {  # once KEY CMD...: appends the run's time in microseconds to T[KEY]
  local key=$1 t0; shift
  t0=$(now_us)
  "$@" >/dev/null 2>&1 || { echo "cli_start_bench: failed: $*" >&2; exit 1; }
  T[$key]+="$(($(now_us) - t0)) "
}
bins=("$STACK"); [ -n "$base" ] && bins=("$base" "$STACK")
podman ps >/dev/null 2>&1 && have_podman=1 || have_podman=0
for _ in $(seq "$runs"); do
  for b in "${bins[@]}"; do
    once "$b version" "$b" version
    once "$b ps" "$b" -f "$work/s.yaml" ps
  done
  [ "$have_podman" = 1 ] && once "podman ps" podman ps
  once "/bin/true (the timing floor: fork, exec, two date(1))" /bin/true
done
stats() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%8.1f %6.1f", a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000}'; }
printf '%-60s %8s %6s\n' "command" "med ms" "p90"
for k in "${!T[@]}"; do printf '%-60s %s\n' "$k" "$(echo "${T[$k]}" | stats)"; done | sort
