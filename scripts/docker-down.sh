#!/usr/bin/env bash
# Stop the dockerd that scripts/docker-up.sh started (never one that was already running).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -f .cache/dockerd.pid ]; then
  pid=$(cat .cache/dockerd.pid)
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f .cache/dockerd.pid
fi
