#!/usr/bin/env bash
# The scheduler at scale: one real manager (a stackd in its own network
# namespace, with its etcd member) and NODES simulated workers
# (stack-bench-sim-nodes: a record, a heartbeat lease and a report per
# assignment each, through real etcd; containers pretended). Timed from the
# shell: `stack up -d` of REPLICAS replicas on the workers, which returns
# once every replica is placed, assigned and reported running.
# Prints: placements per second (REPLICAS over up's time), p50/p99 of the
# time from `up` to each replica's assignment reaching its node, the
# leader's CPU seconds and peak memory, and etcd's write transactions
# (revisions) during the run.
# Anchors (documented, not run here): Swarm's 1,000 nodes / 30,000
# containers with sub-second p99 scheduling; Nomad's C1M at ~3,750
# placements/s. Goals: >= 4,000 placements/s, p99 <= 400 ms.
# Usage: sudo bench/cluster_scale_bench.sh   (NODES=1000 REPLICAS=30000;
#        BUILD_DIR=build-x to pick a build; PROFILE=FILE for perf record)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
NODES=${NODES:-1000}
REPLICAS=${REPLICAS:-30000}
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$leader/stat"; }
# PROFILE=FILE: the leader under perf record (call graphs) during up.
[ -n "${PROFILE:-}" ] && { perf record -F 499 -g -p "$leader" -o "$PROFILE" >/dev/null 2>&1 & perf_pid=$!; sleep 0.5; }
c0=$(cpu_ticks)
t0=$(now_ms)
st 0 -f "$work/s.yaml" up -d >/dev/null
t1=$(now_ms)
[ -n "${PROFILE:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
c1=$(cpu_ticks)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$leader/status")
kill -TERM $sim
wait $sim || true
python3 - "$work/times" "$t0" "$t1" "$REPLICAS" "$NODES" "$((c1 - c0))" "$(getconf CLK_TCK)" "$hwm" "$work/sim.json" <<'PY'
import json, sys
times, t0, t1, replicas, nodes, ticks, hz, hwm, sim = sys.argv[1:]
t0, t1, replicas = int(t0), int(t1), int(replicas)
lat = sorted(int(l) - t0 for l in open(times) if l.strip())
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
s = json.load(open(sim))
print(f"nodes {nodes}, replicas {replicas}: up -d {t1 - t0} ms, {replicas * 1000 / (t1 - t0):.0f} placements/s")
print(f"up -> assignment at its node: p50 {pct(0.5)} ms, p99 {pct(0.99)} ms ({len(lat)} assignments)")
print(f"leader: {int(ticks) / int(hz):.1f} s CPU, peak RSS {int(hwm) / 1024:.0f} MiB")
print(f"etcd: {s['etcd_revisions']} write transactions ({s['report_txns']} of them the nodes' reports)")
PY
