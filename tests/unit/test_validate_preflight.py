"""tlsward.preflight.check_host: what preflight reports for one host's variables."""

from __future__ import annotations

import datetime as dt

import pytest

from tlsward.preflight import check_host
from tlsward.testing.certfactory import CertFactory, pem_bundle

NAME = "bio.example.test"


@pytest.fixture(scope="module")
def real_time_pki() -> dict:
    """A valid provided-mode PKI relative to the real clock (preflight uses the current time)."""
    factory = CertFactory()
    root = factory.root(cn="pf root")
    inter = factory.intermediate(root, cn="pf issuing CA")
    leaf = factory.leaf(inter, names=[NAME, "alt.example.test"])
    device_ca = factory.intermediate(root, cn="pf device CA", slot=4)
    return {
        "factory": factory,
        "root": root,
        "inter": inter,
        "leaf": leaf,
        "vars": {
            "tlsward_server_names": [NAME, "alt.example.test"],
            "tls_pki_mode": "provided",
            "tls_pki_server_fullchain": pem_bundle(leaf, inter),
            "tls_pki_server_privkey": leaf.key_pem,
            "tls_pki_server_trust": root.pem,
            "tls_pki_device_ca_bundle": pem_bundle(device_ca, root),
        },
    }


def test_defaults_are_valid() -> None:
    assert check_host({}) == []
    assert check_host({"tlsward_policy": "biometric-strict", "tlsward_tls12_ciphers": None}) == []


@pytest.mark.parametrize(
    "policy", ["mozilla-modern", "mozilla-intermediate", "nist-sp800-52r2", "bsi-tr-02102-2"]
)
def test_every_profile_alone_is_valid(policy: str) -> None:
    assert check_host({"tlsward_policy": policy}) == []


def test_overrides_are_named_by_variable() -> None:
    problems = check_host(
        {
            "tlsward_tls12_ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA",
            "tlsward_protocols": ["TLSv1.1", "TLSv1.2", "TLSv1.3"],
            "tlsward_groups": "X25519:secp521r1",
            "tlsward_tls13_ciphersuites": "TLS_AES_128_CCM_8_SHA256",
        }
    )
    assert (
        "variable tlsward_tls12_ciphers: validate_cipher_list: ECDHE-RSA-AES128-SHA: "
        "CBC mode (not AEAD) is not allowed by policy biometric-strict"
    ) in problems
    assert any(p.startswith("variable tlsward_protocols: validate_tls_protocols: TLSv1.1:") for p in problems)
    assert any(p.startswith("variable tlsward_groups: validate_groups: secp521r1:") for p in problems)
    assert any(
        p.startswith("variable tlsward_tls13_ciphersuites: validate_tls13_ciphersuites:") for p in problems
    )


def test_unknown_policy_and_unknown_override_type() -> None:
    assert check_host({"tlsward_policy": "nope"})[0].startswith(
        "variable tlsward_policy: tls_preflight: unknown policy 'nope'"
    )
    assert check_host([1, 2]) == ["tls_preflight: expected a mapping of host variables, got list"]
    problems = check_host({"tlsward_groups": 7})
    assert problems
    assert problems[0].startswith("variable tlsward_groups")


def test_tls12_cipher_override_checked_even_when_tls12_is_off() -> None:
    problems = check_host({"tlsward_policy": "mozilla-modern", "tlsward_tls12_ciphers": "HIGH"})
    assert any("TLS 1.2 is not allowed by policy mozilla-modern" in p for p in problems)


def test_wildcard_server_name_in_production() -> None:
    problems = check_host({"tlsward_environment": "production", "tlsward_server_names": ["*.example.test"]})
    assert problems == [
        "variable tlsward_server_names: tls_preflight: *.example.test: wildcard names are not allowed "
        "in production by policy biometric-strict"
    ]
    assert check_host({"tlsward_environment": "staging", "tlsward_server_names": ["*.example.test"]}) == []


def test_provided_pki_valid(real_time_pki: dict) -> None:
    assert check_host(real_time_pki["vars"]) == []


def test_provided_pki_missing_inputs() -> None:
    problems = check_host({"tls_pki_mode": "provided"})
    assert (
        "variable tls_pki_server_fullchain: tls_preflight: required when tls_pki_mode is provided" in problems
    )
    assert (
        "variable tls_pki_server_privkey: tls_preflight: required when tls_pki_mode is provided" in problems
    )
    assert any(p.startswith("variable tls_pki_device_ca_bundle: tls_preflight: required") for p in problems)


def test_provided_pki_problems_are_attributed_to_the_right_variable(real_time_pki: dict) -> None:
    factory: CertFactory = real_time_pki["factory"]
    inter, root = real_time_pki["inter"], real_time_pki["root"]
    expired = factory.leaf(inter, names=[NAME], not_before=factory.now - dt.timedelta(days=100), days=60)
    other_key = factory.leaf(inter, names=[NAME], slot=14)
    variables = {
        **real_time_pki["vars"],
        "tlsward_server_names": [NAME],
        "tls_pki_server_fullchain": pem_bundle(expired, inter),
        "tls_pki_server_privkey": other_key.key_pem,
        "tls_pki_device_ca_bundle": "garbage",
    }
    problems = check_host(variables)
    assert any(
        p.startswith(
            f"variable tls_pki_server_fullchain: validate_cert_chain: certificate 1 (leaf CN={NAME}): expired"
        )
        for p in problems
    )
    assert any(
        p.startswith("variable tls_pki_server_privkey: validate_cert_chain: private_key:") for p in problems
    )
    assert any(p.startswith("variable tls_pki_device_ca_bundle: validate_ca_bundle:") for p in problems)
    trust_problems = check_host({**real_time_pki["vars"], "tls_pki_server_trust": "junk"})
    assert any(
        p.startswith("variable tls_pki_server_trust: validate_cert_chain: trust:") for p in trust_problems
    )
    del root


def test_every_server_name_must_be_covered(real_time_pki: dict) -> None:
    problems = check_host({**real_time_pki["vars"], "tlsward_server_names": [NAME, "missing.example.test"]})
    assert problems == [
        "variable tls_pki_server_fullchain: validate_cert_chain: certificate 1: does not cover "
        "tlsward_server_names entry 'missing.example.test'"
    ]
