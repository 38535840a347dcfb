"""Device lifecycle and rotation through the real playbooks, against pki1 (and pki2 for fan-out).

Order matters: issue A and B, revoke B, rotate the server certificate under load, then the
bad-input cases (which must leave the hosts untouched).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
import time
from pathlib import Path

import pytest
import testinfra
from conftest import DISTRO, HOSTS, STORE, https_get, pem_certs, run_playbook, served_chain_pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tlsward.testing.certfactory import CertFactory, pem_bundle

PKI1 = f"pki1-{DISTRO}"
PKI2 = f"pki2-{DISTRO}"
testinfra_hosts = [f"ansible://{PKI1}"]
SERVER = "/etc/tlsward/tls/server"


def device(name: str) -> tuple[Path, Path]:
    return STORE / "devices" / name / "chain.pem", STORE / "devices" / name / "privkey.pem"


def refused(address: str, name: str, **kwargs) -> str:
    """How the front end refused the request: a TLS alert or nginx's JSON 400."""
    try:
        reply = https_get(address, name, **kwargs)
    except (ssl.SSLError, ConnectionError) as exc:
        return f"tls: {exc}"
    assert reply.status == 400, reply
    return json.loads(reply.body)["error"]


@pytest.fixture(scope="module")
def devices():
    for name in ("dev-a", "dev-b"):
        result = run_playbook("device_issue.yml", "-e", f"device_id={name}")
        assert result.returncode == 0, result.stdout[-3000:]
    return {name: device(name) for name in ("dev-a", "dev-b")}


def test_issued_device_files_are_private(devices):
    for chain, key in devices.values():
        assert chain.stat().st_mode & 0o777 == 0o600
        assert key.stat().st_mode & 0o777 == 0o600
        assert len(pem_certs(chain.read_text())) == 2


def test_both_devices_complete_mtls_on_every_front_end(devices):
    for address, name in HOSTS.values():
        for chain, key in devices.values():
            reply = https_get(address, name, cert=chain, key=key)
            assert reply.status == 200, reply
            assert json.loads(reply.body) == {"status": "ok"}


def test_no_certificate_is_refused():
    address, name = HOSTS[PKI1]
    assert refused(address, name)


def test_unknown_ca_is_refused(tmp_path):
    factory = CertFactory()
    _root, inter, leaf = factory.hierarchy(names=["dev-x.devices.tlsward.invalid"], eku=("client",))
    (tmp_path / "chain.pem").write_text(pem_bundle(leaf, inter))
    (tmp_path / "key.pem").write_text(leaf.key_pem)
    address, name = HOSTS[PKI1]
    outcome = refused(address, name, cert=tmp_path / "chain.pem", key=tmp_path / "key.pem")
    assert outcome == "client_certificate_invalid" or outcome.startswith("tls:")


def test_revoked_device_refused_other_device_still_works(devices):
    result = run_playbook("device_revoke.yml", "-e", "device_id=dev-b")
    assert result.returncode == 0, result.stdout[-3000:]
    chain_a, key_a = devices["dev-a"]
    chain_b, key_b = devices["dev-b"]
    for address, name in HOSTS.values():  # the CRL reached every front end
        assert refused(address, name, cert=chain_b, key=key_b) == "client_certificate_invalid"
        assert https_get(address, name, cert=chain_a, key=key_a).status == 200


def test_revocation_is_idempotent_and_published():
    again = run_playbook("device_revoke.yml", "-e", "device_id=dev-b")
    assert again.returncode == 0, again.stdout[-3000:]
    text = (STORE / "crl" / "device-ca.revoked.json").read_text()
    assert [r["device_id"] for r in json.loads(text)] == ["dev-b"], (text, again.stdout[-3000:])


def _first_crl(text: str) -> x509.CertificateRevocationList:
    begin = text.index("-----BEGIN X509 CRL-----")
    end = text.index("-----END X509 CRL-----", begin) + len("-----END X509 CRL-----")
    return x509.load_pem_x509_crl(text[begin:end].encode())


def _recap_changed(stdout: str, host: str) -> int:
    plain = re.sub(r"\x1b\[[0-9;]*m", "", stdout)
    line = next(x for x in plain.splitlines() if x.strip().startswith(host) and "changed=" in x)
    return int(line.split("changed=")[1].split()[0])


def test_crl_refresh_resigns_only_when_due(host, devices):
    crl_path = "/etc/tlsward/tls/devices/crl.pem"
    before = host.file(crl_path).content_string
    fresh = run_playbook("crl_refresh.yml")
    assert fresh.returncode == 0, fresh.stdout[-3000:]
    assert _recap_changed(fresh.stdout, PKI1) == 0
    assert host.file(crl_path).content_string == before
    time.sleep(1)  # lastUpdate has a resolution of one second
    due = run_playbook("crl_refresh.yml", "-e", "tls_pki_crl_refresh_days=8")  # > 7-day lifetime
    assert due.returncode == 0, due.stdout[-3000:]
    after = host.file(crl_path).content_string
    assert after != before
    old, new = _first_crl(before), _first_crl(after)
    assert new.last_update_utc > old.last_update_utc
    assert new.next_update_utc > old.next_update_utc
    assert len(list(new)) == 1  # dev-b is still revoked
    address, name = HOSTS[PKI1]
    chain_b, key_b = devices["dev-b"]
    assert refused(address, name, cert=chain_b, key=key_b) == "client_certificate_invalid"


