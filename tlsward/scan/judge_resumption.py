"""Judging cross-listener session resumption (``session.cross_listener_resumption``).

Reads the record's ``resumption`` entry (``tlsward.scan.probe_resumption``). A *bypass* is a
session handed out by another listener or name that the target resumed and then served a request
on, for an identity the target refuses on a connection of its own (the record's ``mtls.*``
probes): the target let the session stand in for its own verification of the client. An identity
the target serves without any session is reported by ``mtls.*``, not here. A refusal is a failed
handshake, HTTP 400/401/403/495/496, or 421 Misdirected Request (what nginx answers since the
CVE-2025-23419 fix when a TLS 1.2 session resumes under another name).
"""

from __future__ import annotations

from typing import Any

from tlsward.scan.judge_http import refused
from tlsward.scan.model import Finding, Status

FINDING = "session.cross_listener_resumption"
SEVERITY = "critical"
MISDIRECTED = 421
# The record's own mTLS probe for each identity the resumption probe uses.
DIRECT_PROBE = {"none": "no_client_cert", "unknown_ca": "unknown_ca", "revoked": "revoked"}
REMEDIATION = (
    "do not let a session from a listener or server name with weaker client verification reach one "
    "that requires client certificates: give the mTLS listener its own ssl_session_ticket_key and "
    "session cache zone (or ssl_session_tickets off and ssl_session_cache off there), make it the "
    "default server of its address:port, and apply the same client CA and ssl_crl everywhere the "
    "keys are shared; upgrade nginx to 1.27.4 / 1.26.3 or a build with the CVE-2025-23419 fix"
)


def _finding(
    status: Status, message: str, evidence: dict[str, Any], remediation: str | None = None
) -> Finding:
    return Finding(FINDING, status, SEVERITY, message, evidence, remediation)


def _where(listener: dict[str, Any]) -> str:
    return f"{listener['server_name']} at {listener['host']}:{listener['port']}"


def _summary(attempt: dict[str, Any]) -> dict[str, Any]:
    offered = attempt.get("offered") or {}
    origin = attempt["origin"]
    return {
        "peer": _where(attempt["peer"]),
        "version": attempt["version"],
        "identity": attempt["identity"],
        "peer_answer": origin.get("http_status") if origin["stage"] == "done" else origin["stage"],
        "session_obtained": attempt["session_obtained"],
        "resumed": offered.get("resumed"),
        "answer": (offered.get("http_status") if offered.get("stage") == "done" else offered.get("error"))
        if offered
        else None,
    }


def _served(offered: dict[str, Any], valid: dict[str, Any] | None) -> bool | None:
    """True when the target served the request on the resumed connection, None if undecidable."""
    if offered.get("stage") == "done" and offered.get("http_status") == MISDIRECTED:
        return False
    verdict, _ = refused(offered, valid)
    return None if verdict is None else not verdict


def judge_cross_resumption(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    if not policy["mtls"].get("required"):
        return [_finding("not_applicable", "the profile does not require mutual TLS", {})]
    probe = record.get("resumption")
    if probe is None:
        message = "cross-listener resumption was not probed (the record predates this check)"
        return [_finding("not_applicable", message, {"probed": False})]
    probes = record.get("probes") or {}
    valid = probes.get("valid")
    bypasses, undecided, offered = [], [], []
    for attempt in probe["attempts"]:
        if not attempt.get("offered"):
            continue
        offered.append(attempt)
        if not attempt["offered"].get("resumed"):
            continue  # a full handshake: the target verified the client itself
        served = _served(attempt["offered"], valid)
        direct = probes.get(DIRECT_PROBE[attempt["identity"]])
        if served is None:
            undecided.append(attempt)
        elif served and (direct is None or refused(direct, valid)[0] is not False):
            bypasses.append(attempt)
    unreachable = [a for a in probe["attempts"] if a["origin"]["stage"] == "connect"]
    evidence = {
        "target": _where(probe["target"]),
        "peers": [_where(p) for p in probe["peers"]],
        "peers_left_out": [_where(p) for p in probe.get("peers_left_out", [])],
        "identities": probe.get("identities"),
        "sessions_offered": len(offered),
        "resumed": sum(1 for a in offered if a["offered"].get("resumed")),
        "bypasses": [_summary(a) for a in bypasses],
        "unreachable_peers": sorted({_where(a["peer"]) for a in unreachable}),
        "attempts": [_summary(a) for a in probe["attempts"]],
    }
    if bypasses:
        first = bypasses[0]
        return [
            _finding(
                "fail",
                f"a session from {_where(first['peer'])} ({first['identity']} client identity, "
                f"{first['version']}) RESUMED on {_where(probe['target'])} and was served HTTP "
                f"{first['offered']['http_status']}: the target's own check of the client was skipped "
                f"({len(bypasses)} such session(s))",
                evidence,
                REMEDIATION,
            )
        ]
    if undecided:
        return [
            _finding(
                "error",
                f"{len(undecided)} resumed session(s) got an answer the valid device identity gets too: "
                "cannot tell a refusal from a served request",
                evidence,
            )
        ]
    if not offered and unreachable and len(evidence["unreachable_peers"]) == len(probe["peers"]):
        return [_finding("error", "no peer listener could be reached to obtain a session", evidence)]
    if not offered:
        message = "no peer listener or name handed out a resumable session to offer"
    else:
        message = (
            f"{len(offered)} session(s) from {len(probe['peers'])} other listener(s)/name(s) offered: "
            f"{evidence['resumed']} resumed, none served a client the target refuses"
        )
    return [_finding("pass", message, evidence)]
