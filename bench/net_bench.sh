#!/usr/bin/env bash
# Network bench: stack's netplane (NetworkManager networks, veths into named
# netns, nft DNAT) next to podman's bridge network (netavark, `podman run -p`),
# on the same machine and with the same static peer (stack-bench-rr).
# Usage: sudo bench/net_bench.sh   (env: BUILD_DIR, SECONDS_PER_RUN, CONNS)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
SECS=${SECONDS_PER_RUN:-3}
CONNS=${CONNS:-100000}
[ "$(id -u)" -eq 0 ] || { echo "net_bench: needs root" >&2; exit 1; }
command -v iperf3 >/dev/null || { echo "net_bench: iperf3 missing (scripts/install-deps.sh)" >&2; exit 1; }
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$BUILD_DIR" -j2 stack-bench-net stack-bench-rr >/dev/null
RR=$(realpath "$BUILD_DIR/bench/stack-bench-rr")
OUT=$(mktemp -d)
trap 'podman rm -f stack-bench-srv >/dev/null 2>&1 || true; rm -rf "$OUT"' EXIT

echo "== stack (stack-bench-net) ==" >&2
"$BUILD_DIR/bench/stack-bench-net" --rr "$RR" --seconds "$SECS" --conns "$CONNS" | tee "$OUT/stack" >&2

echo "== podman (bridge network, -p) ==" >&2
P=(podman run --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# netavark leaves its iptables-nft tables behind after the last container;
# remove them afterwards when this run is what made them (tests compare the
# host ruleset, counters included).
had_tables=$(nft list tables 2>/dev/null | grep -cE '^table ip (nat|filter)$' || true)
drop_netavark_tables() {
  if [ "$had_tables" = 0 ] && [ -z "$(podman ps -q)" ]; then
    for t in nat filter; do
      # Not `| grep -q`: under pipefail nft's SIGPIPE would fail the test.
      if nft list table ip $t 2>/dev/null | grep -c NETAVARK >/dev/null; then nft delete table ip $t; fi
    done
  fi
}
IMAGE=${IMAGE:-localhost/busybox}
pod=$OUT/podman
if ! "${P[@]}" -d --name stack-bench-srv -p 18400:3000 -p "[::1]:18402:3000" -v "$RR:/rr:ro" "$IMAGE" /rr server 3000 >/dev/null 2>"$OUT/err"; then
  echo "podman networking failed: $(tail -1 "$OUT/err")" >&2
  : >"$pod"
else
  ip=$(podman inspect -f '{{.NetworkSettings.IPAddress}}' stack-bench-srv)
  for i in $(seq 100); do "$RR" conns "$ip" 3000 1 >/dev/null 2>&1 && break; sleep 0.05; done
  client() { "${P[@]}" --rm -v "$RR:/rr:ro" "$IMAGE" /rr "$@"; }
  {
    echo "rr_c2c $(client rr "$ip" 3000 "$SECS")"
    echo "stream_c2c $(client stream "$ip" 3000 "$SECS")"
    echo "rr_host $("$RR" rr "$ip" 3000 "$SECS")"
    echo "stream_host $("$RR" stream "$ip" 3000 "$SECS")"
    echo "rr_pub $("$RR" rr 127.0.0.1 18400 "$SECS")"
    echo "stream_pub $("$RR" stream 127.0.0.1 18400 "$SECS")"
    # podman accepts "[::1]:18402:3000" on its IPv4 network but nothing answers
    # (conmon holds the port, so a connect succeeds and then nothing moves).
    r6=$("$RR" rr ::1 18402 "$SECS" || true)
    if [ "${r6:-0}" = 0 ]; then echo "rr_pub6 fail"; echo "stream_pub6 fail"; else
      echo "rr_pub6 $r6"; echo "stream_pub6 $("$RR" stream ::1 18402 "$SECS" || true)"; fi
    echo "iperf3_c2c n/a"; echo "iperf3_host n/a"; echo "iperf3_pub n/a"; echo "iperf3_pub6 n/a"  # no iperf3 in the image
    echo "conns_pub $("$RR" conns 127.0.0.1 18400 "$CONNS" || true)"
    # Endpoint setup + teardown: a container run with a bridge endpoint
    # minus the same run with --network none, averaged over 5 runs each.
    t() { local s e; s=$(date +%s%N); for _ in 1 2 3 4 5; do "${P[@]}" --rm "$@" "$IMAGE" true >/dev/null; done; e=$(date +%s%N); echo $(( (e - s) / 5000000 )); }
    none=$(t --network none); bridge=$(t)
    echo "endpoint_cycle_ms $((bridge - none))"
  } | tee "$pod" >&2
  podman rm -f stack-bench-srv >/dev/null
fi
drop_netavark_tables

get() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\n%-34s %14s %14s %8s\n' "metric" "stack" "podman" "ratio"
row() {  # key label field(0 = whole value)
  local s p
  s=$(get "$1" "$OUT/stack"); p=$(get "$1" "$pod")
  if [ "$3" != 0 ]; then s=$(echo "$s" | awk -v f="$3" '{print $f}'); p=$(echo "$p" | awk -v f="$3" '{print $f}'); fi
  printf '%-34s %14s %14s %8s\n' "$2" "${s:-n/a}" "${p:-n/a}" "$(ratio "${s:-0}" "${p:-0}")"
}
row rr_c2c "rr/s container->container" 0
row rr_host "rr/s host->container" 0
row rr_pub "rr/s host->127.0.0.1:published" 0
row stream_c2c "Gbit/s container->container" 0
row stream_host "Gbit/s host->container" 0
row stream_pub "Gbit/s host->published" 0
row rr_pub6 "rr/s host->[::1]:published" 0
row stream_pub6 "Gbit/s host->[::1]:published" 0
row iperf3_c2c "iperf3 Gbit/s container->container" 0
row iperf3_host "iperf3 Gbit/s host->container" 0
row iperf3_pub "iperf3 Gbit/s host->published" 0
row iperf3_pub6 "iperf3 Gbit/s host->[::1]:published" 0
row conns_pub "published: conns ok of $CONNS" 1
row conns_pub "published: conns failed" 2
row conns_pub "published: conns/s" 3
row endpoint_cycle_ms "endpoint setup+teardown ms" 0
printf '%-34s %14s\n' "stack connect() alone ms" "$(get connect_ms "$OUT/stack")"
printf '%-34s %14s\n' "20 endpoints one-by-one teardown ms" "$(get teardown20_one_by_one_ms "$OUT/stack")"
printf '%-34s %14s\n' "20 endpoints batched teardown ms" "$(get teardown20_batch_ms "$OUT/stack")"
printf '%-34s %14s\n' "setup+teardown in a batch, ms each" "$(get endpoint_cycle_batched_ms "$OUT/stack")"
echo "(ratio = stack / podman; for ms rows lower is better. podman's endpoint cost = run with bridge minus run with --network none.)"
