from __future__ import annotations

import pytest

from tlsward.errors import TlswardError
from tlsward.protocols import canonical_protocol, judge_protocol, validate_tls_protocols


def problems(value, policy=None) -> list[str]:
    with pytest.raises(TlswardError) as info:
        validate_tls_protocols(value, policy)
    assert info.value.source == "validate_tls_protocols"
    return info.value.problems


def test_valid_lists_in_every_spelling() -> None:
    assert validate_tls_protocols(["TLSv1.2", "TLSv1.3"]) == ["TLSv1.2", "TLSv1.3"]
    assert validate_tls_protocols("TLSv1.3 TLSv1.2") == ["TLSv1.3", "TLSv1.2"]
    assert validate_tls_protocols("tlsv1.2:TLS1.3") == ["TLSv1.2", "TLSv1.3"]
    assert validate_tls_protocols("TLSv1.3", "mozilla-modern") == ["TLSv1.3"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("SSLv2", "SSLv2 is obsolete and never allowed (RFC 6176)"),
        ("SSLv3", "SSLv3 is obsolete and never allowed (RFC 7568)"),
        ("TLSv1", "TLS 1.0 is obsolete and never allowed (RFC 8996)"),
        ("TLSv1.0", "TLS 1.0 is obsolete and never allowed (RFC 8996)"),
        ("TLSv1.1", "TLS 1.1 is obsolete and never allowed (RFC 8996)"),
    ],
)
def test_obsolete_versions_are_always_rejected(name: str, rule: str) -> None:
    assert f"{name}: {rule}" in problems([name, "TLSv1.2", "TLSv1.3"], "mozilla-intermediate")


def test_required_version_missing() -> None:
    assert problems("TLSv1.2") == ["TLSv1.3: required by policy biometric-strict but missing"]
    # BSI requires only TLS 1.2
    assert validate_tls_protocols("TLSv1.2", "bsi-tr-02102-2") == ["TLSv1.2"]


def test_version_outside_the_profile() -> None:
    found = problems("TLSv1.2 TLSv1.3", "mozilla-modern")
    assert found == ["TLSv1.2: is not allowed by policy mozilla-modern"]


def test_all_problems_at_once() -> None:
    found = problems("SSLv3 TLSv1.1 bogus TLSv1.2 TLSv1.2")
    assert len(found) == 5
    assert found[2].startswith("bogus: unknown protocol")
    assert found[3] == "TLSv1.2: listed twice"
    assert found[4] == "TLSv1.3: required by policy biometric-strict but missing"


@pytest.mark.parametrize(("value", "message"), [("", "empty"), ([], "empty"), (1.2, "expected text")])
def test_bad_input(value, message) -> None:
    with pytest.raises(TlswardError, match=message):
        validate_tls_protocols(value)


def test_single_protocol_judge_and_canonical_names() -> None:
    assert judge_protocol("TLSv1.3") == []
    assert judge_protocol("TLSv1") == ["TLS 1.0 is obsolete and never allowed (RFC 8996)"]
    assert canonical_protocol("tls1_2") == "TLSv1.2"
    # A host whose inventory narrows the profile to TLS 1.3 only.
    assert judge_protocol("TLSv1.2", allowed=["TLSv1.3"]) == [
        "is not one of the protocols this host is configured with (inventory override)"
    ]
    assert judge_protocol("tlsv1.3", allowed=["TLSv1.3"]) == []
    assert judge_protocol("TLSv1", allowed=["TLSv1"]) == ["TLS 1.0 is obsolete and never allowed (RFC 8996)"]
    assert canonical_protocol("QUIC") is None
