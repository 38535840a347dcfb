"""validate_cipher_list / validate_tls13_ciphersuites / judge_*_suite, against the real OpenSSL."""

from __future__ import annotations

import subprocess

import pytest

from tlsward.errors import TlswardError
from tlsward.openssl_ciphers import expand_cipher_string, lookup_suite, suite_from_iana_name
from tlsward.suites import (
    judge_tls12_suite,
    judge_tls13_suite,
    validate_cipher_list,
    validate_tls13_ciphersuites,
    verdict_tls12_suite,
    verdict_tls13_suite,
)

STRICT = ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-GCM-SHA384"]


def problems(func, value, policy=None) -> list[str]:
    with pytest.raises(TlswardError) as info:
        func(value, policy)
    assert info.value.source == func.__name__
    return info.value.problems


def test_profile_list_is_valid_and_order_is_kept() -> None:
    assert validate_cipher_list(":".join(STRICT)) == STRICT
    assert validate_cipher_list(list(reversed(STRICT))) == list(reversed(STRICT))


def test_keywords_are_expanded_by_openssl_itself() -> None:
    expected = subprocess.run(
        ["openssl", "ciphers", "-s", "-tls1_2", "-ciphersuites", "", "ECDHE+AESGCM+aECDSA"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = validate_cipher_list("ECDHE+AESGCM+aECDSA")
    assert ":".join(result) == expected
    assert set(result) == {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"}


def test_issue_example_message_cbc() -> None:
    found = problems(validate_cipher_list, "ECDHE-RSA-AES128-SHA")
    assert "ECDHE-RSA-AES128-SHA: CBC mode (not AEAD) is not allowed by policy biometric-strict" in found
    assert "ECDHE-RSA-AES128-SHA: not one of the TLS 1.2 suites allowed by policy biometric-strict" in found


def test_rsa_key_exchange_has_no_forward_secrecy() -> None:
    found = problems(validate_cipher_list, "AES128-GCM-SHA256", "mozilla-intermediate")
    rule = "RSA key exchange (no forward secrecy) is not allowed by policy mozilla-intermediate"
    assert f"AES128-GCM-SHA256: {rule}" in found


@pytest.mark.parametrize(
    ("cipher", "rule"),
    [
        ("NULL-SHA256", "NULL cipher (no encryption) is never allowed"),
        ("ADH-AES128-GCM-SHA256", "anonymous key exchange (aNULL, no authentication) is never allowed"),
        ("NULL-MD5", "MD5 MAC is never allowed"),
    ],
)
def test_never_allowed_suites_the_local_openssl_still_knows(cipher: str, rule: str) -> None:
    assert f"{cipher}: {rule}" in problems(validate_cipher_list, cipher, "nist-sp800-52r2")


@pytest.mark.parametrize("cipher", ["RC4-SHA", "DES-CBC3-SHA", "EXP-RC4-MD5"])
def test_suites_removed_from_openssl_are_reported_not_silently_dropped(cipher: str) -> None:
    found = problems(validate_cipher_list, f"{cipher}:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert found == [f"{cipher}: matches no cipher suite in " + found[0].split(" in ", 1)[1]]
    assert "no longer provides" in found[0]


@pytest.mark.parametrize(
    ("iana", "rule"),
    [
        ("TLS_RSA_WITH_RC4_128_SHA", "RC4 is never allowed"),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES is never allowed"),
        ("TLS_RSA_WITH_DES_CBC_SHA", "DES is never allowed"),
        ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXPORT-grade cipher is never allowed"),
        ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "MD5 MAC is never allowed"),
        ("TLS_RSA_WITH_NULL_SHA", "NULL cipher (no encryption) is never allowed"),
    ],
)
def test_judge_single_suite_by_iana_name_for_live_results(iana: str, rule: str) -> None:
    assert rule in judge_tls12_suite(iana, "mozilla-intermediate")


def test_judge_single_suite_accepts_openssl_and_iana_names() -> None:
    assert judge_tls12_suite("ECDHE-ECDSA-AES128-GCM-SHA256") == []
    assert judge_tls12_suite("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") == []
    assert judge_tls12_suite("NO_SUCH_SUITE")[0].startswith("not a TLS 1.2 cipher suite known to OpenSSL")
    assert judge_tls13_suite("TLS_AES_128_GCM_SHA256") == []
    assert lookup_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA").openssl_name == "ECDHE-RSA-AES128-SHA"
    assert suite_from_iana_name("not a name") is None


def test_verdict_keeps_the_rules_apart_by_concern() -> None:
    # What the scanner reads: each broken rule under its own concern, same words as preflight.
    cbc = verdict_tls12_suite("AES128-SHA")
    assert cbc.forward_secrecy == (
        "RSA key exchange (no forward secrecy) is not allowed by policy biometric-strict",
    )
    assert cbc.aead == ("CBC mode (not AEAD) is not allowed by policy biometric-strict",)
    assert cbc.outside_list == ["not one of the TLS 1.2 suites allowed by policy biometric-strict"]
    assert cbc.problems == judge_tls12_suite("AES128-SHA")
    # An OpenSSL name this OpenSSL does not ship is described from the IANA name sslyze reports.
    rc4 = verdict_tls12_suite("RC4-SHA", iana_name="TLS_RSA_WITH_RC4_128_SHA")
    assert rc4.suite is not None
    assert not rc4.suite.forward_secrecy
    assert "RC4 is never allowed" in rc4.never
    unknown = verdict_tls12_suite("SSL_CK_RC4_128_WITH_MD5")
    assert unknown.suite is None
    assert unknown.outside_list[0].startswith("not a TLS 1.2 cipher suite known to OpenSSL")


def test_host_override_narrows_the_profile_list() -> None:
    narrowed = ["ECDHE-ECDSA-AES256-GCM-SHA384"]
    assert judge_tls12_suite("ECDHE-ECDSA-AES256-GCM-SHA384", allowed=narrowed) == []
    assert judge_tls12_suite("ECDHE-ECDSA-AES128-GCM-SHA256", allowed=narrowed) == [
        "not one of the TLS 1.2 suites this host is configured with (inventory override)"
    ]
    # Listing a suite in the override does not put it in the profile.
    assert judge_tls12_suite("ECDHE-ECDSA-AES128-SHA256", allowed=["ECDHE-ECDSA-AES128-SHA256"])[-1] == (
        "not one of the TLS 1.2 suites allowed by policy biometric-strict"
    )
    tls13 = verdict_tls13_suite("TLS_AES_128_GCM_SHA256", allowed=["TLS_AES_256_GCM_SHA384"])
    assert tls13.not_listed == (
        "not one of the TLS 1.3 suites this host is configured with (inventory override)",
    )
    assert tls13.suite is not None
    assert tls13.suite.forward_secrecy


def test_whole_keyword_expansion_reports_every_suite() -> None:
    found = problems(validate_cipher_list, "HIGH")
    assert "ECDHE-RSA-AES128-SHA: CBC mode (not AEAD) is not allowed by policy biometric-strict" in found
    assert any(p.startswith("ADH-") and "anonymous" in p for p in found)
    # the allowed suites inside HIGH are not reported
    assert not any(p.startswith("ECDHE-ECDSA-AES128-GCM-SHA256:") for p in found)


def test_empty_expansion_and_empty_string() -> None:
    assert problems(validate_cipher_list, "") == ["the cipher string is empty"]
    found = problems(validate_cipher_list, "ALL:!ALL")
    assert found[0].startswith("'ALL:!ALL' expands to no cipher suite")


def test_unknown_name_next_to_a_valid_one() -> None:
    found = problems(validate_cipher_list, "ECDHE-ECDSA-AES128-GCM-SHA257:ECDHE-ECDSA-AES128-GCM-SHA256")
    assert len(found) == 1
    assert found[0].startswith("ECDHE-ECDSA-AES128-GCM-SHA257: matches no cipher suite")


def test_tls13_name_in_the_tls12_list_gets_a_hint() -> None:
    found = problems(validate_cipher_list, "TLS_AES_128_GCM_SHA256")
    assert "put it in tls13_ciphersuites" in found[0]


def test_option_like_strings_are_cipher_strings_not_openssl_options() -> None:
    found = problems(validate_cipher_list, "-help")
    assert "expands to no cipher suite" in found[-1]


def test_profiles_disagree_on_chacha20_and_the_validator_honours_each() -> None:
    assert validate_cipher_list("ECDHE-ECDSA-CHACHA20-POLY1305", "mozilla-intermediate")
    for policy in ("nist-sp800-52r2", "bsi-tr-02102-2"):
        found = problems(validate_cipher_list, "ECDHE-ECDSA-CHACHA20-POLY1305", policy)
        assert any("ChaCha20-Poly1305 is not" in p and "deviation no-chacha20" in p for p in found)
        found = problems(validate_tls13_ciphersuites, "TLS_CHACHA20_POLY1305_SHA256", policy)
        assert any("deviation no-chacha20" in p for p in found)


def test_cbc_allowed_where_the_profile_does_not_require_aead() -> None:
    assert validate_cipher_list("ECDHE-ECDSA-AES128-SHA256", "bsi-tr-02102-2") == [
        "ECDHE-ECDSA-AES128-SHA256"
    ]
    found = problems(validate_cipher_list, "ECDHE-ECDSA-AES128-SHA256", "mozilla-intermediate")
    assert any("CBC mode (not AEAD)" in p for p in found)


def test_tls12_suites_in_a_tls13_only_profile() -> None:
    found = problems(validate_cipher_list, "ECDHE-ECDSA-AES128-GCM-SHA256", "mozilla-modern")
    assert "TLS 1.2 is not allowed by policy mozilla-modern, so no TLS 1.2 suite is" in found


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no value given"),
        (42, "expected text, got int"),
        ({"a": 1}, "expected text, got dict"),
        ("ECDHE\x00RSA", "non-printable"),
        (["ECDHE-ECDSA-AES128-GCM-SHA256", 3], "item 2: expected text"),
        (":".join(["HIGH"] * 70), "at most 64"),
    ],
)
def test_bad_cipher_input_is_a_clean_error(value, message) -> None:
    with pytest.raises(TlswardError, match=message):
        validate_cipher_list(value)


def test_unknown_policy_names_the_filter() -> None:
    with pytest.raises(TlswardError) as info:
        validate_cipher_list("HIGH", "no-such-profile")
    assert str(info.value).startswith("validate_cipher_list: unknown policy 'no-such-profile'")


def test_tls13_valid_list_string_and_list() -> None:
    names = ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384"]
    assert validate_tls13_ciphersuites(":".join(names)) == names
    assert validate_tls13_ciphersuites(names) == names
    assert validate_tls13_ciphersuites("TLS_AES_128_CCM_8_SHA256", "nist-sp800-52r2") == [
        "TLS_AES_128_CCM_8_SHA256"
    ]


def test_tls13_invalid_names_all_reported() -> None:
    found = problems(
        validate_tls13_ciphersuites,
        "TLS_FOO:TLS_AES_128_CCM_8_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_GCM_SHA256",
    )
    assert found[0].startswith("TLS_FOO: not a TLS 1.3 cipher suite known to OpenSSL")
    assert (
        found[1]
        == "TLS_AES_128_CCM_8_SHA256: not one of the TLS 1.3 suites allowed by policy biometric-strict"
    )
    assert found[2].endswith("(a TLS 1.2 suite name?)")
    assert found[3] == "TLS_AES_128_GCM_SHA256: listed twice"
    assert problems(validate_tls13_ciphersuites, "") == ["the TLS 1.3 ciphersuites list is empty"]


def test_expansion_is_cached_and_ordered() -> None:
    first = expand_cipher_string("ECDHE+AESGCM")
    assert first is expand_cipher_string("ECDHE+AESGCM")
    assert all(s.forward_secrecy and s.aead for s in first)
