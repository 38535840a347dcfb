"""Trust continuity: a store that would replace the CAs a host trusts is reported, naming both
fingerprints; the same CAs, a rollover bundle holding the old CA too, or a new host pass."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tlsward.continuity import ca_fingerprints, check_continuity
from tlsward.errors import TlswardError
from tlsward.testing.certfactory import CertFactory, Issued, pem_bundle


def _fp(item: Issued) -> str:
    return hashlib.sha256(item.cert.public_bytes(Encoding.DER)).hexdigest()


def _pki(factory: CertFactory, tag: str, slot: int) -> dict[str, Issued]:
    root = factory.root(cn=f"{tag} root", slot=slot)
    return {
        "root": root,
        "server-ca": factory.intermediate(root, cn=f"{tag} server CA", slot=slot + 1),
        "device-ca": factory.intermediate(root, cn=f"{tag} device CA", slot=slot + 2),
    }


def _store(tmp_path: Path, pki: dict[str, Issued] | None) -> Path:
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    for name, item in (pki or {}).items():
        (ca_dir / f"{name}.crt").write_text(item.pem)
    return ca_dir


def _deployed(factory: CertFactory, pki: dict[str, Issued]) -> dict[str, str]:
    leaf = factory.leaf(pki["server-ca"], names=["bio.example.test"], eku=["server"], slot=20)
    return {
        "device_ca": pem_bundle(pki["device-ca"], pki["root"]),
        "server_chain": pem_bundle(leaf, pki["server-ca"], pki["root"]),
    }


def test_the_store_the_fleet_was_deployed_from_passes(factory: CertFactory, tmp_path: Path) -> None:
    pki = _pki(factory, "fleet", 1)
    assert check_continuity(_deployed(factory, pki), _store(tmp_path, pki)) == []


def test_an_empty_store_against_a_deployed_host_is_stopped_naming_both_sides(
    factory: CertFactory, tmp_path: Path
) -> None:
    pki = _pki(factory, "fleet", 1)
    problems = check_continuity(_deployed(factory, pki), _store(tmp_path, None))
    assert len(problems) == 2
    device, server = problems
    assert device.startswith(
        "variable tls_pki_store_dir: trust continuity: the run would replace the device CA"
    )
    assert f"sha256:{_fp(pki['device-ca'])}, sha256:{_fp(pki['root'])}" in device
    assert "with the store's (none): the store has no CA" in device
    assert "server chain CAs" in server
    assert f"sha256:{_fp(pki['server-ca'])}" in server


def test_another_ca_in_the_store_is_stopped_with_its_fingerprint(
    factory: CertFactory, tmp_path: Path
) -> None:
    old, new = _pki(factory, "old", 1), _pki(factory, "new", 4)
    problems = check_continuity(_deployed(factory, old), _store(tmp_path, new))
    assert len(problems) == 2
    assert f"with the store's (sha256:{_fp(new['device-ca'])}, sha256:{_fp(new['root'])})" in problems[0]
    assert "the store holds other CAs" in problems[0]


def test_a_host_that_already_trusts_old_and_new_ca_passes(factory: CertFactory, tmp_path: Path) -> None:
    old, new = _pki(factory, "old", 1), _pki(factory, "new", 4)
    deployed = _deployed(factory, new)
    deployed["device_ca"] = pem_bundle(old["device-ca"], old["root"], new["device-ca"], new["root"])
    assert check_continuity(deployed, _store(tmp_path, new)) == []


def test_a_new_host_has_nothing_to_keep(tmp_path: Path) -> None:
    assert check_continuity({"device_ca": "", "server_chain": None}, _store(tmp_path, None)) == []


def test_leaves_are_not_trust_anchors(factory: CertFactory) -> None:
    pki = _pki(factory, "fleet", 1)
    leaf = factory.leaf(pki["server-ca"], names=["bio.example.test"], eku=["server"], slot=20)
    assert ca_fingerprints(pem_bundle(leaf, pki["server-ca"]), "chain") == [_fp(pki["server-ca"])]


def test_bad_input_is_an_error_naming_the_filter(factory: CertFactory, tmp_path: Path) -> None:
    with pytest.raises(TlswardError, match=r"^tls_trust_continuity: unknown trust set\(s\) \['crl'\]"):
        check_continuity({"crl": "x"}, _store(tmp_path, None))
    key_pem = factory.root(slot=9).key_pem
    with pytest.raises(
        TlswardError, match="device CA bundle: PEM block 1 is a PRIVATE KEY, not a certificate"
    ):
        check_continuity({"device_ca": key_pem}, tmp_path)
