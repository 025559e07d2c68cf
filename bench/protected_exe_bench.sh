#!/usr/bin/env bash
# What the CVE-2019-5736 defence (runtime/kernel/protected_exe.h) costs a
# user: `stack-runtime run` (create + start + wait + delete of a container
# running `true`) and `stack-runtime exec` into a running container, for a
# build without the defence (BASE) and with it (NEW), interleaved run by run
# so both see the same machine; runc beside them as the reference.
#
#   bench/protected_exe_bench.sh BASE_STACK_RUNTIME [NEW_STACK_RUNTIME]
#
# Environment: RUNS (default 50). Prints the median and p90 in ms per binary.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${1:?usage: $0 BASE_STACK_RUNTIME [NEW_STACK_RUNTIME]}
new=${2:-$repo/build/runtime/stack-runtime}
runs=${RUNS:-50}
runc=$(command -v runc || echo /usr/sbin/runc)
work=$(mktemp -d /tmp/stack-pe-bench-XXXXXX)
cleanup() {
  for r in "$base" "$new" "$runc"; do "$r" --root "$work/root-$(basename "$r")-$(echo "$r" | md5sum | cut -c1-6)" delete -f long >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A busybox bundle running `true`, and one that stays up for exec.
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
(cd "$work" && "$new" spec)
python3 - "$work/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
json.dump(c, open(p, "w"))
c["process"]["args"] = ["sleep", "1000"]
json.dump(c, open(p.replace("config.json", "config-long.json"), "w"))
PY
mkdir -p "$work/long"
cp "$work/config-long.json" "$work/long/config.json"
cp -a "$work/rootfs" "$work/long/rootfs"

ms() { echo $(( ($2 - $1) / 1000 )); }  # ns -> us
declare -A run_t exec_t
names=()
for r in "$base" "$new" "$runc"; do
  key=$(echo "$r" | md5sum | cut -c1-6)
  names+=("$r")
  root="$work/root-$(basename "$r")-$key"
  mkdir -p "$root"
  "$r" --root "$root" run -d --bundle "$work/long" long >/dev/null
done
for i in $(seq "$runs"); do
  for r in "$base" "$new" "$runc"; do
    key=$(echo "$r" | md5sum | cut -c1-6)
    root="$work/root-$(basename "$r")-$key"
    t0=$(date +%s%N); "$r" --root "$root" run --bundle "$work" "c$i" >/dev/null; t1=$(date +%s%N)
    "$r" --root "$root" exec long true; t2=$(date +%s%N)
    run_t[$r]+="$(ms "$t0" "$t1") "
    exec_t[$r]+="$(ms "$t1" "$t2") "
  done
done
stat() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%6.1f %6.1f", a[int((NR+1)/2)]/1000, a[int(NR*0.9)]/1000}'; }
printf "%-48s %14s %14s\n" "binary" "run med/p90 ms" "exec med/p90 ms"
for r in "${names[@]}"; do
  printf "%-48s %14s %14s\n" "$r" "$(echo "${run_t[$r]}" | stat)" "$(echo "${exec_t[$r]}" | stat)"
done
