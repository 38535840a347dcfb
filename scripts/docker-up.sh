#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and we are root on Debian/Ubuntu,
# install docker.io and start dockerd in the background. The pid of a dockerd we started is
# written to .cache/dockerd.pid so scripts/docker-down.sh stops only what we started.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "tlsward: no Docker engine answers and we are not root: start Docker (or join the docker group) and retry" >&2
  exit 1
fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "tlsward: installing docker.io and debootstrap" >&2
  scripts/apt-install.sh docker.io debootstrap
fi
echo "tlsward: starting dockerd (log: .cache/dockerd.log)" >&2
nohup dockerd >.cache/dockerd.log 2>&1 &
echo $! >.cache/dockerd.pid
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "tlsward: dockerd did not answer within 60 s; see .cache/dockerd.log" >&2
tail -20 .cache/dockerd.log >&2 || true
exit 1
