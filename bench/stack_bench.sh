#!/usr/bin/env bash
# stack vs podman-compose (and docker-compose when a dockerd can run here):
#   up -d until every container runs, and down, for a 1-service and a
#   10-service stack (each service on the stack network with a published
#   port); ps, logs and exec latency; time from a replica's SIGKILL to its
#   replacement running; stackd's RSS with 100 replicas.
# Same busybox image for every tool (scripts/make-demo-images.sh --podman).
# Prints medians of REPS runs (default 3) and ratios (other / stack).
# Usage: sudo bench/stack_bench.sh   (BUILD_DIR=build-x to pick a build; SKIP_PODMAN=1)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-3}
bench_setup bench
cleanup() {
  for f in "$work"/s*.yaml; do
    [ -f "$f" ] || continue
    "$STACK" -f "$f" down -v >/dev/null 2>&1 || true
    (cd "$work" && podman-compose -f "$f" down >/dev/null 2>&1) || true
    [ "${WITH_DOCKER:-0}" = 1 ] && (cd "$work" && docker-compose -f "$f" down >/dev/null 2>&1) || true
  done
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true  # stackd's private bind mount of its netns dir
  rm -rf "$work" "$run"
}
trap cleanup EXIT

podman_conf

podman_flag=--podman; [ "${SKIP_PODMAN:-0}" = 1 ] && podman_flag=
# WITH_DOCKER=1: a dockerd you started by hand is measured too (docker-compose
# v1 from Debian). Stop it after and restore the FORWARD policy it changed.
docker_flag=; [ "${WITH_DOCKER:-0}" = 1 ] && docker_flag=--docker
bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" $podman_flag $docker_flag >/dev/null
start_stackd 15301

# A stack of N services, each `httpd` with a published port (first 18200).
make_stack() {  # make_stack N IMAGE FILE
  local n=$1 image=$2 file=$3
  {
    echo "name: bench$n"
    echo "services:"
    for i in $(seq 0 $((n - 1))); do
      echo "  s$i:"
      echo "    image: $image"
      echo "    command: [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/\"]"
      echo "    ports: [\"$((18200 + i)):80\"]"
    done
  } >"$file"
}

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
time_ms() { local t0; t0=$(now_ms); "$@" >/dev/null 2>&1 || echo "stack_bench: failed: $*" >&2; echo $(($(now_ms) - t0)); }

all_running() {  # all_running FILE N
  local n
  n=$("$STACK" -f "$1" ps --format json | python3 -c 'import json,sys; print(sum(r["state"]=="running" for r in json.load(sys.stdin)))')
  [ "$n" = "$2" ]
}

declare -A R
bench_tool() {  # bench_tool TOOL N
  local tool=$1 n=$2 f="$work/s$n-$1.yaml" ups=() downs=()
  case $tool in
    stack) make_stack "$n" stack-demo/busybox:1 "$f" ;;
    # docker-compose 1.29 knows no top-level `name:`: the project name comes
    # from the environment instead.
    docker) make_stack "$n" stack-demo/busybox:1 "$f" && sed -i '/^name:/d' "$f" && export COMPOSE_PROJECT_NAME=bench$n ;;
    *) make_stack "$n" localhost/stack-demo/busybox:1 "$f" ;;
  esac
  for _ in $(seq "$REPS"); do
    local t0; t0=$(now_ms)
    # Both return once every container has started; the check after is not timed.
    case $tool in
      stack) "$STACK" -f "$f" up -d >/dev/null ;;
      docker) (cd "$work" && docker-compose -f "$f" up -d >/dev/null 2>&1) ;;
      *) (cd "$work" && podman-compose -f "$f" up -d >/dev/null 2>&1) ;;
    esac
    ups+=($(($(now_ms) - t0)))
    if [ "$tool" = stack ]; then
      all_running "$f" "$n" || echo "stack_bench: stack up -d returned before $n containers ran" >&2
    fi
    case $tool in
      stack) downs+=($(time_ms "$STACK" -f "$f" down)) ;;
      docker) downs+=($(cd "$work" && time_ms docker-compose -f "$f" down)) ;;
      *) downs+=($(cd "$work" && time_ms podman-compose -f "$f" down)) ;;
    esac
  done
  R[$tool-up$n]=$(printf '%s\n' "${ups[@]}" | median)
  R[$tool-down$n]=$(printf '%s\n' "${downs[@]}" | median)
}

