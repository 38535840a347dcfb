"""@SECLEVEL in a TLS 1.2 cipher string, judged against the profile's min_security_level."""

from __future__ import annotations

import os
import subprocess

import pytest

from tlsward.errors import PolicyError, TlswardError
from tlsward.openssl_ciphers import OpenSSLError, expand_cipher_string, openssl_binary, version_label
from tlsward.policy import load_policy, min_security_level
from tlsward.preflight import check_host
from tlsward.suites import validate_cipher_list

GCM128 = "ECDHE-ECDSA-AES128-GCM-SHA256"
GCM256 = "ECDHE-ECDSA-AES256-GCM-SHA384"
SHIPPED = ["biometric-strict", "bsi-tr-02102-2", "mozilla-intermediate", "mozilla-modern", "nist-sp800-52r2"]


def lowers(command: str, minimum: int = 2, profile: str = "biometric-strict") -> str:
    return (
        f"{command} lowers OpenSSL's security level below {minimum} (profile {profile} "
        "min_security_level) for the whole context"
    )


def problems(value, policy=None) -> list[str]:
    with pytest.raises(TlswardError) as info:
        validate_cipher_list(value, policy)
    assert info.value.source == "validate_cipher_list"
    return info.value.problems


def profile(**changes) -> dict:
    return {**load_policy("biometric-strict"), **changes}


def test_issue_example_is_refused_naming_the_directive() -> None:
    with pytest.raises(TlswardError) as info:
        validate_cipher_list(f"{GCM128}:@SECLEVEL=0")
    assert str(info.value) == f"validate_cipher_list: {lowers('@SECLEVEL=0')}"


@pytest.mark.parametrize(
    ("value", "command"),
    [
        (f"{GCM128}:@SECLEVEL=1", "@SECLEVEL=1"),
        (f"@SECLEVEL=0:{GCM128}", "@SECLEVEL=0"),
        # OpenSSL starts a command at "@" inside a name, and splits on ';', ',' and ' ' too.
        (f"{GCM128}@SECLEVEL=0", "@SECLEVEL=0"),
        (f"{GCM128};@SECLEVEL=0", "@SECLEVEL=0"),
        (f"{GCM128},@SECLEVEL=1", "@SECLEVEL=1"),
        (f"{GCM128} @SECLEVEL=0", "@SECLEVEL=0"),
        (f"{GCM128}:@SECLEVEL=0+AES", "@SECLEVEL=0"),
        ([GCM128, "@SECLEVEL=0"], "@SECLEVEL=0"),
        # A later, higher level does not excuse an earlier lower one.
        (f"{GCM128}:@SECLEVEL=0:@SECLEVEL=2", "@SECLEVEL=0"),
    ],
)
def test_every_spelling_of_a_low_level_is_refused(value, command: str) -> None:
    assert problems(value) == [lowers(command)]


def test_a_low_level_is_reported_with_the_suites_it_would_let_in() -> None:
    found = problems("HIGH:@SECLEVEL=0")
    assert found[0] == lowers("@SECLEVEL=0")
    assert any(p.startswith("ADH-") and "anonymous" in p for p in found)


@pytest.mark.parametrize("level", [2, 3])
def test_a_level_at_or_above_the_minimum_is_accepted(level: int) -> None:
    assert validate_cipher_list(f"{GCM128}:{GCM256}:@SECLEVEL={level}") == [GCM128, GCM256]
    assert validate_cipher_list([GCM128, GCM256, "@STRENGTH", f"@SECLEVEL={level}"]) == [GCM256, GCM128]


def test_the_result_is_what_openssl_enables_at_that_level() -> None:
    # Level 4 asks for 192-bit security: OpenSSL drops the AES-128 suite.
    value = f"{GCM256}:{GCM128}:@SECLEVEL=4"
    expected = subprocess.run(
        [openssl_binary(), "ciphers", "-s", "-tls1_2", "-ciphersuites", "", value],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OPENSSL_CONF": os.devnull},
    ).stdout.strip()
    assert validate_cipher_list(value) == expected.split(":") == [GCM256]
    assert problems(f"{GCM128}:@SECLEVEL=4") == [
        f"'{GCM128}:@SECLEVEL=4' enables no cipher suite at @SECLEVEL=4 in {version_label()} "
        "(OpenSSL drops every suite it names at that level)"
    ]
    assert "(OpenSSL drops every suite it names at that level)" in problems(f"{GCM128}:@SECLEVEL=5")[0]


