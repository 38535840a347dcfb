"""SARIF 2.1.0 output, checked against the OASIS schema; the run directory and the HTML page that
links every format."""

from __future__ import annotations

import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tlsward.report import REPORT_FILES, build_report, to_html, write_reports
from tlsward.report.html import default_links, timeline
from tlsward.report.sarif import SARIF_SCHEMA_URI, describe, to_sarif
from tlsward.scan import Target, judge_record

DATA = Path(__file__).resolve().parents[1] / "data" / "scan"
SCHEMA_FILE = (
    Path(__file__).resolve().parents[2] / "tlsward" / "report" / "schemas" / "sarif-schema-2.1.0.json"
)
T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
FIXTURES = ("hardened", "tls1_0", "rsa_kex", "expiring_soon", "server_tokens")


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


def host_finding(fid: str, ok: bool, severity: str = "high", **extra: Any) -> dict[str, Any]:
    status = "pass" if ok else "fail"
    return {
        "id": fid, "passed": ok, "status": status, "severity": severity, "message": f"{fid} message",
        "evidence": {"mode": "0644"}, **extra,
    }  # fmt: skip


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return {n: result(n) for n in FIXTURES}


@pytest.fixture(scope="module")
def report(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return build_report(
        tls_results=list(results.values()),
        host_findings={
            "runner": [
                host_finding("host.key_files", False, remediation="chmod 0600 the server key; chown root"),
            ],
            "hardened": [host_finding("host.drift", True)],
        },
        policy="biometric-strict",
        generated_at=T0,
        tool_versions={"sslyze": "6.3.1"},
    )


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors(validator: jsonschema.protocols.Validator, log: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def not_passed(report: dict[str, Any], status: str) -> set[tuple[str, str]]:
    return {(h["name"], f["id"]) for h in report["hosts"] for f in h["findings"] if f["status"] == status}


def test_the_log_is_valid_sarif_2_1_0(
    report: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    log = to_sarif(report)
    assert errors(validator, log) == []
    # What a consumer reads back from the file is the same log, and still valid.
    again = json.loads(json.dumps(log))
    assert again == log
    assert errors(validator, again) == []
    assert (log["version"], log["$schema"]) == ("2.1.0", SARIF_SCHEMA_URI)
    # The schema file is the OASIS 2.1.0 one (errata 01), not some other version.
    assert validator.schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_the_validator_rejects_what_is_not_sarif(
    report: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    log = json.loads(json.dumps(to_sarif(report)))
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    found = errors(validator, log)
    assert any("'fatal' is not one of" in e for e in found)
    assert any("'name' is a required property" in e for e in found)


def test_one_result_per_failed_check_and_one_rule_per_check_id(report: dict[str, Any]) -> None:
    run = to_sarif(report)["runs"][0]
    results = run["results"]
    failed = not_passed(report, "fail")
    undecided = not_passed(report, "error")
    assert len(failed) == report["summary"]["failed"] == 10
    assert len(undecided) == report["summary"]["errors"] == 1
    assert {(r["properties"]["host"], r["ruleId"]) for r in results if r["kind"] == "fail"} == failed
    assert {(r["properties"]["host"], r["ruleId"]) for r in results if r["kind"] == "open"} == undecided
    assert len(results) == len(failed) + len(undecided)
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({fid for _, fid in failed | undecided})
    assert {"protocol.tls1_0", "cipher.tls1_0.not_in_policy", "cert.key_type", "host.key_files"} <= {
        r["id"] for r in rules
    }
    for r in results:  # ruleIndex points at the rule of the same id
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    assert run["properties"]["compliant"] is False
    assert run["automationDetails"]["id"] == "tlsward/compliance/20261124T060000Z"
    assert run["invocations"][0]["endTimeUtc"] == "2026-11-24T06:00:00.000000Z"
    assert run["tool"]["extensions"] == [{"name": "sslyze", "version": "6.3.1"}]


def test_rule_metadata_and_levels_follow_the_severity(report: dict[str, Any]) -> None:
    run = to_sarif(report)["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    tls10 = rules["protocol.tls1_0"]
    assert tls10["shortDescription"]["text"] == "TLS 1.0 is refused."
    assert tls10["defaultConfiguration"]["level"] == "error"
    assert tls10["properties"]["security-severity"] == "8.0"
    assert "help" not in tls10  # no finding of it carries a remediation
    assert rules["cipher.tls1_0.not_in_policy"]["shortDescription"]["text"].startswith(
        "Every cipher suite accepted under tls1_0"
    )
    assert rules["cert.chain.expiring_soon"]["defaultConfiguration"]["level"] == "warning"  # medium
    assert rules["http.server_tokens"]["defaultConfiguration"]["level"] == "note"  # low
    assert rules["vuln.robot"]["properties"]["severity"] == "critical"
    assert rules["host.key_files"]["help"]["text"] == "chmod 0600 the server key; chown root"
    by_key = {(r["properties"]["host"], r["ruleId"]): r for r in run["results"]}
    assert by_key[("tls1_0", "protocol.tls1_0")]["level"] == "error"
    assert by_key[("expiring_soon", "cert.chain.expiring_soon")]["level"] == "warning"
    assert by_key[("server_tokens", "http.server_tokens")]["level"] == "note"
    # Undecided: SARIF's "open" kind has level none; the severity stays in the properties.
    robot = by_key[("rsa_kex", "vuln.robot")]
    assert (robot["kind"], robot["level"], robot["properties"]["severity"]) == ("open", "none", "critical")
    assert describe("host.unit_hardening.nginx.service").startswith("The systemd-analyze security exposure")
    assert describe("some.new_check") == "tlsward check some.new_check."


def test_results_carry_the_endpoint_and_the_evidence(report: dict[str, Any]) -> None:
    run = to_sarif(report)["runs"][0]
    by_key = {(r["properties"]["host"], r["ruleId"]): r for r in run["results"]}
    tls10 = by_key[("tls1_0", "protocol.tls1_0")]
    [location] = tls10["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "tls://127.0.2.11:8443"
    assert location["logicalLocations"] == [
        {"name": "tls1_0", "fullyQualifiedName": "tls1_0/127.0.2.11:8443", "kind": "resource"}
    ]
    assert tls10["message"]["text"] == "tls1_0: TLSv1 is not allowed by the profile and is ACCEPTED"
    props = tls10["properties"]
    assert (props["endpoint"], props["server_name"], props["source"]) == (
        "127.0.2.11:8443",
        "bio.scan.test",
        "tls",
    )
    assert props["evidence"]["accepted"] is True
    assert props["evidence"]["rules"] == ["TLS 1.0 is obsolete and never allowed (RFC 8996)"]
    assert tls10["partialFingerprints"] == {"tlswardCheck/v1": "tls1_0|protocol.tls1_0"}
    suites = by_key[("tls1_0", "cipher.tls1_0.not_in_policy")]["properties"]["evidence"]
    assert suites["not_in_policy"] == ["ECDHE-ECDSA-AES128-SHA"]
    # A host-side finding of a host without an endpoint: a logical location only.
    keys = by_key[("runner", "host.key_files")]
    assert keys["locations"] == [{"logicalLocations": [{"name": "runner", "kind": "resource"}]}]
    assert keys["properties"]["endpoint"] is None
    assert keys["properties"]["evidence"] == {"mode": "0644"}


def test_a_compliant_run_has_rules_and_results_empty(
    results: dict[str, dict[str, Any]], validator: jsonschema.protocols.Validator
) -> None:
    clean = build_report(tls_results=[results["hardened"]], policy="p", generated_at=T0)
    log = to_sarif(clean)
    assert errors(validator, log) == []
    run = log["runs"][0]
    assert (run["results"], run["tool"]["driver"]["rules"]) == ([], [])
    assert "extensions" not in run["tool"]
    assert run["properties"]["compliant"] is True


# The run directory: every format side by side, and the page links them by relative name.


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self.ticks: list[tuple[str, str]] = []
        self._in_axis = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("data-format"):
            self.links[str(a["data-format"])] = str(a["href"])
        if a.get("id") == "timeline-axis":
            self._in_axis = 1
        elif self._in_axis and tag == "span" and a.get("data-days") is not None:
            self.ticks.append((str(a["data-days"]), str(a["data-date"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_axis:
            self._in_axis = 0


def test_write_reports_writes_every_format_and_the_page_links_them(
    tmp_path: Path, results: dict[str, dict[str, Any]], validator: jsonschema.protocols.Validator
) -> None:
    written = write_reports(tmp_path, tls_results=[results["tls1_0"]], policy="p", now=T0)
    run_dir = Path(written["paths"]["dir"])
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(REPORT_FILES.values())
    assert {k: Path(v).name for k, v in written["paths"].items() if k != "dir"} == REPORT_FILES
    sarif = json.loads((run_dir / REPORT_FILES["sarif"]).read_text(encoding="utf-8"))
    assert errors(validator, sarif) == []
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"protocol.tls1_0"}
    assert "tlsward_check_compliant{" in (run_dir / REPORT_FILES["prometheus"]).read_text(encoding="utf-8")
    cbom = json.loads((run_dir / REPORT_FILES["cbom"]).read_text(encoding="utf-8"))
    assert cbom["specVersion"] == "1.6"
    page = _Links()
    page.feed((run_dir / REPORT_FILES["html"]).read_text(encoding="utf-8"))
    assert page.links == {k: v for k, v in REPORT_FILES.items() if k != "html"}
    # Every link resolves to a file beside the page.
    assert all((run_dir / href).is_file() for href in page.links.values())


def test_links_can_be_chosen_or_left_out(report: dict[str, Any]) -> None:
    page = _Links()
    page.feed(to_html(report, {"sarif": "scan.sarif"}))
    assert page.links == {"sarif": "scan.sarif"}
    # A page rendered on its own (tlsward-scan --format html) links nothing: no file is beside it.
    page = _Links()
    page.feed(to_html(report))
    assert page.links == {}
    assert 'id="formats"' not in to_html(report)
    page = _Links()
    page.feed(to_html(report, default_links()))
    assert page.links == {k: v for k, v in REPORT_FILES.items() if k != "html"}


def test_the_expiry_timeline_has_a_dated_axis(report: dict[str, Any]) -> None:
    axis = timeline(report)
    # Certificates up to 3649 days: the scale stops at 400 days, a tick every 60 days.
    assert (axis["scale"], axis["step"], axis["start"]) == (400, 60, "2026-11-24")
    assert [t["days"] for t in axis["ticks"]] == [0, 60, 120, 180, 240, 300, 360]
    assert [t["date"] for t in axis["ticks"]][:3] == ["2026-11-24", "2027-01-23", "2027-03-24"]
    assert axis["ticks"][1]["pct"] == 15.0
    assert (axis["window_date"], axis["window_pct"]) == ("2026-12-24", 7.5)
    page = _Links()
    page.feed(to_html(report))
    assert page.ticks == [(str(t["days"]), t["date"]) for t in axis["ticks"]]
    html = to_html(report)
    assert "warning window ends 2026-12-24" in html
    # A short horizon: weekly ticks over twice the warning window.
    short = {**report, "certificates": [{**report["certificates"][0], "days_left": 9}], "warning_days": 14}
    axis = timeline(short)
    assert (axis["scale"], axis["step"]) == (28, 7)
    assert [t["date"] for t in axis["ticks"]] == [
        "2026-11-24",
        "2026-12-01",
        "2026-12-08",
        "2026-12-15",
        "2026-12-22",
    ]


def test_a_host_without_certificates_renders(report: dict[str, Any]) -> None:
    # "runner" has host-side findings only: no leaf, no endpoint (the page used to fail on it).
    html = to_html(report)
    assert '<tr data-host="runner">' in html
