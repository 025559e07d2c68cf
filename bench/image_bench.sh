#!/usr/bin/env bash
# Image pull + unpack benchmark: `stack pull` + ImageService::ensure_unpacked
# against skopeo copy + umoci unpack and against podman pull, all from the
# same throwaway registry on 127.0.0.1. See bench/README.md.
#
#   sudo bench/image_bench.sh
#
# Environment: RUNS (default 5), BUILD_DIR (default <repo>/build-bench),
# WORK_DIR (parent of the temp dir, default /var/tmp: must be a disk, not
# tmpfs), NO_INSTALL=1 to never call apt-get, NO_DROP_CACHES=1 to keep the
# page cache between runs, KEEP=1 to leave the temp dir for inspection.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$repo/build-bench}
runs=${RUNS:-5}

if [[ $(id -u) -ne 0 ]]; then
  echo "image_bench.sh: must run as root (podman's storage, umoci's ownership, dropping caches)" >&2
  exit 1
fi

# Everything runs in a private mount namespace: whatever podman's storage
# mounts, and the bind below, go away with it even if the script is killed.
if [[ -z ${STACK_IMAGE_BENCH_NS:-} ]]; then
  export STACK_IMAGE_BENCH_NS=1
  exec unshare --mount --propagation private "$0" "$@"
fi

