"""Judge protocol version lists (``ssl_protocols`` / MinProtocol..MaxProtocol) against a profile."""

from __future__ import annotations

import re
from typing import Any

from tlsward.errors import TlswardError
from tlsward.inputs import as_name_list, check_printable, policy_for
from tlsward.policy import PROTOCOLS

SOURCE = "validate_tls_protocols"
OBSOLETE = {
    "SSLv2": "SSLv2 is obsolete and never allowed (RFC 6176)",
    "SSLv3": "SSLv3 is obsolete and never allowed (RFC 7568)",
    "TLSv1": "TLS 1.0 is obsolete and never allowed (RFC 8996)",
    "TLSv1.1": "TLS 1.1 is obsolete and never allowed (RFC 8996)",
}
_CANONICAL = {re.sub(r"[^a-z0-9]", "", p.lower()): p for p in PROTOCOLS}
_CANONICAL.update({"tlsv10": "TLSv1", "tls10": "TLSv1", "tls1": "TLSv1"})


def canonical_protocol(name: str) -> str | None:
    """``TLSv1.2`` for ``TLSv1.2``, ``tlsv1.2``, ``TLS1.2``, ``TLSv1_2``; ``None`` if unknown."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key in _CANONICAL:
        return _CANONICAL[key]
    if key.startswith("tls") and not key.startswith("tlsv"):
        return _CANONICAL.get("tlsv" + key[3:])
    return None


def judge_protocol(name: str, policy: Any = None, allowed: list[str] | None = None) -> list[str]:
    """Every rule a single protocol version breaks (the scanner calls this for every version).

    ``allowed`` is a host's effective protocol list (``tlsward.policy.effective_tls``: an inventory
    override narrowing the profile's), when the version is judged for that host.
    """
    data = policy_for(policy, SOURCE)
    proto = canonical_protocol(name)
    if proto is None:
        return [f"unknown protocol (known: {', '.join(PROTOCOLS)})"]
    if proto in OBSOLETE:
        return [OBSOLETE[proto]]
    if proto not in data["protocols"]["allowed"]:
        return [f"is not allowed by policy {data['name']}"]
    if allowed is not None and proto not in {canonical_protocol(a) for a in allowed}:
        return ["is not one of the protocols this host is configured with (inventory override)"]
    return []


def validate_tls_protocols(value: Any, policy: Any = None) -> list[str]:
    """Validate a protocol list (``[TLSv1.2, TLSv1.3]`` or ``"TLSv1.2 TLSv1.3"``); return it canonical.

    Obsolete versions are always rejected; versions outside ``protocols.allowed`` are rejected;
    every version in ``protocols.required`` must be present.
    """
    data = policy_for(policy, SOURCE)
    names = as_name_list(value, SOURCE, "protocols")
    if not names:
        raise TlswardError(SOURCE, "the protocol list is empty")
    problems: list[str] = []
    result: list[str] = []
    for name in names[:32]:
        check_printable(name, SOURCE, "protocols")
        proto = canonical_protocol(name)
        problems += [f"{name}: {rule}" for rule in judge_protocol(name, data)]
        if proto is not None and proto in result:
            problems.append(f"{name}: listed twice")
        elif proto is not None:
            result.append(proto)
    if len(names) > 32:
        problems.append(f"{len(names)} protocols given; there are only {len(PROTOCOLS)}")
    for required in data["protocols"].get("required", []):
        if required not in result:
            problems.append(f"{required}: required by policy {data['name']} but missing")
    if problems:
        raise TlswardError(SOURCE, problems)
    return result
