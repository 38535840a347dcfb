#!/usr/bin/env bash
# Every linter, zero findings: yamllint, ruff, ansible-lint (production profile, empty skip_list).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
echo "=== yamllint"
yamllint --strict .
echo "=== ruff"
ruff check .
ruff format --check .
echo "=== ansible-lint"
ansible-lint --offline
