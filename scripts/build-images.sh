#!/usr/bin/env bash
# Build the local systemd base images (Debian 12 "bookworm", Debian 13 "trixie") with
# debootstrap + docker import when they are missing. No registry is pulled from: the Debian
# mirror is read from this machine's own apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-up.sh
declare -A suites=([debian12]=bookworm [debian13]=trixie)
wanted=("$@")
[ "${#wanted[@]}" -eq 0 ] && wanted=(debian12 debian13)

mirror() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(grep -E '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1)
  fi
  [ -n "$uri" ] || { echo "tlsward: no Debian mirror found in the apt sources" >&2; exit 1; }
  echo "$uri"
}

for distro in "${wanted[@]}"; do
  image="local/${distro}-systemd:latest"
  if docker image inspect "$image" >/dev/null 2>&1; then
    continue
  fi
  suite=${suites[$distro]:?unknown distro $distro}
  command -v debootstrap >/dev/null || scripts/apt-install.sh debootstrap
  root=$(mktemp -d /var/tmp/tlsward-rootfs.XXXXXX)
  echo "tlsward: building $image with debootstrap ($suite)" >&2
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,python3,python3-apt,ca-certificates,iproute2,procps \
    "$suite" "$root" "$(mirror)" >".cache/debootstrap-$distro.log" 2>&1 \
    || { echo "tlsward: debootstrap failed, see .cache/debootstrap-$distro.log" >&2; rm -rf "$root"; exit 1; }
  # Units that make no sense in a container on the host network.
  for unit in systemd-networkd.service systemd-resolved.service systemd-timesyncd.service getty@tty1.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
  rm -rf "$root"
done
