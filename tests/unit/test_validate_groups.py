from __future__ import annotations

import pytest

from tlsward.errors import TlswardError
from tlsward.groups import canonical_group, group_names, judge_group, validate_groups

OLD = "OpenSSL 3.0.15 3 Sep 2024"
MID = "OpenSSL 3.3.2 3 Sep 2024"
NEW = "OpenSSL 3.5.1 1 Jul 2025"
DEFAULT_RULE = (
    "pulls OpenSSL's built-in default groups into the list, so the groups offered are no longer "
    "only the ones listed (CVE-2026-2673: OpenSSL 3.5 before 3.5.6 and 3.6 before 3.6.2 also lose "
    "their tuple order); list the groups instead"
)


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
    found = problems("X25519:x25519:secp521r1:bad!name")
    assert found[0] == "x25519: listed twice"
    assert found[1].startswith("secp521r1: is not one of the groups allowed by policy biometric-strict")
    assert found[2] == "bad!name: is not a valid group name"


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


# OpenSSL 3.3 / 3.5 group-list syntax (SSL_CTX_set1_groups_list).


@pytest.mark.parametrize("version", [None, OLD, MID, NEW])
@pytest.mark.parametrize(
    ("value", "entry"),
    [
        ("DEFAULT", "DEFAULT"),
        ("X25519:DEFAULT", "DEFAULT"),
        ("*DEFAULT", "*DEFAULT"),
        ("prime256v1/default", "default"),
        ("X25519:DEFAULT_SUITE_B", "DEFAULT_SUITE_B"),
    ],
)
def test_default_is_refused_whatever_the_target(value: str, entry: str, version: str | None) -> None:
    assert f"{entry}: {DEFAULT_RULE}" in problems(value, openssl_version=version)


def test_openssl_35_syntax_is_kept_with_the_profile_spelling() -> None:
    value = "*x25519mlkem768/*x25519:P-256:secp384r1"
    assert validate_groups(value, openssl_version=NEW) == [
        "*X25519MLKEM768/*X25519",
        "prime256v1",
        "secp384r1",
    ]
    # The same list given as items, as effective_tls hands it over.
    assert validate_groups(["*X25519MLKEM768/*X25519", "prime256v1"], openssl_version=NEW) == [
        "*X25519MLKEM768/*X25519",
        "prime256v1",
    ]
    assert validate_groups("X25519:prime256v1:-X25519", openssl_version=NEW) == [
        "X25519",
        "prime256v1",
        "-X25519",
    ]


@pytest.mark.parametrize(
    ("value", "version", "expected"),
    [
        (
            "X25519/prime256v1",
            OLD,
            ["group tuples ('/') needs OpenSSL >= 3.5.0; the target has 3.0.15"],
        ),
        (
            "*X25519:prime256v1",
            MID,
            ["'*' prefix (send a key share for the group) needs OpenSSL >= 3.5.0; the target has 3.3.2"],
        ),
        (
            "X25519:prime256v1:-X25519",
            OLD,
            ["'-' prefix (remove the group) needs OpenSSL >= 3.5.0; the target has 3.0.15"],
        ),
        (
            "?X25519:prime256v1",
            OLD,
            [
                "'?' prefix (ignore the group if OpenSSL lacks it) needs OpenSSL >= 3.3.0; "
                "the target has 3.0.15"
            ],
        ),
        (
            "X25519/prime256v1",
            None,
            [
                "group tuples ('/') needs OpenSSL >= 3.5.0; the target's version is not known "
                "(give openssl_version)"
            ],
        ),
        (
            "?X25519:prime256v1",
            "garbage",
            [
                "'?' prefix (ignore the group if OpenSSL lacks it) needs OpenSSL >= 3.3.0; cannot "
                "read an OpenSSL version from 'garbage'"
            ],
        ),
    ],
)
def test_syntax_the_target_cannot_read_is_refused(
    value: str, version: str | None, expected: list[str]
) -> None:
    assert problems(value, openssl_version=version) == expected


