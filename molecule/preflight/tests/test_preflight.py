"""site.yml with a bad inventory fails in preflight, naming host, variable and rule; the host is untouched.

Runs the real ``ansible-playbook playbooks/site.yml`` from the controller against the converged
container (Docker connection), once with a weak TLS 1.2 cipher string in the inventory and once
with an expired certificate chain in provided PKI mode, and compares the sha256 of every file
under /etc and /usr/local on the host before and after.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tlsward.testing.certfactory import CertFactory, pem_bundle

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
HOST = f"preflight-{os.environ.get('MOLECULE_DISTRO', 'debian12')}"
SERVER_NAME = "preflight.tlsward.test"
BASE_VARS = {
    "ansible_connection": "community.docker.docker",
    "tlsward_policy": "biometric-strict",
    "tlsward_environment": "test",
    "tlsward_listen_address": "127.0.1.5",
    "tlsward_server_names": [SERVER_NAME],
}
WATCHED = "/etc /usr/local"


def manifest(host) -> dict[str, str]:
    """sha256 of every regular file under the watched trees, by path."""
    out = host.check_output(f"find {WATCHED} -xdev -type f -print0 | sort -z | xargs -0 sha256sum")
    sums = {}
    for line in out.splitlines():
        digest, path = line.split(maxsplit=1)
        sums[path] = digest
    return sums


def run_playbook(tmp_path: Path, playbook: str, host_vars: dict, *extra: str) -> subprocess.CompletedProcess:
    inventory = {"all": {"children": {"frontends": {"hosts": {HOST: {**BASE_VARS, **host_vars}}}}}}
    inv_file = tmp_path / "inventory.yml"
    inv_file.write_text(yaml.safe_dump(inventory))
    # nothing here is vaulted; a throw-away password file keeps ansible.cfg's vault identity quiet
    vault_password = tmp_path / "vault-password"
    vault_password.write_text("unused\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_VAULT_IDENTITY_LIST": f"default@{vault_password}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
    }
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    return subprocess.run(
        [ansible_playbook, "-i", str(inv_file), f"tlsward.tls.{playbook.removesuffix('.yml')}", *extra],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_stopped_in_preflight(result: subprocess.CompletedProcess, expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"host {HOST}: {expected}" in output, output
    tasks = [line for line in result.stdout.splitlines() if line.startswith("TASK [")]
    assert tasks, output
    # only the two preflight tasks ran: nothing of any later play
    assert all(
        t.startswith(("TASK [Judge this host's TLS inputs", "TASK [Stop the run if any host")) for t in tasks
    ), tasks


@pytest.fixture(scope="module")
def expired_pki() -> dict[str, str]:
    factory = CertFactory()
    now = factory.now
    root = factory.root(cn="preflight root")
    inter = factory.intermediate(root, cn="preflight issuing CA")
    leaf = factory.leaf(inter, names=[SERVER_NAME], not_before=now - dt.timedelta(days=100), days=60)
    device_ca = factory.intermediate(root, cn="preflight device CA", slot=4)
    return {
        "tls_pki_mode": "provided",
        "tls_pki_server_fullchain": pem_bundle(leaf, inter),
        "tls_pki_server_privkey": leaf.key_pem,
        "tls_pki_server_trust": root.pem,
        "tls_pki_device_ca_bundle": pem_bundle(device_ca, root),
    }


def test_baseline_was_converged(host) -> None:
    assert host.file("/etc/tlsward/preflight-baseline.conf").contains("policy = biometric-strict")
    assert host.file("/etc/ssl/openssl.cnf").contains("tlsward system-wide TLS policy")


def test_good_inputs_pass_preflight_in_check_mode(host, tmp_path: Path) -> None:
    before = manifest(host)
    result = run_playbook(tmp_path, "preflight.yml", {}, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"host {HOST}: TLS inputs valid for policy biometric-strict" in result.stdout
    assert manifest(host) == before


@pytest.mark.parametrize("check_mode", [False, True])
def test_weak_cipher_string_stops_site_in_preflight(host, tmp_path: Path, check_mode: bool) -> None:
    before = manifest(host)
    weak = {"tlsward_tls12_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA"}
    result = run_playbook(tmp_path, "site.yml", weak, *(["--check"] if check_mode else []))
    assert_stopped_in_preflight(
        result,
        "variable tlsward_tls12_ciphers: validate_cipher_list: ECDHE-RSA-AES128-SHA: "
        "CBC mode (not AEAD) is not allowed by policy biometric-strict",
    )
    assert manifest(host) == before


def test_expired_chain_stops_site_in_preflight(host, tmp_path: Path, expired_pki: dict[str, str]) -> None:
    before = manifest(host)
    result = run_playbook(tmp_path, "site.yml", expired_pki)
    assert_stopped_in_preflight(
        result,
        "variable tls_pki_server_fullchain: validate_cert_chain: "
        f"certificate 1 (leaf CN={SERVER_NAME}): expired on",
    )
    assert "BEGIN PRIVATE KEY" not in result.stdout + result.stderr
    assert manifest(host) == before
