"""validate_cert_chain / validate_ca_bundle / judge_certificate: one test per rule, valid and invalid."""

from __future__ import annotations

import datetime as dt

import pytest

from tlsward.chain import (
    describe_certificate,
    hostname_matches,
    judge_certificate,
    validate_ca_bundle,
    validate_cert_chain,
)
from tlsward.errors import TlswardError
from tlsward.testing.certfactory import CertFactory, openssl_issue, pem_bundle

HOST = "api.example.test"
DAY = dt.timedelta(days=1)


def problems_of(bundle: str, **kwargs) -> list[str]:
    with pytest.raises(TlswardError) as info:
        validate_cert_chain(bundle, **kwargs)
    assert info.value.source == "validate_cert_chain"
    return info.value.problems


def test_valid_server_chain_returns_a_summary_per_certificate(pki, now) -> None:
    root, inter, leaf = pki
    result = validate_cert_chain(
        pem_bundle(leaf, inter), trust=root.pem, hostname=HOST, private_key=leaf.key_pem, now=now
    )
    assert result["policy"] == "biometric-strict"
    assert [c["key"] for c in result["certificates"]] == ["EC secp256r1", "EC secp256r1"]
    first = result["certificates"][0]
    assert first["subject"] == "CN=api.example.test,O=tlsward tests"
    assert first["issuer"] == "CN=tlsward test issuing CA,O=tlsward tests"
    assert first["days_left"] == 59
    assert first["san"] == [HOST]
    assert first["spki_sha256"] == result["leaf_spki_sha256"]
    assert result["verified_path"][-1] == "CN=tlsward test root,O=tlsward tests"


def test_valid_client_chain(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    device = factory.leaf(inter, names=["device-0001.devices.example.test"], eku=["client"], slot=11)
    result = validate_cert_chain(pem_bundle(device, inter), trust=root.pem, usage="client", now=now)
    assert result["usage"] == "client"


DEVICE_URIS = ["urn:tlsward:device:kiosk-1", "urn:tlsward:role:verifier", "urn:tlsward:group:site-a"]


@pytest.mark.parametrize("names", [DEVICE_URIS, ["spiffe://tlsward.test/site-a/kiosk-1"]])
def test_client_certificate_whose_only_san_is_a_uri_is_valid(factory: CertFactory, pki, now, names) -> None:
    """A device certificate (or a SPIFFE X.509-SVID) names its identity in URI SANs only."""
    root, inter, _leaf = pki
    device = factory.leaf(inter, names=names, cn="kiosk-1", eku=["client"], slot=13)
    result = validate_cert_chain(pem_bundle(device, inter), trust=root.pem, usage="client", now=now)
    assert result["usage"] == "client"
    assert result["verified_path"][0] == "CN=kiosk-1,O=tlsward tests"


def test_uri_only_san_is_not_enough_for_a_server(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, names=DEVICE_URIS, cn=HOST, eku=["server", "client"], slot=13)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("has no DNS or IP subjectAltName" in p for p in problems)
    validate_cert_chain(pem_bundle(leaf, inter), trust=root.pem, now=now, usage="client")


def test_client_certificate_without_any_san_is_refused(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    device = factory.leaf(inter, names=[], cn="kiosk-1", eku=["client"], slot=13)
    problems = problems_of(pem_bundle(device, inter), trust=root.pem, usage="client", now=now)
    assert any("has no subjectAltName" in p and "urn:tlsward:device:" in p for p in problems)


def test_root_at_the_end_of_the_bundle_is_used_as_anchor_when_no_trust_given(pki, now) -> None:
    root, inter, leaf = pki
    result = validate_cert_chain(pem_bundle(leaf, inter, root), hostname=HOST, now=now)
    assert len(result["verified_path"]) == 3


def test_trust_may_be_a_list(pki, now) -> None:
    root, inter, leaf = pki
    assert validate_cert_chain(pem_bundle(leaf, inter), trust=[root.pem], now=now)["hostname"] is None


def test_expired_intermediate_is_reported_with_the_verifier_error(factory: CertFactory, pki, now) -> None:
    root, _inter, _leaf = pki
    inter = factory.intermediate(root, not_before=now - 400 * DAY, days=300, slot=21)
    leaf = factory.leaf(inter)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("certificate 2 (intermediate CN=tlsward test issuing CA): expired on" in p for p in problems)
    assert any(p.startswith("path validation failed") for p in problems)


def test_intermediate_expiring_within_min_days_left(factory: CertFactory, pki, now) -> None:
    root, _inter, _leaf = pki
    inter = factory.intermediate(root, not_before=now - 300 * DAY, not_after=now + 20 * DAY, slot=22)
    leaf = factory.leaf(inter, days=10)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("certificate 2" in p and "20 days left (minimum 30)" in p for p in problems)
    assert any("certificate 1" in p and "days left (minimum 30)" in p for p in problems)
    # a lower threshold accepts the same chain
    validate_cert_chain(pem_bundle(leaf, inter), trust=root.pem, now=now, min_days_left=5)


def test_not_yet_valid_leaf(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, not_before=now + 2 * DAY)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("certificate 1" in p and "not yet valid" in p for p in problems)


def test_sha1_signed_intermediate(factory: CertFactory, pki, now) -> None:
    root, _inter, _leaf = pki
    inter = openssl_issue(root, "sha1 issuing CA", digest="sha1")
    leaf = factory.leaf(inter)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem)
    assert "certificate 2 (intermediate CN=sha1 issuing CA): SHA-1 signature is never allowed" in problems
    assert not any("incomplete" in p for p in problems)  # it IS issued by the root, only badly signed


def test_rsa_1024_leaf(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, key="rsa1024", slot=1)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, policy="mozilla-intermediate")
    assert any("key RSA 1024: RSA key smaller than 2048 bits" in p for p in problems)


