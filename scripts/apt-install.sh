#!/usr/bin/env bash
# Install Debian packages that are missing, quietly, without letting a package start its
# service on install (nginx's stock site would otherwise listen on every address).
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tlsward: missing packages ${missing[*]}; install them as root" >&2
  exit 1
fi
stamp=/var/lib/apt/periodic/tlsward-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360)" ]; then
  apt-get update -q >/dev/null
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
cleanup_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  cleanup_policy=1
fi
trap '[ "$cleanup_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
