#!/usr/bin/env bash
# Soak: a simulated month of a Dokku host in minutes (not a test; run before a release, as root).
# `bitacora run` on a small tmpfs against the real Docker engine, with rotating, crash-looping,
# redeployed and one-off containers, HTTP pushers whose clock runs 30 days in the run, kill -9 at
# random and a disk-full episode; then every line written is counted against what queries
# return. SOAK_MINUTES sets the length (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = "0" ] || { echo "run the soak as root (it mounts a tmpfs and drives Docker)" >&2; exit 1; }
./scripts/docker-setup.sh
cargo bench -p bitacora --bench soak
