#!/usr/bin/env bash
# Health-gated traffic (issue 11): a server that needs a few seconds before
# it listens (busybox httpd after `sleep 3`, the stand-in for Juice Shop's
# start), behind a published port, with Docker's default health schedule
# (interval 30 s, an HTTP x-healthcheck as examples/compose/juice-shop.yaml).
# Measured as the user sees it, by polling the published port every 5 ms:
#   up -> first answer       `stack up -d` vs `podman run -d -p` of the
#                            same image and command (podman has no gating);
#   listen -> first answer   the app records the host's uptime right after
#                            httpd has bound its port; the published port's
#                            first answer minus that is the gating delay;
#   SIGKILL -> first answer  kill -9 of the replica's init, until the port
#                            answers again (restart backoff + the app's own
#                            3 s + the gating delay).
# Prints medians of REPS runs (default 5).
# Usage: sudo bench/readiness_bench.sh   (BUILD_DIR=build-x; SKIP_PODMAN=1)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-5}
bench_setup readiness
cleanup() {
  "$STACK" -f "$work/slow.yaml" down >/dev/null 2>&1 || true
  podman rm -f stack-readiness >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

podman_conf
podman_flag=--podman; [ "${SKIP_PODMAN:-0}" = 1 ] && podman_flag=
bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" $podman_flag >/dev/null
start_stackd 15302

# The app: 3 s of start-up, then httpd binds port 3000 (and daemonizes after
# the bind), then the host's uptime is written where the bench reads it.
APP='sleep 3; mkdir -p /www; echo ready >/www/index.html; httpd -p 3000 -h /www; cat /proc/uptime >/www/listening; exec sleep 1d'
cat >"$work/slow.yaml" <<EOF
name: readiness
services:
  app:
    image: stack-demo/busybox:1
    command: ["sh", "-c", "$APP"]
    ports: ["18300:3000"]
    restart: always
    x-healthcheck:
      http: {port: 3000, path: /}
EOF

uptime_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
# Polls http://127.0.0.1:PORT/ every 5 ms; prints the host uptime (ms) of the
# first answer.
first_answer() {
  python3 - "$1" <<'EOF'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/" % sys.argv[1]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        if urllib.request.urlopen(url, timeout=0.5).read() == b"ready\n":
            break
    except Exception:
        time.sleep(0.005)
print(int(float(open("/proc/uptime").read().split()[0]) * 1000))
EOF
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print "n/a"; else print a[int((NR+1)/2)]}'; }
listening_ms() { "$STACK" -f "$work/slow.yaml" exec -T app cat /www/listening | awk '{printf "%d\n", $1 * 1000}'; }

stack_up=() gate=() kill_up=() kill_gate=() podman_up=()
for _ in $(seq "$REPS"); do
  t0=$(uptime_ms)
  "$STACK" -f "$work/slow.yaml" up -d >/dev/null
  t1=$(first_answer 18300)
  stack_up+=($((t1 - t0)))
  gate+=($((t1 - $(listening_ms))))

  pid=$("$STACK" -f "$work/slow.yaml" ps --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
  t0=$(uptime_ms)
  kill -9 "$pid"
  # The old replica's page may still answer from a connection in flight:
  # wait until the port is down or the replacement's page is new.
  sleep 0.05
  t1=$(first_answer 18300)
  kill_up+=($((t1 - t0)))
  kill_gate+=($((t1 - $(listening_ms))))
  "$STACK" -f "$work/slow.yaml" down >/dev/null

  if [ "${SKIP_PODMAN:-0}" != 1 ]; then
    t0=$(uptime_ms)
    podman run -d --name stack-readiness -p 18301:3000 localhost/stack-demo/busybox:1 sh -c "$APP" >/dev/null
    t1=$(first_answer 18301)
    podman_up+=($((t1 - t0)))
    podman rm -f stack-readiness >/dev/null 2>&1
  fi
done

s=$(printf '%s\n' "${stack_up[@]}" | median)
p=$(printf '%s\n' "${podman_up[@]:-}" | median)
printf '\n%-34s %8s\n' "median of $REPS (ms)" "value"
printf '%-34s %8s\n' "stack up -> first answer" "$s"
printf '%-34s %8s\n' "podman run -p -> first answer" "$p"
[ "$p" != n/a ] && awk -v s="$s" -v p="$p" 'BEGIN {printf "%-34s %7.2fx\n", "ratio (stack / podman)", s / p}'
printf '%-34s %8s\n' "app listening -> first answer" "$(printf '%s\n' "${gate[@]}" | median)"
printf '%-34s %8s\n' "SIGKILL -> first answer" "$(printf '%s\n' "${kill_up[@]}" | median)"
printf '%-34s %8s\n' "  of which listening -> answer" "$(printf '%s\n' "${kill_gate[@]}" | median)"
echo "(the app sleeps 3000 ms before it listens; stack's restart backoff is 100 ms)"
