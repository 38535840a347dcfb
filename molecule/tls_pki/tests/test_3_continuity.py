"""Trust continuity through the real playbooks: a fresh, empty store (what a new checkout or an
ephemeral job container has) against a front end that trusts the scenario's CA stops the whole
run in preflight, names the host and both fingerprints, creates no CA, and leaves every file the
host trusts unchanged."""

from __future__ import annotations

import hashlib

from conftest import DISTRO, STORE, run_playbook
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

PKI1 = f"pki1-{DISTRO}"
testinfra_hosts = [f"ansible://{PKI1}"]
TRUSTED = ("/etc/tlsward/tls/devices/ca.pem", "/etc/tlsward/tls/server/fullchain.pem")


def _fingerprint(path: str) -> str:
    cert = x509.load_pem_x509_certificate((STORE / "ca" / path).read_bytes())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def test_an_empty_store_stops_the_run_in_preflight_and_changes_nothing(host, tmp_path):
    before = {path: host.file(path).sha256sum for path in TRUSTED}
    empty = tmp_path / "fresh-store"
    result = run_playbook("site.yml", "-l", PKI1, "-e", f"tls_pki_store_dir={empty}")
    # the YAML callback folds long lines and doubles single quotes
    output = " ".join((result.stdout + result.stderr).replace("''", "'").split())
    assert result.returncode == 2, output  # a failed host, not a crash (1/4/5) or success (0)
    prefix = f"host {PKI1}: variable tls_pki_store_dir: trust continuity: the run would replace the"
    assert f"{prefix} device CA bundle" in output, output
    assert f"{prefix} server chain CAs" in output, output
    assert f"sha256:{_fingerprint('device-ca.crt')}" in output
    assert f"sha256:{_fingerprint('root.crt')}" in output
    assert "with the store's (none): the store has no CA" in output
    # stopped before the PKI play: no CA was minted, and what the host trusts is untouched
    assert not (empty / "ca").exists()
    assert "PLAY [Preflight - keep the CAs the front ends trust]" in output
    assert "PLAY [Certificates and device trust]" not in output
    assert {path: host.file(path).sha256sum for path in TRUSTED} == before


def test_the_store_the_fleet_came_from_passes_preflight():
    result = run_playbook("preflight.yml", "-l", PKI1)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    assert f"host {PKI1}: the store holds the CAs this host trusts" in output
