"""Prometheus metrics of a compliance run, for node_exporter's textfile collector.

``to_textfile`` writes them with prometheus_client's ``write_to_textfile`` (a temporary file
renamed into place, so the collector never reads half a file); ``to_text`` returns the same
exposition text. Point ``path`` into the collector's directory (``--collector.textfile.directory``)
with a name ending in ``.prom``.

Metrics (all gauges; ``endpoint`` is ``host:port``, empty for a host without a TLS endpoint):

- ``tlsward_check_compliant{host,endpoint,check,severity}``: 1 when the check passed or does not
  apply, 0 when it failed or could not be decided.
- ``tlsward_host_compliant{host,endpoint}`` and ``tlsward_compliant``: no failure at or above the
  run's failing threshold.
- ``tlsward_certificate_not_after_timestamp_seconds{host,endpoint,role,subject,serial}``: expiry,
  seconds since the epoch (alert on ``... - time() < 30 * 86400``).
- ``tlsward_endpoint_scan_duration_seconds{host,endpoint}``, ``tlsward_endpoint_scan_timestamp_seconds``;
  ``tlsward_scan_duration_seconds`` (the slowest endpoint: they are scanned concurrently) and
  ``tlsward_scan_timestamp_seconds`` (when the report was made).
- ``tlsward_checks{status}``, ``tlsward_failed_checks{severity}`` and ``tlsward_report_info``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest, write_to_textfile

from tlsward.report.sarif import endpoint_label

PREFIX = "tlsward"
STATUSES = ("pass", "fail", "error", "not_applicable")


def _epoch(stamp: str) -> float:
    when = dt.datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def registry_for(report: dict[str, Any]) -> CollectorRegistry:
    """A registry of its own holding the run's metrics (never the process-wide default one)."""
    registry = CollectorRegistry(auto_describe=True)

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", doc, labelnames=labels, registry=registry)

    check = gauge(
        "check_compliant",
        "1 when the check passed or does not apply, 0 when it failed or could not be decided",
        ("host", "endpoint", "check", "severity"),
    )
    host_ok = gauge(
        "host_compliant", "1 when no check at or above the failing threshold failed", ("host", "endpoint")
    )
    not_after = gauge(
        "certificate_not_after_timestamp_seconds",
        "Certificate expiry (notAfter), seconds since the epoch",
        ("host", "endpoint", "role", "subject", "serial"),
    )
    duration = gauge(
        "endpoint_scan_duration_seconds",
        "Seconds from the start of the scan to this endpoint's result",
        ("host", "endpoint"),
    )
    scanned = gauge(
        "endpoint_scan_timestamp_seconds",
        "When the endpoint was scanned, seconds since the epoch",
        ("host", "endpoint"),
    )
    for host in report["hosts"]:
        where = endpoint_label(host["endpoint"]) or ""
        host_ok.labels(host["name"], where).set(1 if host["compliant"] else 0)
        for finding in host["findings"]:
            endpoint = where if finding.get("source", "tls") == "tls" else ""
            check.labels(host["name"], endpoint, finding["id"], finding["severity"]).set(
                1 if finding["passed"] else 0
            )
        for cert in host["certificates"]:
            not_after.labels(host["name"], where, cert["role"], cert["subject"], cert["serial"]).set(
                _epoch(cert["not_after"])
            )
        if host["scan_seconds"] is not None:
            duration.labels(host["name"], where).set(host["scan_seconds"])
        if host["scanned_at"]:
            scanned.labels(host["name"], where).set(_epoch(host["scanned_at"]))
    summary = report["summary"]
    gauge("compliant", "1 when every host is compliant").set(1 if summary["compliant"] else 0)
    gauge("scan_duration_seconds", "Scan time of the run (its slowest endpoint), seconds").set(
        summary["scan_seconds_max"]
    )
    gauge("scan_timestamp_seconds", "When the report was made, seconds since the epoch").set(
        _epoch(report["generated_at"])
    )
    counts = gauge("checks", "Checks of the run by outcome", ("status",))
    for status, key in zip(STATUSES, ("passed", "failed", "errors", "not_applicable"), strict=True):
        counts.labels(status).set(summary[key])
    failed = gauge("failed_checks", "Checks that did not pass, by severity", ("severity",))
    for severity, n in summary["failed_by_severity"].items():
        failed.labels(severity).set(n)
    info = gauge("report_info", "The run this file describes", ("run_id", "policy", "fail_severity"))
    info.labels(report["run_id"], report["policy"], report["fail_severity"]).set(1)
    return registry


def to_text(report: dict[str, Any]) -> str:
    """The run's metrics in the Prometheus text exposition format."""
    return generate_latest(registry_for(report)).decode("utf-8")


def to_textfile(report: dict[str, Any], path: str | Path) -> None:
    """Write the run's metrics to ``path`` for node_exporter's textfile collector (atomic rename)."""
    write_to_textfile(str(path), registry_for(report))
