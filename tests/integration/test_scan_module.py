"""The tls_scan module ad hoc (`ansible localhost -m tls_scan -a ...`), as the issue asks, and with a list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import scan_endpoints as se

pytestmark = pytest.mark.integration


def _adhoc(repo: Path, args: str, tmp: Path) -> dict[str, Any]:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(repo / "ansible.cfg"),
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOCAL_TEMP": str(tmp),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
    }
    # No interpreter option: inventories/demo/host_vars/localhost.yml points localhost at the venv.
    result = subprocess.run(
        ["ansible", "localhost", "-m", "tlsward.tls.tls_scan", "-a", args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_adhoc_scan_of_one_endpoint(
    repo_root: Path, scan_fleet: list[se.Endpoint], scan_material: se.Pki, tmp_path: Path
) -> None:
    identity = f"client_cert={scan_material.device[0]} client_key={scan_material.device[1]}"
    common = f"port={se.PORT} server_name={se.SERVER_NAME} policy=biometric-strict"
    common += f" ca_file={scan_material.server_ca}"
    good = _adhoc(repo_root, f"host=127.0.2.10 {common} {identity}", tmp_path)
    assert good["compliant"] is True
    assert good["changed"] is False
    assert all(f["passed"] for f in good["findings"])
    bad = _adhoc(repo_root, f"host=127.0.2.11 {common} {identity} fail_severity=high", tmp_path)
    assert bad["compliant"] is False
    failed = {f["id"] for f in bad["findings"] if not f["passed"]}
    assert "protocol.tls1_0" in failed


def test_endpoint_list_in_one_call(
    repo_root: Path, scan_fleet: list[se.Endpoint], scan_material: se.Pki, tmp_path: Path
) -> None:
    endpoints = [
        {"name": "a", "host": "127.0.2.10", "port": se.PORT, "server_name": se.SERVER_NAME},
        {"name": "b", "host": "127.0.2.19", "port": se.PORT, "server_name": se.SERVER_NAME},
    ]
    args = json.dumps(
        {
            "endpoints": endpoints,
            "ca_file": str(scan_material.server_ca),
            "client_cert": str(scan_material.device[0]),
            "client_key": str(scan_material.device[1]),
            "record_dir": str(tmp_path / "records"),
        }
    )
    out = _adhoc(repo_root, args, tmp_path)
    assert [r["name"] for r in out["results"]] == ["a", "b"]
    assert [r["compliant"] for r in out["results"]] == [True, False]
    assert out["compliant"] is False
    assert sorted(p.name for p in (tmp_path / "records").iterdir()) == ["a.json", "b.json"]


def test_bad_input_names_the_endpoint_and_option(repo_root: Path, tmp_path: Path) -> None:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(repo_root / "ansible.cfg"),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
    }
    args = json.dumps({"endpoints": [{"name": "x", "host": "127.0.2.10", "client_cert": "/nonexistent.pem"}]})
    result = subprocess.run(
        ["ansible", "localhost", "-m", "tlsward.tls.tls_scan", "-a", args],
        cwd=repo_root,
        env={**env, "ANSIBLE_LOCAL_TEMP": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "x: client_cert and client_key go together" in result.stdout
