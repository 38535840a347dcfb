"""Judge a scan record against a policy profile: every check becomes a finding, passed ones included."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tlsward.policy import DEFAULT_POLICY, effective_tls, load_policy
from tlsward.scan.judge_cert import judge_certificates
from tlsward.scan.judge_early_data import judge_early_data
from tlsward.scan.judge_http import judge_hsts, judge_mtls, judge_server_tokens
from tlsward.scan.judge_lifetime import judge_lifetime_calendar
from tlsward.scan.judge_pq import judge_pq_hybrid
from tlsward.scan.judge_resumption import judge_cross_resumption
from tlsward.scan.judge_sigalgs import judge_signature_algorithms
from tlsward.scan.judge_tls import judge_attacks, judge_groups, judge_protocols, judge_session, judge_suites
from tlsward.scan.model import Finding, check


def judge(
    record: dict[str, Any],
    policy: str | dict[str, Any] = DEFAULT_POLICY,
    environment: str = "production",
    *,
    overrides: dict[str, Any] | None = None,
    min_days_left: int | None = None,
    now: dt.datetime | None = None,
    openssl_version: str | None = None,
) -> list[Finding]:
    """All findings for one scanned endpoint.

    ``now`` defaults to the record's scan time: a verdict is about the moment of the scan, so a
    recorded scan judged again gives the same answer. ``overrides`` are the inventory's validated
    TLS overrides for this endpoint (see ``tlsward.policy.effective_tls``). ``openssl_version`` is
    the target's OpenSSL as the caller knows it (``openssl version`` output or ``3.0.15``); the
    key-exchange groups are judged against it (see ``judge_groups``), unknown when ``None``.
    """
    data = load_policy(policy)
    tls = effective_tls(data, overrides)
    when = now or dt.datetime.fromisoformat(record["scanned_at"])
    sslyze = record.get("sslyze") or {}
    connected = sslyze.get("connectivity_status") == "COMPLETED"
    if not connected:
        where = f"{record['target']['host']}:{record['target']['port']}"
        trace = (sslyze.get("connectivity_error_trace") or "").strip().splitlines()
        return [
            check(
                "connectivity",
                False,
                "critical",
                f"could not complete a TLS handshake with {where}",
                error=trace[-1] if trace else None,
            )
        ]
    probing = sslyze.get("connectivity_result") or {}
    findings = [
        check(
            "connectivity",
            True,
            "critical",
            "TLS handshake completed",
            highest_tls_version=probing.get("highest_tls_version_supported"),
            client_auth_requirement=probing.get("client_auth_requirement"),
        ),
    ]
    findings += judge_protocols(record, data, tls, list(data["protocols"].get("required", [])))
    findings += judge_suites(record, tls, data)
    findings += judge_groups(record, data, overrides, openssl_version)
    findings += judge_pq_hybrid(record, data, overrides, openssl_version)
    findings += judge_signature_algorithms(record, data)
    findings += judge_certificates(record, data, environment, when, min_days_left)
    findings += judge_lifetime_calendar(record, data, when, min_days_left)
    findings += judge_hsts(record, data)
    findings += judge_mtls(record, data)
    findings += judge_server_tokens(record)
    findings += judge_session(record, data)
    findings += judge_cross_resumption(record, data)
    findings += judge_early_data(record, data)
    findings += judge_attacks(record)
    return findings