def test_forced_renewal_rotates_without_a_failed_request(host, devices):
    address, name = HOSTS[PKI1]
    chain_a, key_a = devices["dev-a"]
    before = served_chain_pem(address, name)[0]
    pins_before = json.loads(host.file(f"{SERVER}/pins.json").content_string)
    old_release = host.file(f"{SERVER}/current").linked_to
    stop = threading.Event()
    outcomes: list[str] = []

    def client_loop() -> None:  # bounded: at most 5000 requests or 300 s
        deadline = time.monotonic() + 300
        while not stop.is_set() and len(outcomes) < 5000 and time.monotonic() < deadline:
            try:
                reply = https_get(address, name, cert=chain_a, key=key_a)
                outcomes.append("ok" if reply.status == 200 else f"http {reply.status}")
            except (OSError, ssl.SSLError) as exc:
                outcomes.append(f"error {exc}")
            time.sleep(0.02)

    worker = threading.Thread(target=client_loop)
    worker.start()
    try:
        result = run_playbook("pki.yml", "-l", PKI1, "-e", "tls_pki_force_renew=true")
        time.sleep(1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert result.returncode == 0, result.stdout[-3000:]
    after = served_chain_pem(address, name)[0]
    deployed = pem_certs(host.file(f"{SERVER}/fullchain.pem").content_string)[0]
    assert after != before
    assert after == deployed
    failures = [o for o in outcomes if o != "ok"]
    assert len(outcomes) >= 20, outcomes
    assert failures == []
    # renewal keeps the key, so the pins stay valid, and the old pair is the rollback pair
    assert (
        json.loads(host.file(f"{SERVER}/pins.json").content_string)["pin-sha256"] == pins_before["pin-sha256"]
    )
    assert host.file(f"{SERVER}/previous").linked_to == old_release
    assert host.file(f"{SERVER}/previous/privkey.pem").mode == 0o600


def _checksums(host) -> str:
    return host.check_output(
        "find /etc/tlsward/tls /var/lib/tlsward -type f -print0 | sort -z | xargs -0 sha256sum; "
        "find /etc/tlsward/tls -type l -printf '%p -> %l\\n' | sort"
    )


def _provided_vars(tmp_path: Path, fullchain: str, privkey: str, trust: str, environment: str) -> str:
    """Extra vars for a provided-mode run, taking the (valid) device trust from the store."""
    device_ca = (STORE / "ca" / "device-ca.crt").read_text() + (STORE / "ca" / "root.crt").read_text()
    crls = ""
    for ca in ("device-ca", "root"):
        der = (STORE / "crl" / f"{ca}.crl").read_bytes()
        crls += x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM).decode()
    data = {
        "tls_pki_mode": "provided",
        "tls_pki_environment": environment,
        "tls_pki_server_fullchain": fullchain,
        "tls_pki_server_privkey": privkey,
        "tls_pki_server_trust": trust,
        "tls_pki_server_backup_pubkey": privkey,
        "tls_pki_device_ca_bundle": device_ca,
        "tls_pki_device_crl": crls,
    }
    path = tmp_path / "provided.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return f"@{path}"


def _bad_inputs() -> dict[str, tuple[str, str, str, str, str]]:
    factory = CertFactory()
    now = dt.datetime.now(dt.UTC)
    name = HOSTS[PKI2][1]
    root = factory.root()
    expired = factory.intermediate(
        root, not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1)
    )
    leaf_under_expired = factory.leaf(expired, names=[name], days=60)
    good_inter = factory.intermediate(root, slot=5)
    wildcard = factory.leaf(good_inter, names=["*.tlsward.test", name], days=60, slot=6)
    plain = factory.leaf(good_inter, names=[name], days=60, slot=7)
    other_key = factory.leaf(good_inter, names=[name], days=60, slot=8).key_pem
    return {
        "expired intermediate": (
            pem_bundle(leaf_under_expired, expired),
            leaf_under_expired.key_pem,
            root.pem,
            "test",
            "expired",
        ),
        "wildcard in production": (
            pem_bundle(wildcard, good_inter),
            wildcard.key_pem,
            root.pem,
            "production",
            "wildcard",
        ),
        "mismatched key": (pem_bundle(plain, good_inter), other_key, root.pem, "test", "does not match"),
    }


@pytest.mark.parametrize("case", ["expired intermediate", "wildcard in production", "mismatched key"])
def test_bad_input_fails_before_deploying(case, tmp_path):
    target = testinfra.get_host(f"ansible://{PKI2}", ansible_inventory=str(STORE.parent / "inventory"))
    fullchain, privkey, trust, environment, expect = _bad_inputs()[case]
    before = _checksums(target)
    result = run_playbook(
        "pki.yml", "-l", PKI2, "-e", _provided_vars(tmp_path, fullchain, privkey, trust, environment)
    )
    assert result.returncode != 0
    assert f"tls_pki on {PKI2}" in result.stdout
    assert expect in result.stdout
    assert "nothing was deployed" in result.stdout
    assert _checksums(target) == before


def test_provided_chain_is_validated_deployed_and_served(tmp_path):
    target = testinfra.get_host(f"ansible://{PKI2}", ansible_inventory=str(STORE.parent / "inventory"))
    address, name = HOSTS[PKI2]
    root, inter, leaf = CertFactory().hierarchy(names=[name], days=60)
    fullchain = pem_bundle(leaf, inter)
    extra = _provided_vars(tmp_path, fullchain, leaf.key_pem, root.pem, "production")
    result = run_playbook("pki.yml", "-l", PKI2, "-e", extra)
    assert result.returncode == 0, result.stdout[-3000:]
    assert pem_certs(target.file(f"{SERVER}/fullchain.pem").content_string) == pem_certs(fullchain)
    assert served_chain_pem(address, name) == pem_certs(fullchain)
    assert target.file(f"{SERVER}/privkey.pem").mode == 0o600
    (tmp_path / "root.pem").write_text(root.pem)
    chain_a, key_a = device("dev-a")
    assert https_get(address, name, cert=chain_a, key=key_a, cafile=tmp_path / "root.pem").status == 200