bench_verbs() {  # ps, logs, exec on the 1-service stack, per tool
  local tool=$1 f="$work/s1-$1.yaml" ps=() logs=() ex=()
  case $tool in
    stack) "$STACK" -f "$f" up -d >/dev/null ;;
    docker) export COMPOSE_PROJECT_NAME=bench1 && (cd "$work" && docker-compose -f "$f" up -d >/dev/null 2>&1) ;;
    *) (cd "$work" && podman-compose -f "$f" up -d >/dev/null 2>&1) ;;
  esac
  for _ in $(seq "$REPS"); do
    if [ "$tool" = stack ]; then
      ps+=($(time_ms "$STACK" -f "$f" ps))
      logs+=($(time_ms "$STACK" -f "$f" logs))
      ex+=($(time_ms "$STACK" -f "$f" exec -T s0 true))
    elif [ "$tool" = docker ]; then
      ps+=($(cd "$work" && time_ms docker-compose -f "$f" ps))
      logs+=($(cd "$work" && time_ms docker-compose -f "$f" logs))
      ex+=($(cd "$work" && time_ms docker-compose -f "$f" exec -T s0 true))
    else
      ps+=($(cd "$work" && time_ms podman-compose -f "$f" ps))
      logs+=($(cd "$work" && time_ms podman-compose -f "$f" logs))
      ex+=($(cd "$work" && time_ms podman-compose -f "$f" exec -T s0 true))
    fi
  done
  R[$tool-ps]=$(printf '%s\n' "${ps[@]}" | median)
  R[$tool-logs]=$(printf '%s\n' "${logs[@]}" | median)
  R[$tool-exec]=$(printf '%s\n' "${ex[@]}" | median)
}

# SKIP_PODMAN=1: only stack's rows (a quick re-measure; ratios print "-").
for n in 1 10; do
  bench_tool stack $n
  [ "${SKIP_PODMAN:-0}" = 1 ] || bench_tool podman $n
  if [ "${WITH_DOCKER:-0}" = 1 ]; then bench_tool docker $n; fi
done
bench_verbs stack
[ "${SKIP_PODMAN:-0}" = 1 ] || bench_verbs podman
if [ "${WITH_DOCKER:-0}" = 1 ]; then
  bench_verbs docker
  (cd "$work" && docker-compose -f "$work/s1-docker.yaml" down >/dev/null 2>&1) || true
fi

# SIGKILL -> replacement running (stack's restart: the stack file's default
# restart is "no", so use a stack with restart: always).
f="$work/s1-stack.yaml"
sed -i 's/    ports:/    restart: always\n    ports:/' "$f"
"$STACK" -f "$f" up -d >/dev/null
kills=()
# The replacement's "start" event carries the daemon's clock (ms since the
# epoch), so the figure has no polling in it: kill time -> start event time.
events="$work/events.jsonl"
"$STACK" -f "$f" events --json >"$events" 2>/dev/null &
evpid=$!
sleep 0.3
for _ in $(seq "$REPS"); do
  # A run longer than the 10 s stable period resets the backoff streak, so
  # every kill pays exactly the first backoff step (100 ms).
  sleep 10.5
  pid=$("$STACK" -f "$f" ps --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
  t0=$(now_ms)
  kill -9 "$pid"
  for _ in $(seq 500); do
    t1=$(python3 -c "
import json,sys
for line in open('$events'):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get('type') == 'start' and e.get('time_ms', 0) >= $t0:
        print(e['time_ms']); break
")
    [ -n "$t1" ] && break
    sleep 0.02
  done
  kills+=($((t1 - t0)))
  until all_running "$f" 1; do sleep 0.05; done
done
kill "$evpid" 2>/dev/null || true
R[stack-kill]=$(printf '%s\n' "${kills[@]}" | median)

# stackd RSS with 100 replicas.
"$STACK" -f "$f" scale s0=100 >/dev/null
until all_running "$f" 100; do sleep 0.2; done
R[stack-rss100]=$(awk '/VmRSS/ {print $2}' /proc/$daemon/status)
"$STACK" -f "$f" down >/dev/null

if [ "${WITH_DOCKER:-0}" = 1 ]; then
  docker_note="$(docker-compose version --short 2>/dev/null) on dockerd $(docker version -f '{{.Server.Version}}' 2>/dev/null)"
else
  docker_note="not run (WITH_DOCKER=1 with a dockerd started by hand)"
fi

ratio() { [ "$1" = n/a ] || [ "$2" = n/a ] || [ "$1" = 0 ] && echo "-" || awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", b / a}'; }
printf '\n%-24s %8s %15s %8s %15s %8s\n' "operation (median ms)" "stack" "podman-compose" "ratio" "docker-compose" "ratio"
for k in up1 down1 up10 down10 ps logs exec; do
  p=${R[podman-$k]:-n/a} d=${R[docker-$k]:-n/a}
  printf '%-24s %8s %15s %8s %15s %8s\n' "$k" "${R[stack-$k]}" "$p" "$(ratio "${R[stack-$k]}" "$p")" "$d" "$(ratio "${R[stack-$k]}" "$d")"
done
printf '%-24s %8s\n' "SIGKILL -> running (ms)" "${R[stack-kill]} (of which 100 ms is the restart backoff)"
printf '%-24s %8s\n' "stackd RSS, 100 replicas" "${R[stack-rss100]} KiB"
echo "ratio: the peer's time over stack's (above 1: stack is faster). docker-compose: $docker_note"
