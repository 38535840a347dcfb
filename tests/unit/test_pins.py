from __future__ import annotations

import base64
import hashlib
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from tlsward.errors import TlswardError
from tlsward.pins import spki_pin, spki_pins
from tlsward.testing.certfactory import CertFactory, Issued, pem_bundle


def expected_pin(item: Issued) -> str:
    der = item.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_certificate_key_csr_and_public_key_give_the_same_pin(factory: CertFactory, pki) -> None:
    _root, _inter, leaf = pki
    public = leaf.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    want = expected_pin(leaf)
    assert spki_pin(leaf.pem) == want
    assert spki_pin(leaf.key_pem) == want
    assert spki_pin(public.decode()) == want
    assert spki_pin(public) == want  # bytes
    assert spki_pin(factory.csr(slot=2)) == want
    assert len(base64.b64decode(want)) == 32


def test_known_answer_against_openssl_cli(pki, tmp_path) -> None:
    """pin-sha256 as RFC 7469 computes it with openssl: pkey -pubout -outform der | sha256."""
    _root, _inter, leaf = pki
    (tmp_path / "c.pem").write_text(leaf.pem)
    der = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "c.pem"), "-pubkey", "-noout"],
        capture_output=True,
        check=True,
    ).stdout
    spki = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=der, capture_output=True, check=True
    ).stdout
    assert spki_pin(leaf.pem) == base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_rsa_key_and_encrypted_key(factory: CertFactory) -> None:
    root = factory.root(key="rsa2048", slot=3, hash_name="sha256")
    assert spki_pin(root.pem) == expected_pin(root)
    encrypted = root.encrypted_key_pem(b"s3cret")
    assert spki_pin(encrypted, passphrase="s3cret") == expected_pin(root)
    with pytest.raises(TlswardError, match="encrypted and no passphrase"):
        spki_pin(encrypted)


def test_spki_pins_of_a_bundle_in_order(pki) -> None:
    root, inter, leaf = pki
    want = [expected_pin(leaf), expected_pin(inter), expected_pin(root)]
    assert spki_pins(pem_bundle(leaf, inter, root)) == want


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "no PEM block found"),
        ("not pem at all", "no PEM block found"),
        (None, "no value given"),
        (12, "expected text, got int"),
        (["x"], "expected text, got list"),
        (b"\xff\xfe", "not UTF-8"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PEM block 1"),
        ("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", "holds no public key"),
    ],
)
def test_bad_input_is_a_clean_error(value, message) -> None:
    with pytest.raises(TlswardError, match=message) as info:
        spki_pin(value)
    assert info.value.source == "spki_pin"
