#!/usr/bin/env bash
# Installs every build and test dependency of stack from Debian's packages.
# Idempotent: packages already present are left alone, and apt-get runs only
# when something is missing. Run as root (or with sudo) on Debian 12.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # libraries
  libyaml-cpp-dev libboost-dev libseccomp-dev libcap-dev libnl-3-dev libnl-route-3-dev
  libspdlog-dev libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libarchive-dev
  libssl-dev libmd-dev libnftables-dev libsqlite3-dev libexpected-dev
  # test root filesystems and peers for side-by-side checks
  busybox-static runc iproute2 procps python3 bsdutils nftables
  # podman drives stack-runtime in the compatibility tests
  podman conmon
  # registry client tests: a local registry, htpasswd files, and skopeo for interop
  docker-registry apache2-utils skopeo
  # netplane: throughput benchmark peer, conntrack flush on backend removal
  iperf3 conntrack
  # stack benchmarks: peers run side by side
  podman-compose
  # fuzzing (scripts/fuzz.sh): clang, and libFuzzer's runtime (libclang-rt-14-dev)
  clang libclang-rt-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
