#!/usr/bin/env bash
# kill -9 soak: N rounds (default 50) of, at the same time, `stack scale` to
# random counts, SIGKILL of random replicas, and SIGKILL of stackd at a
# random moment (then restart it and wait until it answers). Afterwards:
# converge (bounded), then count lost replicas and duplicates (records vs
# live stack-shim processes vs the runtime root's state dirs); then
# `stack down -v`, SIGTERM stackd (must exit within STOP_S), and count what
# is left: links and nft rules in the soak's netns, mounts under its dirs,
# cgroups and processes of its containers, netns files, and anything new on
# the host that names the soak's stack.
#
# Everything runs in a network namespace of its own (unshare -n, as
# tests/support/private_netns.h does for the tests): stackd sweeps every
# "stack:" link and rule of its netns at start, so it must not share one.
#
# Usage: sudo bench/soak_kill9.sh      (N=50 rounds; BUILD_DIR=build; SEED=...;
#        KEEP=1 keeps the work dir; CONVERGE_S=120; STOP_S=10)
# Exit status: 0 when nothing was lost, duplicated or leaked; 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD="$SRC/${BUILD_DIR:-build}"
STACK_BIN="$BUILD/orchestrator/stack"
STACKD="$BUILD/orchestrator/stackd"
N=${N:-50}
CONVERGE_S=${CONVERGE_S:-120}
STOP_S=${STOP_S:-10}
ANSWER_S=${ANSWER_S:-30}

