#!/usr/bin/env bash
# Rolling updates (issue 17): 10 replicas of a small web server behind a
# published port, updated from v1 to v2 while a client requests the port in
# a loop (one request at a time, 1 s timeout each), as the user sees it:
#   update time        `stack up -d` of v2 until it returns (every replica
#                      runs v2, healthy, and the last batch ran its monitor);
#   failed requests    requests that got no answer during the update, and
#                      the outage: first to last failed request, in ms;
#   first v2 answer    from the up's start to the client's first v2 answer.
# Rows: update_config {parallelism: 2, order: start-first} with Swarm's
# default monitor (5 s) and with monitor 0 s; and no update_config (Compose's
# recreate-all). Swarm's documented schedule for the first row is 5 batches,
# each one task start plus the 5 s monitor: at least 25 s.
# Prints medians of REPS runs (default 3).
# Usage: sudo bench/rolling_update_bench.sh   (BUILD_DIR=build-x)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-3}
PORT=18310
bench_setup rolling
cleanup() {
  "$STACK" -f "$work/web.yaml" down >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" >/dev/null
start_stackd 15310

# $1 version, $2 update_config line ("" for none)
write_stack() {
  cat >"$work/web.yaml" <<EOF
name: rolling
services:
  web:
    image: stack-demo/busybox:1
    command: [sh, -c, 'mkdir -p /www; echo \$\$V > /www/index.html; httpd -f -p 3000 -h /www & pid=\$\$!; trap "sleep 1; kill \$\$pid; exit 0" TERM; wait \$\$pid']
    environment: {V: $1}
    ports: ["$PORT:3000"]
    x-healthcheck:
      http: {port: 3000, path: /}
      interval: 2s
    deploy:
      replicas: 10
$2
EOF
}

row() {  # $1 label, $2 update_config line
  local times=() fails=() firsts=() outages=()
  for _ in $(seq "$REPS"); do
    write_stack v1 "$2"
    "$STACK" -f "$work/web.yaml" up -d --wait >/dev/null
    start_client "$PORT"
    sleep 1
    write_stack v2 "$2"
    local t0 t1
    t0=$(now_ms)
    "$STACK" -f "$work/web.yaml" up -d >/dev/null
    t1=$(now_ms)
    sleep 1
    touch "$work/stop"
    wait "$client_pid" || true
    times+=($((t1 - t0)))
    fails+=("$(awk -v t="$t0" '$1 >= t && $2 == "FAILED"' "$work/client.log" | wc -l)")
    firsts+=("$(awk -v t="$t0" '$1 >= t && $2 == "v2" {print $1 - t; exit}' "$work/client.log")")
    outages+=("$(awk -v t="$t0" '$1 >= t && $2 == "FAILED" {if (!f) f = $1; l = $1} END {print f ? l - f : 0}' "$work/client.log")")
    "$STACK" -f "$work/web.yaml" down >/dev/null
  done
  printf '%-44s %10s ms %8s failed %8s ms %10s ms\n' "$1" \
    "$(printf '%s\n' "${times[@]}" | median)" "$(printf '%s\n' "${fails[@]}" | median)" \
    "$(printf '%s\n' "${outages[@]}" | median)" "$(printf '%s\n' "${firsts[@]}" | median)"
}

printf '%-44s %13s %15s %11s %13s\n' "10 replicas, v1 -> v2 (median of $REPS)" "update" "requests" "outage" "first v2"
row "parallelism 2, start-first, monitor 5s" "      update_config: {parallelism: 2, order: start-first}"
row "parallelism 2, start-first, monitor 0s" "      update_config: {parallelism: 2, order: start-first, monitor: 0s}"
row "no update_config (recreate all)" ""
echo "Swarm (documented): 5 batches x (task start + 5 s monitor) >= 25000 ms for the first row"