def test_rsa_leaf_rejected_by_ec_only_policy_but_allowed_by_mozilla_intermediate(
    factory: CertFactory, pki, now
) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, key="rsa2048", slot=1)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("RSA keys are not allowed by policy biometric-strict" in p for p in problems)
    validate_cert_chain(pem_bundle(leaf, inter), trust=root.pem, now=now, policy="mozilla-intermediate")


def test_p521_leaf_rejected_by_curve_list(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, key="ec521", slot=1)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("key EC secp521r1: curve not allowed" in p for p in problems)


def test_wildcard_forbidden_in_production_only(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, names=["*.example.test"])
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, environment="production")
    assert any("wildcard name *.example.test is not allowed in production" in p for p in problems)
    validate_cert_chain(pem_bundle(leaf, inter), trust=root.pem, now=now, environment="staging")


def test_cn_only_certificate(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, names=[], cn=HOST)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, hostname=HOST)
    assert any("has no subjectAltName" in p for p in problems)


def test_mismatched_private_key(pki, factory: CertFactory, now) -> None:
    root, inter, leaf = pki
    other = factory.leaf(inter, slot=12)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, private_key=other.key_pem)
    assert len(problems) == 1
    assert problems[0].startswith("private_key: does not match certificate 1")


def test_encrypted_private_key_needs_the_passphrase(pki, now) -> None:
    root, inter, leaf = pki
    encrypted = leaf.encrypted_key_pem(b"pw")
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, private_key=encrypted)
    assert problems == ["private_key: the private key is encrypted and no passphrase was given"]
    validate_cert_chain(
        pem_bundle(leaf, inter), trust=root.pem, now=now, private_key=encrypted, private_key_passphrase="pw"
    )


def test_wrong_eku(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    client_leaf = factory.leaf(inter, eku=["client"])
    problems = problems_of(pem_bundle(client_leaf, inter), trust=root.pem, now=now)
    assert any("extendedKeyUsage lacks serverAuth (has: clientAuth)" in p for p in problems)
    no_eku = factory.leaf(inter, eku=None)
    problems = problems_of(pem_bundle(no_eku, inter), trust=root.pem, now=now, usage="client")
    assert any("has no extendedKeyUsage extension (clientAuth required)" in p for p in problems)


def test_reversed_chain(pki, now) -> None:
    root, inter, leaf = pki
    problems = problems_of(pem_bundle(inter, leaf), trust=root.pem, now=now)
    assert problems[0].startswith("the bundle is in reverse order")


def test_incomplete_chain(pki, now) -> None:
    root, _inter, leaf = pki
    problems = problems_of(pem_bundle(leaf), trust=root.pem, now=now)
    assert any(p.startswith("the chain is incomplete") for p in problems)


def test_unrelated_certificate_in_the_middle(factory: CertFactory, pki, now) -> None:
    root, inter, leaf = pki
    stranger = factory.root(cn="unrelated root", slot=9)
    problems = problems_of(pem_bundle(leaf, stranger, inter), trust=root.pem, now=now)
    assert any("did not issue certificate 1" in p for p in problems)


def test_untrusted_root(factory: CertFactory, pki, now) -> None:
    _root, inter, leaf = pki
    other_root = factory.root(cn="other root", slot=9)
    problems = problems_of(pem_bundle(leaf, inter), trust=other_root.pem, now=now)
    assert any(p.startswith("the chain is incomplete") for p in problems)
    assert any(p.startswith("path validation failed") for p in problems)


def test_leaf_lifetime_per_policy(factory: CertFactory, pki, now) -> None:
    root, inter, _leaf = pki
    leaf = factory.leaf(inter, days=120)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now)
    assert any("lifetime 120 days exceeds 90 days allowed by policy biometric-strict" in p for p in problems)
    validate_cert_chain(pem_bundle(leaf, inter), trust=root.pem, now=now, policy="mozilla-intermediate")


