"""Judge key-exchange group lists (``ssl_ecdh_curve`` / OpenSSL ``Groups``) against a profile.

A list is read as the target's OpenSSL reads it (``SSL_CTX_set1_groups_list``): names separated
by ``:``; from OpenSSL 3.3 a ``?`` prefix (ignore the group if the library lacks it); from 3.5
``/`` between tuples of comparable groups, a ``*`` prefix (send a key share for it) and a ``-``
prefix (remove a group listed before). Each name is judged against the profile; syntax the
target's OpenSSL (``openssl_version``) does not understand is refused, as is ``DEFAULT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
MAX_ENTRIES = 64
MAX_KEY_SHARES = 4  # OpenSSL refuses a list asking for more key shares ("*")
# OpenSSL's built-in lists a name may pull in (case-insensitive); DEFAULT_SUITE_B is newer.
PSEUDO_GROUPS = ("default", "default_suite_b")
# The OpenSSL release that first reads each part of the syntax, and what it means.
SYNTAX = {
    "?": ("3.3.0", "'?' prefix (ignore the group if OpenSSL lacks it)"),
    "*": ("3.5.0", "'*' prefix (send a key share for the group)"),
    "-": ("3.5.0", "'-' prefix (remove the group)"),
    "/": ("3.5.0", "group tuples ('/')"),
}


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
    if allowed is not None and canonical.lower() not in {g.lower() for g in group_names(allowed)}:
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


@dataclass(frozen=True)
class _Entry:
    """One entry of a group list: ``text`` as written (``*X25519``), its prefix marks, the name."""

    text: str
    prefix: str
    name: str


def _parse(items: list[str]) -> tuple[list[list[_Entry]], list[str]]:
    """The list's tuples (one, without ``/``) of entries, and the problems with the syntax itself."""
    tuples: list[list[_Entry]] = []
    problems: list[str] = []
    text = ":".join(items)
    stray = f"{text}: a '/' must stand between two group names, with no ':', ',' or space beside it"
    for part in text.split("/"):
        texts = part.split(":")
        if "" in texts and stray not in problems:
            problems.append(stray)
        tuples.append([])
        for written in filter(None, texts):
            name = written.lstrip("*?-")
            prefix = written[: len(written) - len(name)]
            if len(set(prefix)) < len(prefix) or not name:
                problems.append(f"{written}: each of '*', '?' and '-' may prefix a group name once")
            elif name.lower() in PSEUDO_GROUPS:
                problems.append(
                    f"{written}: pulls OpenSSL's built-in default groups into the list, so the groups "
                    "offered are no longer only the ones listed (CVE-2026-2673: OpenSSL 3.5 before "
                    "3.5.6 and 3.6 before 3.6.2 also lose their tuple order); list the groups instead"
                )
            else:
                tuples[-1].append(_Entry(written, prefix, name))
    return tuples, problems


def _syntax_problems(tuples: list[list[_Entry]], openssl_version: str | None) -> list[str]:
    """A problem for each part of the syntax used that the target's OpenSSL is not shown to read."""
    used = {mark for entries in tuples for entry in entries for mark in entry.prefix}
    if len(tuples) > 1:
        used.add("/")
    problems = []
    for mark, (need, what) in SYNTAX.items():
        if mark not in used:
            continue
        if not openssl_version:
            problems.append(
                f"{what} needs OpenSSL >= {need}; the target's version is not known (give openssl_version)"
            )
            continue
        try:
            have = _version_tuple(openssl_version)
        except PolicyError:
            problems.append(
                f"{what} needs OpenSSL >= {need}; cannot read an OpenSSL version from {openssl_version!r}"
            )
            continue
        if have < _version_tuple(need):
            problems.append(f"{what} needs OpenSSL >= {need}; the target has {'.'.join(map(str, have))}")
    return problems


def _spelling(name: str, profile: dict[str, dict[str, Any]]) -> str:
    entry = profile.get(canonical_group(name).lower())
    return str(entry["name"]) if entry else canonical_group(name)


def _judge(
    tuples: list[list[_Entry]], data: dict[str, Any], openssl_version: str | None
) -> tuple[list[str], list[str]]:
    """The groups left in place, in order and in the profile's spelling, and every rule broken."""
    profile = _profile_groups(data)
    present: list[str] = []
    key_shares: set[str] = set()
    problems: list[str] = []
    for entry in (entry for entries in tuples for entry in entries):
        spelled = _spelling(entry.name, profile)
        if "-" in entry.prefix:
            if spelled not in present:
                problems.append(f"{entry.text}: removes a group not listed before it")
            present = [g for g in present if g != spelled]
            key_shares.discard(spelled)
            continue
        # A "?" group the target lacks is skipped there, so its min_openssl is no problem.
        version = None if "?" in entry.prefix else openssl_version
        problems += [f"{entry.text}: {rule}" for rule in judge_group(entry.name, data, version)]
        if spelled in present:
            problems.append(f"{entry.text}: listed twice")
            continue
        present.append(spelled)
        if "*" in entry.prefix:
            key_shares.add(spelled)
    if len(key_shares) > MAX_KEY_SHARES:
        problems.append(
            f"{len(key_shares)} key shares ('*') asked for; OpenSSL sends at most {MAX_KEY_SHARES}"
        )
    return present, problems


def group_names(value: Any) -> list[str]:
    """The plain group names a list leaves in place (prefixes dropped, ``-`` removals applied)."""
    tuples, _ = _parse(as_name_list(value, SOURCE, "groups"))
    names: list[str] = []
    for entry in (entry for entries in tuples for entry in entries):
        name = canonical_group(entry.name)
        if "-" in entry.prefix:
            names = [n for n in names if n.lower() != name.lower()]
        elif name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def validate_groups(value: Any, policy: Any = None, openssl_version: str | None = None) -> list[str]:
    """Validate a group list (``X25519:prime256v1`` or a list); return it with the profile's spelling.

    Groups with ``min_openssl`` in the profile are optional (hybrid post-quantum groups): allowed,
    but with ``openssl_version`` given they must be supported there (unless marked ``?``: the
    target then skips them), and at least one group must work without them. The ``?``, ``*``,
    ``-`` and ``/`` syntax needs ``openssl_version`` to show the target reads it, and is kept in
    the returned items (``*X25519MLKEM768/*X25519``, ``prime256v1``).
    """
    data = policy_for(policy, SOURCE)
    items = as_name_list(value, SOURCE, "groups")
    if not items:
        raise TlswardError(SOURCE, "the group list is empty")
    for item in items:
        check_printable(item, SOURCE, "groups")
    tuples, problems = _parse(items)
    count = sum(map(len, tuples))
    if count > MAX_ENTRIES:
        raise TlswardError(SOURCE, f"{count} groups given (at most {MAX_ENTRIES})")
    present, judged = _judge(tuples, data, openssl_version)
    problems += judged + _syntax_problems(tuples, openssl_version)
    profile = _profile_groups(data)
    baseline = [g for g in present if g.lower() in profile and not profile[g.lower()].get("min_openssl")]
    if not present and not problems:
        problems.append("no group is left once the '-' removals are applied")
    elif not baseline and not problems:
        problems.append(
            "every group listed needs a recent OpenSSL (min_openssl); add a group every target supports"
        )
    if problems:
        raise TlswardError(SOURCE, problems)
    return "/".join(":".join(e.prefix + _spelling(e.name, profile) for e in t) for t in tuples).split(":")
