# Shared by the stack benches (source it after `cd` to the repository root).
#   bench_setup NAME   BUILD, STACK, STACKD; a temp dir $work, a runtime dir
#                      $run and stackd's socket $sock (STACK_HOST points at it);
#                      refuses to run as non-root.
#   podman_conf        podman with runc and the ulimits this host allows (see
#                      the top-level README), through CONTAINERS_CONF.
#   start_stackd PORT  a private stackd on $work/root (DNS on PORT), as $daemon.
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
    --netns-dir "$run/netns" --dns-port "$1" --log-level warn >"$work/stackd.log" 2>&1 &
  daemon=$!
  for _ in $(seq 50); do "$STACK" version >/dev/null 2>&1 && break; sleep 0.1; done
}
