"""The shipped profiles: sources cited, self-consistent, and judged by their own validators."""

from __future__ import annotations

import datetime
import re

import pytest

from tlsward.groups import validate_groups
from tlsward.policy import (
    OVERRIDABLE,
    available_policies,
    effective_tls,
    groups_for,
    load_policy,
    render_nginx,
)
from tlsward.protocols import validate_tls_protocols
from tlsward.suites import validate_cipher_list, validate_tls13_ciphersuites

SHIPPED = ["biometric-strict", "bsi-tr-02102-2", "mozilla-intermediate", "mozilla-modern", "nist-sp800-52r2"]


def test_the_five_profiles_ship() -> None:
    assert set(SHIPPED) <= set(available_policies())


@pytest.mark.parametrize("name", SHIPPED)
def test_every_profile_cites_sources_with_urls(name: str) -> None:
    data = load_policy(name)
    assert data["name"] == name
    for source in data["sources"]:
        assert source["id"]
        assert source["title"]
        assert source["url"].startswith("https://")
        if "date" in source:
            datetime.date.fromisoformat(source["date"])
        for version in source.get("not_verified", []):
            # A version the profile was not checked against is said where a report shows it.
            assert f"{version} not verified" in data["title"]
    ids = {s["id"] for s in data["sources"]}
    for deviation in data["deviations"]:
        assert deviation["id"]
        assert deviation["summary"]
        assert set(deviation.get("sources", [])) <= ids


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("openssl_version", [None, "OpenSSL 3.0.15 3 Sep 2024", "OpenSSL 3.5.1 1 Jul 2025"])
def test_every_profile_passes_its_own_validators(name: str, openssl_version: str | None) -> None:
    tls = effective_tls(name, None, openssl_version)
    assert validate_tls_protocols(tls["protocols"], name) == tls["protocols"]
    if tls["tls12_ciphers"]:
        assert validate_cipher_list(tls["tls12_ciphers"], name) == tls["tls12_ciphers"]
    assert validate_tls13_ciphersuites(tls["tls13_ciphersuites"], name) == tls["tls13_ciphersuites"]
    assert validate_groups(tls["groups"], name, openssl_version) == tls["groups"]
    assert render_nginx(name, openssl_version)["ssl_protocols"]


@pytest.mark.parametrize("name", SHIPPED)
def test_deviation_rejections_are_well_formed(name: str) -> None:
    for deviation in load_policy(name)["deviations"]:
        reject = deviation.get("reject")
        if reject is None:
            continue
        re.compile(reject["match"])
        assert set(reject["in"]) <= set(OVERRIDABLE)
        assert deviation["reason"]


def test_mozilla_and_strict_allow_chacha20_and_x25519_nist_and_bsi_do_not() -> None:
    for name in ("biometric-strict", "mozilla-modern", "mozilla-intermediate"):
        data = load_policy(name)
        assert "TLS_CHACHA20_POLY1305_SHA256" in data["tls13_ciphersuites"]
        assert "X25519" in [g["name"] for g in data["groups"]]
    for name in ("nist-sp800-52r2", "bsi-tr-02102-2"):
        data = load_policy(name)
        assert not any("CHACHA20" in s for s in data["tls12_ciphers"] + data["tls13_ciphersuites"])
        assert "X25519" not in [g["name"] for g in data["groups"]]
        assert {d["id"] for d in data["deviations"]} >= {"no-chacha20", "no-x25519"}


def test_certificate_key_types_say_which_profiles_accept_rsa() -> None:
    assert "RSA" not in load_policy("biometric-strict")["certificate"]["key_types"]
    assert "RSA" not in load_policy("mozilla-modern")["certificate"]["key_types"]
    assert load_policy("mozilla-intermediate")["certificate"]["key_types"]["RSA"] == {"min_bits": 2048}
    assert load_policy("nist-sp800-52r2")["certificate"]["key_types"]["RSA"] == {"min_bits": 2048}
    assert load_policy("bsi-tr-02102-2")["certificate"]["key_types"]["RSA"] == {"min_bits": 3000}
    # SP 800-52r2: the certificate's curve "should be P-256 or P-384".
    assert load_policy("nist-sp800-52r2")["certificate"]["key_types"]["EC"] == {
        "curves": ["secp256r1", "secp384r1"]
    }


