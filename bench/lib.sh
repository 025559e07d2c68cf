# Shared by the stack benches (source it after `cd` to the repository root).
#   bench_setup NAME   BUILD, STACK, STACKD; a temp dir $work, a runtime dir
#                      $run and stackd's socket $sock (STACK_HOST points at it);
#                      refuses to run as non-root.
#   podman_conf        podman with runc and the ulimits this host allows (see
#                      the top-level README), through CONTAINERS_CONF.
#   start_stackd PORT [FLAG...]  a private stackd on $work/root (DNS on PORT), as $daemon.
#   now_ms, median     the time in ms; the median of numbers on stdin.
#   start_client PORT  requests http://127.0.0.1:PORT/ one after another (1 s
#                      timeout each) until $work/stop exists, as $client_pid,
#                      writing "<ms> <first line of the answer|FAILED>" lines
#                      to $work/client.log.
bench_setup() {
  BUILD="$PWD/${BUILD_DIR:-build}"
  STACK="$BUILD/orchestrator/stack"
  STACKD="$BUILD/orchestrator/stackd"
  [ "$(id -u)" = 0 ] || { echo "$1: run as root" >&2; exit 1; }
  work=$(mktemp -d "/tmp/stack-$1-XXXXXX")
  run=/run/stack-$1-$$
  sock="$work/stackd.sock"
  export STACK_HOST="unix://$sock"
}

podman_conf() {
  cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$work/containers.conf"
}

start_stackd() {
  "$STACKD" --foreground --root "$work/root" --socket "$sock" --runtime-root "$run/runtime" \
    --netns-dir "$run/netns" --dns-port "$1" --log-level warn "${@:2}" >"$work/stackd.log" 2>&1 &
  daemon=$!
  for _ in $(seq 50); do "$STACK" version >/dev/null 2>&1 && break; sleep 0.1; done
}

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }

start_client() {
  rm -f "$work/stop"
  python3 - "$1" "$work/stop" >"$work/client.log" <<'EOF' &
import os, sys, time, urllib.request
url, stop = "http://127.0.0.1:%s/" % sys.argv[1], sys.argv[2]
while not os.path.exists(stop):
    try:
        body = urllib.request.urlopen(url, timeout=1).read().decode().strip()
    except Exception:
        body = "FAILED"
    print(int(time.time() * 1000), body, flush=True)
EOF
  client_pid=$!
}
