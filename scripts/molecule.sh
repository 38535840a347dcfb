#!/usr/bin/env bash
# Run molecule scenarios with the shared base config, on every requested distro.
#   scripts/molecule.sh [test|converge|verify|destroy|...] [scenario ...]
# MOLECULE_DISTROS="debian12 debian13" (default) picks the images; scenarios default to all.
# MOLECULE_JOBS=N (default 1) runs the distros side by side, one worker per distro; a scenario
# never runs on two distros at once (its instances share loopback addresses), which a lock per
# scenario guarantees. Output lines carry a [distro] prefix and are kept in
# .cache/molecule-<distro>.log, each scenario's own in .cache/molecule-<scenario>-<distro>.log; the
# end of a failed scenario's log is printed again just before the summary.
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
read -r -a distros <<<"${MOLECULE_DISTROS:-debian12 debian13}"
jobs=${MOLECULE_JOBS:-1}
scripts/build-images.sh "${distros[@]}"
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
# The scenarios stay in molecule/ at the collection root (not extensions/molecule/).
export MOLECULE_GLOB="molecule/*/molecule.yml"
mkdir -p .cache

# run_distro DISTRO OFFSET: every scenario on one distro, starting at OFFSET in the list so two
# workers rarely want the same scenario at the same time. Prints one FAILED line per failure.
run_distro() {
  local distro=$1 offset=$2 n=${#scenarios[@]} i scenario start
  for ((i = 0; i < n; i++)); do
    scenario=${scenarios[$(( (i + offset) % n ))]}
    (
      flock 9
      echo "=== molecule $action: scenario $scenario on $distro ($(date -u +%H:%M:%S))"
      start=$(date +%s)
      if MOLECULE_DISTRO=$distro molecule --base-config molecule/shared/base.yml "$action" -s "$scenario" 2>&1 \
        | tee ".cache/molecule-$scenario-$distro.log"; then
        echo "=== ok: $scenario on $distro in $(( $(date +%s) - start )) s"
      else
        echo "=== FAILED: $scenario on $distro after $(( $(date +%s) - start )) s"
      fi
    ) 9>".cache/molecule-lock-$scenario"
  done
}

status=0
if [ "$jobs" -gt 1 ] && [ "${#distros[@]}" -gt 1 ]; then
  pids=()
  for idx in "${!distros[@]}"; do
    offset=$(( idx * ${#scenarios[@]} / ${#distros[@]} ))
    distro=${distros[$idx]}
    (run_distro "$distro" "$offset" 2>&1 | sed -u "s/^/[$distro] /" | tee ".cache/molecule-$distro.log") &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
  for distro in "${distros[@]}"; do
    run_distro "$distro" 0 2>&1 | sed -u "s/^/[$distro] /" | tee ".cache/molecule-$distro.log"
  done
fi
logs=()
for distro in "${distros[@]}"; do logs+=(".cache/molecule-$distro.log"); done
summary=$(grep -hE '^\[[a-z0-9]+\] === (ok|FAILED):' "${logs[@]}" | sed 's/^\[[a-z0-9]*\] //' || true)
# The end of each failed scenario's own log (colours stripped, molecule's clean-up left out), so the
# reason is next to the summary and not thousands of lines above it.
while read -r scenario distro; do
  [ -n "$scenario" ] || continue
  echo "=== end of the failed $scenario on $distro (.cache/molecule-$scenario-$distro.log)"
  sed 's/\x1b\[[0-9;]*m//g; /➜ cleanup:/,$d' ".cache/molecule-$scenario-$distro.log" | tail -n 120
done < <(echo "$summary" | sed -n 's/^=== FAILED: \([^ ]*\) on \([^ ]*\) after.*/\1 \2/p')
echo "=== molecule summary"
echo "$summary"
if echo "$summary" | grep -q '^=== FAILED'; then
  echo "molecule: failed: $(echo "$summary" | grep '^=== FAILED' | sed 's/^=== FAILED: //; s/ after.*//' | paste -sd, -)" >&2
  exit 1
fi
exit "$status"
