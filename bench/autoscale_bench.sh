#!/usr/bin/env bash
# Autoscaling (issue 17, x-autoscale): how long from the moment load reaches
# a running service until the user is served by a replica autoscaling added.
#   requests/s row  a small web server (1 replica, requests_per_second: 20,
#                   max 4) behind a published port, running for two reading
#                   intervals; then a client on loopback requests it in a
#                   loop. Reaction: from the client's first request to its
#                   first answer from another replica (each answers with its
#                   hostname).
#   cpu row         a replica (cpus: 0.2, cpu: 50%) that starts spinning
#                   when a file appears in its volume, two intervals after
#                   it started. Reaction: from the file's creation to `stack
#                   ps` showing a second replica running (polled every
#                   100 ms).
#   by hand         the web row with `stack scale web=2` typed once the
#                   client is answered, timed from the scale's start: what a
#                   replica's start costs, the floor under any reaction.
# At stackd's default reading interval (5 s) and at 1 s. The goal: reaction
# <= one interval + the replica's start. (A replica read for the first time
# has no window yet, so load on a replica younger than one interval waits
# one interval more: HPA sets new pods aside the same way.)
# Prints medians of REPS runs (default 3).
# Usage: sudo bench/autoscale_bench.sh   (BUILD_DIR=build-x)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
REPS=${REPS:-3}
PORT=18320
bench_setup autoscale
cleanup() {
  touch "$work/stop" 2>/dev/null || true
  for f in web busy; do "$STACK" -f "$work/$f.yaml" down >/dev/null 2>&1 || true; done
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true
  rm -rf "$work" "$run"
}
trap cleanup EXIT

bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images" >/dev/null

cat >"$work/web.yaml" <<EOF
name: asbench
services:
  web:
    image: stack-demo/busybox:1
    command: [sh, -c, 'mkdir -p /www; hostname > /www/index.html; httpd -f -p 3000 -h /www & pid=\$\$!; trap "kill \$\$pid; exit 0" TERM; wait \$\$pid']
    ports: ["$PORT:3000"]
    x-healthcheck:
      http: {port: 3000, path: /}
      interval: 2s
    x-autoscale: {min: 1, max: 4, requests_per_second: 20}
EOF
cat >"$work/busy.yaml" <<'EOF'
name: asbusy
services:
  busy:
    image: stack-demo/busybox:1
    command: [sh, -c, 'while :; do [ -f /flag/burn ] || sleep 0.1; done']
    volumes: [flag:/flag]
    cpus: 0.2
    x-autoscale: {min: 1, max: 2, cpu: 50%}
volumes:
  flag: {}
EOF

# $1 the reading interval in s; $2 "hand": scale by hand at the load's start.
# ms from the client's first request to its first answer from a second replica.
web_run() {
  "$STACK" -f "$work/web.yaml" up -d --wait >/dev/null
  sleep $(($1 * 2))
  start_client "$PORT"
  local hand= t0=
  if [ "$2" = hand ]; then
    # From the scale's start, once the client is answered (python's start
    # is not the replica's).
    for _ in $(seq 100); do [ -s "$work/client.log" ] && break; sleep 0.05; done
    t0=$(now_ms)
    "$STACK" -f "$work/web.yaml" scale web=2 >/dev/null &
    hand=$!
  fi
  for _ in $(seq 600); do
    [ "$(awk '$2 != "FAILED" {print $2}' "$work/client.log" | sort -u | wc -l)" -ge 2 ] && break
    sleep 0.1
  done
  touch "$work/stop"
  wait "$client_pid" || true
  [ -z "$hand" ] || wait "$hand" || true
  awk -v t0="$t0" 'NR == 1 {t = t0 ? t0 : $1; first = $2} $2 != "FAILED" && $2 != first {print $1 - t; exit}' "$work/client.log"
  "$STACK" -f "$work/web.yaml" down -v >/dev/null
}

running() {
  "$STACK" -f "$work/busy.yaml" ps --format json |
    python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["state"] == "running"))'
}

busy_run() {
  "$STACK" -f "$work/busy.yaml" up -d --wait >/dev/null
  sleep $(($1 * 2))
  local t0
  t0=$(now_ms)
  "$STACK" -f "$work/busy.yaml" exec -T busy touch /flag/burn
  for _ in $(seq 600); do
    [ "$(running)" -ge 2 ] && break
    sleep 0.1
  done
  echo $(($(now_ms) - t0))
  "$STACK" -f "$work/busy.yaml" down -v >/dev/null
}

row() {  # $1 label, then the run and its arguments
  local label=$1 out=()
  shift
  for _ in $(seq "$REPS"); do out+=("$("$@")"); done
  printf '%-52s %10s ms\n' "$label" "$(printf '%s\n' "${out[@]}" | median)"
}

printf '%-52s %13s\n' "reaction, load start -> added replica (median of $REPS)" "time"
for interval in 5 1; do
  start_stackd 15320 --autoscale-interval "${interval}s"
  row "requests/s 20, client ~hundreds/s, interval ${interval}s" web_run "$interval" auto
  row "cpu 50%, spinning replica, interval ${interval}s" busy_run "$interval"
  [ "$interval" = 1 ] && row "by hand: stack scale web=2, from its start" web_run "$interval" hand
  kill "$daemon"
  wait "$daemon" 2>/dev/null || true
  daemon=
done
