"""Judging what the endpoint does at the HTTP layer: HSTS, Server header, client-certificate enforcement."""

from __future__ import annotations

import re
from typing import Any

from tlsward.scan.attempts import Attempt
from tlsward.scan.model import Finding, check, not_applicable, undecided

# Statuses with which a server refuses a request for lack of an acceptable client certificate
# (nginx answers 400 for its internal 495 "certificate error" / 496 "no certificate").
REFUSAL_STATUSES = {400, 401, 403, 495, 496}
VERSION_IN_SERVER = re.compile(r"\d+\.\d+")


def judge_hsts(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    hsts = policy["hsts"]
    if not hsts.get("required"):
        return [
            not_applicable(fid, "high", "the profile does not require HSTS")
            for fid in ("hsts.present", "hsts.max_age", "hsts.include_subdomains")
        ]
    attempt = Attempt(record, "http_headers")
    if not attempt.ok:
        return [undecided("hsts.present", "high", "HTTP headers could not be fetched", **attempt.why_not())]
    assert attempt.result is not None
    if attempt.result.get("http_error_trace"):
        last = attempt.result["http_error_trace"].strip().splitlines()[-1]
        return [
            check(
                "hsts.present",
                False,
                "high",
                f"no valid HTTP response to read HSTS from: {last}",
                http_error=last,
            )
        ]
    header = attempt.result.get("strict_transport_security_header")
    path = attempt.result.get("http_path_redirected_to")
    if not header:
        return [
            check("hsts.present", False, "high", "NO Strict-Transport-Security header", path=path),
            not_applicable("hsts.max_age", "medium", "no HSTS header"),
            not_applicable("hsts.include_subdomains", "low", "no HSTS header"),
        ]
    max_age = header.get("max_age") or 0
    minimum = int(hsts.get("min_max_age", 0))
    findings = [
        check(
            "hsts.present", True, "high", "Strict-Transport-Security header present", path=path, header=header
        ),
        check(
            "hsts.max_age",
            max_age >= minimum,
            "medium",
            f"HSTS max-age {max_age} (profile minimum {minimum})",
            max_age=max_age,
            min_max_age=minimum,
        ),
    ]
    want_sub = bool(hsts.get("include_subdomains"))
    findings.append(
        check(
            "hsts.include_subdomains",
            header.get("include_subdomains") or not want_sub,
            "low",
            f"includeSubDomains {'set' if header.get('include_subdomains') else 'NOT set'}"
            f" (profile: {'required' if want_sub else 'optional'})",
            include_subdomains=header.get("include_subdomains"),
        )
    )
    return findings


def judge_server_tokens(record: dict[str, Any]) -> list[Finding]:
    probes = record.get("probes") or {}
    probe = probes.get("valid") or probes.get("no_client_cert")
    if not probe or probe.get("stage") != "done":
        return [
            undecided(
                "http.server_tokens",
                "low",
                "no HTTP response to read the Server header from",
                probe=_short(probe),
            )
        ]
    server = probe.get("server")
    leaks = bool(server and VERSION_IN_SERVER.search(server))
    return [
        check(
            "http.server_tokens",
            not leaks,
            "low",
            f"Server header {server!r} reveals a version"
            if leaks
            else f"Server header {server!r} reveals no version",
            server=server,
        )
    ]


def _short(probe: dict[str, Any] | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    keys = ("identity", "stage", "error", "tls_version", "http_status", "body")
    return {k: probe.get(k) for k in keys if k in probe}


def refused(probe: dict[str, Any], valid: dict[str, Any] | None) -> tuple[bool | None, str]:
    """Whether a probe was refused: handshake/connection failure, or an HTTP refusal status.

    Returns ``(None, why)`` when an HTTP refusal cannot be blamed on the identity, because the
    valid device identity gets the same status.
    """
    if probe.get("stage") != "done":
        return True, f"refused during {probe.get('stage')}: {probe.get('error')}"
    status = probe.get("http_status")
    if status in REFUSAL_STATUSES:
        if valid and valid.get("stage") == "done" and valid.get("http_status") == status:
            return None, f"HTTP {status}, but the valid device identity gets HTTP {status} too"
        return True, f"request refused with HTTP {status}"
    return False, f"request SERVED with HTTP {status}"


def judge_mtls(record: dict[str, Any], policy: dict[str, Any]) -> list[Finding]:
    ids = (
        "mtls.no_client_cert_refused",
        "mtls.unknown_ca_refused",
        "mtls.revoked_refused",
        "mtls.valid_client_cert_accepted",
    )
    if not policy["mtls"].get("required"):
        return [not_applicable(fid, "critical", "the profile does not require mutual TLS") for fid in ids]
    probes = record.get("probes") or {}
    valid = probes.get("valid")
    findings = []
    for fid, key, what in (
        ("mtls.no_client_cert_refused", "no_client_cert", "without a client certificate"),
        ("mtls.unknown_ca_refused", "unknown_ca", "with a certificate from an unknown CA"),
        ("mtls.revoked_refused", "revoked", "with a revoked device certificate"),
    ):
        probe = probes.get(key)
        if probe is None:
            findings.append(
                not_applicable(fid, "critical", f"not tested: no identity given for the probe {what}")
            )
            continue
        verdict, why = refused(probe, valid)
        if verdict is None:
            findings.append(
                undecided(
                    fid,
                    "critical",
                    f"inconclusive {what}: {why}",
                    probe=_short(probe),
                    valid_probe=_short(valid),
                )
            )
        else:
            findings.append(check(fid, verdict, "critical", f"{what}: {why}", probe=_short(probe)))
    if valid is None:
        findings.append(
            not_applicable(
                "mtls.valid_client_cert_accepted",
                "high",
                "not tested: no device identity (client_cert) given",
            )
        )
    else:
        verdict, why = refused(valid, None)
        findings.append(
            check(
                "mtls.valid_client_cert_accepted",
                not verdict,
                "high",
                f"with the valid device identity: {why}",
                probe=_short(valid),
            )
        )
    return findings
