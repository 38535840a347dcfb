#!/usr/bin/env bash
# ansible-test sanity on what the collection ships: build the tarball, install it into a
# directory outside this checkout (inside it, ansible-test would list the files git tracks here,
# and the installed copy has none) and run the sanity tests there, with the
# controller's Python (--local: the tests' pinned tools go into their own virtual environments,
# which ansible-test creates itself; no container runtime is needed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
py=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# ansible-test bootstraps pip in each virtual environment with a script it would download; it
# reads it from this cache first (the name carries the pip version it pins).
pip_version=$(python - <<'PY'
import re, ansible_test, pathlib
text = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
PY
)
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp scripts/ansible-test-get-pip.py "$cache/get_pip_${pip_version//./_}.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsward-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection build --force --output-path "$work/dist" >/dev/null
ansible-galaxy collection install --force --no-deps -p "$work/collections" "$work"/dist/tlsward-tls-*.tar.gz \
  2>&1 | grep -v 'is not part of the configured Ansible collections paths' || true
cd "$work/collections/ansible_collections/tlsward/tls"
ansible-test sanity --local --python "$py" --color no "$@"
