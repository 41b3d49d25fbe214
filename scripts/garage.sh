#!/usr/bin/env bash
# Garage, the S3-compatible object store self-hosters run, for the object storage tests
# (issue 16: segments in a bucket, many writers, query nodes).
#
#   scripts/garage.sh build          builds it from crates.io into target/garage/bin/garage
#                                    (about 15 minutes of wall time on 2 cores; nothing to do
#                                    when it is there already, or GARAGE_BIN names one)
#   scripts/garage.sh start DIR      starts a single node on loopback with its data in DIR,
#                                    creates the bucket `logs` and a key allowed on it, and
#                                    writes DIR/env (S3_ENDPOINT, S3_REGION, S3_BUCKET,
#                                    S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, GARAGE_PID)
#   scripts/garage.sh stop DIR       stops that node
#   scripts/garage.sh restart DIR    starts it again (same ports and data)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${GARAGE_BIN:-$root/target/garage/bin/garage}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "${1:-}" in
build)
  # One build at a time: CI starts one in the background early, and the test script waits for
  # it here.
  mkdir -p "$root/target"
  exec 9>"$root/target/garage.lock"
  flock 9
  if [ -x "$bin" ]; then
    echo "garage: $("$bin" --version | head -1) at $bin"
    exit 0
  fi
  started=$(date +%s)
  # Only what the tests use (the sqlite metadata engine, bundled C libraries): no LMDB, K2V or
  # metrics. A debug build without debug info: the tests move megabytes, and it builds in
  # about half the time of a release build.
  CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="$root/target/garage/build" \
    cargo install garage --version 2.5.0 --locked --debug --no-default-features \
    --features bundled-libs,sqlite --root "$root/target/garage" --quiet
  rm -rf "$root/target/garage/build"
  echo "garage: built in $(($(date +%s) - started)) s at $bin"
  ;;
start)
  dir=$(realpath -m "${2:?usage: garage.sh start DIR}")
  mkdir -p "$dir/meta" "$dir/data"
  rpc=$(free_port)
  s3=$(free_port)
  admin=$(free_port)
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin"
admin_token = "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EOF
  g() { "$bin" -c "$dir/garage.toml" "$@"; }
  RUST_LOG=warn nohup "$bin" -c "$dir/garage.toml" server >"$dir/garage.log" 2>&1 &
  pid=$!
  node=""
  for _ in $(seq 1 100); do
    node=$(g status 2>/dev/null | grep -oE '\b[0-9a-f]{16}\b' | head -1 || true)
    [ -n "$node" ] && break
    sleep 0.2
  done
  if [ -z "$node" ]; then
    echo "garage did not start; its log:" >&2
    cat "$dir/garage.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
  fi
  g layout assign -z dc1 -c 1G "$node" >/dev/null
  g layout apply --version 1 >/dev/null
  g bucket create logs >/dev/null
  keys=$(g key create bitacora)
  key_id=$(echo "$keys" | grep -oE 'GK[0-9a-f]{24}' | head -1)
  secret=$(echo "$keys" | grep -iE 'secret key' | grep -oE '[0-9a-f]{64}' | head -1)
  g bucket allow --read --write --owner logs --key bitacora >/dev/null
  cat >"$dir/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$s3
S3_REGION=garage
S3_BUCKET=logs
S3_ACCESS_KEY_ID=$key_id
S3_SECRET_ACCESS_KEY=$secret
GARAGE_PID=$pid
EOF
  cat "$dir/env"
  ;;
restart)
  # The same node again (same ports and data), after a stop.
  dir=$(realpath -m "${2:?usage: garage.sh restart DIR}")
  RUST_LOG=warn nohup "$bin" -c "$dir/garage.toml" server >>"$dir/garage.log" 2>&1 &
  pid=$!
  sed -i "s/^GARAGE_PID=.*/GARAGE_PID=$pid/" "$dir/env"
  s3=$(grep -oE 'S3_ENDPOINT=http://127.0.0.1:[0-9]+' "$dir/env" | grep -oE '[0-9]+$')
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$s3/" && break
    sleep 0.1
  done
  ;;
stop)
  dir=$(realpath -m "${2:?usage: garage.sh stop DIR}")
  # shellcheck disable=SC1091
  pid=$(. "$dir/env" && echo "$GARAGE_PID")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  ;;
*)
  echo "usage: scripts/garage.sh build | start DIR | stop DIR | restart DIR" >&2
  exit 2
  ;;
esac
