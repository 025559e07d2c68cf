#!/usr/bin/env bash
# The demo: installs dependencies, builds, and runs a busybox container
# through stack-runtime, showing what a process inside can see and do.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
RT="$PWD/${BUILD_DIR:-build}/runtime/stack-runtime"
work=$(mktemp -d /tmp/stack-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/rootfs/bin/$a"; done
(cd "$work" && "$RT" spec)
python3 - "$work/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["hostname"] = "demo"
c["process"]["args"] = ["sh", "-c", """
echo "I am pid $$ on host '$(hostname)'"
echo "processes I can see: $(ps -o pid= | wc -l)"
echo "network interfaces: $(ls /sys/class/net | tr '\\n' ' ')"
grep -E '^CapEff' /proc/self/status
if unshare -m true 2>/dev/null; then echo "unshare: allowed"; else echo "unshare: refused (seccomp + capabilities)"; fi
if echo 1 > /proc/sys/kernel/hostname 2>/dev/null; then echo "/proc/sys: writable"; else echo "/proc/sys: read-only"; fi
"""]
json.dump(c, open(p, "w"), indent=1)
PY
echo "== stack-runtime run demo (a busybox container with Docker's default confinement)"
time "$RT" --root "$work/state" run --bundle "$work" demo
