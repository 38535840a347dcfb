"""Property tests: arbitrary strings, bytes and objects never escape as anything but TlswardError."""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsward.chain import validate_ca_bundle, validate_cert_chain
from tlsward.errors import TlswardError
from tlsward.groups import group_names, validate_groups
from tlsward.openssl_ciphers import expand_cipher_string
from tlsward.pins import spki_pin
from tlsward.policy import _version_tuple, load_policy
from tlsward.protocols import validate_tls_protocols
from tlsward.suites import judge_suite, validate_cipher_list, validate_tls13_ciphersuites

ANYTHING = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.lists(st.one_of(st.text(max_size=30), st.integers()), max_size=8),
    st.integers(),
    st.none(),
    st.floats(allow_nan=True),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
POLICIES = st.sampled_from([None, "biometric-strict", "nist-sp800-52r2", "bsi-tr-02102-2", "nope", 3])
TOKENS = st.sampled_from(
    ["HIGH", "MEDIUM", "ALL", "DEFAULT", "ECDHE", "+AESGCM", "!aNULL", "-SHA1", "@STRENGTH", "RC4",
     "ECDHE-ECDSA-AES128-GCM-SHA256", "AES128-SHA", "kRSA", "aECDSA", "CHACHA20", "!eNULL", "3DES",
     "@SECLEVEL=2", "TLS_AES_128_GCM_SHA256", "EXPORT", "eNULL", "-ALL", "x", "@SECLEVEL=0",
     "@SECLEVEL=1", "@SECLEVEL=3", "ECDHE-ECDSA-AES128-GCM-SHA256@SECLEVEL=1",
     "ECDHE-ECDSA-AES256-GCM-SHA384"]
)  # fmt: skip
GROUP_NAMES = st.sampled_from(
    ["X25519", "x25519", "prime256v1", "P-256", "secp384r1", "X25519MLKEM768", "secp521r1", "DEFAULT"]
)
GROUP_ENTRIES = st.builds(
    lambda prefix, name: prefix + name, st.sampled_from(["", "", "*", "?", "-", "*?", "**"]), GROUP_NAMES
)
GROUP_LISTS = st.builds(
    lambda entries, seps: "".join(e + s for e, s in zip(entries, seps, strict=False))[:-1],
    st.lists(GROUP_ENTRIES, min_size=1, max_size=6),
    st.lists(st.sampled_from([":", ":", "/"]), min_size=6, max_size=6),
)
VERSIONS = st.sampled_from(
    [None, "OpenSSL 3.0.15 3 Sep 2024", "OpenSSL 3.3.2 3 Sep 2024", "OpenSSL 3.5.1 1 Jul 2025"]
)
PEMISH = st.builds(
    lambda label, body: (
        f"-----BEGIN {label}-----\n{base64.b64encode(body).decode()}\n-----END {label}-----\n"
    ),
    st.sampled_from(["CERTIFICATE", "PRIVATE KEY", "PUBLIC KEY", "CERTIFICATE REQUEST", "EC PRIVATE KEY"]),
    st.binary(max_size=300),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def returns_or_clean_error(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except TlswardError as exc:
        problems = exc.problems
    assert problems
    assert all(isinstance(p, str) and p for p in problems)
    return None


@FAST
@given(ANYTHING, POLICIES)
def test_cipher_list_arbitrary_input(value, policy) -> None:
    returns_or_clean_error(validate_cipher_list, value, policy)


@FAST
@given(st.lists(TOKENS, min_size=1, max_size=6), st.sampled_from(["biometric-strict", "bsi-tr-02102-2"]))
def test_cipher_strings_from_real_keywords(tokens, policy) -> None:
    """Whatever OpenSSL makes of a string: accepted only if every expanded suite is allowed (at
    the widest level) and no @SECLEVEL goes below 2; the result is what the string's level enables."""
    result = returns_or_clean_error(validate_cipher_list, ":".join(tokens), policy)
    levels = [int(token[-1]) for token in tokens if "@SECLEVEL=" in token]
    if any(level < 2 for level in levels):
        assert result is None
    if result is not None:
        suites = expand_cipher_string(":".join(tokens))
        assert all(judge_suite(s, policy) == [] for s in suites)
        enabled = expand_cipher_string(":".join(tokens), levels[-1]) if levels else suites
        assert [s.openssl_name for s in enabled] == result


@FAST
@given(ANYTHING, POLICIES)
def test_tls13_arbitrary_input(value, policy) -> None:
    returns_or_clean_error(validate_tls13_ciphersuites, value, policy)


@FAST
@given(ANYTHING, POLICIES)
def test_protocols_arbitrary_input(value, policy) -> None:
    returns_or_clean_error(validate_tls_protocols, value, policy)


@FAST
@given(ANYTHING, POLICIES, st.one_of(st.none(), st.text(max_size=30)))
def test_groups_arbitrary_input(value, policy, version) -> None:
    returns_or_clean_error(validate_groups, value, policy, version)


@settings(max_examples=300, deadline=None)  # no subprocess: cheap, and few random lists pass
@given(GROUP_LISTS, VERSIONS)
def test_group_syntax_accepted_only_where_the_target_reads_it(value, version) -> None:
    """Any mix of ?, *, -, / and DEFAULT: accepted only without DEFAULT, with syntax the target's
    OpenSSL reads, and with every group left in place allowed by the profile; the result means
    the same and validates to itself."""
    result = returns_or_clean_error(validate_groups, value, None, version)
    if result is None:
        return
    have = _version_tuple(version) if version else (0, 0, 0)
    entries = value.replace("/", ":").split(":")
    prefixes = {mark for entry in entries for mark in entry[: len(entry) - len(entry.lstrip("*?-"))]}
    assert "default" not in value.lower()
    if have < (3, 5, 0):
        assert "/" not in value
        assert not prefixes & {"*", "-"}
    if have < (3, 3, 0):
        assert "?" not in prefixes
    allowed = {g["name"] for g in load_policy(None)["groups"]}
    assert group_names(result)
    assert set(group_names(result)) <= allowed
    assert group_names(result) == group_names(value)
    assert validate_groups(result, None, version) == result


@FAST
@given(st.one_of(ANYTHING, PEMISH, st.lists(PEMISH, max_size=3).map("".join)), POLICIES)
def test_cert_chain_arbitrary_input(value, policy) -> None:
    returns_or_clean_error(validate_cert_chain, value, policy=policy)
    returns_or_clean_error(validate_ca_bundle, value, policy=policy)


@FAST
@given(st.one_of(ANYTHING, PEMISH), st.one_of(ANYTHING, PEMISH))
def test_cert_chain_arbitrary_options(trust, key) -> None:
    returns_or_clean_error(validate_cert_chain, "x", trust=trust, private_key=key, hostname=None)


@FAST
@given(st.one_of(ANYTHING, PEMISH))
def test_spki_pin_arbitrary_input(value) -> None:
    returns_or_clean_error(spki_pin, value)


@FAST
@given(data=st.data())
def test_valid_chain_with_arbitrary_options_never_crashes(data, pki) -> None:
    root, inter, leaf = pki
    kwargs = {
        "hostname": data.draw(st.one_of(st.none(), st.text(max_size=40))),
        "usage": data.draw(st.sampled_from(["server", "client", "x"])),
        "environment": data.draw(st.one_of(st.none(), st.text(max_size=10))),
        "min_days_left": data.draw(st.one_of(st.none(), st.integers(-5, 400), st.text(max_size=3))),
        "private_key": data.draw(st.one_of(st.none(), PEMISH, st.just(leaf.key_pem))),
    }
    returns_or_clean_error(validate_cert_chain, leaf.pem + inter.pem, trust=root.pem, **kwargs)
