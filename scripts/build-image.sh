#!/usr/bin/env bash
# Builds the container image `bitacora:latest` (or the tags given as arguments) on this machine,
# with no image registry: `FROM scratch` plus a root file system made here from the release binary
# and what it needs at run time:
#   /usr/local/bin/bitacora        the release binary without its debug info and symbols (7 MB
#                                  of symbol names; panics still name their source line)
#   the shared libraries `ldd` lists and the dynamic loader, at the paths `ldd` prints
#   /etc/passwd, /etc/group        uid and gid 10001 `bitacora` (as Loki's image), and root
#   /etc/nsswitch.conf             files, then DNS
#   /etc/ssl/certs/ca-certificates.crt   this machine's CA bundle (HTTPS push to a remote Loki)
#   /data                          owned by 10001:10001 (a fresh named volume inherits that)
#   /tmp                           1777
# The debug info and the symbols are split into target/image/bitacora.debug (linked from the
# binary by .gnu_debuglink and the build id) for profiling: `perf report --symfs`, or gdb with
# `set debug-file-directory`.
#
# Usage: scripts/build-image.sh [TAG...]      (default tag: bitacora:latest)
# Env:   BITACORA_BIN=path   use this binary instead of `cargo build --profile profiling -p bitacora`
#                            (the release build with line tables, whose debug info is split off here)
#        IMAGE_MAX_MB=40     fail if the image is larger
set -euo pipefail
cd "$(dirname "$0")/.."

tags=("$@")
[ ${#tags[@]} -gt 0 ] || tags=(bitacora:latest)
max_mb=${IMAGE_MAX_MB:-40}
target_dir=${CARGO_TARGET_DIR:-target}

for tool in docker objcopy ldd tar; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is needed (apt-get install docker.io binutils)" >&2; exit 1; }
done

if [ -n "${BITACORA_BIN:-}" ]; then
  bin=$BITACORA_BIN
else
  echo "== cargo build --profile profiling -p bitacora"
  cargo build --profile profiling -p bitacora
  bin=$target_dir/profiling/bitacora
fi
[ -x "$bin" ] || { echo "build-image: no executable at $bin" >&2; exit 1; }

# The context the Dockerfile reads: target/image/rootfs.tar (see .dockerignore).
out=target/image
rm -rf "$out"
mkdir -p "$out"
root=$out/rootfs
mkdir -p "$root"/{usr/local/bin,etc/ssl/certs,data,tmp}

echo "== root file system in $root"
objcopy --only-keep-debug "$bin" "$out/bitacora.debug"
objcopy --strip-all --add-gnu-debuglink="$out/bitacora.debug" "$bin" "$root/usr/local/bin/bitacora"
chmod 0755 "$root/usr/local/bin/bitacora"

# Shared libraries and the loader, each at the path ldd resolved it to (symlinks followed).
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || { echo "build-image: ldd listed no libraries for $bin (a static binary needs none: remove this check)" >&2; exit 1; }
if ldd "$bin" | grep -q 'not found'; then
  echo "build-image: a library of $bin is missing:" >&2; ldd "$bin" >&2; exit 1
fi
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
bitacora:x:10001:10001:Bitacora:/data:/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
bitacora:x:10001:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
else
  echo "build-image: /etc/ssl/certs/ca-certificates.crt is missing (apt-get install ca-certificates)" >&2; exit 1
fi

# Ownership is set in the archive, so building needs no root and no `chown` on this machine.
tar --create --file "$out/rootfs.tar" --directory "$root" --numeric-owner --owner=0 --group=0 \
  --mode='u+rwX,go+rX,go-w' --exclude=./data --exclude=./tmp .
tar --append --file "$out/rootfs.tar" --directory "$root" --numeric-owner --owner=10001 --group=10001 \
  --mode=0700 --no-recursion ./data
tar --append --file "$out/rootfs.tar" --directory "$root" --numeric-owner --owner=0 --group=0 \
  --mode=1777 --no-recursion ./tmp

echo "== docker build ${tags[*]}"
tag_args=()
for t in "${tags[@]}"; do tag_args+=(-t "$t"); done
docker build -q "${tag_args[@]}" -f Dockerfile . >/dev/null

size=$(docker image inspect --format '{{.Size}}' "${tags[0]}")
size_mb=$(( (size + 1048575) / 1048576 ))
echo "image ${tags[*]}: $size_mb MiB ($size bytes); binary $(stat -c %s "$bin") bytes as built," \
  "$(stat -c %s "$root/usr/local/bin/bitacora") in the image; debug info in $out/bitacora.debug"
if [ "$size_mb" -gt "$max_mb" ]; then
  echo "build-image: the image is $size_mb MiB, above $max_mb MiB" >&2
  exit 1
fi
