#!/usr/bin/env bash
# make test: lint, ansible-test sanity, pytest, every molecule scenario. Starts (and afterwards stops) a Docker
# engine when none answers.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'scripts/docker-down.sh' EXIT
t0=$(date +%s)
scripts/lint.sh
echo "=== lint done in $(( $(date +%s) - t0 )) s"
ts=$(date +%s)
scripts/sanity.sh
echo "=== ansible-test sanity done in $(( $(date +%s) - ts )) s"
t1=$(date +%s)
scripts/unit.sh
echo "=== pytest done in $(( $(date +%s) - t1 )) s"
t2=$(date +%s)
# Debian 12 and Debian 13 side by side (one worker each; a scenario never runs on both at once).
MOLECULE_JOBS=${MOLECULE_JOBS:-2} scripts/molecule.sh test
echo "=== molecule done in $(( $(date +%s) - t2 )) s; make test total $(( $(date +%s) - t0 )) s"
