#!/usr/bin/env bash
# Make this checkout reachable as the collection tlsward.tls: .cache/collections is the
# collections path of ansible.cfg, molecule and the tests, and its ansible_collections/tlsward/tls
# is a link to the repository root (the collection root).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/collections/ansible_collections/tlsward
ln -sfn ../../../.. .cache/collections/ansible_collections/tlsward/tls
test -f .cache/collections/ansible_collections/tlsward/tls/galaxy.yml
