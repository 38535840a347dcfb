#!/usr/bin/env bash
# make demo / make demo-down: a disposable local target (a systemd container on the host
# network, listening on 127.0.1.2), converged with playbooks/site.yml and scanned.
set -euo pipefail
cd "$(dirname "$0")/.."
name=tlsward-demo
distro=${TLSWARD_DEMO_DISTRO:-debian12}
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"

down() {
  if docker info >/dev/null 2>&1; then
    docker rm -f "$name" >/dev/null 2>&1 && echo "tlsward demo: removed container $name" || true
  fi
  scripts/docker-down.sh
}

# The "try it" commands: a verifier and an enroller of group demo (issued when missing), and a
# subject that the enroller enrols, the verifier verifies and the enroller deletes again, all through
# nginx with mutual TLS. They are printed, then run exactly as printed from the repository root
# (so they can be run again as often as wanted); the demo fails when one of them does.
try_it() {
  local devices=.pki/demo/devices cmd out
  local curl="curl -sS --fail-with-body --resolve bio.demo.tlsward.test:443:127.0.1.2"
  local url=https://bio.demo.tlsward.test
  local json="-H 'Content-Type: application/json' -d '{\"modality\":\"face-128\",\"template\":{\"encoding\":\"float-list\",\"values\":[$(printf '0.088388,%.0s' $(seq 127))0.088388]}}'"
  as() { echo "$curl --cacert $devices/$1/ca.pem --cert $devices/$1/chain.pem --key $devices/$1/privkey.pem"; }
  local commands=(
    ".venv/bin/ansible-playbook -i inventories/demo tlsward.tls.device_issue -e device_id=demo-enroller -e device_role=enroller -e device_group=demo"
    ".venv/bin/ansible-playbook -i inventories/demo tlsward.tls.device_issue -e device_id=demo-verifier -e device_role=verifier -e device_group=demo"
    "$(as demo-verifier) $url/healthz"
    "$(as demo-enroller) $json $url/v1/subjects/demo-alice/enroll"
    "$(as demo-verifier) $json $url/v1/subjects/demo-alice/verify"
    "$(as demo-enroller) -X DELETE $url/v1/subjects/demo-alice"
  )
  echo "  PKI store   .pki/demo (root CA: .pki/demo/ca/root.crt; device identities: $devices/<id>/)"
  echo "  try it      from this directory (the demo has just run each of them):"
  for cmd in "${commands[@]}"; do printf '    %s\n' "$cmd"; done
  for cmd in "${commands[@]}"; do
    if ! out=$(bash -c "$cmd" 2>&1); then
      printf 'tlsward demo: this printed command failed:\n  %s\n%s\n' "$cmd" "$(tail -n 20 <<<"$out")" >&2
      return 1
    fi
  done
}

up() {
  local t0
  t0=$(date +%s)
  scripts/build-images.sh "$distro"
  scripts/apt-install.sh curl
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)" != "true" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    echo "tlsward demo: starting $name ($distro, systemd, host network, listeners on 127.0.1.2)"
    docker run -d --name "$name" --hostname "$name" --network host --cgroupns host \
      --cap-add SYS_ADMIN -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
      "local/$distro-systemd:latest" /lib/systemd/systemd >/dev/null
    for _ in $(seq 1 30); do
      state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
      sleep 1
    done
  fi
  echo "tlsward demo: converging tlsward.tls.site against inventories/demo"
  ansible-playbook -i inventories/demo tlsward.tls.site
  echo "tlsward demo: compliance run"
  compliance=0
  ansible-playbook -i inventories/demo tlsward.tls.compliance || compliance=$?
  cat <<MSG

tlsward demo is up ($(( $(date +%s) - t0 )) s).
  target      container $name ($distro), reach it with: docker exec -it $name bash
  endpoint    https://bio.demo.tlsward.test/ on 127.0.1.2:443 (mutual TLS: a device certificate is required)
  policy      $(grep -E '^tlsward_policy:' inventories/demo/group_vars/all/main.yml | awk '{print $2}')
  system TLS  /etc/ssl/tlsward/system-default.cnf inside the container
MSG
  try_it
  latest=$(ls -1d reports/*/ 2>/dev/null | tail -1 || true)
  [ -n "$latest" ] && echo "  report      ${latest}report.html"
  echo "  remove it   make demo-down"
  if [ "$compliance" -ne 0 ]; then
    echo "tlsward demo: the compliance run failed (exit $compliance, see above)" >&2
    return "$compliance"
  fi
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
