"""The compliance report (schema ``tlsward.compliance-report`` version 1, docs/compliance.md).

``build_report`` merges the TLS scan results and the host-side findings per inventory host,
computes the summary against the failure threshold, lays out the certificate expiry timeline
and what changed since the previous report. The dict it returns is what ``report.json`` holds;
the JUnit and HTML renderings are made from it alone.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from tlsward.defaults import DEFAULT_FAIL_SEVERITY
from tlsward.errors import PolicyError
from tlsward.policy import load_policy
from tlsward.scan.model import SEVERITIES, is_compliant, severity_rank, worst_failed

SCHEMA = "tlsward.compliance-report"
SCHEMA_VERSION = 1


def run_id_for(when: dt.datetime) -> str:
    """Directory name of a run: sortable UTC timestamp, e.g. ``20261124T201500Z``."""
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _host_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "endpoint": None,
        "environment": None,
        "scanned_at": None,
        "scan_seconds": None,
        "findings": [],
        "certificates": [],
    }


def build_report(
    *,
    tls_results: list[dict[str, Any]],
    host_findings: dict[str, list[dict[str, Any]]] | None = None,
    policy: str,
    fail_severity: str = DEFAULT_FAIL_SEVERITY,
    warning_days: int | None = None,
    run_id: str | None = None,
    generated_at: dt.datetime | None = None,
    previous: dict[str, Any] | None = None,
    tool_versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The report of one run; ``warning_days`` defaults to the profile's ``certificate.min_days_left``
    (the default profile's when ``policy`` is only a label, not a profile that loads)."""
    severity_rank(fail_severity)
    if warning_days is None:
        warning_days = _profile_warning_days(policy)
    now = generated_at or dt.datetime.now(dt.UTC)
    hosts: dict[str, dict[str, Any]] = {}
    for result in tls_results:
        entry = hosts.setdefault(result["name"], _host_entry(result["name"]))
        entry["endpoint"] = {
            "host": result["host"],
            "port": result["port"],
            "server_name": result["server_name"],
        }
        entry["environment"] = result.get("environment")
        entry["scanned_at"] = result.get("scanned_at")
        entry["scan_seconds"] = result.get("seconds")
        entry["findings"] += [{**f, "source": "tls"} for f in result["findings"]]
        entry["certificates"] = [{**c, "host": result["name"]} for c in result.get("certificates", [])]
    for name, findings in (host_findings or {}).items():
        entry = hosts.setdefault(name, _host_entry(name))
        entry["findings"] += [{**f, "source": "host"} for f in findings]
    for entry in hosts.values():
        entry["compliant"] = is_compliant(entry["findings"], fail_severity)
        entry["worst_failed_severity"] = worst_failed(entry["findings"])
        entry["counts"] = _counts(entry["findings"])
        entry["failed_by_severity"] = _failed_by_severity(entry["findings"])
    ordered = [hosts[k] for k in sorted(hosts)]
    certificates = sorted(
        (c for h in ordered for c in h["certificates"]), key=lambda c: (c["not_after"], c["host"], c["role"])
    )
    all_findings = [f for h in ordered for f in h["findings"]]
    expiring = [c for c in certificates if c["days_left"] < warning_days]
    report = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id or run_id_for(now),
        "generated_at": now.isoformat(),
        "tool": dict(tool_versions or {}),
        "policy": policy,
        "fail_severity": fail_severity,
        "warning_days": warning_days,
        "summary": {
            "compliant": all(h["compliant"] for h in ordered),
            "hosts": len(ordered),
            "compliant_hosts": sum(1 for h in ordered if h["compliant"]),
            "checks": len(all_findings),
            **_counts(all_findings),
            "failed_by_severity": _failed_by_severity(all_findings),
            "failed_at_or_above_threshold": sum(
                1
                for f in all_findings
                if not f["passed"] and severity_rank(f["severity"]) >= severity_rank(fail_severity)
            ),
            "expiring_certificates": len(expiring),
            # Endpoints are scanned concurrently: the run's scan time is the slowest endpoint's.
            "scan_seconds_max": round(max((h["scan_seconds"] or 0 for h in ordered), default=0), 3),
        },
        "hosts": ordered,
        "certificates": certificates,
    }
    report["changes"] = diff_reports(previous, report)
    return report


def _profile_warning_days(policy: str) -> int:
    try:
        profile = load_policy(policy)
    except PolicyError:
        profile = load_policy(None)
    return int(profile["certificate"]["min_days_left"])


def _counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(f["status"] for f in findings)
    return {
        "passed": counts["pass"],
        "failed": counts["fail"],
        "errors": counts["error"],
        "not_applicable": counts["not_applicable"],
    }


def _failed_by_severity(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(f["severity"] for f in findings if not f["passed"])
    return {s: counts[s] for s in reversed(SEVERITIES)}


def _failed_ids(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(h["name"], f["id"]): f for h in report["hosts"] for f in h["findings"] if not f["passed"]}


def diff_reports(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """What changed since ``previous``: hosts, newly failed and resolved checks, renewed certificates."""
    if not previous:
        return {
            "previous_run": None,
            "hosts_added": [],
            "hosts_removed": [],
            "newly_failed": [],
            "resolved": [],
            "certificates_changed": [],
            "compliance_changed": False,
        }
    before_hosts = {h["name"] for h in previous.get("hosts", [])}
    now_hosts = {h["name"] for h in current["hosts"]}
    before, now = _failed_ids(previous), _failed_ids(current)
    newly = [
        {"host": host, "id": fid, "severity": f["severity"], "message": f["message"]}
        for (host, fid), f in sorted(now.items())
        if (host, fid) not in before
    ]
    resolved = [
        {"host": host, "id": fid, "severity": f["severity"]}
        for (host, fid), f in sorted(before.items())
        if (host, fid) not in now and host in now_hosts
    ]
    old_certs = {(c["host"], c["role"], c["subject"]): c for c in previous.get("certificates", [])}
    changed = []
    for cert in current["certificates"]:
        old = old_certs.get((cert["host"], cert["role"], cert["subject"]))
        if old and old["serial"] != cert["serial"]:
            changed.append(
                {
                    "host": cert["host"],
                    "role": cert["role"],
                    "subject": cert["subject"],
                    "old_serial": old["serial"],
                    "new_serial": cert["serial"],
                    "old_not_after": old["not_after"],
                    "new_not_after": cert["not_after"],
                }
            )
    return {
        "previous_run": previous.get("run_id"),
        "hosts_added": sorted(now_hosts - before_hosts),
        "hosts_removed": sorted(before_hosts - now_hosts),
        "newly_failed": newly,
        "resolved": resolved,
        "certificates_changed": changed,
        "compliance_changed": bool(previous.get("summary", {}).get("compliant"))
        != current["summary"]["compliant"],
    }