def test_hostname_mismatch(pki, now) -> None:
    root, inter, leaf = pki
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, hostname="other.example.test")
    assert any("does not cover hostname 'other.example.test'" in p for p in problems)


def test_every_problem_is_reported_at_once(factory: CertFactory, pki, now) -> None:
    root, _inter, _leaf = pki
    inter = factory.intermediate(root, not_before=now - 400 * DAY, days=300, slot=21)
    leaf = factory.leaf(inter, names=["*.example.test"], key="rsa1024", slot=1, eku=["client"], days=200)
    problems = problems_of(pem_bundle(leaf, inter), trust=root.pem, now=now, private_key=root.key_pem)
    text = "\n".join(problems)
    rules = ["RSA keys are not allowed", "lacks serverAuth", "wildcard", "lifetime 200 days"]
    rules += ["certificate 2", "expired", "private_key: does not match", "path validation failed"]
    for rule in rules:
        assert rule in text, rule


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"usage": "both"}, "usage must be 'server' or 'client'"),
        ({"policy": "no-such-policy"}, "unknown policy 'no-such-policy'"),
        ({"policy": 7}, "policy must be a profile name or a mapping"),
        ({"min_days_left": "soon"}, "min_days_left must be an integer"),
        ({"min_days_left": -1}, "must not be negative"),
        ({"trust": "junk"}, "trust: no PEM CERTIFICATE block"),
        ({"hostname": 5}, "hostname: expected text"),
    ],
)
def test_bad_options_are_clean_errors(pki, kwargs, message) -> None:
    root, inter, leaf = pki
    kwargs.setdefault("trust", root.pem)
    with pytest.raises(TlswardError, match=message):
        validate_cert_chain(pem_bundle(leaf, inter), **kwargs)


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ("", "no PEM CERTIFICATE block"),
        ("hello", "no PEM CERTIFICATE block"),
        ("-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n", "PEM block 1 cannot"),
        ("-----BEGIN PRIVATE KEY-----\nbm9wZQ==\n-----END PRIVATE KEY-----\n", "not a CERTIFICATE"),
        (None, "no value given"),
        ({"a": 1}, "expected text, got dict"),
    ],
)
def test_bad_bundles_are_clean_errors(bundle, message) -> None:
    with pytest.raises(TlswardError, match=message):
        validate_cert_chain(bundle)


def test_judge_certificate_is_usable_alone(pki, now) -> None:
    _root, inter, leaf = pki
    assert judge_certificate(leaf.cert, now=now, hostname=HOST) == []
    assert judge_certificate(inter.cert, role="intermediate", now=now) == []
    assert "is a CA certificate" in judge_certificate(inter.cert, role="leaf", now=now)[0]
    assert describe_certificate(leaf.cert, now)["key"] == "EC secp256r1"


@pytest.mark.parametrize(
    ("names", "host", "expected"),
    [
        (["api.example.test"], "API.example.test", True),
        (["*.example.test"], "api.example.test", True),
        (["*.example.test"], "a.b.example.test", False),
        (["*.example.test"], "example.test", False),
        (["127.0.1.5"], "127.0.1.5", True),
        (["api.example.test"], "127.0.1.5", False),
    ],
)
def test_hostname_matching(factory: CertFactory, pki, names, host, expected) -> None:
    _root, inter, _leaf = pki
    assert hostname_matches(factory.leaf(inter, names=names).cert, host) is expected


def test_ca_bundle_valid_and_invalid(factory: CertFactory, pki, now) -> None:
    root, inter, leaf = pki
    assert len(validate_ca_bundle(pem_bundle(inter, root), now=now)["certificates"]) == 2
    with pytest.raises(TlswardError) as info:
        validate_ca_bundle(pem_bundle(leaf, inter), now=now)
    text = "\n".join(info.value.problems)
    assert "is not a CA certificate" in text
    assert "CN=tlsward test issuing CA" in text
    assert "is not in the bundle" in text
    expired_root = factory.root(cn="old root", not_before=now - 100 * DAY, days=90, slot=13)
    with pytest.raises(TlswardError, match="expired on"):
        validate_ca_bundle(expired_root.pem, now=now)
