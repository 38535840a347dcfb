"""Judging what an endpoint does with requests in 0-RTT early data (``early_data.unsafe_method_refused``).

Reads the record's ``early_data`` entry (``tlsward.scan.probe_early_data``). Whether early data may
be accepted at all is ``early_data.state`` (the profile's ``early_data.allowed``); this check
holds every endpoint that accepts it to RFC 8470: an unsafe request answered from early data
alone (before the client's Finished, which a replay never sends) must get 425 Too Early, so it
never reaches the application. A server that waits for the handshake before answering early data
passes too. The replay of a safe request (a ``GET`` sent as early data twice with one ticket) is
reported in the evidence and the message, not failed: replaying safe requests is what 0-RTT
allows.
"""

from __future__ import annotations

from typing import Any

from tlsward.scan.attempts import Attempt
from tlsward.scan.model import Finding, Status

FINDING = "early_data.unsafe_method_refused"
SEVERITY = "high"
TOO_EARLY = 425
REMEDIATION = (
    "answer 425 to unsafe methods received in early data before they are passed on (nginx: "
    'map "$ssl_early_data:<method is unsafe>" to return 425, as the nginx_tls role renders when '
    "early_data.allowed is true) and pass Early-Data: $ssl_early_data upstream, or turn ssl_early_data off"
)


def _finding(
    status: Status, message: str, evidence: dict[str, Any], remediation: str | None = None
) -> Finding:
    return Finding(FINDING, status, SEVERITY, message, evidence, remediation)


def _replay(probe: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A sentence and the evidence about the GET sent twice as early data with one ticket."""
    attempts = probe.get("replay") or []
    accepted = [a for a in attempts if a["early_data"] == "accepted" and a["answered_before_finished"]]
    replayed = len(attempts) == 2 and len(accepted) == 2
    evidence = {"replayed": replayed, "attempts": attempts}
    if replayed:
        statuses = " and ".join(str(a["http_status"]) for a in accepted)
        return f"a GET replayed with one ticket was accepted and answered twice (HTTP {statuses})", evidence
    if attempts:
        return "a GET replayed with one ticket was not answered twice from early data", evidence
    return "", evidence


def judge_early_data(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    allowed = bool(policy["early_data"]["allowed"])
    sslyze = Attempt(record, "tls_1_3_early_data")
    sslyze_says = sslyze.result["supports_early_data"] if sslyze.result is not None else None
    probe = record.get("early_data")
    evidence: dict[str, Any] = {
        "profile_allows_early_data": allowed,
        "sslyze_supports_early_data": sslyze_says,
    }
    if probe is None:
        message = "requests in early data were not probed (the record predates this check)"
        return [_finding("not_applicable", message, {"probed": False, **evidence})]
    evidence["max_early_data"] = probe.get("max_early_data")
    if probe.get("error"):
        evidence["probe_error"] = probe["error"]
        if sslyze_says is False:
            message = f"the endpoint does not accept early data (sslyze); the probe: {probe['error']}"
            return [_finding("not_applicable", message, evidence)]
        return [_finding("error", f"no request could be sent as early data: {probe['error']}", evidence)]
    if not probe.get("offered"):
        why = f"its tickets allow no early data (max_early_data {probe.get('max_early_data')})"
        if sslyze_says:
            return [_finding("error", f"sslyze saw 0-RTT accepted, but {why}", evidence)]
        return [_finding("not_applicable", f"the endpoint does not accept early data: {why}", evidence)]
    unsafe = probe.get("unsafe") or []
    evidence["unsafe_attempts"] = unsafe
    replay_text, evidence["replay"] = _replay(probe)
    status, message = _unsafe_verdict(unsafe)
    return [
        _finding(
            status,
            message + (f"; {replay_text}" if replay_text else ""),
            evidence,
            REMEDIATION if status == "fail" else None,
        )
    ]


def _unsafe_verdict(unsafe: list[dict[str, Any]]) -> tuple[Status, str]:
    early = [a for a in unsafe if a["early_data"] == "accepted" and a["answered_before_finished"]]
    served = [a for a in early if a["http_status"] != TOO_EARLY]
    if served:
        return (
            "fail",
            f"a POST sent as early data was answered HTTP {served[0]['http_status']} before the handshake "
            "completed: it reached the application, and a replay would too",
        )
    if early:
        return "pass", "a POST sent as early data was answered 425 Too Early before the handshake completed"
    if unsafe and all(a["early_data"] in ("rejected", "not sent") for a in unsafe):
        return "pass", "the early data of a POST was rejected"
    waited = [a for a in unsafe if a["early_data"] == "accepted" and a["http_status"] is not None]
    if waited:
        return (
            "pass",
            f"a POST sent as early data was answered (HTTP {waited[0]['http_status']}) only after the "
            "handshake completed: the server waits for the client's Finished",
        )
    return (
        "error",
        f"a POST sent as early data got no answer: {unsafe[-1]['error'] if unsafe else 'not sent'}",
    )