# apt-get install, refreshing the package lists once if a package is unknown.
apt_install() {
  [[ -n ${NO_INSTALL:-} ]] && return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 && return 0
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

for pkg in docker-registry skopeo podman busybox-static; do
  if ! installed "$pkg"; then
    echo "installing $pkg" >&2
    apt_install "$pkg" || { echo "image_bench.sh: cannot install $pkg" >&2; exit 1; }
  fi
done
# umoci is in Debian 12 (bookworm); without it skopeo's row unpacks with a
# plain `tar -xzf` per layer (no whiteouts, no ownership mapping: a lower bound).
have_umoci=1
if ! installed umoci; then
  echo "installing umoci (optional)" >&2
  apt_install umoci || { have_umoci=0; echo "note: umoci not available; the skopeo row unpacks with tar -x (labelled)" >&2; }
fi
for tool in cmake ninja; do
  command -v "$tool" >/dev/null || apt_install cmake ninja-build ||
    { echo "image_bench.sh: need cmake and ninja" >&2; exit 1; }
done

echo "building (Release) in $build" >&2
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target stack stack-bench-unpack >/dev/null
stack_bin=$build/orchestrator/stack
unpack_bin=$build/bench/stack-bench-unpack

# ---------------------------------------------------------------- temp dir + cleanup
work=$(mktemp -d "${WORK_DIR:-/var/tmp}/stack-image-bench.XXXXXX")
registry_pid='' blob_cache=/var/lib/containers/cache cache_bound='' made_dirs=''
cleanup() {
  set +e
  if [[ -n $registry_pid ]]; then kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; fi
  [[ -n $cache_bound ]] && umount "$blob_cache"
  [[ -n $made_dirs ]] && tac <<<"$made_dirs" | while read -r d; do rmdir "$d"; done
  # podman's overlay driver can leave mounts under its root; unmount
  # everything below the temp dir, deepest first, before removing it.
  findmnt -rn -o TARGET | awk -v w="$work" 'index($0, w) == 1' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  if [[ -n ${KEEP:-} ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# skopeo (as root) records every blob it sees in the host's global
# /var/lib/containers/cache/blob-info-cache-v1.boltdb and has no flag to move
# it; a bind mount (private to this namespace) keeps the host's file untouched.
# podman keeps its cache under --root. Directories we had to create for the
# mount point are removed again at exit.
made_dirs=$(mkdir -pv "$blob_cache" | sed -n "s/^mkdir: created directory '\(.*\)'$/\1/p")
mkdir -p "$work/containers-cache"
mount --bind "$work/containers-cache" "$blob_cache"
cache_bound=1

# --------------------------------------------------------------------- the registry
free_port() {
  local used p
  used=$(ss -ltnH 2>/dev/null | awk '{print $4}' | sed 's/.*://')
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    grep -qx "$p" <<<"$used" || { echo "$p"; return; }
  done
  echo "image_bench.sh: no free port" >&2
  exit 1
}
port=$(free_port)
host=127.0.0.1:$port
mkdir -p "$work/registry/storage"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $host
  secret: stack-bench-secret
EOF
# --pdeathsig: a killed bench leaves no registry behind.
setpriv --pdeathsig KILL docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
for i in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$registry_pid" 2>/dev/null || { echo "docker-registry died: $(cat "$work/registry/log")" >&2; exit 1; }
  sleep 0.05
  [[ $i == 300 ]] && { echo "docker-registry did not listen on $host" >&2; exit 1; }
done

# ------------------------------------------------------- the test image (OCI layout)
# Four layers, each a different shape of work for a puller/unpacker:
#   1 base:  static busybox and its applet symlinks (~1 MB)
#   2 text:  60 x 1 MiB of hex dump text (random-ish, gzip ~3x); od
#            reads exactly what gives ~1 MiB (a `| head -c` would SIGPIPE
#            under pipefail)
#   3 small: 5000 files of 100 B..8 KiB in 50 directories (metadata-bound)
#   4 large: 4 x 25 MiB: two random (incompressible), two hex text
echo "building the test image in $work/oci" >&2
src=$work/src
mkdir -p "$src"/{l1/bin,l2/data/text,l3/data/small,l4/data/large}
cp /bin/busybox "$src/l1/bin/busybox"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$src/l1/bin/$a"; done
for i in $(seq -w 1 60); do
  head -c 345920 /dev/urandom | od -An -tx1 -w32 >"$src/l2/data/text/f$i.txt"
done
chunk=$(head -c 6200 /dev/urandom | base64 -w 0)  # 8 KiB+ of text, sliced without forks
for d in $(seq -w 1 50); do
  mkdir -p "$src/l3/data/small/d$d"
  for f in $(seq -w 1 100); do
    len=$((100 + (10#$d * 131 + 10#$f * 977) % 8092))
    printf '%s\n' "${chunk:$(((10#$f * 37) % 100)):$len}" >"$src/l3/data/small/d$d/f$f"
  done
done
head -c 26214400 /dev/urandom >"$src/l4/data/large/r1.bin"
head -c 26214400 /dev/urandom >"$src/l4/data/large/r2.bin"
head -c 8648032 /dev/urandom | od -An -tx1 -w32 >"$src/l4/data/large/t1.txt"
head -c 8648032 /dev/urandom | od -An -tx1 -w32 >"$src/l4/data/large/t2.txt"

oci=$work/oci
mkdir -p "$oci/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Moves FILE to blobs/sha256/<digest>; prints the digest hex.
add_blob() { local h; h=$(sha "$1"); mv "$1" "$oci/blobs/sha256/$h"; echo "$h"; }
layers_json='' diffs_json='' tar_total=0 gz_total=0
for l in l1 l2 l3 l4; do
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$src/$l" -cf "$work/$l.tar" .
  diff=$(sha "$work/$l.tar")
  tar_total=$((tar_total + $(size "$work/$l.tar")))
  gzip -n -6 "$work/$l.tar"
  gz_size=$(size "$work/$l.tar.gz")
  gz_total=$((gz_total + gz_size))
  hex=$(add_blob "$work/$l.tar.gz")
  layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$gz_size}"
  diffs_json+="${diffs_json:+,}\"sha256:$diff\""
done
rm -rf "$src"
arch=$(dpkg --print-architecture)
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$arch" "$diffs_json" >"$work/config.json"
cfg_size=$(size "$work/config.json")
cfg_hex=$(add_blob "$work/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$cfg_hex" "$cfg_size" "$layers_json" >"$work/manifest.json"
man_size=$(size "$work/manifest.json")
man_hex=$(add_blob "$work/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
  "$man_hex" "$man_size" >"$oci/index.json"
gz_total=$((gz_total + cfg_size + man_size))
ref=$host/bench:1
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$oci:bench" "docker://$ref" >/dev/null
rm -rf "$oci"

# ----------------------------------------------------------------------- machinery
can_drop=0
if [[ -z ${NO_DROP_CACHES:-} ]] && { sync; echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then can_drop=1; fi
# Before every timed step: flush the previous run's dirty pages and (when
# allowed) empty the page cache, so every tool reads the registry's blobs
# from disk and starts with nothing dirty to write back.
settle() {
  sync
  [[ $can_drop == 1 ]] && echo 3 >/proc/sys/vm/drop_caches
  return 0
}
now() { echo "${EPOCHREALTIME/,/.}"; }
declare -A samples  # row -> "s1 s2 ..."
record() { samples[$1]+="$2 "; }
# run ROW CMD...: times CMD (after settle), records seconds, prints nothing on success.
failures=0
timed() {
  local row=$1; shift
  settle
  local t0 t1
  t0=$(now)
  if ! "$@" >"$work/out.log" 2>&1; then
    echo "FAILED ($row): $*" >&2
    tail -n 20 "$work/out.log" >&2
    failures=$((failures + 1))
    return 1
  fi
  t1=$(now)
  last=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')
  record "$row" "$last"
}

# Unmounts anything left under DIR (podman) and removes it.
scrub() {
  findmnt -rn -o TARGET | awk -v w="$1" 'index($0, w) == 1' | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$1"
}

tree_stats() {  # DIR... -> "<entries> entries, <bytes> bytes of file data"
  local n b
  n=$(find "$@" -mindepth 1 | wc -l)
  b=$(find "$@" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  echo "$n entries, $b bytes"
}

run_stack() {
  local d=$work/run/stack
  scrub "$d"
  timed "stack pull" "$stack_bin" --image-root "$d" --insecure-registry "$host" pull -q "$ref" || return 0
  local p=$last
  timed "stack unpack" "$unpack_bin" --image-root "$d" "$ref" || return 0
  record "stack pull+unpack" "$(awk -v a="$p" -v b="$last" 'BEGIN{printf "%.3f", a + b}')"
  [[ $1 == 1 ]] && echo "check: stack snapshots: $(tree_stats "$d"/snapshots/*/fs)" >&2
  scrub "$d"
}

run_skopeo() {
  local d=$work/run/skopeo
  scrub "$d"
  mkdir -p "$d"
  timed "skopeo copy" skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$d/oci:bench" || return 0
  local p=$last
  if [[ $have_umoci == 1 ]]; then
    timed "umoci unpack" umoci unpack --image "$d/oci:bench" "$d/bundle" || return 0
    record "skopeo+umoci" "$(awk -v a="$p" -v b="$last" 'BEGIN{printf "%.3f", a + b}')"
    [[ $1 == 1 ]] && echo "check: umoci rootfs:     $(tree_stats "$d/bundle/rootfs")" >&2
  else
    timed "tar -x (no umoci)" tar_unpack "$d/oci" "$d/rootfs" || return 0
    record "skopeo+tar -x (no umoci)" "$(awk -v a="$p" -v b="$last" 'BEGIN{printf "%.3f", a + b}')"
  fi
  scrub "$d"
}
# The fallback unpack: every layer of the manifest in order, plain tar.
tar_unpack() {
  local layout=$1 dest=$2 idx man
  mkdir -p "$dest"
  idx=$(grep -o 'sha256:[0-9a-f]*' "$layout/index.json" | head -1)
  man=$layout/blobs/sha256/${idx#sha256:}
  grep -o '"layers":.*' "$man" | grep -o 'sha256:[0-9a-f]*' | while read -r l; do
    tar -xzf "$layout/blobs/sha256/${l#sha256:}" -C "$dest"
  done
}

podman_driver=overlay
run_podman() {
  local d=$work/run/podman
  scrub "$d"
  mkdir -p "$d"
  local p=(podman --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp" --storage-driver "$podman_driver"
    --events-backend none --cgroup-manager cgroupfs)
  timed "podman pull ($podman_driver)" "${p[@]}" pull -q --tls-verify=false "$ref" || return 0
  [[ $1 == 1 ]] && echo "check: podman layers:    $(tree_stats "$d"/root/"$podman_driver"/*/diff)" >&2
  "${p[@]}" rmi -a -f >/dev/null 2>&1 || true
  scrub "$d"
}

# The disk's raw write throughput, for judging "unpack at disk speed".
mkdir -p "$work/run"
dd_line=$(dd if=/dev/zero of="$work/run/dd.bin" bs=1M count=512 oflag=direct 2>&1 | tail -1)
rm -f "$work/run/dd.bin"

# podman's overlay driver needs overlay-capable storage; fall back to vfs.
if ! podman --root "$work/run/probe/root" --runroot "$work/run/probe/run" --storage-driver overlay \
    --events-backend none info >/dev/null 2>&1; then
  podman_driver=vfs
  echo "note: podman's overlay driver does not work here; podman runs with vfs (copies every layer)" >&2
fi
scrub "$work/run/probe"

# ------------------------------------------------------------------------ the runs
tools=(stack skopeo podman)
echo "warm-up (not counted)" >&2
for t in "${tools[@]}"; do "run_$t" 1; done
samples=()
for ((i = 0; i < runs; i++)); do
  echo "run $((i + 1))/$runs" >&2
  for ((k = 0; k < ${#tools[@]}; k++)); do  # rotate who goes first
    t=${tools[$(((i + k) % ${#tools[@]}))]}
    "run_$t" 0
  done
done

# -------------------------------------------------------------------------- report
stats() {  # "s1 s2 ..." -> "median min max"
  tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
mb() { awk -v b="$1" 'BEGIN{printf "%.1f", b / 1e6}'; }
podman_row="podman pull ($podman_driver)"
podman_med=
[[ -n ${samples[$podman_row]:-} ]] && podman_med=$(stats "${samples[$podman_row]}" | cut -d' ' -f1)

echo
echo "image: 4 layers, $(mb "$gz_total") MB compressed (blobs + config + manifest), $(mb "$tar_total") MB uncompressed tars"
echo "registry: docker-registry $(dpkg-query -W -f='${Version}' docker-registry) on $host, storage on the same disk"
echo "runs: $runs per row (after 1 warm-up), round-robin; page cache dropped before every step: $([[ $can_drop == 1 ]] && echo yes || echo "no (/proc/sys/vm/drop_caches not writable)")"
echo "disk ($(findmnt -n -o FSTYPE --target "$work") at $work): dd 512 MiB oflag=direct: $dd_line"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
[[ $have_umoci == 0 ]] && echo "NOTE: umoci not installed; skopeo's unpack is plain 'tar -xzf' per layer (no whiteouts)"
echo
rows=("stack pull" "stack unpack" "stack pull+unpack")
if [[ $have_umoci == 1 ]]; then rows+=("skopeo copy" "umoci unpack" "skopeo+umoci")
else rows+=("skopeo copy" "tar -x (no umoci)" "skopeo+tar -x (no umoci)"); fi
rows+=("$podman_row")
printf '%-26s %4s %9s %8s %8s %10s %12s %12s\n' tool ok median_s min_s max_s vs_podman "MB/s(gz)" "MB/s(tar)"
for r in "${rows[@]}"; do
  s=${samples[$r]:-}
  if [[ -z $s ]]; then printf '%-26s %4s %9s\n' "$r" 0 "n/a"; continue; fi
  read -r med min max < <(stats "$s")
  n=$(wc -w <<<"$s")
  ratio=n/a
  [[ -n $podman_med ]] && ratio=$(awk -v a="$med" -v b="$podman_med" 'BEGIN{printf "%.2f", a / b}')
  printf '%-26s %4s %9s %8s %8s %10s %12s %12s\n' "$r" "$n" "$med" "$min" "$max" "$ratio" \
    "$(awk -v b="$gz_total" -v t="$med" 'BEGIN{printf "%.1f", b / 1e6 / t}')" \
    "$(awk -v b="$tar_total" -v t="$med" 'BEGIN{printf "%.1f", b / 1e6 / t}')"
done
if [[ -n ${samples["stack unpack"]:-} ]]; then
  med=$(stats "${samples["stack unpack"]}" | cut -d' ' -f1)
  echo
  echo "stack unpack alone: $(awk -v b="$tar_total" -v t="$med" 'BEGIN{printf "%.1f", b / 1e6 / t}') MB/s of uncompressed layer data (median), against the disk's dd line above"
fi
[[ $failures -gt 0 ]] && { echo "$failures step(s) FAILED (see above)"; exit 1; }
exit 0
