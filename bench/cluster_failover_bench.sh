#!/usr/bin/env bash
# What a user of a three-node cluster sees, timed from the shell with the
# `stack` CLI (three stackd, each in its own network namespace on a bridge,
# as the tests' cluster harness; all three managers, so any may lead):
#   - `stack up -d` of 6 replicas until `ps` shows all 6 running, spread over
#     the 3 nodes;
#   - node loss: kill -9 of a non-leading node's stackd until the leader's
#     `ps` shows 6 running on the other two (then the node comes back);
#   - leader loss: kill -9 of the leader's stackd until another manager
#     leads (a survivor's `stack ps` is answered again: by the new leader's
#     engine, directly or relayed), and until `ps` shows 6 running on the
#     two that are left (the dead leader's replicas replaced: a node loss).
# Peers: Docker Swarm (documented: a down node's tasks are rescheduled
# after ~15 s; its dispatcher heartbeat is 5 s x 3) cannot run here (no
# second dockerd per namespace); the figures are ours alone.
# Prints each run and the median of REPS (default 3).
# Usage: sudo bench/cluster_failover_bench.sh   (BUILD_DIR=build-x to pick a build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-3}
bench_setup failover
source bench/cluster_lib.sh
three_nodes manager

cat >"$work/s.yaml" <<'YAML'
name: fbench
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      replicas: 6
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
# Replicas running per node n's `ps`, not counting node id $2; "" when n does not answer.
running_off() {
  st "$1" -f "$work/s.yaml" ps --format json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(r["state"]=="running" and r["node"]!=sys.argv[1] for r in json.load(sys.stdin)))' "${2:-}" 2>/dev/null
}
# The leading node's index (0-2) as node n sees it; "" when none or n does not answer.
leader() {
  st "$1" node ls --format json 2>/dev/null |
    python3 -c 'import json,sys; print(next((int(n["address"].split(".")[3])-1 for n in json.load(sys.stdin) if n["leader"] and n["status"]=="ready"), ""))' 2>/dev/null
}

# Whether node n's `ps` is answered (by a leading engine).
answers() { st "$1" -f "$work/s.yaml" ps >/dev/null 2>&1; }

up_ms=() loss_ms=() lead_ms=() new_ms=()
L=0
for rep in $(seq "$REPS"); do
  t0=$(now_ms)
  st "$L" -f "$work/s.yaml" up -d >/dev/null
  until [ "$(running_off "$L")" = 6 ]; do sleep 0.05; done
  up_ms+=($(($(now_ms) - t0)))
  # A node that does not lead: kill -9 its stackd (its containers stay).
  V=$(( (L + 1) % 3 )); VID=$(node_id "$V")
  kill -9 "${daemon[$V]}"
  t0=$(now_ms)
  until [ "$(running_off "$L" "$VID")" = 6 ]; do sleep 0.05; done
  loss_ms+=($(($(now_ms) - t0)))
  start "$V"
  until [ -z "$(ls "$run$V/runtime" 2>/dev/null | grep -v '^\.')" ] && [ "$(ready_nodes "$L")" = 3 ]; do sleep 0.1; done
  # The leader.
  LID=$(node_id "$L"); A=$(( (L + 1) % 3 )); B=$(( (L + 2) % 3 ))
  kill -9 "${daemon[$L]}"
  t0=$(now_ms)
  # Whichever of the other two leads answers ps (the other relays to it).
  until answers "$A" || answers "$B"; do sleep 0.05; done
  new_ms+=($(($(now_ms) - t0)))
  until [ "$(running_off "$A" "$LID")" = 6 ] || [ "$(running_off "$B" "$LID")" = 6 ]; do sleep 0.05; done
  O=$A
  lead_ms+=($(($(now_ms) - t0)))
  start "$L"
  until [ "$(ready_nodes "$O")" = 3 ]; do sleep 0.1; done
  L=$(leader "$O")
  st "$L" -f "$work/s.yaml" down >/dev/null
  printf "run %d: up (6 replicas, 3 nodes) %5d ms   node lost -> replaced %5d ms   leader lost -> another leads %5d ms, 6 running %5d ms\n" \
    "$rep" "${up_ms[-1]}" "${loss_ms[-1]}" "${new_ms[-1]}" "${lead_ms[-1]}"
done
printf "median: up %s ms, node loss %s ms, leader loss -> another leads %s ms, -> 6 running %s ms (heartbeat TTL 5 s, leader TTL 3 s)\n" \
  "$(printf '%s\n' "${up_ms[@]}" | median)" "$(printf '%s\n' "${loss_ms[@]}" | median)" \
  "$(printf '%s\n' "${new_ms[@]}" | median)" "$(printf '%s\n' "${lead_ms[@]}" | median)"