# ---- outer half: host snapshots around the inner half in its own netns ----
if [ -z "${SOAK_INNER:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "soak_kill9: run as root" >&2; exit 1; }
  for b in "$STACK_BIN" "$STACKD"; do [ -x "$b" ] || { echo "soak_kill9: $b missing (build first)" >&2; exit 1; }; done
  export SOAK_NAME="soak$$"
  export SOAK_WORK; SOAK_WORK=$(mktemp -d /tmp/stack-soak-XXXXXX)
  export SOAK_RUN="/run/stack-soak-$$"
  host_snap() {
    { ip -o link show | awk -F': ' '{print "link " $2}'
      nft list ruleset 2>/dev/null | sed 's/ # handle [0-9]*//' | grep -F "$SOAK_NAME" | sed 's/^/nft /'
      ip netns list 2>/dev/null | sed 's/^/netns /'; } | sort
  }
  host_snap >"$SOAK_WORK/host.before"
  SOAK_INNER=1 timeout --kill-after=30 $((N * 60 + CONVERGE_S + 600)) unshare -n -- bash "$0"
  rc=$?
  host_snap >"$SOAK_WORK/host.after"
  # Links come and go on a shared host (other daemons in their own netns do
  # not show here, a host one would): count what is new and names the soak,
  # or is one of stack's endpoint links (sk<hash>).
  host_new=$(comm -13 "$SOAK_WORK/host.before" "$SOAK_WORK/host.after" | grep -E "$SOAK_NAME|^link sk[0-9a-f]{12}" || true)
  host_leaks=$(printf '%s' "$host_new" | grep -c . || true)
  echo "host (outside the soak's netns): new objects naming the soak: $host_leaks"
  [ -n "$host_new" ] && printf '  %s\n' "$host_new"
  [ "$host_leaks" = 0 ] || rc=1
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then echo "work dir kept: $SOAK_WORK"; else rm -rf "$SOAK_WORK"; fi
  exit $rc
fi

# ---- inner half: in the soak's own network namespace ----
ip link set lo up
W=$SOAK_WORK RUN=$SOAK_RUN NAME=$SOAK_NAME
ROOT="$W/root" SOCK="$W/stackd.sock" RT="$RUN/runtime" NETNS="$RUN/netns" LOG="$W/stackd.log"
FILE="$W/soak.yaml"
RANDOM=${SEED:-$$}
daemon=""
now_ms() { date +%s%3N; }
log() { echo "[$(date +%T)] $*"; }
st() { timeout --kill-after=5 "${T:-30}" "$STACK_BIN" --host "unix://$SOCK" --image-root "$ROOT/images" -f "$FILE" "$@"; }

# Our shims: their command line names our runtime root.
our_shims() { pgrep -f -- "stack-shim --root $RT " || true; }
shim_ids() { for p in $(our_shims); do tr '\0' '\n' </proc/$p/cmdline 2>/dev/null | grep -A1 -x -- --id | tail -1; done | sort -u; }
# Processes in our containers' cgroups (any hierarchy), shims excluded.
cgroup_procs() { grep -l -E "/stack/$NAME-" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 | sort -u; }
our_cgroups() { find /sys/fs/cgroup -maxdepth 4 -type d -path "*/stack/$NAME-*" 2>/dev/null; }
our_mounts() { findmnt -rn -o TARGET | grep -E "^($W|$RUN)(/|$)" | grep -vx "$NETNS" || true; }

cleanup() {
  set +e
  trap - EXIT INT TERM
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    T=60 st down -v >/dev/null 2>&1
    kill -TERM "$daemon" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null
  fi
  # Whatever a failed run left: our shims and container processes (by pid),
  # mounts under our dirs (deepest first), our cgroups, the dirs.
  for p in $(our_shims) $(cgroup_procs); do kill -KILL "$p" 2>/dev/null; done
  sleep 0.5
  our_mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  [ -d "$NETNS" ] && for f in "$NETNS"/*; do [ -e "$f" ] && umount -l "$f" 2>/dev/null; done
  umount -l "$NETNS" 2>/dev/null
  our_cgroups | sort -r | while read -r c; do rmdir "$c" 2>/dev/null; done
  rm -rf "$RUN" "$ROOT/containers" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemon() {
  "$STACKD" --foreground --root "$ROOT" --socket "$SOCK" --runtime-root "$RT" --netns-dir "$NETNS" \
    --dns-port 53 --log-level info >>"$LOG" 2>&1 &
  daemon=$!
}
# Milliseconds until `stack version` answers; -1 after ANSWER_S.
wait_answer() {
  local t0 end; t0=$(now_ms); end=$((t0 + ANSWER_S * 1000))
  while [ "$(now_ms)" -lt "$end" ]; do
    T=5 st version >/dev/null 2>&1 && { echo $(($(now_ms) - t0)); return 0; }
    sleep 0.05
  done
  echo -1
}
ps_json() { T=20 st ps -a --format json 2>/dev/null || echo '[]'; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
maxof() { sort -n | tail -1; }

mkdir -p "$ROOT" "$W/bin"
# A copy of the binaries: a rebuild of the tree during the soak (a shared
# workspace) must not make a restart fail. stackd finds stack-shim and
# stack-runtime next to itself.
for b in "$STACKD" "$STACK_BIN" "$BUILD/runtime/stack-shim" "$BUILD/runtime/stack-runtime"; do
  cp "$b" "$W/bin/" || { echo "soak_kill9: copy $b failed" >&2; exit 1; }
done
STACKD="$W/bin/stackd" STACK_BIN="$W/bin/stack"
bash scripts/make-demo-images.sh --stack "$STACK_BIN" --image-root "$ROOT/images" >/dev/null || { echo "soak_kill9: images failed" >&2; exit 1; }
cat >"$FILE" <<EOF
name: $NAME
services:
  web:
    image: stack-demo/busybox:1
    command: ["sh", "-c", "echo ok >/tmp/index.html && exec httpd -f -p 80 -h /tmp"]
    deploy: {replicas: 3}
    stop_grace_period: 2s
    x-healthcheck:
      http: {port: 80, path: /}
      interval: 1s
      timeout: 1s
      retries: 3
    restart: unless-stopped
  worker:
    image: stack-demo/busybox:1
    command: ["sleep", "100000"]
    deploy: {replicas: 2}
    stop_grace_period: 15s  # sleep as pid 1 ignores SIGTERM: scale-downs wait this long
    restart: always
  crasher:
    image: stack-demo/busybox:1
    command: ["sh", "-c", "sleep \$\$((RANDOM % 6 + 2)); exit 3"]
    deploy: {replicas: 2}
    restart: on-failure
EOF

start_daemon
a=$(wait_answer); [ "$a" -ge 0 ] || { echo "soak_kill9: stackd did not answer" >&2; tail -20 "$LOG"; exit 1; }
T=120 st up -d >/dev/null || { echo "soak_kill9: up failed" >&2; tail -20 "$LOG"; exit 1; }
# The leak detectors must see the live stack, or their zeros at the end mean nothing.
log "stack $NAME up: shims $(our_shims | grep -c .), cgroups $(our_cgroups | grep -c .), container processes $(cgroup_procs | grep -c .), mounts $(our_mounts | grep -c .), links $(ip -o link show | grep -vc ': lo:'), nft rules $(nft list ruleset | grep -c 'comment "stack:'); $N rounds"

answers=() term_ms=() shims_killed=0 restore_kills=0 replicas_killed=0 daemon_kills=0 daemon_terms=0 slow_terms=0 scale_fail=0 unanswered=0
t_soak=$(now_ms)
for round in $(seq "$N"); do
  # Scale: random counts (web 1-4, worker 0-3, crasher 1-3).
  (T=30 st scale web=$((RANDOM % 4 + 1)) worker=$((RANDOM % 4)) crasher=$((RANDOM % 3 + 1)) >/dev/null 2>&1) &
  scaler=$!
  # Replicas: SIGKILL 1-3 running container processes.
  victims=$(ps_json | python3 -c '
import json, random, sys
rs = [r for r in json.load(sys.stdin) if r.get("state") == "running" and r.get("pid", 0) > 0]
random.shuffle(rs)
print(" ".join(str(r["pid"]) for r in rs[:random.randint(1, 3)]))' 2>/dev/null)
  for p in $victims; do kill -KILL "$p" 2>/dev/null && replicas_killed=$((replicas_killed + 1)); done
  # Now and then a stack-shim too (SHIM_EVERY-th round; 0: never): its
  # container must not outlive it unowned.
  if [ "${SHIM_EVERY:-0}" -gt 0 ] && [ $((round % SHIM_EVERY)) = 0 ]; then
    s=$(our_shims | shuf -n 1); [ -n "$s" ] && kill -KILL "$s" 2>/dev/null && shims_killed=$((shims_killed + 1))
  fi
  # stackd: SIGKILL at a random moment of the next 0-2 s.
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"; [ $((RANDOM % 2)) = 1 ] && sleep 1
  # Every TERM_EVERY-th round a SIGTERM instead: stackd must exit within
  # STOP_S even with requests in flight (a scale waiting out a stop grace,
  # an exec whose process runs on).
  if [ "${TERM_EVERY:-5}" -gt 0 ] && [ $((round % ${TERM_EVERY:-5})) = 0 ]; then
    (T=60 st exec -T web sleep 600 >/dev/null 2>&1) &
    execer=$!
    sleep 0.5
    t0=$(now_ms); kill -TERM "$daemon" 2>/dev/null
    for _ in $(seq $((STOP_S * 20))); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$daemon" 2>/dev/null; then
      slow_terms=$((slow_terms + 1)); log "round $round: stackd still running ${STOP_S}s after SIGTERM"
      for t in /proc/$daemon/task/*; do echo "  $(cat "$t/comm") wchan=$(cat "$t/wchan" 2>/dev/null)"; done | sort | uniq -c
      kill -KILL "$daemon" 2>/dev/null
    fi
    wait "$daemon" 2>/dev/null
    term_ms+=($(($(now_ms) - t0))); daemon_terms=$((daemon_terms + 1))
    wait "$execer" 2>/dev/null
  else
    kill -KILL "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null
    daemon_kills=$((daemon_kills + 1))
  fi
  start_daemon
  # Now and then (RESTORE_EVERY-th round; 0: never) again while it restores.
  if [ "${RESTORE_EVERY:-0}" -gt 0 ] && [ $((round % RESTORE_EVERY)) = 0 ]; then
    sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
    kill -KILL "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null
    restore_kills=$((restore_kills + 1))
    start_daemon
  fi
  a=$(wait_answer)
  if [ "$a" -lt 0 ]; then unanswered=$((unanswered + 1)); log "round $round: stackd did not answer in ${ANSWER_S}s"; else answers+=("$a"); fi
  wait "$scaler" || scale_fail=$((scale_fail + 1))
  log "round $round: killed ${victims:-none}; stackd answered after ${a} ms"
  sleep "0.$((RANDOM % 10))"
done
soak_ms=$(($(now_ms) - t_soak))

# ---- converge: a known goal, then wait (bounded) until it holds ----
want_web=3 want_worker=2 want_crasher=2
T=60 st scale web=$want_web worker=$want_worker crasher=$want_crasher >/dev/null 2>&1 || log "final scale failed"
# check_state prints "lost dup orphan missing_shim detail..." for now.
check_state() {
  ps_json >"$W/ps.json"
  shim_ids >"$W/shims"
  ls "$RT" 2>/dev/null | sort >"$W/rtdirs"
  python3 - "$W/ps.json" "$W/shims" "$W/rtdirs" "$want_web" "$want_worker" "$want_crasher" <<'PY'
import collections, json, sys
ps = json.load(open(sys.argv[1]))
shims = set(open(sys.argv[2]).read().split())
rtdirs = set(open(sys.argv[3]).read().split())
want = {"web": int(sys.argv[4]), "worker": int(sys.argv[5]), "crasher": int(sys.argv[6])}
detail = []
slots = collections.Counter((r["service"], r["replica"]) for r in ps)
dup = [f"{s}-{i} x{c}" for (s, i), c in slots.items() if c > 1]
ids = collections.Counter(r.get("container_id") for r in ps if r.get("container_id"))
dup += [f"id {i} x{c}" for i, c in ids.items() if c > 1]
lost = []
for svc, n in want.items():
    for i in range(1, n + 1):
        rs = [r for r in ps if r["service"] == svc and r["replica"] == i]
        if not rs:
            lost.append(f"{svc}-{i}: no record"); continue
        r = rs[0]
        # crasher exits every few seconds by design: restarting is fine,
        # but it must not be given up on.
        ok = r["state"] == "running" or (svc == "crasher" and r["state"] in ("restarting", "created", "starting", "exited") and r.get("exit_code", r.get("exit", 0)) != 0)
        if svc == "web" and r.get("health") not in ("healthy",):
            ok = False
        if not ok:
            lost.append(f"{svc}-{i}: {r['state']}/{r.get('health')}")
        if r["state"] == "running" and r.get("container_id") not in shims:
            lost.append(f"{svc}-{i}: running without a shim ({r.get('container_id')})")
extra = [f"{r['service']}-{r['replica']} ({r['state']})" for r in ps if r["replica"] > want.get(r["service"], 0)]
owned = set(ids)
orphans = sorted((shims | rtdirs) - owned)
print(len(lost), len(dup) + len(extra), len(orphans), "|", "; ".join(lost + dup + extra + ["orphan " + o for o in orphans]))
PY
}
t0=$(now_ms); end=$((t0 + CONVERGE_S * 1000)); res=""
while [ "$(now_ms)" -lt "$end" ]; do
  res=$(check_state)
  case $res in "0 0 0 |"*) break ;; esac
  sleep 1
done
converge_ms=$(($(now_ms) - t0))
read -r lost dups orphans _ <<<"$res"
[ "${lost:-}" = 0 ] && [ "${dups:-}" = 0 ] && [ "${orphans:-}" = 0 ] || log "not converged after ${CONVERGE_S}s: ${res#*|}"

# ---- down (SIGKILLed once in the middle: restore finishes it), stop, and what is left ----
(T=120 st down -v >/dev/null 2>&1) &
downer=$!
sleep "0.$((RANDOM % 10))"
kill -KILL "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; wait "$downer"
start_daemon
a=$(wait_answer); [ "$a" -ge 0 ] || { unanswered=$((unanswered + 1)); log "stackd did not answer after the down's SIGKILL"; }
if T=10 st ps -a --format json 2>/dev/null | grep -q '"service"'; then
  T=120 st down -v >/dev/null 2>&1 || log "down -v failed"
fi
t0=$(now_ms); kill -TERM "$daemon"
stuck=0
for _ in $(seq $((STOP_S * 10))); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$daemon" 2>/dev/null; then
  stuck=1
  log "stackd did not exit ${STOP_S}s after SIGTERM; its threads:"
  for t in /proc/$daemon/task/*; do echo "  $(basename "$t") $(cat "$t/comm") wchan=$(cat "$t/wchan" 2>/dev/null)"; done
  command -v gdb >/dev/null && timeout 30 gdb -p "$daemon" -batch -ex 'thread apply all bt' >"$W/stuck-bt.txt" 2>&1 && echo "  backtraces: $W/stuck-bt.txt"
  kill -KILL "$daemon"
fi
wait "$daemon" 2>/dev/null
stop_ms=$(($(now_ms) - t0)); daemon=""
sleep 1
leak_links=$(ip -o link show | awk -F': ' '{print $2}' | grep -vx lo)
leak_nft=$(nft list ruleset 2>/dev/null | grep -E 'comment "stack:|elements' )
leak_mounts=$(our_mounts; [ -d "$NETNS" ] && ls "$NETNS")
leak_cgroups=$(our_cgroups)
leak_procs=$( (our_shims; cgroup_procs) | sort -u)
leak_rt=$(ls "$RT" 2>/dev/null; ls "$ROOT/containers" 2>/dev/null)
count() { printf '%s' "$1" | grep -c . || true; }
show() { [ -n "$2" ] && { echo "  leaked $1:"; printf '%s\n' "$2" | sed 's/^/    /'; }; }

echo
echo "soak_kill9: $N rounds in $((soak_ms / 1000)) s (seed ${SEED:-$$})"
echo "  stackd SIGKILLs + SIGTERMs / restarts: $daemon_kills + $daemon_terms / $((daemon_kills + daemon_terms)) (not answering in ${ANSWER_S}s: $unanswered)"
echo "  SIGTERM -> exit in rounds (ms):    median $(printf '%s\n' "${term_ms[@]}" | median), max $(printf '%s\n' "${term_ms[@]}" | maxof); over ${STOP_S}s: $slow_terms"
echo "  restart -> answers (ms):           median $(printf '%s\n' "${answers[@]}" | median), max $(printf '%s\n' "${answers[@]}" | maxof)"
echo "  replicas SIGKILLed:                $replicas_killed (and stack-shims: $shims_killed; stackd again while restoring: $restore_kills)"
echo "  scale requests failed (daemon killed under them): $scale_fail"
echo "  converge after the last round:     $converge_ms ms"
echo "  SIGTERM -> stackd exit:            $stop_ms ms$([ $stuck = 1 ] && echo " (STUCK, killed)")"
echo "  lost: ${lost:-?}  duplicates/extra: ${dups:-?}  orphan shims/state dirs: ${orphans:-?}"
[ -n "${res#*|}" ] && [ "${res#*| }" != "" ] && echo "    ${res#*|}"
echo "  leaked links: $(count "$leak_links")  nft rules: $(count "$leak_nft")  mounts/netns: $(count "$leak_mounts")  cgroups: $(count "$leak_cgroups")  processes: $(count "$leak_procs")  state dirs: $(count "$leak_rt")"
show links "$leak_links"; show "nft rules" "$leak_nft"; show mounts "$leak_mounts"; show cgroups "$leak_cgroups"
show processes "$(for p in $leak_procs; do echo "$p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"; done)"; show "state dirs" "$leak_rt"
errs=$(grep -ciE 'error|fatal' "$LOG" || true); echo "  stackd.log error lines: $errs ($LOG)"
bad=$(( ${lost:-1} + ${dups:-1} + ${orphans:-1} + stuck + slow_terms + unanswered + $(count "$leak_links") + $(count "$leak_nft") + $(count "$leak_mounts") + $(count "$leak_cgroups") + $(count "$leak_procs") + $(count "$leak_rt") ))
[ "$bad" = 0 ] && echo "soak_kill9: OK" || echo "soak_kill9: FAILED ($bad findings)"
[ "$bad" = 0 ]
