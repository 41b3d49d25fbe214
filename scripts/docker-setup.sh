#!/usr/bin/env bash
# Makes a real Docker engine available for the agent's tests: installs Debian's docker.io and
# busybox-static if missing, starts dockerd if it is not running, and builds the test image
# `bitacora-test:busybox` FROM scratch with the static busybox (no registry is needed).
set -euo pipefail
if ! command -v dockerd >/dev/null || [ ! -x /bin/busybox ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  nohup dockerd >/tmp/bitacora-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/bitacora-dockerd.log" >&2; exit 1; }
fi
if ! docker image inspect bitacora-test:busybox >/dev/null 2>&1; then
  ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' > "$ctx/Dockerfile"
  docker build -q -t bitacora-test:busybox "$ctx" >/dev/null
  rm -rf "$ctx"
fi
echo "docker: $(docker version --format '{{.Server.Version}}') with bitacora-test:busybox"