def test_suites_are_judged_at_the_widest_level_whatever_the_string_asks() -> None:
    # The expansion appends @SECLEVEL=0 last, which overrides the string's own level...
    assert expand_cipher_string(f"{GCM128}:@SECLEVEL=4") == expand_cipher_string(GCM128)
    # ...and a suite the string's level would drop on this OpenSSL is judged all the same.
    found = problems(f"{GCM256}:AES128-SHA:@SECLEVEL=4", "mozilla-intermediate")
    assert "AES128-SHA: CBC mode (not AEAD) is not allowed by policy mozilla-intermediate" in found
    assert expand_cipher_string(f"{GCM128}:@SECLEVEL=0", 4) == ()
    with pytest.raises(OpenSSLError):
        expand_cipher_string(GCM128, 6)


@pytest.mark.parametrize("command", ["@SECLEVEL=9", "@SECLEVEL=02", "@seclevel=2", "@SECLEVEL=", "@FOO", "@"])
def test_commands_openssl_refuses_are_named_not_passed_on(command: str) -> None:
    assert problems(f"{GCM128}:{command}") == [
        f"{command}: not a cipher-string command OpenSSL knows (@STRENGTH, @SECLEVEL=0 to "
        "@SECLEVEL=5), so OpenSSL refuses the whole string"
    ]


def test_a_command_openssl_would_skip_is_refused() -> None:
    # OpenSSL runs the first command of an element only: this string is level 3, not 0.
    assert problems(f"{GCM128}:@SECLEVEL=3@SECLEVEL=0") == [
        "@SECLEVEL=0: OpenSSL skips a command that follows another in the same element "
        "(@SECLEVEL=3@SECLEVEL=0); separate the commands with ':'"
    ]


def test_the_profile_sets_the_minimum() -> None:
    assert problems(f"{GCM256}:@SECLEVEL=2", profile(min_security_level=3)) == [lowers("@SECLEVEL=2", 3)]
    assert validate_cipher_list(f"{GCM256}:@SECLEVEL=3", profile(min_security_level=3)) == [GCM256]
    assert validate_cipher_list(f"{GCM128}:@SECLEVEL=0", profile(min_security_level=0)) == [GCM128]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_default_to_level_2(name: str) -> None:
    assert min_security_level(load_policy(name)) == 2
    assert min_security_level({"name": "x"}) == 2


@pytest.mark.parametrize("value", [-1, 6, "2", 2.0, True, None, [2]])
def test_a_malformed_min_security_level_is_refused_by_the_loader(value) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(profile(min_security_level=value))
    assert info.value.problems == [
        "biometric-strict: min_security_level must be an OpenSSL security level, an integer from 0 to 5 "
        f"(default 2), got {value!r}"
    ]
    # A validator handed such a profile names itself.
    with pytest.raises(TlswardError, match=r"^validate_cipher_list: biometric-strict: min_security_level"):
        validate_cipher_list(GCM128, profile(min_security_level=value))


def test_preflight_refuses_a_low_level_in_an_override_and_in_a_profile() -> None:
    found = check_host({"tlsward_tls12_ciphers": f"{GCM128}:@SECLEVEL=0"})
    assert found == [f"variable tlsward_tls12_ciphers: validate_cipher_list: {lowers('@SECLEVEL=0')}"]
    # tls12_ciphers of the profile itself, judged under the profile's name.
    data = profile(tls12_ciphers=[GCM128, "@SECLEVEL=1"])
    assert check_host({"tlsward_policy": data}) == [
        "variable tlsward_policy (biometric-strict tls12_ciphers): validate_cipher_list: "
        + lowers("@SECLEVEL=1")
    ]


def test_preflight_refuses_default_in_a_group_override() -> None:
    found = check_host(
        {"tlsward_groups": "X25519:DEFAULT", "tlsward_openssl_version": "OpenSSL 3.5.1 1 Jul 2025"}
    )
    assert len(found) == 1
    assert found[0].startswith("variable tlsward_groups: validate_groups: DEFAULT: pulls OpenSSL's built-in")
