#!/usr/bin/env bash
# Runs every test of Bitácora on this machine: installs what the tests drive (a real Loki client
# from PyPI), then the whole Cargo workspace's tests, the LogQL conformance scripts included.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test dependencies"
python3 -m pip install --quiet --disable-pip-version-check "python-logging-loki==0.3.1"
if [ ! -d "${LOGQL_CONFORMANCE_DIR:-../shared/conformance/logqltest}" ]; then
  echo "LogQL conformance scripts not found at ${LOGQL_CONFORMANCE_DIR:-../shared/conformance/logqltest}" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi

echo "== cargo test"
cargo test --workspace --all-targets
