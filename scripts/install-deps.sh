#!/usr/bin/env bash
# Installs every system package Sightline needs to build, test and benchmark on Debian 12.
# Idempotent; safe to re-run. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  clang libclang-rt-14-dev
  libboost-dev libsimdjson-dev libzstd-dev libxxhash-dev libre2-dev zlib1g-dev
  libyaml-cpp-dev libcli11-dev libsqlite3-dev libbrotli-dev libgrpc++-dev libprotobuf-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [ "${1:-}" = "--test" ]; then
  # Test and benchmark peers: real clients and servers the integration tests and benchmarks use.
  pkgs+=(python3 python3-sentry-sdk clickhouse-server clickhouse-client procps jq)
  # Node.js may come from Debian or from another apt source that bundles npm; only add what is absent.
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
