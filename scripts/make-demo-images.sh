#!/usr/bin/env bash
# Builds the offline demo images from busybox-static (no registry needed) and
# loads them into stack's image store with `stack image import`:
#
#   stack-demo/busybox:1      busybox and its applets; CMD ["sh"]. The
#                             services of examples/compose/shop.yaml run it
#                             with their own commands.
#   bkimminich/juice-shop     a stand-in for OWASP Juice Shop: busybox httpd
#                             on port 3000 serving a page that says
#                             "OWASP Juice Shop (stand-in)", as uid 65532,
#                             WORKDIR /juice-shop. The real image is distroless
#                             with ENTRYPOINT ["/nodejs/bin/node"]; busybox has
#                             no node, so the stand-in's CMD runs httpd directly
#                             (no shell involved) and its ENTRYPOINT is empty.
#
# Usage: scripts/make-demo-images.sh [--stack PATH] [--image-root DIR] [--podman] [--docker]
#   --stack       the stack binary (default: build/orchestrator/stack, else PATH)
#   --image-root  image store to load into (default: stack's default)
#   --podman      also import both images into podman as localhost/NAME
#   --docker      also import both images into a running dockerd as NAME
#                 (for bench/stack_bench.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=""
IMAGE_ROOT=""
PODMAN=0
DOCKER=0
while [ $# -gt 0 ]; do
  case "$1" in
    --stack) STACK="$2"; shift 2 ;;
    --image-root) IMAGE_ROOT="$2"; shift 2 ;;
    --podman) PODMAN=1; shift ;;
    --docker) DOCKER=1; shift ;;
    *) echo "make-demo-images: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$STACK" ]; then
  STACK="$PWD/${BUILD_DIR:-build}/orchestrator/stack"
  [ -x "$STACK" ] || STACK="$(command -v stack || true)"
fi
[ -x "$STACK" ] || { echo "make-demo-images: no stack binary (build first, or --stack PATH)" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "make-demo-images: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
STACK_ARGS=()
if [ -n "$IMAGE_ROOT" ]; then mkdir -p "$IMAGE_ROOT"; STACK_ARGS+=(--image-root "$IMAGE_ROOT"); fi

work=$(mktemp -d /tmp/stack-demo-images-XXXXXX)
trap 'rm -rf "$work"' EXIT

# A busybox root filesystem: /bin with every applet, /etc/passwd and group
# (root, nobody and the juice-shop stand-in's 65532), empty /tmp, /proc, /sys, /dev.
make_rootfs() {
  local root="$1"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$root/etc/group"
}

pack() {  # pack DIR TAR: a rootfs tar with numeric root ownership
  tar --numeric-owner --owner=0 --group=0 -C "$1" -cf "$2" .
}

# stack-demo/busybox:1
make_rootfs "$work/busybox"
pack "$work/busybox" "$work/busybox.tar"

# bkimminich/juice-shop (stand-in)
make_rootfs "$work/juice"
mkdir -p "$work/juice/juice-shop/www" "$work/juice/home/nonroot"
cat >"$work/juice/juice-shop/www/index.html" <<'HTML'
<!DOCTYPE html>
<html><head><title>OWASP Juice Shop (stand-in)</title></head>
<body><h1>OWASP Juice Shop (stand-in)</h1>
<p>An offline placeholder for bkimminich/juice-shop built by scripts/make-demo-images.sh.</p></body></html>
HTML
pack "$work/juice" "$work/juice.tar"

import() {  # import TAR NAME CHANGES...
  local tar="$1" name="$2"
  shift 2
  local args=()
  for c in "$@"; do args+=(--change "$c"); done
  "$STACK" "${STACK_ARGS[@]}" image import "${args[@]}" "$tar" "$name"
  if [ "$PODMAN" = 1 ]; then
    local pargs=()
    for c in "$@"; do pargs+=(--change "$c"); done
    podman import "${pargs[@]}" "$tar" "localhost/${name}" >/dev/null
  fi
  if [ "$DOCKER" = 1 ]; then
    local dargs=()
    for c in "$@"; do dargs+=(--change "$c"); done
    docker import "${dargs[@]}" "$tar" "${name}" >/dev/null
  fi
}

import "$work/busybox.tar" stack-demo/busybox:1 'CMD ["sh"]'
import "$work/juice.tar" bkimminich/juice-shop:latest \
  'CMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "3000", "-h", "/juice-shop/www"]' \
  'USER 65532' 'WORKDIR /juice-shop' 'EXPOSE 3000'
echo "make-demo-images: stack-demo/busybox:1 and bkimminich/juice-shop:latest (stand-in) loaded"