def test_published_profiles_keep_to_their_publications_lists() -> None:
    """What the NIST and BSI texts list, less what a deviation says tlsward leaves out."""
    nist = load_policy("nist-sp800-52r2")
    assert nist["tls13_ciphersuites"] == [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    ]
    assert len(nist["tls12_ciphers"]) == 26
    bsi = load_policy("bsi-tr-02102-2")
    assert bsi["tls13_ciphersuites"] == [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_CCM_SHA256",
    ]
    assert len(bsi["tls12_ciphers"]) == 16
    assert not any("CCM8" in s for s in bsi["tls12_ciphers"])
    assert {g["name"] for g in bsi["groups"]} == {
        "prime256v1",
        "secp384r1",
        "secp521r1",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "brainpoolP256r1tls13",
        "brainpoolP384r1tls13",
        "brainpoolP512r1tls13",
        "ffdhe3072",
        "ffdhe4096",
    }
    for data in (nist, bsi):
        assert not any("DSS" in s or s.startswith(("ECDH-", "DH-", "AES")) for s in data["tls12_ciphers"])
        assert {"ephemeral-only", "no-dss"} & {d["id"] for d in data["deviations"]}
    assert [s["version"] for s in bsi["sources"] if s["id"] == "bsi-tr-02102-2"] == ["2024-01"]
    # TR-02102-2 2026-01 could not be quoted: the profile says so instead of claiming it.
    assert [s.get("not_verified") for s in bsi["sources"] if s["id"] == "bsi-tr-02102-2"] == [["2026-01"]]
    assert "NOT VERIFIED AGAINST VERSION 2026-01" in bsi["description"]


# Mozilla Server Side TLS guidelines 6.0 (2026-04-06), ssl-config.mozilla.org/guidelines/6.0.json
MOZILLA_6_0 = {
    "mozilla-modern": {
        "tls_versions": ["TLSv1.3"],
        "ciphers": [],
        "maximum_certificate_lifespan": 90,
        "rsa_key_size": None,
    },
    "mozilla-intermediate": {
        "tls_versions": ["TLSv1.2", "TLSv1.3"],
        "ciphers": [
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-RSA-CHACHA20-POLY1305",
        ],
        "maximum_certificate_lifespan": 366,
        "rsa_key_size": 2048,
    },
}
MOZILLA_6_0_SHARED = {
    "ciphersuites": ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
    "tls_curves": ["X25519MLKEM768", "X25519", "prime256v1", "secp384r1"],
    # certificate_curves prime256v1, secp384r1, in cryptography's names
    "certificate_curves": ["secp256r1", "secp384r1"],
    "hsts_min_age": 63072000,
}


@pytest.mark.parametrize("name", sorted(MOZILLA_6_0))
def test_mozilla_profiles_keep_to_guidelines_6_0(name: str) -> None:
    want = MOZILLA_6_0[name] | MOZILLA_6_0_SHARED
    data = load_policy(name)
    assert data["protocols"]["allowed"] == want["tls_versions"]
    assert data["tls12_ciphers"] == want["ciphers"]
    assert data["tls13_ciphersuites"] == want["ciphersuites"]
    assert [g["name"] for g in data["groups"]] == want["tls_curves"]
    # The hybrid group needs OpenSSL 3.5 (the generator leaves it out below 3.5.0 too).
    assert {g["name"]: g.get("min_openssl") for g in data["groups"] if g.get("min_openssl")} == {
        "X25519MLKEM768": "3.5.0"
    }
    assert groups_for(name, "OpenSSL 3.0.15 3 Sep 2024") == want["tls_curves"][1:]
    assert groups_for(name, "OpenSSL 3.5.1 1 Jul 2025") == want["tls_curves"]
    keys = data["certificate"]["key_types"]
    assert keys["EC"] == {"curves": want["certificate_curves"]}
    assert keys.get("RSA") == ({"min_bits": want["rsa_key_size"]} if want["rsa_key_size"] else None)
    assert data["certificate"]["max_leaf_lifetime_days"] == want["maximum_certificate_lifespan"]
    assert data["hsts"] == {"required": True, "min_max_age": want["hsts_min_age"], "include_subdomains": True}
    assert data["server_cipher_preference"] is False
    versions = {s["id"]: (s.get("version"), s.get("date")) for s in data["sources"]}
    assert versions["mozilla-6.0"] == versions["mozilla-6.0-json"] == ("6.0", "2026-04-06")
    assert "6.0 (2026-04-06)" in data["title"]
    # Where tlsward departs from the guidelines, the profile says so.
    assert {"ocsp", "session"} <= {d["id"] for d in data["deviations"]}


def test_biometric_strict_matches_the_issue() -> None:
    data = load_policy("biometric-strict")
    assert data["protocols"] == {"allowed": ["TLSv1.2", "TLSv1.3"], "required": ["TLSv1.3"]}
    assert data["tls12_ciphers"] == [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ]
    assert [g["name"] for g in data["groups"]] == ["X25519MLKEM768", "X25519", "prime256v1", "secp384r1"]
    assert data["certificate"]["max_leaf_lifetime_days"] == 90
    assert data["mtls"]["required"] is True
    assert data["hsts"]["min_max_age"] >= 63072000
    assert data["server_cipher_preference"] is False
