#!/usr/bin/env bash
# Runs every test of Bitácora on this machine. It installs what the tests drive (a real Loki
# client from PyPI, a real Docker engine, docker-compose, Chromium, Garage), builds the container image
# once (a release build), then runs the whole Cargo workspace's tests (Loki's LogQL conformance
# scripts and the install paths included) and the browser tests of the web UI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test dependencies"
# python-logging-loki: a real Loki client; aiosmtpd: the SMTP server e-mail notifications go to;
# the OpenTelemetry SDK and its OTLP/HTTP exporter: a real OTLP client for /otlp/v1/logs.
python3 -m pip install --quiet --disable-pip-version-check "python-logging-loki==0.3.1" "aiosmtpd==1.4.6" \
  "opentelemetry-sdk==1.45.2" "opentelemetry-exporter-otlp-proto-http==1.45.2"
if [ ! -d "${LOGQL_CONFORMANCE_DIR:-../shared/conformance/logqltest}" ]; then
  echo "LogQL conformance scripts not found at ${LOGQL_CONFORMANCE_DIR:-../shared/conformance/logqltest}" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi

echo "== a real Docker engine for the agent's tests"
if [ "$(id -u)" = "0" ]; then
  ./scripts/docker-setup.sh
else
  echo "not root: the Docker tests need scripts/docker-setup.sh run as root" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi

echo "== the container image (scripts/build-image.sh, one release build), docker-compose, Prometheus, Alertmanager"
# crates/bitacora/tests/install.rs runs the image bitacora:test and the repository's
# docker-compose.yml against the real engine.
if [ "$(id -u)" = "0" ]; then
  if ! command -v docker-compose >/dev/null || ! command -v prometheus >/dev/null \
    || ! command -v prometheus-alertmanager >/dev/null || ! command -v amtool >/dev/null; then
    # Prometheus checks deploy/prometheus.yml against a real server (its image cannot be pulled)
    # and receives recording rules by remote write; Alertmanager (and its amtool) receives
    # alerts and talks to the built-in notifier's API.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker-compose prometheus prometheus-alertmanager >/dev/null
  fi
  ./scripts/build-image.sh bitacora:test
else
  echo "not root: the install tests need the image (scripts/build-image.sh bitacora:test), docker-compose and prometheus" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi

echo "== Garage, the S3-compatible server of the object storage tests (scripts/garage.sh)"
if ! ./scripts/garage.sh build; then
  echo "Garage could not be built (crates/bitacora/tests/bucket.rs needs it)" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
[ -f target/garage-build.log ] && cat target/garage-build.log

echo "== cargo test"
cargo test --workspace

echo "== browser tests (ui/tests, playwright-core + Debian Chromium)"
# They drive the debug binary (its build script builds ui/dist with npm) and real Chromium.
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; then
    :
  else
    echo "Chromium is missing (/usr/bin/chromium) and could not be installed" >&2
    [ "${CI:-}" = "true" ] && exit 1
  fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "Node.js and npm are needed for the browser tests" >&2
  [ "${CI:-}" = "true" ] && exit 1
elif [ -x /usr/bin/chromium ]; then
  [ -d ui/node_modules ] || (cd ui && npm ci --include=dev --no-audit --no-fund)
  [ -f ui/dist/index.html ] && ! grep -q bitacora-ui-placeholder ui/dist/index.html || (cd ui && npm run build)
  cargo build -p bitacora
  BITACORA_BIN=target/debug/bitacora node --test ui/tests/
fi
