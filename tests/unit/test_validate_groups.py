from __future__ import annotations

import pytest

from tlsward.errors import TlswardError
from tlsward.groups import canonical_group, judge_group, validate_groups

OLD = "OpenSSL 3.0.15 3 Sep 2024"
NEW = "OpenSSL 3.5.1 1 Jul 2025"


def problems(value, policy=None, openssl_version=None) -> list[str]:
    with pytest.raises(TlswardError) as info:
        validate_groups(value, policy, openssl_version)
    assert info.value.source == "validate_groups"
    return info.value.problems


def test_profile_order_and_aliases() -> None:
    assert validate_groups("X25519:prime256v1:secp384r1") == ["X25519", "prime256v1", "secp384r1"]
    assert validate_groups(["x25519", "P-256", "secp256r1"][:2]) == ["X25519", "prime256v1"]
    assert canonical_group("secp256r1") == "prime256v1"


def test_hybrid_group_is_optional_and_version_gated() -> None:
    assert validate_groups("X25519MLKEM768:X25519:prime256v1", openssl_version=NEW)[0] == "X25519MLKEM768"
    assert validate_groups("X25519MLKEM768:X25519") == ["X25519MLKEM768", "X25519"]
    found = problems("X25519MLKEM768:X25519", openssl_version=OLD)
    assert found == ["X25519MLKEM768: needs OpenSSL >= 3.5.0; the target has 3.0.15"]
    assert problems("X25519MLKEM768")[0].startswith("every group listed needs a recent OpenSSL")


def test_nist_and_bsi_reject_x25519_with_their_reason_mozilla_allows_it() -> None:
    assert validate_groups("X25519:prime256v1", "mozilla-modern") == ["X25519", "prime256v1"]
    for policy in ("nist-sp800-52r2", "bsi-tr-02102-2"):
        found = problems("X25519:prime256v1", policy)
        assert any("deviation no-x25519" in p for p in found)
        assert any(f"not one of the groups allowed by policy {policy}" in p for p in found)


def test_bsi_rejects_small_ffdhe_and_accepts_brainpool() -> None:
    assert validate_groups("brainpoolP256r1:secp384r1", "bsi-tr-02102-2") == ["brainpoolP256r1", "secp384r1"]
    assert any("deviation ffdhe-size" in p for p in problems("ffdhe2048:secp384r1", "bsi-tr-02102-2"))


def test_unknown_duplicate_and_invalid_groups() -> None:
    found = problems("X25519:x25519:secp521r1:bad/name")
    assert found[0] == "x25519: listed twice"
    assert found[1].startswith("secp521r1: is not one of the groups allowed by policy biometric-strict")
    assert found[2] == "bad/name: is not a valid group name"


@pytest.mark.parametrize(("value", "message"), [("", "empty"), (None, "no value"), (7, "expected text")])
def test_bad_input(value, message) -> None:
    with pytest.raises(TlswardError, match=message):
        validate_groups(value)


def test_judge_single_group() -> None:
    assert judge_group("prime256v1") == []
    # sslyze's SECG name, on a host whose inventory narrows the groups.
    assert judge_group("secp256r1", allowed=["X25519", "prime256v1"]) == []
    assert judge_group("secp384r1", allowed=["X25519", "prime256v1"]) == [
        "is not one of the groups this host is configured with (inventory override)"
    ]
    assert judge_group("brainpoolP256r1", allowed=["brainpoolP256r1"])[0].startswith(
        "is not one of the groups allowed by policy biometric-strict"
    )
    assert judge_group("X25519MLKEM768", openssl_version="garbage") == [
        "cannot read an OpenSSL version from 'garbage'"
    ]
