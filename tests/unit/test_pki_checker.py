"""The host-side checker tls_pki uses as ``validate:`` for every certificate, key and CRL write."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tlsward.testing.certfactory import CertFactory, Issued, pem_bundle

CHECKER = Path(__file__).resolve().parents[2] / "roles/tls_pki/files/usr/local/libexec/tlsward/tls-pki-check"


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(CHECKER), *map(str, args)], capture_output=True, text=True, timeout=30, check=False
    )


def crl_pem(issuer: Issued) -> str:
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=7))
        .sign(issuer.key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def pki() -> dict[str, Issued]:
    factory = CertFactory()
    root, inter, leaf = factory.hierarchy(names=["pki.example.test"])
    other_root = factory.root(cn="unrelated root", slot=9)
    other_key_leaf = factory.leaf(inter, names=["pki.example.test"], slot=10)
    return {"root": root, "inter": inter, "leaf": leaf, "other_root": other_root, "other": other_key_leaf}


def test_chain_accepts_a_bundle_and_refuses_garbage(tmp_path, pki):
    good = tmp_path / "fullchain.pem"
    good.write_text(pem_bundle(pki["leaf"], pki["inter"]))
    assert check("chain", good).returncode == 0
    bad = tmp_path / "bad.pem"
    bad.write_text(pem_bundle(pki["leaf"]).replace("MII", "XXX", 1))
    result = check("chain", bad)
    assert result.returncode == 1
    assert "cannot be parsed" in result.stderr
    empty = tmp_path / "empty.pem"
    empty.write_text(pki["leaf"].key_pem)
    assert "no certificate" in check("chain", empty).stderr


def test_key_must_match_the_first_certificate(tmp_path, pki):
    chain = tmp_path / "fullchain.pem"
    chain.write_text(pem_bundle(pki["leaf"], pki["inter"]))
    key = tmp_path / "privkey.pem"
    key.write_text(pki["leaf"].key_pem)
    assert check("key", key, chain).returncode == 0
    key.write_text(pki["other"].key_pem)
    result = check("key", key, chain)
    assert result.returncode == 1
    assert "does not match" in result.stderr


def test_every_crl_must_be_signed_by_a_ca_of_the_bundle(tmp_path, pki):
    bundle = tmp_path / "ca.pem"
    bundle.write_text(pem_bundle(pki["inter"], pki["root"]))
    crls = tmp_path / "crl.pem"
    crls.write_text(crl_pem(pki["inter"]) + crl_pem(pki["root"]))
    assert check("crl", crls, bundle).returncode == 0
    crls.write_text(crl_pem(pki["inter"]) + crl_pem(pki["other_root"]))
    result = check("crl", crls, bundle)
    assert result.returncode == 1
    assert "CRL 2 is not signed" in result.stderr


def test_unknown_mode_is_a_usage_error():
    result = check("frobnicate")
    assert result.returncode == 1
    assert "usage" in result.stderr
