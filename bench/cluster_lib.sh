# A three-node cluster for the cluster benches (source it after lib.sh's
# bench_setup): three stackd, each in its own network namespace on a bridge,
# as the tests' cluster harness (tests/support/cluster_harness.h), with the
# demo images in every node's store.
#   make_node N         node N's namespace, root and images (no stackd yet)
#   three_nodes ROLE    node 0 inits, nodes 1 and 2 join as ROLE (manager or
#                       worker); returns once node 0 sees all three ready
#   st N ARGS...        the CLI against node N
#   start N             (re)starts node N's stackd, as ${daemon[N]}
#   addr N, node_id N, ready_nodes N, now_ms, median
# The EXIT trap removes the namespaces, bridge, containers and files; with
# LOGS=DIR it first copies the nodes' stackd logs there (LOG_LEVEL, default
# warn, is stackd's --log-level).
id=$$
br=stkb-$id
pids=()
declare -A daemon
cluster_cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for n in 0 1 2; do
    for c in "$run$n"/runtime/*/; do
      [ -d "$c" ] && "$BUILD/runtime/stack-runtime" --root "$run$n/runtime" delete --force "$(basename "$c")" >/dev/null 2>&1
    done
    ip netns del "stkb-$id-$n" 2>/dev/null || true
  done
  ip link del "$br" 2>/dev/null || true
  [ -n "${LOGS:-}" ] && mkdir -p "$LOGS" && cp "$work"/n*.log "$LOGS"/ 2>/dev/null
  grep -o " $work/[^ ]*\| $run[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$run"0 "$run"1 "$run"2
}
trap cluster_cleanup EXIT
trap "exit 1" INT TERM  # so that the EXIT trap runs

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
addr() { echo "10.78.0.$(($1 + 1))"; }
st() { local n=$1; shift; "$STACK" --host "unix://$work/n$n.sock" "$@"; }

start() {
  local n=$1
  nsenter --net="/run/netns/stkb-$id-$n" -- "$STACKD" --foreground --root "$work/n$n/root" --socket "$work/n$n.sock" \
    --runtime-root "$run$n/runtime" --netns-dir "$run$n/netns" --log-level "${LOG_LEVEL:-warn}" >>"$work/n$n.log" 2>&1 &
  daemon[$n]=$!
  pids+=($!)
  for _ in $(seq 600); do st "$n" version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "node $n does not answer" >&2; cat "$work/n$n.log" >&2; exit 1
}
ready_nodes() {
  st "$1" node ls --format json 2>/dev/null |
    python3 -c 'import json,sys; print(sum(n["status"]=="ready" for n in json.load(sys.stdin)))' 2>/dev/null
}
node_id() {
  st 0 node ls --format json | python3 -c 'import json,sys; print(next(n["id"] for n in json.load(sys.stdin) if n["address"]==sys.argv[1]))' "$(addr "$1")"
}

# Node n's namespace on the bridge (made by the first call), its root and
# the demo images.
make_node() {
  local n=$1
  ip link show "$br" >/dev/null 2>&1 || { ip link add "$br" type bridge && ip link set "$br" up; }
  ip netns add "stkb-$id-$n"
  ip link add "stkv$n-$id" type veth peer name eth0 netns "stkb-$id-$n"
  ip link set "stkv$n-$id" master "$br" up
  ip -n "stkb-$id-$n" addr add "$(addr $n)/24" dev eth0
  ip -n "stkb-$id-$n" link set eth0 up
  ip -n "stkb-$id-$n" link set lo up
  mkdir -p "$work/n$n/root"
  bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/n$n/root/images" >/dev/null
}

three_nodes() {
  for n in 0 1 2; do make_node $n; done
  for n in 0 1 2; do start $n; done
  st 0 node init --advertise-addr "$(addr 0)" >/dev/null
  local token
  token=$(st 0 node join-token -q "$1")
  for n in 1 2; do st $n node join --token "$token" --advertise-addr "$(addr $n)" "$(addr 0)" >/dev/null; done
  until [ "$(ready_nodes 0)" = 3 ]; do sleep 0.2; done
}
