#!/usr/bin/env bash
# What a user of a three-node cluster sees, timed from the shell with the
# `stack` CLI (three stackd, each in its own network namespace on a bridge,
# as the tests' cluster harness; all three managers, so any may lead):
#   - `stack up -d` of 6 replicas until `ps` shows all 6 running, spread over
#     the 3 nodes;
#   - node loss: kill -9 of a non-leading node's stackd until the leader's
#     `ps` shows 6 running on the other two (then the node comes back);
#   - leader loss: kill -9 of the leader's stackd until another manager
#     answers `ps` with 6 running on the two that are left.
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
id=$$
br=stkb-$id
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for n in 0 1 2; do
    for c in "$run$n"/runtime/*/; do
      [ -d "$c" ] && "$BUILD/runtime/stack-runtime" --root "$run$n/runtime" delete --force "$(basename "$c")" >/dev/null 2>&1
    done
    ip netns del "stkb-$id-$n" 2>/dev/null || true
  done
  ip link del "$br" 2>/dev/null || true
  grep -o " $work/[^ ]*\| $run[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$run"0 "$run"1 "$run"2
}
trap cleanup EXIT
trap "exit 1" INT TERM  # so that the EXIT trap runs

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
addr() { echo "10.78.0.$(($1 + 1))"; }
st() { local n=$1; shift; "$STACK" --host "unix://$work/n$n.sock" "$@"; }

ip link add "$br" type bridge && ip link set "$br" up
for n in 0 1 2; do
  ip netns add "stkb-$id-$n"
  ip link add "stkv$n-$id" type veth peer name eth0 netns "stkb-$id-$n"
  ip link set "stkv$n-$id" master "$br" up
  ip -n "stkb-$id-$n" addr add "$(addr $n)/24" dev eth0
  ip -n "stkb-$id-$n" link set eth0 up
  ip -n "stkb-$id-$n" link set lo up
  mkdir -p "$work/n$n/root"
  bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/n$n/root/images" >/dev/null
done
declare -A daemon
start() {
  local n=$1
  nsenter --net="/run/netns/stkb-$id-$n" -- "$STACKD" --foreground --root "$work/n$n/root" --socket "$work/n$n.sock" \
    --runtime-root "$run$n/runtime" --netns-dir "$run$n/netns" --log-level warn >>"$work/n$n.log" 2>&1 &
  daemon[$n]=$!
  pids+=($!)
  for _ in $(seq 600); do st "$n" version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "node $n does not answer" >&2; cat "$work/n$n.log" >&2; exit 1
}
for n in 0 1 2; do start $n; done
st 0 node init --advertise-addr "$(addr 0)" >/dev/null
token=$(st 0 node join-token -q manager)
for n in 1 2; do st $n node join --token "$token" --advertise-addr "$(addr $n)" "$(addr 0)" >/dev/null; done
ready_nodes() {
  st "$1" node ls --format json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(n["status"]=="ready" for n in json.load(sys.stdin)))' 2>/dev/null
}
until [ "$(ready_nodes 0)" = 3 ]; do sleep 0.2; done

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
node_id() {
  st 0 node ls --format json | python3 -c 'import json,sys; print(next(n["id"] for n in json.load(sys.stdin) if n["address"]==sys.argv[1]))' "$(addr "$1")"
}

up_ms=() loss_ms=() lead_ms=()
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
  # Whichever of the other two leads answers ps; the other answers 503.
  until [ "$(running_off "$A" "$LID")" = 6 ] || [ "$(running_off "$B" "$LID")" = 6 ]; do sleep 0.05; done
  O=$A
  lead_ms+=($(($(now_ms) - t0)))
  start "$L"
  until [ "$(ready_nodes "$O")" = 3 ]; do sleep 0.1; done
  L=$(leader "$O")
  st "$L" -f "$work/s.yaml" down >/dev/null
  printf "run %d: up (6 replicas, 3 nodes) %5d ms   node lost -> replaced %5d ms   leader lost -> another leads, 6 running %5d ms\n" \
    "$rep" "${up_ms[-1]}" "${loss_ms[-1]}" "${lead_ms[-1]}"
done
printf "median: up %s ms, node loss %s ms, leader loss %s ms (lease TTL 5 s)\n" \
  "$(printf '%s\n' "${up_ms[@]}" | median)" "$(printf '%s\n' "${loss_ms[@]}" | median)" \
  "$(printf '%s\n' "${lead_ms[@]}" | median)"
