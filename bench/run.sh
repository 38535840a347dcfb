#!/usr/bin/env bash
# make bench: tlsward's benchmarks, side by side in one run, results in bench/results/.
#   bench/run.sh [--quick] [--keep] [ITEM ...]    (items 1-7, default all; see docs/benchmarks.md)
# Not part of `make test`. Needs root (network namespaces, CPU pinning, Docker for the Debian 13
# and fleet items). Loopback only; every load is bounded in count and time; the whole run is
# bounded by BENCH_TIMEOUT seconds (default 1500; 4800 when item 5, the fleet converge, runs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "bench: run as root (network namespaces, taskset, docker)" >&2
  exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "bench: needs 2 CPU cores (server and load generator are pinned to separate cores)" >&2
  exit 1
fi
scripts/apt-install.sh nginx openssl nghttp2-client wrk hyperfine iproute2 util-linux linux-perf testssl.sh
test -x .venv/bin/python || make venv
started_docker=0
if ! docker info >/dev/null 2>&1; then
  started_docker=1
fi
cleanup() {
  # Whatever an interrupted run left behind: its own containers and namespace, by their names.
  ids=$(docker ps -aq --filter 'name=^tlsward-bench-' 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  ip netns del tlsward-bench-rtt 2>/dev/null || true
  if [ "$started_docker" = 1 ]; then
    scripts/docker-down.sh
  fi
}
trap cleanup EXIT
scripts/build-images.sh debian12 debian13
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
limit=1500
for arg in "$@"; do
  case "$arg" in 5 | all) limit=4800 ;; esac
done
timeout --kill-after=60 "${BENCH_TIMEOUT:-$limit}" .venv/bin/python -m bench "$@"
