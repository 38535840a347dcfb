"""Continuous compliance: scan live TLS endpoints with sslyze and judge them against a profile.

``scan_endpoints`` scans a list of targets concurrently and judges each; ``judge`` works on a
recorded scan alone (no network), which is what the unit tests and re-judging use.
"""

from __future__ import annotations

from typing import Any

from tlsward.defaults import DEFAULT_FAIL_SEVERITY
from tlsward.scan.judge import judge
from tlsward.scan.model import SEVERITIES, Finding, Identity, Target, is_compliant, worst_failed
from tlsward.scan.runner import scan

__all__ = [
    "SEVERITIES",
    "Finding",
    "Identity",
    "Target",
    "is_compliant",
    "judge",
    "judge_record",
    "scan",
    "scan_endpoints",
    "scan_payload",
    "worst_failed",
]


def judge_record(
    record: dict[str, Any],
    target: Target,
    *,
    fail_severity: str = DEFAULT_FAIL_SEVERITY,
    min_days_left: int | None = None,
) -> dict[str, Any]:
    """The result for one endpoint as the module and the reports return it."""
    findings = [
        f.as_dict()
        for f in judge(
            record,
            target.policy,
            target.environment,
            overrides=target.overrides,
            min_days_left=min_days_left,
            openssl_version=target.openssl_version,
        )
    ]
    return {
        "name": target.label,
        "host": target.host,
        "port": target.port,
        "server_name": target.sni,
        "environment": target.environment,
        "scanned_at": record["scanned_at"],
        "seconds": record["seconds"],
        "compliant": is_compliant(findings, fail_severity),
        "worst_failed_severity": worst_failed(findings),
        "findings": findings,
        "certificates": certificates_from(findings),
    }


def scan_payload(results: list[dict[str, Any]], *, single: bool) -> dict[str, Any]:
    """What the ``tls_scan`` module returns (without Ansible's ``changed``) and ``tlsward-scan
    --format json`` writes: ``compliant`` over every endpoint and the per-endpoint ``results``; for
    a single endpoint also its ``findings`` and ``worst_failed_severity`` at the top level."""
    payload: dict[str, Any] = {
        "compliant": all(r["compliant"] for r in results),
        "results": results,
    }
    if single:
        payload["findings"] = results[0]["findings"]
        payload["worst_failed_severity"] = results[0]["worst_failed_severity"]
    return payload


def certificates_from(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chain (subject, role, expiry, days left) as seen by ``cert.chain.expired``, for reports."""
    for f in findings:
        if f["id"] == "cert.chain.expired":
            evidence = f["evidence"]
            if "deployments" in evidence:
                return [c for d in evidence["deployments"] for c in d.get("chain", [])]
            return list(evidence.get("chain", []))
    return []


def scan_endpoints(
    targets: list[Target],
    *,
    fail_severity: str = DEFAULT_FAIL_SEVERITY,
    min_days_left: int | None = None,
    concurrency: int = 20,
) -> list[dict[str, Any]]:
    """Scan and judge every target concurrently; one result per target, in order."""
    records = scan(targets, concurrency=concurrency)
    return [
        judge_record(r, t, fail_severity=fail_severity, min_days_left=min_days_left)
        for r, t in zip(records, targets, strict=True)
    ]
