"""Reports from recorded scans: report.json schema, changes between runs, JUnit, HTML, history."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import tlsward.report
from tlsward.errors import TlswardError
from tlsward.report import build_report, claim_run_dir, prune, runs, to_html, to_junit, write_reports
from tlsward.scan import Target, judge_record

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)


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


def host_finding(fid: str, ok: bool, severity: str = "high") -> dict[str, Any]:
    status = "pass" if ok else "fail"
    return {"id": fid, "passed": ok, "status": status, "severity": severity, "message": fid, "evidence": {}}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return {n: result(n) for n in ("hardened", "no_hsts", "expiring_soon", "server_tokens")}


def test_report_schema_and_summary(results: dict[str, dict[str, Any]]) -> None:
    report = build_report(
        tls_results=list(results.values()),
        host_findings={
            "hardened": [host_finding("host.drift", True)],
            "runner": [host_finding("host.key_files", False)],
        },
        policy="biometric-strict",
        generated_at=T0,
    )
    assert report["schema"] == "tlsward.compliance-report"
    assert report["schema_version"] == 1
    assert report["run_id"] == "20261124T060000Z"
    assert set(report) == {
        "schema", "schema_version", "run_id", "generated_at", "tool", "policy", "fail_severity",
        "warning_days", "summary", "hosts", "certificates", "changes",
    }  # fmt: skip
    hosts = {h["name"]: h for h in report["hosts"]}
    assert [h["name"] for h in report["hosts"]] == sorted(hosts)
    assert hosts["runner"]["endpoint"] is None
    assert hosts["runner"]["compliant"] is False
    assert hosts["hardened"]["compliant"] is True
    # server_tokens (low) and expiring_soon (medium) stay compliant at the default high threshold.
    assert hosts["server_tokens"]["compliant"] is True
    assert hosts["expiring_soon"]["compliant"] is True
    assert hosts["no_hsts"]["compliant"] is False
    s = report["summary"]
    assert (s["hosts"], s["compliant_hosts"], s["compliant"]) == (5, 3, False)
    assert s["checks"] == s["passed"] + s["failed"] + s["errors"] + s["not_applicable"]
    assert s["failed_at_or_above_threshold"] == 2
    assert s["expiring_certificates"] == 1
    assert [c["days_left"] for c in report["certificates"]] == sorted(
        c["days_left"] for c in report["certificates"]
    )
    hardened_findings = [f for f in hosts["hardened"]["findings"]]
    assert {f["source"] for f in hardened_findings} == {"tls", "host"}


def test_threshold_changes_the_verdict(results: dict[str, dict[str, Any]]) -> None:
    strict = build_report(tls_results=[results["expiring_soon"]], policy="p", fail_severity="medium")
    assert strict["summary"]["compliant"] is False
    with pytest.raises(TlswardError, match="unknown severity"):
        build_report(tls_results=[], policy="p", fail_severity="severe")


def test_changes_since_the_previous_report(results: dict[str, dict[str, Any]]) -> None:
    before = build_report(tls_results=[results["hardened"], results["no_hsts"]], policy="p", generated_at=T0)
    renewed = json.loads(json.dumps(results["hardened"]))
    leaf = next(c for c in renewed["certificates"] if c["role"] == "leaf")
    leaf["serial"] = "abc123"
    after = build_report(
        tls_results=[renewed, results["server_tokens"]],
        policy="p",
        previous=before,
        generated_at=T0 + dt.timedelta(days=1),
    )
    changes = after["changes"]
    assert changes["previous_run"] == "20261124T060000Z"
    assert changes["hosts_added"] == ["server_tokens"]
    assert changes["hosts_removed"] == ["no_hsts"]
    assert [(c["host"], c["id"]) for c in changes["newly_failed"]] == [
        ("server_tokens", "http.server_tokens")
    ]
    assert [(c["host"], c["role"], c["new_serial"]) for c in changes["certificates_changed"]] == [
        ("hardened", "leaf", "abc123")
    ]
    assert changes["compliance_changed"] is True


def test_junit_one_testcase_per_check(results: dict[str, dict[str, Any]]) -> None:
    report = build_report(tls_results=[results["hardened"], results["no_hsts"]], policy="p")
    root = ET.fromstring(to_junit(report))
    assert root.tag == "testsuites"
    assert int(root.get("tests")) == report["summary"]["checks"]
    no_hsts = next(s for s in root if s.get("name") == "no_hsts")
    failures = [c for c in no_hsts if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == ["hsts.present"]
    assert failures[0].find("failure").get("type") == "high"
    skipped = {c.get("name") for c in no_hsts if c.find("skipped") is not None}
    assert {"hsts.max_age", "hsts.include_subdomains"} <= skipped


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.host_rows: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "tr" and a.get("data-host"):
            self.host_rows.append(str(a["data-host"]))


def test_html_has_the_sections_and_escapes(results: dict[str, dict[str, Any]]) -> None:
    evil = json.loads(json.dumps(results["server_tokens"]))
    evil["name"] = "<script>alert(1)</script>"
    report = build_report(tls_results=[results["hardened"], evil], policy="p")
    html = to_html(report)
    assert "<script>alert(1)</script>" not in html
    parser = _Tables()
    parser.feed(html)
    assert {"verdict", "summary", "hosts", "timeline", "changes"} <= set(parser.ids)
    assert parser.host_rows == ["<script>alert(1)</script>", "hardened"]


def test_write_reports_keeps_history_and_prunes(tmp_path: Path, results: dict[str, dict[str, Any]]) -> None:
    for day in range(4):
        written = write_reports(
            tmp_path,
            tls_results=[results["hardened"]],
            policy="p",
            keep=3,
            now=T0 + dt.timedelta(days=day),
        )
    assert [p.name for p in runs(tmp_path)] == ["20261125T060000Z", "20261126T060000Z", "20261127T060000Z"]
    assert written["pruned"] == ["20261124T060000Z"]
    report = json.loads(Path(written["paths"]["json"]).read_text(encoding="utf-8"))
    assert report["changes"]["previous_run"] == "20261126T060000Z"
    assert Path(written["paths"]["junit"]).is_file()
    assert Path(written["paths"]["html"]).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert prune(tmp_path, 0) == []


def test_runs_in_the_same_second_never_overwrite_each_other(
    tmp_path: Path, results: dict[str, dict[str, Any]]
) -> None:
    # Five runs in one second with keep=3: the fifth must not re-use the name pruning freed (it
    # would sort first and be pruned at once, losing the run that just happened).
    written = [
        write_reports(tmp_path, tls_results=[results["hardened"]], policy="p", keep=3, now=T0)
        for _ in range(5)
    ]
    ids = [w["report"]["run_id"] for w in written]
    base = "20261124T060000Z"
    assert ids == [base, f"{base}-01", f"{base}-02", f"{base}-03", f"{base}-04"]
    # Sorted by name is run order, the previous run is the one just before, pruning keeps the newest.
    assert [p.name for p in runs(tmp_path)] == ids[2:]
    assert [w["report"]["changes"]["previous_run"] for w in written[1:]] == ids[:-1]
    assert [w["pruned"] for w in written] == [[], [], [], [ids[0]], [ids[1]]]
    # The next second sorts after every suffixed run of the second before.
    later = write_reports(
        tmp_path, tls_results=[results["hardened"]], policy="p", now=T0 + dt.timedelta(seconds=1)
    )
    assert later["report"]["run_id"] == "20261124T060001Z"
    assert later["report"]["changes"]["previous_run"] == ids[-1]


def test_a_clock_stepped_back_still_sorts_after_the_newest_run(
    tmp_path: Path, results: dict[str, dict[str, Any]]
) -> None:
    first = write_reports(tmp_path, tls_results=[results["hardened"]], policy="p", keep=1, now=T0)
    back = write_reports(
        tmp_path, tls_results=[results["hardened"]], policy="p", keep=1, now=T0 - dt.timedelta(minutes=5)
    )
    assert back["report"]["run_id"] == "20261124T060000Z-01"
    assert back["report"]["generated_at"].startswith("2026-11-24T05:55:00")
    assert back["report"]["changes"]["previous_run"] == first["report"]["run_id"]
    assert [p.name for p in runs(tmp_path)] == ["20261124T060000Z-01"]


def test_a_failed_write_leaves_no_run_behind(
    tmp_path: Path, results: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(report: dict[str, Any]) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tlsward.report, "to_junit", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_reports(tmp_path, tls_results=[results["hardened"]], policy="p", now=T0)
    # report.json was already written: it goes too, so no later run mistakes this one for complete.
    assert list(tmp_path.iterdir()) == []


def test_a_full_second_is_an_error_not_an_overwrite(tmp_path: Path) -> None:
    (tmp_path / "20261124T060000Z-99").mkdir()
    with pytest.raises(TlswardError, match="100 runs already started in the second 20261124T060000Z"):
        claim_run_dir(tmp_path, "20261124T060000Z")
