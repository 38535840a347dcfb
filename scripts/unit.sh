#!/usr/bin/env bash
# pytest: unit tests, integration tests against real nginx/openssl/PostgreSQL on loopback,
# and the service's own suite. Installs the Debian packages the integration tests need.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/apt-install.sh nginx-light openssl testssl.sh postgresql chromium
export PATH="$PWD/.venv/bin:$PATH"
# the slowest tests are listed, so a run that grows shows where
pytest --durations=15 "$@"
