#!/usr/bin/env bash
# The scheduler at scale: one real manager (a stackd in its own network
# namespace, with its etcd member) and NODES simulated workers
# (stack-bench-sim-nodes: a record, a heartbeat lease and a report per
# assignment each, through real etcd; containers pretended). Timed from the
# shell: `stack up -d` of REPLICAS replicas on the workers, which returns
# once every replica is placed, assigned and reported running.
# Prints: placements per second (REPLICAS over up's time), p50/p99 of the
# time from `up` to each replica's assignment reaching its node, the CPU of
# the leader, its etcd member and the simulated nodes during the up (and
# the heartbeats' own when idle), the leader's peak memory, etcd's write
# transactions during the up and the size of an assignment; then PROBES
# times the delay of one more replica beside them (a one-replica stack's
# `up -d`, and a `scale` of the big service by one), as Swarm measured its
# scheduling delay.
# Anchors (documented, not run here): Swarm's 1,000 nodes / 30,000
# containers with a 400 ms p99 scheduling delay; Nomad's C1M at ~3,750
# placements/s. Goals: >= 4,000 placements/s, p99 <= 400 ms.
# Usage: sudo bench/cluster_scale_bench.sh   (NODES=1000 REPLICAS=30000
#        PROBES=20; BUILD_DIR=build-x to pick a build; PROFILE=FILE for
#        perf record of the leader, PERF_CG to change its call graphs)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
NODES=${NODES:-1000}
REPLICAS=${REPLICAS:-30000}
PROBES=${PROBES:-20}
bench_setup scale
source bench/cluster_lib.sh
SIM="$BUILD/bench/stack-bench-sim-nodes"
[ -x "$SIM" ] || { echo "build $SIM first" >&2; exit 1; }

make_node 0
start 0
st 0 node init --advertise-addr "$(addr 0)" >/dev/null
until [ "$(ready_nodes 0)" = 1 ]; do sleep 0.2; done  # restarted onto etcd, leading
# In node 0's namespace: its etcd member listens on its loopback.
nsenter --net="/run/netns/stkb-$id-0" -- "$SIM" --root "$work/n0/root" --nodes "$NODES" --times "$work/times" \
  >"$work/sim.json" 2>"$work/sim.log" &
sim=$!
pids+=($sim)
until [ "$(ready_nodes 0)" = $((NODES + 1)) ]; do
  kill -0 $sim 2>/dev/null || { cat "$work/sim.log" >&2; exit 1; }
  sleep 0.5
done

cat >"$work/s.yaml" <<YAML
name: scale
services:
  app:
    image: stack-demo/busybox:1
    command: ["sleep", "1000"]
    deploy:
      replicas: $REPLICAS
      placement:
        constraints: ["node.role==worker"]
YAML
leader=${daemon[0]}
cpu_ticks() { awk '{print $14 + $15}' "/proc/${1:-$leader}/stat"; }
# The leader's etcd member (its child) and the simulated nodes share the
# VM's cores with it: their CPU is printed too.
etcd_pid=$(pgrep -P "$leader" -f etcd | head -1)
# PROFILE=FILE: the leader under perf record (call graphs) during up.
[ -n "${PROFILE:-}" ] && { perf record -F 999 ${PERF_CG:---call-graph dwarf,16384} -p "$leader" -o "$PROFILE" >/dev/null 2>&1 & perf_pid=$!; sleep 0.5; }
# What the nodes' heartbeats alone cost, over 3 s before the up.
i0=$(cpu_ticks "$etcd_pid"); l0=$(cpu_ticks); sleep 3; i1=$(cpu_ticks "$etcd_pid"); l1=$(cpu_ticks)
c0=$(cpu_ticks); e0=$(cpu_ticks "$etcd_pid"); s0=$(cpu_ticks "$sim")
t0=$(now_ms)
st 0 -f "$work/s.yaml" up -d >/dev/null
t1=$(now_ms)
[ -n "${PROFILE:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
c1=$(cpu_ticks); e1=$(cpu_ticks "$etcd_pid"); s1=$(cpu_ticks "$sim")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$leader/status")
kill -USR1 $sim  # its figures so far: the probes below are not counted in them
until [ -s "$work/sim.json" ]; do sleep 0.1; done
# Swarm's figure is the delay of one more container (`docker run`) on a
# cluster that holds thousands: PROBES times, a one-replica stack's `up -d`
# (placed, assigned, reported running), and a `scale` of the big service by
# one, each timed alone.
for i in $(seq "$PROBES"); do
  printf 'name: probe%s\nservices:\n  one:\n    image: stack-demo/busybox:1\n    command: ["sleep", "1000"]\n    deploy:\n      placement:\n        constraints: ["node.role==worker"]\n' \
    "$i" >"$work/p$i.yaml"
  a=$(now_ms); st 0 -f "$work/p$i.yaml" up -d >/dev/null; b=$(now_ms)
  echo $((b - a)) >>"$work/probe_up"
  a=$(now_ms); st 0 -p scale scale "app=$((REPLICAS + i))" >/dev/null; b=$(now_ms)
  echo $((b - a)) >>"$work/probe_scale"
done
kill -TERM $sim
wait $sim || true
python3 - "$work/times" "$t0" "$t1" "$REPLICAS" "$NODES" "$((c1 - c0))" "$(getconf CLK_TCK)" "$hwm" "$work/sim.json" "$((e1 - e0))" "$((s1 - s0))" "$work/probe_up" "$work/probe_scale" "$((i1 - i0))" "$((l1 - l0))" <<'PY'
import json, os, sys
times, t0, t1, replicas, nodes, ticks, hz, hwm, sim, eticks, sticks, probe_up, probe_scale, idle_e, idle_l = sys.argv[1:]
t0, t1, replicas = int(t0), int(t1), int(replicas)
lat = sorted(int(l) - t0 for l in open(times).read().split()[:replicas])  # the probes' come after
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
s = json.loads(open(sim).readline())  # the figures at up's end
print(f"nodes {nodes}, replicas {replicas}: up -d {t1 - t0} ms, {replicas * 1000 / (t1 - t0):.0f} placements/s")
print(f"up -> assignment at its node: p50 {pct(0.5)} ms, p99 {pct(0.99)} ms ({len(lat)} assignments)")
print(f"leader: {int(ticks) / int(hz):.1f} s CPU, peak RSS {int(hwm) / 1024:.0f} MiB"
      f" (beside it: etcd {int(eticks) / int(hz):.1f} s, the simulated nodes {int(sticks) / int(hz):.1f} s CPU)")
print(f"idle, the heartbeats alone: etcd {int(idle_e) / int(hz) / 3:.2f}, leader {int(idle_l) / int(hz) / 3:.2f} CPU seconds per second")
print(f"etcd: {s['etcd_revisions']} write transactions ({s['report_txns']} of them the nodes' reports);"
      f" {s['assign_bytes'] / max(s['assigned'], 1):.0f} bytes per assignment")
for what, f in (("a one-replica stack's up -d", probe_up), ("scale of the big service by one", probe_scale)):
    ms = sorted(int(l) for l in open(f) if l.strip()) if os.path.exists(f) else []
    if not ms: continue  # PROBES=0
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
    print(f"one more replica beside them, {what}: p50 {q(0.5)} ms, p99 {q(0.99)} ms ({len(ms)} runs)")
PY
