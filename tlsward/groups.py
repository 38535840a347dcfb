"""Judge key-exchange group lists (``ssl_ecdh_curve`` / OpenSSL ``Groups``) against a profile."""

from __future__ import annotations

import re
from typing import Any

from tlsward.deviations import rejections
from tlsward.errors import PolicyError, TlswardError
from tlsward.inputs import as_name_list, check_printable, policy_for
from tlsward.policy import _version_tuple

SOURCE = "validate_groups"
# Other spellings of the same group (SECG / NIST / IANA names) -> the OpenSSL name profiles use.
ALIASES = {
    "secp256r1": "prime256v1",
    "p-256": "prime256v1",
    "p256": "prime256v1",
    "p-384": "secp384r1",
    "p384": "secp384r1",
    "p-521": "secp521r1",
    "p521": "secp521r1",
    "x25519": "X25519",
    "x448": "X448",
    "x25519mlkem768": "X25519MLKEM768",
    "secp256r1mlkem768": "SecP256r1MLKEM768",
    "secp384r1mlkem1024": "SecP384r1MLKEM1024",
}
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def canonical_group(name: str) -> str:
    return ALIASES.get(name.lower(), name)


def _profile_groups(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {canonical_group(str(g["name"])).lower(): g for g in data["groups"]}


def judge_group(
    name: str, policy: Any = None, openssl_version: str | None = None, allowed: list[str] | None = None
) -> list[str]:
    """Every rule one group breaks; ``openssl_version`` (the target's) checks ``min_openssl``;
    ``allowed`` is a host's effective group list (an inventory override narrowing the profile's)."""
    data = policy_for(policy, SOURCE)
    if not _NAME.match(name):
        return ["is not a valid group name"]
    canonical = canonical_group(name)
    problems = rejections(data, "groups", canonical)
    entry = _profile_groups(data).get(canonical.lower())
    if entry is None:
        allowed = ", ".join(str(g["name"]) for g in data["groups"])
        problems.append(f"is not one of the groups allowed by policy {data['name']} (allowed: {allowed})")
        return problems
    if allowed is not None and canonical.lower() not in {canonical_group(a).lower() for a in allowed}:
        problems.append("is not one of the groups this host is configured with (inventory override)")
    need = entry.get("min_openssl")
    if need and openssl_version:
        try:
            have = _version_tuple(openssl_version)
        except PolicyError:
            return [*problems, f"cannot read an OpenSSL version from {openssl_version!r}"]
        if have < _version_tuple(str(need)):
            problems.append(f"needs OpenSSL >= {need}; the target has {'.'.join(map(str, have))}")
    return problems


def validate_groups(value: Any, policy: Any = None, openssl_version: str | None = None) -> list[str]:
    """Validate a group list (``X25519:prime256v1`` or a list); return it with the profile's spelling.

    Groups with ``min_openssl`` in the profile are optional (hybrid post-quantum groups): allowed,
    but with ``openssl_version`` given they must be supported there, and at least one group must
    work without them.
    """
    data = policy_for(policy, SOURCE)
    names = as_name_list(value, SOURCE, "groups")
    if not names:
        raise TlswardError(SOURCE, "the group list is empty")
    if len(names) > 64:
        raise TlswardError(SOURCE, f"{len(names)} groups given (at most 64)")
    profile = _profile_groups(data)
    problems: list[str] = []
    result: list[str] = []
    for name in names:
        check_printable(name, SOURCE, "groups")
        canonical = canonical_group(name)
        problems += [f"{name}: {rule}" for rule in judge_group(name, data, openssl_version)]
        entry = profile.get(canonical.lower())
        spelled = str(entry["name"]) if entry else canonical
        if spelled in result:
            problems.append(f"{name}: listed twice")
        else:
            result.append(spelled)
    baseline = [g for g in result if g.lower() in profile and not profile[g.lower()].get("min_openssl")]
    if result and not baseline and not problems:
        problems.append(
            "every group listed needs a recent OpenSSL (min_openssl); add a group every target supports"
        )
    if problems:
        raise TlswardError(SOURCE, problems)
    return result
