"""Judge the hybrid post-quantum key exchange (``kex.pq_hybrid``) from the record's ``pq_groups``.

sslyze does not offer hybrid groups, so ``tlsward.scan.probe_hello.pq_probes`` sends its own TLS 1.3
ClientHellos and records the group the server selects. The verdict needs the target's OpenSSL:

- the profile lists X25519MLKEM768 (and no inventory override removes it) and the target's OpenSSL
  has it (the profile's ``min_openssl``, 3.5): it must be negotiated;
- the target's OpenSSL is older, or its version is not known: a missing hybrid group is reported
  (``not_applicable``, the reason in the message and ``required`` in the evidence), not failed;
- negotiated although the profile does not list it, the override removed it, or the target is
  said to run an OpenSSL without it: failed, as ``kex.groups`` fails a classical group outside
  the profile (the same ``judge_group`` rules).

Whether a client that sends an X25519 key share only (both groups supported) gets a
HelloRetryRequest is reported in the evidence (``x25519_first_hello_retry_request``), not judged.
"""

from __future__ import annotations

from typing import Any

from tlsward.errors import PolicyError
from tlsward.groups import canonical_group, group_names, judge_group
from tlsward.policy import _version_tuple
from tlsward.scan.model import Finding, Status

FINDING = "kex.pq_hybrid"
SEVERITY = "medium"
HYBRID = "X25519MLKEM768"
MISSING = (
    "put X25519MLKEM768 first in the groups (ssl_ecdh_curve / Groups) of the OpenSSL >= 3.5 target; "
    "the nginx_tls role renders the profile's groups for the target's version"
)
UNEXPECTED = (
    "render the groups from the host's profile, overrides and real OpenSSL version "
    "(tls_policy_nginx); the endpoint offers a group they do not allow"
)


def _finding(
    status: Status, message: str, evidence: dict[str, Any], remediation: str | None = None
) -> Finding:
    return Finding(FINDING, status, SEVERITY, message, evidence, remediation)


def judge_pq_hybrid(
    record: dict[str, Any],
    policy: dict[str, Any],
    overrides: dict[str, Any] | None = None,
    openssl_version: str | None = None,
) -> list[Finding]:
    probes = record.get("pq_groups")
    if probes is None:
        message = "hybrid post-quantum groups were not probed (the record predates this check)"
        return [_finding("not_applicable", message, {"probed": False})]
    first, x25519_first = probes["hybrid_first"], probes["x25519_first"]
    evidence: dict[str, Any] = {
        "hybrid_first": first,
        "x25519_first_hello_retry_request": x25519_first.get("outcome") == "hello_retry_request",
        "x25519_first": x25519_first,
        "target_openssl": openssl_version,
    }
    if first["outcome"] not in ("server_hello", "hello_retry_request"):
        if first.get("alert") == "protocol_version":
            return [
                _finding(
                    "not_applicable", "the endpoint does not speak TLS 1.3 (hybrid groups need it)", evidence
                )
            ]
        why = first.get("alert") or first.get("error")
        return [_finding("error", f"the hybrid ClientHello got no ServerHello ({why})", evidence)]
    negotiated = first["outcome"] == "server_hello" and first.get("selected_group") == HYBRID
    evidence.update(negotiated=negotiated, selected_group=first.get("selected_group"))
    if negotiated:
        return [_negotiated(policy, overrides, openssl_version, evidence)]
    return [_missing(policy, overrides, openssl_version, evidence)]


def _effective(overrides: dict[str, Any] | None) -> list[str] | None:
    return overrides["groups"] if overrides and overrides.get("groups") else None


def _negotiated(
    policy: dict[str, Any],
    overrides: dict[str, Any] | None,
    openssl_version: str | None,
    evidence: dict[str, Any],
) -> Finding:
    rules = judge_group(HYBRID, policy, openssl_version, _effective(overrides))
    evidence["why"] = rules
    if rules:
        return _finding("fail", f"X25519MLKEM768 negotiated, but it {'; '.join(rules)}", evidence, UNEXPECTED)
    return _finding("pass", "X25519MLKEM768 (hybrid post-quantum) negotiated", evidence)


def _missing(
    policy: dict[str, Any],
    overrides: dict[str, Any] | None,
    openssl_version: str | None,
    evidence: dict[str, Any],
) -> Finding:
    got = f"{evidence['selected_group']} selected instead"
    entry = next((g for g in policy["groups"] if canonical_group(str(g["name"])) == HYBRID), None)
    if entry is None:
        return _finding("not_applicable", f"the profile does not list X25519MLKEM768 ({got})", evidence)
    effective = _effective(overrides)
    if effective is not None and HYBRID.lower() not in {g.lower() for g in group_names(effective)}:
        return _finding(
            "not_applicable", f"the host's group override leaves X25519MLKEM768 out ({got})", evidence
        )
    need = str(entry.get("min_openssl") or "")
    evidence["min_openssl"] = need or None
    if not openssl_version:
        evidence["required"] = False
        message = (
            f"X25519MLKEM768 not negotiated ({got}); reported, not failed: the target's OpenSSL version "
            f"is not known (X25519MLKEM768 needs >= {need or 'any'})"
        )
        return _finding("not_applicable", message, evidence, MISSING)
    try:
        have = _version_tuple(openssl_version)
    except PolicyError:
        return _finding("error", f"cannot read an OpenSSL version from {openssl_version!r}", evidence)
    shown = ".".join(map(str, have))
    evidence["required"] = not need or have >= _version_tuple(need)
    if not evidence["required"]:
        message = (
            f"X25519MLKEM768 not negotiated ({got}): the target's OpenSSL {shown} lacks it (needs >= {need})"
        )
        return _finding("not_applicable", message, evidence)
    message = (
        f"X25519MLKEM768 not negotiated ({got}), although the profile wants it and the target's "
        f"OpenSSL {shown} has it"
    )
    return _finding("fail", message, evidence, MISSING)
