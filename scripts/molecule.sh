#!/usr/bin/env bash
# Run molecule scenarios with the shared base config, on every requested distro.
#   scripts/molecule.sh [test|converge|verify|destroy|...] [scenario ...]
# MOLECULE_DISTROS="debian12 debian13" (default) picks the images; scenarios default to all.
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-test}
shift || true
scenarios=("$@")
if [ "${#scenarios[@]}" -eq 0 ]; then
  for f in molecule/*/molecule.yml; do
    scenarios+=("$(basename "$(dirname "$f")")")
  done
fi
distros=${MOLECULE_DISTROS:-debian12 debian13}
# shellcheck disable=SC2086
scripts/build-images.sh $distros
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
failed=()
for distro in $distros; do
  for scenario in "${scenarios[@]}"; do
    echo "=== molecule $action: scenario $scenario on $distro ($(date -u +%H:%M:%S))"
    start=$(date +%s)
    if MOLECULE_DISTRO=$distro molecule --base-config molecule/shared/base.yml "$action" -s "$scenario"; then
      echo "=== ok: $scenario on $distro in $(( $(date +%s) - start )) s"
    else
      echo "=== FAILED: $scenario on $distro after $(( $(date +%s) - start )) s"
      failed+=("$scenario/$distro")
    fi
  done
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "molecule: failed: ${failed[*]}" >&2
  exit 1
fi
