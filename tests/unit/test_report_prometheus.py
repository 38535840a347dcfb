"""Prometheus textfile output, read back with prometheus_client's own parser."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tlsward.report import build_report
from tlsward.report.prometheus import to_text, to_textfile
from tlsward.report.sarif import endpoint_label
from tlsward.scan import Target, judge_record

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)

Samples = dict[str, list[tuple[dict[str, str], float]]]


def result(name: str) -> dict[str, Any]:
    fixture = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    record = fixture["record"]
    target = Target(
        host=record["target"]["host"],
        port=record["target"]["port"],
        server_name=record["target"]["server_name"],
        name=name,
        environment=fixture["environment"],
    )
    return judge_record(record, target)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return build_report(
        tls_results=[result(n) for n in ("hardened", "tls1_0", "expiring_soon")],
        host_findings={
            "runner": [
                {
                    "id": "host.key_files",
                    "passed": False,
                    "status": "fail",
                    "severity": "high",
                    "message": "key world-readable",
                    "evidence": {},
                },
            ]
        },
        policy="biometric-strict",
        generated_at=T0,
    )


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def one(found: Samples, name: str, **labels: str) -> float:
    matches = [v for lab, v in found.get(name, []) if all(lab.get(k) == want for k, want in labels.items())]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp).timestamp()


@pytest.fixture(scope="module")
def textfile(report: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("textfile") / "tlsward.prom"
    to_textfile(report, path)
    return path


def test_the_textfile_is_what_to_text_returns_and_nothing_is_left_over(
    report: dict[str, Any], textfile: Path
) -> None:
    text = textfile.read_text(encoding="utf-8")
    assert text == to_text(report)
    assert [p.name for p in textfile.parent.iterdir()] == ["tlsward.prom"]  # the temporary file was renamed
    # Written with str paths too (node_exporter setups pass plain strings).
    other = textfile.parent / "again.prom"
    to_textfile(report, str(other))
    assert other.read_text(encoding="utf-8") == text
    other.unlink()


def test_compliance_per_host_and_check(report: dict[str, Any], textfile: Path) -> None:
    found = samples(textfile.read_text(encoding="utf-8"))
    checks = found["tlsward_check_compliant"]
    # One sample per finding of every host (hosts * their checks), labelled host/endpoint/check/severity.
    assert len(checks) == report["summary"]["checks"]
    assert {frozenset(lab) for lab, _ in checks} == {frozenset({"host", "endpoint", "check", "severity"})}
    assert one(found, "tlsward_check_compliant", host="tls1_0", check="protocol.tls1_0") == 0
    assert one(found, "tlsward_check_compliant", host="hardened", check="protocol.tls1_0") == 1
    assert one(found, "tlsward_check_compliant", host="tls1_0", check="protocol.tls1_0", severity="high") == 0
    assert (
        one(
            found,
            "tlsward_check_compliant",
            host="tls1_0",
            check="protocol.tls1_0",
            endpoint="127.0.2.11:8443",
        )
        == 0
    )
    assert one(found, "tlsward_check_compliant", host="expiring_soon", check="cert.chain.expiring_soon") == 0
    # Not applicable counts as compliant.
    assert one(found, "tlsward_check_compliant", host="hardened", check="cert.wildcard") == 1
    assert one(found, "tlsward_check_compliant", host="runner", check="host.key_files", endpoint="") == 0
    zeros = {(lab["host"], lab["check"]) for lab, v in checks if v == 0}
    failed = {(h["name"], f["id"]) for h in report["hosts"] for f in h["findings"] if not f["passed"]}
    assert zeros == failed
    assert one(found, "tlsward_host_compliant", host="tls1_0") == 0
    assert one(found, "tlsward_host_compliant", host="hardened") == 1
    assert one(found, "tlsward_host_compliant", host="expiring_soon") == 1  # medium < high threshold
    assert one(found, "tlsward_compliant") == 0
    assert one(found, "tlsward_checks", status="fail") == report["summary"]["failed"]
    assert one(found, "tlsward_checks", status="pass") == report["summary"]["passed"]
    assert (
        one(found, "tlsward_failed_checks", severity="high")
        == report["summary"]["failed_by_severity"]["high"]
    )
    assert one(found, "tlsward_report_info", run_id="20261124T060000Z", policy="biometric-strict") == 1


def test_certificate_expiry_as_timestamps(report: dict[str, Any], textfile: Path) -> None:
    found = samples(textfile.read_text(encoding="utf-8"))
    expiry = found["tlsward_certificate_not_after_timestamp_seconds"]
    assert len(expiry) == len(report["certificates"]) == 9
    leaf = next(c for c in report["certificates"] if c["host"] == "expiring_soon" and c["role"] == "leaf")
    value = one(
        found, "tlsward_certificate_not_after_timestamp_seconds", host="expiring_soon", role="leaf",
        serial=leaf["serial"],
    )  # fmt: skip
    assert value == epoch(leaf["not_after"]) == dt.datetime(2026, 12, 4, 20, 39, 2, tzinfo=dt.UTC).timestamp()
    labels = next(lab for lab, v in expiry if v == value)
    assert (labels["subject"], labels["endpoint"]) == ("CN=bio.scan.test,O=tlsward tests", "127.0.2.23:8443")


def test_scan_duration_and_timestamps(report: dict[str, Any], textfile: Path) -> None:
    found = samples(textfile.read_text(encoding="utf-8"))
    hosts = {h["name"]: h for h in report["hosts"]}
    for name in ("hardened", "tls1_0", "expiring_soon"):
        assert one(found, "tlsward_endpoint_scan_duration_seconds", host=name) == hosts[name]["scan_seconds"]
        assert one(found, "tlsward_endpoint_scan_timestamp_seconds", host=name) == epoch(
            hosts[name]["scanned_at"]
        )
    # The host without an endpoint has no scan to time.
    assert all(lab["host"] != "runner" for lab, _ in found["tlsward_endpoint_scan_duration_seconds"])
    assert one(found, "tlsward_scan_duration_seconds") == report["summary"]["scan_seconds_max"] == 11.724
    assert one(found, "tlsward_scan_timestamp_seconds") == T0.timestamp()


def test_endpoint_labels() -> None:
    assert endpoint_label({"host": "127.0.2.11", "port": 8443, "server_name": "x"}) == "127.0.2.11:8443"
    assert endpoint_label({"host": "::1", "port": 443, "server_name": "x"}) == "[::1]:443"
    assert endpoint_label(None) is None