def test_question_mark_needs_33_and_lets_the_target_skip_a_newer_group() -> None:
    assert validate_groups("?X25519MLKEM768:X25519", openssl_version=MID) == ["?X25519MLKEM768", "X25519"]
    assert problems("X25519MLKEM768:X25519", openssl_version=MID) == [
        "X25519MLKEM768: needs OpenSSL >= 3.5.0; the target has 3.3.2"
    ]
    # "?" does not make a group the profile refuses acceptable.
    assert problems("?secp521r1:X25519", openssl_version=MID)[0].startswith(
        "?secp521r1: is not one of the groups allowed by policy biometric-strict"
    )


def test_every_name_inside_the_syntax_is_judged_against_the_profile() -> None:
    found = problems("*X25519/secp521r1:?ffdhe2048", openssl_version=NEW)
    assert [p.split(":")[0] for p in found] == ["secp521r1", "?ffdhe2048"]
    found = problems("*X25519/prime256v1", "nist-sp800-52r2", NEW)
    assert any(p.startswith("*X25519: ") and "deviation no-x25519" in p for p in found)
    assert problems("*X25519MLKEM768/X25519:*x25519", openssl_version=NEW) == ["*x25519: listed twice"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("X25519:-X25519", ["no group is left once the '-' removals are applied"]),
        ("-secp384r1:X25519", ["-secp384r1: removes a group not listed before it"]),
        ("**X25519:prime256v1", ["**X25519: each of '*', '?' and '-' may prefix a group name once"]),
        ("X25519:*?-", ["*?-: each of '*', '?' and '-' may prefix a group name once"]),
    ],
)
def test_removals_and_prefixes(value: str, expected: list[str]) -> None:
    assert problems(value, openssl_version=NEW) == expected


@pytest.mark.parametrize("value", ["X25519 / prime256v1", "X25519/", "/X25519", "X25519//prime256v1"])
def test_a_tuple_separator_must_join_two_names(value: str) -> None:
    found = problems(value, openssl_version=NEW)
    assert found[0].endswith(
        ": a '/' must stand between two group names, with no ':', ',' or space beside it"
    )
    assert len([p for p in found if "must stand between" in p]) == 1


def test_at_most_four_key_shares() -> None:
    four = "*prime256v1:*secp384r1:*brainpoolP256r1:*brainpoolP384r1"
    assert validate_groups(four, "bsi-tr-02102-2", NEW) == four.split(":")
    assert problems(f"{four}:*secp521r1", "bsi-tr-02102-2", NEW) == [
        "5 key shares ('*') asked for; OpenSSL sends at most 4"
    ]
    # A removal takes the key share away too.
    assert validate_groups(f"{four}:*secp521r1:-secp521r1", "bsi-tr-02102-2", NEW)[-1] == "-secp521r1"


def test_every_problem_is_listed_in_one_error() -> None:
    found = problems("DEFAULT:*X25519/secp521r1:-secp384r1", openssl_version=OLD)
    assert found == [
        f"DEFAULT: {DEFAULT_RULE}",
        "secp521r1: is not one of the groups allowed by policy biometric-strict (allowed: "
        "X25519MLKEM768, X25519, prime256v1, secp384r1)",
        "-secp384r1: removes a group not listed before it",
        "'*' prefix (send a key share for the group) needs OpenSSL >= 3.5.0; the target has 3.0.15",
        "'-' prefix (remove the group) needs OpenSSL >= 3.5.0; the target has 3.0.15",
        "group tuples ('/') needs OpenSSL >= 3.5.0; the target has 3.0.15",
    ]


def test_plain_names_of_a_list_for_the_scanner() -> None:
    assert group_names("*X25519MLKEM768/*x25519:P-256:-prime256v1:secp384r1") == [
        "X25519MLKEM768",
        "X25519",
        "secp384r1",
    ]
    configured = ["*X25519MLKEM768/*X25519", "prime256v1", "-X25519"]
    assert judge_group("secp256r1", allowed=configured) == []
    assert judge_group("X25519", allowed=configured) == [
        "is not one of the groups this host is configured with (inventory override)"
    ]
