#!/usr/bin/env bash
# What the state store costs the user, and what forming a cluster takes:
#   - `stack up -d` (1 service, until it runs) + `down`, and `stack ps`, on
#     stackd with SQLite, with a plain local etcd (--etcd-endpoints), and on
#     a one-node cluster (`stack node init`: its own etcd member, mutual TLS);
#   - `stack node init` from the command to the CLI's return (the new stackd
#     serving on etcd, with a running stack moved over).
# Peers: Docker Swarm's `docker swarm init` needs a dockerd, which does not
# run on this machine; etcdctl's own put/get round trip is printed as the
# floor of any etcd client.
# Prints medians of REPS runs (default 5).
# Usage: sudo bench/cluster_bench.sh   (BUILD_DIR=build-x to pick a build)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_setup cluster
etcd_pid=
cleanup() {
  "$STACK" -f "$work/s.yaml" down -v >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
running() { "$STACK" -f "$work/s.yaml" ps --format json | grep -q '"state":"running"'; }
up_down_ms() {
  local t0 t1
  t0=$(now_ms)
  "$STACK" -f "$work/s.yaml" up -d >/dev/null
  until running; do sleep 0.02; done
  t1=$(now_ms)
  "$STACK" -f "$work/s.yaml" down >/dev/null
  echo $((t1 - t0))
}
ps_ms() {
  local t0
  t0=$(now_ms)
  "$STACK" -f "$work/s.yaml" ps >/dev/null
  echo $(($(now_ms) - t0))
}
measure() {  # measure LABEL
  local up ps
  up=$(for _ in $(seq "$REPS"); do up_down_ms; done | median)
  "$STACK" -f "$work/s.yaml" up -d >/dev/null
  ps=$(for _ in $(seq $((REPS * 4))); do ps_ms; done | median)
  "$STACK" -f "$work/s.yaml" down >/dev/null
  printf "%-28s up -d until running %5s ms   ps %4s ms\n" "$1" "$up" "$ps"
}
restart_stackd() {  # restart_stackd [stackd flags...]
  [ -n "${daemon:-}" ] && kill "$daemon" && wait "$daemon" 2>/dev/null || true
  "$STACKD" --foreground --root "$work/root" --socket "$sock" --runtime-root "$run/runtime" \
    --netns-dir "$run/netns" --dns-port 15302 --log-level warn "$@" >>"$work/stackd.log" 2>&1 &
  daemon=$!
  for _ in $(seq 100); do "$STACK" version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "cluster_bench: stackd does not answer" >&2; cat "$work/stackd.log" >&2; exit 1
}

bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" >/dev/null
cat >"$work/s.yaml" <<'YAML'
name: cbench
services:
  web:
    image: stack-demo/busybox:1
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
    ports: ["18300:80"]
YAML

restart_stackd
measure "SQLite (one node)"

etcd --name b --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:23790 \
  --advertise-client-urls http://127.0.0.1:23790 --listen-peer-urls http://127.0.0.1:23800 \
  --initial-advertise-peer-urls http://127.0.0.1:23800 --initial-cluster b=http://127.0.0.1:23800 \
  >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:23790 put k v >/dev/null 2>&1 && break; sleep 0.1; done
floor=$(for _ in $(seq $((REPS * 4))); do t0=$(now_ms); ETCDCTL_API=3 etcdctl --endpoints 127.0.0.1:23790 get k >/dev/null; echo $(($(now_ms) - t0)); done | median)
restart_stackd --etcd-endpoints 127.0.0.1:23790
measure "etcd (--etcd-endpoints)"
echo "etcdctl get (a whole process, the floor of an etcd round trip from a shell): $floor ms"

# node init: from a fresh SQLite stackd with the stack running.
kill "$etcd_pid"; wait "$etcd_pid" 2>/dev/null || true; etcd_pid=
restart_stackd
"$STACK" -f "$work/s.yaml" up -d >/dev/null
until running; do sleep 0.02; done
t0=$(now_ms)
"$STACK" node init --advertise-addr 127.0.0.1 --api-port 23770 --etcd-client-port 23791 --etcd-peer-port 23801 >/dev/null
echo "stack node init (CA, member, state moved, restart onto etcd): $(($(now_ms) - t0)) ms"
"$STACK" -f "$work/s.yaml" down >/dev/null
measure "one-node cluster (mTLS etcd)"
