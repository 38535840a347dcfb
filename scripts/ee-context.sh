#!/usr/bin/env bash
# Build what execution-environment.yml copies into the image (the collection tarball and the
# tlsward wheel, into ee/), then the build context with ansible-builder (context/).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
context=${EE_CONTEXT:-context}
rm -rf ee/wheels ee/tlsward-tls-*.tar.gz "$context"
mkdir -p ee/wheels
pip wheel -q --no-deps -w ee/wheels .
ansible-galaxy collection build --force --output-path ee >/dev/null
ansible-builder create -f execution-environment.yml --context "$context" "$@"
