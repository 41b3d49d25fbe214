#!/usr/bin/env bash
# Grafana Loki, the reference the search benchmark compares against (issue 14: parsers at least
# twice Loki's speed per core, ingest CPU, disk and memory beside Loki's on the same bytes).
# Benchmarks only: no test needs it.
#
#   scripts/loki.sh build [SRC]   builds `loki` from a source tree at SRC (default: a shallow
#                                 clone of LOKI_VERSION from GitHub) into target/loki/bin/loki,
#                                 with the modules Loki vendors (no module download). Needs Go
#                                 >= the `go` line of Loki's go.mod: v3.4.6 wants 1.23, which
#                                 Debian 12 has in bookworm-backports (golang-1.23-go); GO
#                                 names the go binary (default: go on PATH, else
#                                 /usr/lib/go-1.23/bin/go). About 2 minutes on 2 cores.
#
# `cargo bench --bench search` runs Loki beside Bitácora when target/loki/bin/loki exists
# (or LOKI_BIN names one).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${LOKI_VERSION:-v3.4.6}

case "${1:-}" in
build)
  go=${GO:-$(command -v go || echo /usr/lib/go-1.23/bin/go)}
  src=${2:-}
  if [ -z "$src" ]; then
    src=$root/target/loki/src
    [ -d "$src" ] || git clone --quiet --depth 1 --branch "$version" https://github.com/grafana/loki "$src"
  fi
  mkdir -p "$root/target/loki/bin"
  started=$(date +%s)
  (cd "$src" && GOTOOLCHAIN=local GOFLAGS=-mod=vendor CGO_ENABLED=0 \
    "$go" build -ldflags "-X github.com/grafana/loki/v3/pkg/util/build.Version=${version#v}" \
    -o "$root/target/loki/bin/loki" ./cmd/loki)
  echo "loki: $("$root/target/loki/bin/loki" -version | head -1), built in $(($(date +%s) - started)) s"
  ;;
*)
  echo "usage: scripts/loki.sh build [SRC]" >&2
  exit 2
  ;;
esac
