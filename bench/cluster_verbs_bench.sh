#!/usr/bin/env bash
# What the stack verbs cost across a three-node cluster (three stackd in
# network namespaces, all managers; bench/cluster_lib.sh), timed from the
# shell with the CLI, each the median of REPS calls:
#   - `ps` on the leader, and on a manager that does not lead (relayed to
#     the leader over the cluster's TLS: leader_forward.h);
#   - `logs` of a stack of 3 replicas (one per node, 2,000 lines each): the
#     leader reads its own replica's file and asks the two other nodes;
#   - `exec -T hostname` of the leader's own replica, and of a replica on
#     another node (run there, output replayed).
# Peers: Docker Swarm cannot run here (one dockerd per host); `docker
# service logs` fetches from each node's engine in the same way. The
# figures are ours alone; the ratio that matters is relayed vs local.
# Usage: sudo bench/cluster_verbs_bench.sh   (REPS=20 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-20}
bench_setup verbs
source bench/cluster_lib.sh
three_nodes manager

cat >"$work/s.yaml" <<'YAML'
name: vbench
services:
  app:
    image: stack-demo/busybox:1
    deploy:
      replicas: 3
      placement:
        max_replicas_per_node: 1
    command: ["sh", "-c", "i=0; while [ $$i -lt 2000 ]; do echo line $$i of $$(hostname); i=$$((i+1)); done; trap 'exit 0' TERM; while true; do sleep 1; done"]
YAML
st 0 -f "$work/s.yaml" up -d >/dev/null
lines() { st 0 -f "$work/s.yaml" logs 2>/dev/null | grep -c "line 1999 of" || true; }
until [ "$(lines)" = 3 ]; do sleep 0.2; done
# The slot of the replica on node $1, as the leader's ps says.
slot_on() {
  st 0 -f "$work/s.yaml" ps --format json |
    python3 -c 'import json,sys; print(next(r["replica"] for r in json.load(sys.stdin) if r["node"]==sys.argv[1]))' "$(node_id "$1")"
}
local_slot=$(slot_on 0) remote_slot=$(slot_on 1)

# Median ms of REPS runs of the command.
timed() {
  local t=()
  for _ in $(seq "$REPS"); do
    local t0; t0=$(now_ms)
    "$@" >/dev/null
    t+=($(($(now_ms) - t0)))
  done
  printf '%s\n' "${t[@]}" | median
}
ps_leader=$(timed st 0 -f "$work/s.yaml" ps)
ps_relay=$(timed st 1 -f "$work/s.yaml" ps)
logs_all=$(timed st 0 -f "$work/s.yaml" logs)
logs_relay=$(timed st 1 -f "$work/s.yaml" logs)
exec_local=$(timed st 0 -f "$work/s.yaml" exec -T --index "$local_slot" app hostname)
exec_remote=$(timed st 0 -f "$work/s.yaml" exec -T --index "$remote_slot" app hostname)
printf "ps: on the leader %s ms, on another manager (relayed) %s ms\n" "$ps_leader" "$ps_relay"
printf "logs (3 x 2000 lines, 2 replicas on other nodes): on the leader %s ms, relayed %s ms\n" "$logs_all" "$logs_relay"
printf "exec -T hostname: the leader's own replica %s ms, a replica on another node %s ms\n" "$exec_local" "$exec_remote"
st 0 -f "$work/s.yaml" down >/dev/null
