"""Loading the filter plugins is cheap: Ansible imports every filter file of the collection in each
worker process (one per task and host) that uses a tlsward filter, so a plugin file must not import
its function's dependencies until the filter is called (plugins/plugin_utils/filtering.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter, resolve

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "sslyze",
    "nassl",
    "cryptography",
    "tlsward.scan",
    "tlsward.chain",
    "tlsward.preflight",
    "tlsward.policy",
)

# A fresh interpreter (this test process has imported everything already): load every plugin file
# the way Ansible's loader does, list the filters, then call one.
_PROBE = """
import importlib.util, json, sys
from pathlib import Path
names = []
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location("probe_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names += sorted(module.FilterModule().filters())
heavy = tuple(sys.argv[2].split(","))
loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(tuple(h + "." for h in heavy)))
from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter
call_filter("tls_policy", "tlsward.policy:load_policy", "biometric-strict")
print(json.dumps({"filters": names, "loaded": loaded, "after_call": "tlsward.policy" in sys.modules}))
"""


def _probe() -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(REPO / "plugins" / "filter"), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / ".cache" / "collections")},
    )
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_loading_every_plugin_imports_no_heavy_dependency() -> None:
    result = _probe()
    assert {
        "tls_policy",
        "tls_compliance_endpoints",
        "validate_cert_chain",
        "spki_pin",
        "tls_preflight",
    } <= set(
        result["filters"]  # type: ignore[arg-type]
    )
    assert result["loaded"] == [], f"plugin files imported {result['loaded']} (any of {HEAVY})"
    assert result["after_call"] is True


def test_resolve_imports_the_named_function() -> None:
    func = resolve("tlsward.policy:load_policy")
    assert func("biometric-strict")["name"] == "biometric-strict"
    assert resolve(len) is len


def test_call_filter_with_a_name_keeps_the_error_contract() -> None:
    with pytest.raises(AnsibleFilterError, match=r"^validate_tls_protocols: TLSv1: TLS 1.0 is obsolete"):
        call_filter("validate_tls_protocols", "tlsward.protocols:validate_tls_protocols", ["TLSv1"])
    with pytest.raises(AnsibleFilterError, match=r"^tls_policy: .*unexpected keyword argument"):
        call_filter("tls_policy", "tlsward.policy:load_policy", "biometric-strict", bogus=1)
