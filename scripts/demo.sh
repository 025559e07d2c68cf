#!/usr/bin/env bash
# The demo: installs dependencies, builds, makes the offline demo images, and
# runs examples/compose/shop.yaml (web x2 behind port 8080, api, worker, db)
# with `stack up -d --wait`; shows `stack ps`, asks the published port a few times
# (different web replicas answer), follows one request through web -> api ->
# db by service name, then `stack down -v`.
#
# It uses a private daemon (its own --root, socket and runtime dirs) so it
# does not touch a stackd you may already run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
BUILD="$PWD/${BUILD_DIR:-build}"
STACK="$BUILD/orchestrator/stack"
STACKD="$BUILD/orchestrator/stackd"

work=$(mktemp -d /tmp/stack-demo-XXXXXX)
run=/run/stack-demo-$$
sock="$work/stackd.sock"
cleanup() {
  "$STACK" --host "unix://$sock" -f examples/compose/shop.yaml down -v >/dev/null 2>&1 || true
  [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  umount -l "$run/netns" 2>/dev/null || true  # stackd's private bind mount of its netns dir
  rm -rf "$work" "$run"
}
trap cleanup EXIT

mkdir -p "$work/root"
bash scripts/make-demo-images.sh --stack "$STACK" --image-root "$work/root/images"
"$STACKD" --foreground --root "$work/root" --socket "$sock" --runtime-root "$run/runtime" \
  --netns-dir "$run/netns" >"$work/stackd.log" 2>&1 &
daemon=$!
export STACK_HOST="unix://$sock"
for _ in $(seq 50); do "$STACK" version >/dev/null 2>&1 && break; sleep 0.1; done

echo "== stack up -d --wait examples/compose/shop.yaml (returns once every service is healthy)"
time "$STACK" up -d --wait -f examples/compose/shop.yaml
echo
echo "== stack ps"
"$STACK" -f examples/compose/shop.yaml ps
echo
echo "== curl http://127.0.0.1:8080/ (two web replicas share the port)"
for _ in $(seq 6); do curl -s -m 3 http://127.0.0.1:8080/ || echo "(no answer)"; done
echo
echo "== curl http://127.0.0.1:8080/cgi-bin/api (web -> api -> db, by service name)"
for _ in $(seq 2); do curl -s -m 3 http://127.0.0.1:8080/cgi-bin/api || echo "(no answer)"; done
echo
echo "== stack logs --tail 3 worker"
"$STACK" -f examples/compose/shop.yaml logs --tail 3 worker
echo
echo "== stack down -v"
"$STACK" -f examples/compose/shop.yaml down -v
