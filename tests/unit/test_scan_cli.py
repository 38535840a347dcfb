"""tlsward-scan: argument parsing, exit codes, error lines and output, without a TLS server.

The scan itself is replaced by recorded scans (tests/data/scan) where a verdict is needed; the
error path scans a loopback port nothing listens on, for real.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET  # parsing XML this test itself produced
from pathlib import Path
from typing import Any

import pytest

import tlsward.scan
from tlsward.cli import scan as cli
from tlsward.defaults import DEFAULT_FAIL_SEVERITY
from tlsward.errors import TlswardError
from tlsward.scan import Target, judge, judge_record, scan_payload
from tlsward.scan.model import SEVERITIES, check

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "scan"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["record"]


class Tty(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


def result_with(*failed: str, passed: int = 3) -> dict[str, Any]:
    findings = [check(f"ok.{i}", True, "critical", "fine").as_dict() for i in range(passed)]
    findings += [check(f"bad.{sev}", False, sev, f"a {sev} problem").as_dict() for sev in failed]
    return {"name": "ep", "findings": findings}


# ---------------------------------------------------------------------------------------------
# HOST[:PORT]


@pytest.mark.parametrize(
    ("arg", "host", "port"),
    [
        ("bio.example.test", "bio.example.test", 443),
        ("bio.example.test:8443", "bio.example.test", 8443),
        ("127.0.0.1:1", "127.0.0.1", 1),
        ("127.0.0.1", "127.0.0.1", 443),
        ("localhost:65535", "localhost", 65535),
        ("[::1]:8443", "::1", 8443),
        ("[::1]", "::1", 443),
        ("[2001:DB8:0::1]:443", "2001:db8::1", 443),
        ("::1", "::1", 443),
        # A bare IPv6 address never carries a port: this is the address ::1:8443 on port 443.
        ("::1:8443", "::1:8443", 443),
        ("under_score.example.test", "under_score.example.test", 443),
    ],
)
def test_endpoint_parses(arg: str, host: str, port: int) -> None:
    assert cli.parse_endpoint(arg) == cli.Endpoint(host, port)


@pytest.mark.parametrize(
    ("arg", "why"),
    [
        ("bio.example.test:0", "not in 1-65535"),
        ("bio.example.test:65536", "not in 1-65535"),
        ("bio.example.test:https", "is not a number"),
        ("bio.example.test:", "is not a number"),
        ("[::1", "no ']'"),
        ("[::1]8443", "expected ':PORT'"),
        ("[127.0.0.1]:443", "is not an IPv6 address"),
        ("[::1]:99999", "not in 1-65535"),
        ("fe80::zz", "not an IPv6 address"),
        ("https://bio.example.test", "is not a number"),
        ("bio example", "is not a host name"),
        ("", "is not a host name"),
        (":443", "is not a host name"),
    ],
)
def test_endpoint_is_refused(arg: str, why: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"{arg!r}.*{why}".replace("[", r"\[")):
        cli.parse_endpoint(arg)


def test_endpoint_label_brackets_ipv6() -> None:
    assert cli.Endpoint("::1", 8443).label == "[::1]:8443"
    assert cli.Endpoint("127.0.0.1", 443).label == "127.0.0.1:443"


def test_arguments_and_defaults() -> None:
    args = cli.build_parser().parse_args(["a.test", "[::1]:8443"])
    assert args.endpoints == [cli.Endpoint("a.test", 443), cli.Endpoint("::1", 8443)]
    assert (args.format, args.policy, args.fail_on, args.environment) == (
        "json",
        "biometric-strict",
        "low",
        "production",
    )
    assert (args.sni, args.ca_file, args.client_cert, args.target_openssl, args.timeout) == (
        None,
        None,
        None,
        None,
        5,
    )
    args = cli.build_parser().parse_args(
        ["h:1", "--sni", "bio.test", "--format", "junit", "--fail-on", "high", "--target-openssl", "3.0.15"]
    )
    assert (args.sni, args.format, args.fail_on, args.target_openssl) == (
        "bio.test",
        "junit",
        "high",
        "3.0.15",
    )


def test_the_severity_order_is_the_scanner_s() -> None:
    assert cli.SEVERITIES == SEVERITIES


def test_the_default_threshold_is_stricter_than_the_module_s() -> None:
    assert cli.build_parser().parse_args(["h.test"]).fail_on == cli.DEFAULT_FAIL_ON == "low"
    assert SEVERITIES.index(cli.DEFAULT_FAIL_ON) < SEVERITIES.index(DEFAULT_FAIL_SEVERITY)


def test_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "HOST[:PORT]" in out
    for code in ("0", "2", "3", *(str(10 + i) for i in range(len(SEVERITIES)))):
        assert f"\n  {code} " in out, code
    for severity in SEVERITIES:
        assert f"is {severity}" in out


def _bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("tlsward-scan: ")
    return lines[0]


def test_bad_endpoint_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    line = _bad(["ok.test", "bio.example.test:99999"], capsys)
    assert "'bio.example.test:99999'" in line
    assert "65535" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "required: HOST[:PORT]"),
        (["h.test", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["h.test", "--fail-on", "severe"], "invalid choice: 'severe'"),
        (["h.test", "--timeout", "0"], "not a positive whole number"),
        (["h.test", "--client-cert", "c.pem"], "--client-cert and --client-key go together"),
        (["h.test", "--client-key", "k.pem"], "--client-cert and --client-key go together"),
        (
            ["h.test", "--ca-file", "/nonexistent/ca.pem"],
            "--ca-file /nonexistent/ca.pem: not a readable file",
        ),
        (["h.test", "--policy", "no-such-profile"], "unknown policy 'no-such-profile'"),
        (["h.test", "--target-openssl", "latest"], "cannot read an OpenSSL version from 'latest'"),
        (["h.test", "--sni", "a b"], "--sni 'a b': not a host name"),
        (["h.test", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_argument_is_one_line(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert expected in _bad(argv, capsys)


def test_missing_client_key_file_is_a_bad_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x", encoding="utf-8")
    line = _bad(["h.test", "--client-cert", str(cert), "--client-key", str(tmp_path / "k.pem")], capsys)
    assert f"--client-key {tmp_path / 'k.pem'}: not a readable file" in line


# ---------------------------------------------------------------------------------------------
# Exit codes


def test_no_failed_finding_exits_0() -> None:
    assert cli.exit_code([result_with()]) == 0
    assert cli.exit_code([]) == 0


@pytest.mark.parametrize(("severity", "code"), [(s, 10 + i) for i, s in enumerate(SEVERITIES)])
def test_each_failed_severity_has_its_code(severity: str, code: int) -> None:
    assert cli.exit_code([result_with(severity)], fail_on="info") == code


def test_exit_code_values_are_the_documented_ones() -> None:
    codes = {s: cli.exit_code([result_with(s)], fail_on="info") for s in SEVERITIES}
    assert codes == {"info": 10, "low": 11, "medium": 12, "high": 13, "critical": 14}


def test_the_worst_failed_finding_of_every_endpoint_decides() -> None:
    results = [result_with("low", "info"), result_with("high", "medium"), result_with()]
    assert cli.exit_code(results) == 13
    assert cli.exit_code(list(reversed(results))) == 13


def test_fail_on_ignores_failures_below_it() -> None:
    # The default threshold (low) ignores a failed info finding only.
    assert cli.exit_code([result_with("info")]) == 0
    assert cli.exit_code([result_with("info", "low")]) == 11
    assert cli.exit_code([result_with("info", "low", "medium")], fail_on="high") == 0
    assert cli.exit_code([result_with("medium")], fail_on="high") == 0
    assert cli.exit_code([result_with("medium", "high")], fail_on="high") == 13
    assert cli.exit_code([result_with("high")], fail_on="critical") == 0
    assert cli.exit_code([result_with("critical")], fail_on="critical") == 14


def test_undecided_finding_counts_as_failed() -> None:
    result = result_with()
    result["findings"].append({"id": "x", "passed": False, "status": "error", "severity": "medium"})
    assert cli.exit_code([result], fail_on="low") == 12


# ---------------------------------------------------------------------------------------------
# Unreachable endpoints


def _connectivity(error: str | None, passed: bool = False) -> dict[str, Any]:
    finding = check("connectivity", passed, "critical", "…", **({"error": error} if error else {}))
    return {"findings": [finding.as_dict()]}


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            'sslyze.errors.ServerRejectedConnection: 127.0.0.1:1 -> "Server rejected the connection".',
            "connection refused",
        ),
        (
            'sslyze.errors.ConnectionToServerTimedOut: 127.0.0.1:1 -> "Connection to the server timed out".',
            "connection timed out (Connection to the server timed out)",
        ),
        (
            'sslyze.errors.ServerRejectedTlsHandshake: h:443 -> "Server interrupted the TLS handshake".',
            "TLS handshake refused (Server interrupted the TLS handshake)",
        ),
        ('sslyze.errors.SomethingNew: h:443 -> "odd".', "could not connect (odd)"),
        ("OSError: boom", "OSError: boom"),
        (None, "no TLS handshake completed"),
    ],
)
def test_unreachable_reason(error: str | None, reason: str) -> None:
    assert cli.unreachable_reason(_connectivity(error)) == reason


def test_reachable_endpoint_has_no_reason() -> None:
    assert cli.unreachable_reason(_connectivity(None, passed=True)) is None
    assert cli.unreachable_reason(result_with("high")) is None


def _unbound_loopback_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex((host, 1)) == 0:
            pytest.fail(f"something listens on {host} port 1; the test needs it unbound")
    return 1


@pytest.mark.parametrize(("host", "label"), [("127.0.0.1", "127.0.0.1:1"), ("::1", "[::1]:1")])
def test_refused_endpoint_is_one_line_and_exit_3(host: str, label: str) -> None:
    port = _unbound_loopback_port(host)
    proc = subprocess.run(
        [sys.executable, "-m", "tlsward.cli.scan", label],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == cli.EXIT_UNREACHABLE, proc.stderr
    assert proc.stderr == f"tlsward-scan: {label} - connection refused\n"
    out = json.loads(proc.stdout)
    assert out["compliant"] is False
    assert [(f["id"], f["passed"]) for f in out["findings"]] == [("connectivity", False)]
    assert out["results"][0]["port"] == port
    assert out["results"][0]["host"] == host


def test_one_refused_endpoint_among_several_still_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = copy.deepcopy(recorded("hardened"))
    refused["sslyze"] = {
        "connectivity_status": "ERROR",
        "connectivity_error_trace": "Traceback (most recent call last):\n  ...\n"
        'sslyze.errors.ServerRejectedConnection: 127.0.2.99:8443 -> "Server rejected the connection".\n',
    }
    _fake_scan(monkeypatch, {"127.0.2.10": recorded("no_hsts"), "127.0.2.99": refused})
    code = cli.main(["127.0.2.10:8443", "127.0.2.99:8443", "--sni", "bio.scan.test"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_UNREACHABLE
    assert captured.err == "tlsward-scan: 127.0.2.99:8443 - connection refused\n"
    assert [r["name"] for r in json.loads(captured.out)["results"]] == ["127.0.2.10:8443", "127.0.2.99:8443"]


def test_unresolvable_name_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_dns(host: str, port: int) -> str:
        raise TlswardError("tls_scan", f"cannot resolve {host!r}: no such name")

    monkeypatch.setattr(tlsward.scan.netutil, "resolve", no_dns)
    assert cli.main(["nowhere.test:8443"]) == cli.EXIT_UNREACHABLE
    captured = capsys.readouterr()
    assert captured.err == "tlsward-scan: nowhere.test:8443 - cannot resolve 'nowhere.test': no such name\n"
    assert captured.out == ""


# ---------------------------------------------------------------------------------------------
# A whole run on recorded scans: output, progress lines, target options


def _fake_scan(monkeypatch: pytest.MonkeyPatch, by_host: dict[str, dict[str, Any]]) -> list[Target]:
    """Replace the network scan with recorded records (by target host); returns the targets seen."""
    seen: list[Target] = []

    def fake(targets: list[Target], *, concurrency: int = 20) -> list[dict[str, Any]]:
        seen.extend(targets)
        return [copy.deepcopy(by_host[t.host]) for t in targets]

    monkeypatch.setattr(tlsward.scan, "scan", fake)
    return seen


def _run(argv: list[str], stderr: io.StringIO) -> tuple[int, str]:
    parser = cli.build_parser()
    args = parser.parse_args(argv)
    cli._check_arguments(parser, args)
    stdout = io.StringIO()
    code = cli.run(args, stdout, stderr)
    return code, stdout.getvalue()


def test_json_is_the_module_s_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    record = recorded("no_hsts")
    _fake_scan(monkeypatch, {"127.0.2.19": record})
    code, out = _run(["127.0.2.19:8443", "--sni", "bio.scan.test"], io.StringIO())
    assert code == 13  # hsts.present is high
    target = Target(host="127.0.2.19", port=8443, server_name="bio.scan.test", name="127.0.2.19:8443")
    expected = scan_payload([judge_record(record, target)], single=True)
    assert json.loads(out) == json.loads(json.dumps(expected))
    failed = [f for f in json.loads(out)["findings"] if not f["passed"]]
    assert [(f["id"], f["severity"]) for f in failed] == [("hsts.present", "high")]
    assert set(failed[0]) == {"id", "passed", "status", "severity", "message", "evidence"}


def test_json_for_several_endpoints_has_results_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.10": recorded("hardened"), "127.0.2.17": recorded("wildcard")})
    code, out = _run(["127.0.2.10:8443", "127.0.2.17:8443", "127.0.2.10:8443"], io.StringIO())
    payload = json.loads(out)
    assert set(payload) == {"compliant", "results"}
    # Each endpoint once, in the order given.
    assert [r["name"] for r in payload["results"]] == ["127.0.2.10:8443", "127.0.2.17:8443"]
    assert payload["compliant"] is False
    assert code == 13  # the wildcard certificate (high) in production


def test_compliant_endpoint_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.10": recorded("hardened")})
    code, out = _run(["127.0.2.10:8443", "--sni", "bio.scan.test"], io.StringIO())
    assert code == 0
    assert json.loads(out)["compliant"] is True


def test_fail_on_changes_compliant_and_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.19": recorded("no_hsts")})
    code, out = _run(["127.0.2.19:8443", "--fail-on", "critical"], io.StringIO())
    assert code == 0
    assert json.loads(out)["compliant"] is True
    assert json.loads(out)["worst_failed_severity"] == "high"


def test_options_reach_the_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    for path in (cert, key, ca):
        path.write_text("x", encoding="utf-8")
    seen = _fake_scan(monkeypatch, {"::1": recorded("hardened")})
    argv = ["[::1]:8443", "--sni", "bio.scan.test", "--ca-file", str(ca), "--client-cert", str(cert)]
    argv += [
        "--client-key",
        str(key),
        "--target-openssl",
        "3.0.15",
        "--environment",
        "test",
        "--timeout",
        "9",
    ]
    _run(argv, io.StringIO())
    (target,) = seen
    assert (target.host, target.port, target.sni, target.label) == (
        "::1",
        8443,
        "bio.scan.test",
        "[::1]:8443",
    )
    assert (target.ca_file, target.client) == (ca, tlsward.scan.Identity(cert, key))
    assert (target.openssl_version, target.environment, target.timeout) == ("3.0.15", "test", 9.0)
    assert target.policy["name"] == "biometric-strict"


def test_piped_stderr_gets_no_progress_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.10": recorded("hardened"), "127.0.2.19": recorded("no_hsts")})
    stderr = io.StringIO()
    _, out = _run(["127.0.2.10:8443", "127.0.2.19:8443"], stderr)
    assert stderr.getvalue() == ""
    json.loads(out)  # standard output holds the format and nothing else


def test_terminal_stderr_gets_a_progress_line_per_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.10": recorded("hardened"), "127.0.2.19": recorded("no_hsts")})
    stderr = Tty()
    _, out = _run(["127.0.2.10:8443", "127.0.2.19:8443", "--sni", "bio.scan.test"], stderr)
    lines = stderr.getvalue().splitlines()
    assert lines[0] == "tlsward-scan: scanning 127.0.2.10:8443, 127.0.2.19:8443 against biometric-strict"
    assert lines[1].startswith("tlsward-scan: 127.0.2.10:8443 - ")
    assert "no failed finding" in lines[1]
    assert lines[2].startswith("tlsward-scan: 127.0.2.19:8443 - ")
    assert "1 failed (worst high)" in lines[2]
    assert len(lines) == 3
    json.loads(out)


def _requiring_client_certificate() -> dict[str, Any]:
    record = copy.deepcopy(recorded("hardened"))
    record["sslyze"]["connectivity_result"]["client_auth_requirement"] = "REQUIRED"
    return record


def test_endpoint_requiring_a_client_certificate_is_named_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_scan(monkeypatch, {"127.0.2.26": _requiring_client_certificate()})
    stderr = io.StringIO()  # piped: the hint is not a progress line, it is always written
    code, out = _run(["127.0.2.26:8443", "--sni", "bio.scan.test"], stderr)
    assert stderr.getvalue() == (
        "tlsward-scan: 127.0.2.26:8443 - the endpoint requires a client certificate; without --client-cert "
        "and --client-key the checks that need one are undecided\n"
    )
    assert code != cli.EXIT_UNREACHABLE
    json.loads(out)


def test_no_client_certificate_hint_when_one_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    for path in (cert, key):
        path.write_text("x", encoding="utf-8")
    records = {"127.0.2.26": _requiring_client_certificate(), "127.0.2.10": recorded("hardened")}
    _fake_scan(monkeypatch, records)
    stderr = io.StringIO()
    _run(["127.0.2.26:8443", "--client-cert", str(cert), "--client-key", str(key)], stderr)
    assert stderr.getvalue() == ""
    _run(["127.0.2.10:8443"], stderr)  # does not ask for one
    assert stderr.getvalue() == ""


def test_piped_run_of_the_console_module_has_no_progress_line() -> None:
    """The real entry point with standard error a pipe: only the error line, never progress."""
    proc = subprocess.run(
        [sys.executable, "-m", "tlsward.cli.scan", "127.0.0.1:1", "--format", "junit"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert proc.stderr.splitlines() == ["tlsward-scan: 127.0.0.1:1 - connection refused"]
    assert "scanning" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert ET.fromstring(proc.stdout).tag == "testsuites"


# ---------------------------------------------------------------------------------------------
# Report formats


def _report_output(monkeypatch: pytest.MonkeyPatch, fmt: str) -> tuple[int, str]:
    _fake_scan(monkeypatch, {"127.0.2.19": recorded("no_hsts"), "127.0.2.10": recorded("hardened")})
    return _run(
        ["127.0.2.10:8443", "127.0.2.19:8443", "--sni", "bio.scan.test", "--format", fmt], io.StringIO()
    )


def test_junit(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _report_output(monkeypatch, "junit")
    assert code == 13
    root = ET.fromstring(out)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"127.0.2.10:8443", "127.0.2.19:8443"}
    assert suites["127.0.2.10:8443"].get("failures") == "0"
    failures = [
        c.get("name") for c in suites["127.0.2.19:8443"].iter("testcase") if c.find("failure") is not None
    ]
    assert failures == ["hsts.present"]


def test_html(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _report_output(monkeypatch, "html")
    assert code == 13
    assert out.lstrip().lower().startswith("<!doctype html")
    assert "hsts.present" in out
    assert "127.0.2.19:8443" in out


def test_sarif(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tlsward.report.sarif")
    code, out = _report_output(monkeypatch, "sarif")
    assert code == 13
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    rule_ids = {r["ruleId"] for run in sarif["runs"] for r in run["results"]}
    assert "hsts.present" in rule_ids


def test_prometheus(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tlsward.report.prometheus")
    code, out = _report_output(monkeypatch, "prometheus")
    assert code == 13
    samples = [line for line in out.splitlines() if line and not line.startswith("#")]
    assert samples
    assert any("127.0.2.19:8443" in line for line in samples)


def test_cbom(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tlsward.report.cbom")
    code, out = _report_output(monkeypatch, "cbom")
    assert code == 13
    bom = json.loads(out)
    assert bom["bomFormat"] == "CycloneDX"


def test_format_without_its_module_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = _fake_scan(monkeypatch, {"127.0.2.10": recorded("hardened")})
    monkeypatch.setitem(sys.modules, "tlsward.report.cbom", None)  # import fails as if not installed
    assert cli.main(["127.0.2.10:8443", "--format", "cbom"]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith("tlsward-scan: --format cbom is not available")
    assert seen == []  # decided before any scan


# ---------------------------------------------------------------------------------------------
# --target-openssl reaches the judge of the key-exchange groups


def _with_hybrid_group() -> dict[str, Any]:
    record = copy.deepcopy(recorded("hardened"))
    curves = record["sslyze"]["scan_result"]["elliptic_curves"]["result"]["supported_curves"]
    curves.insert(0, {"name": "X25519MLKEM768", "openssl_nid": 0})
    return record


def test_group_needing_a_newer_openssl_than_the_target_s_fails() -> None:
    groups = {f.id: f for f in judge(_with_hybrid_group(), openssl_version="OpenSSL 3.0.15 3 Sep 2024")}
    finding = groups["kex.groups"]
    assert finding.status == "fail"
    assert finding.evidence["not_in_policy"] == ["X25519MLKEM768"]
    assert "needs OpenSSL >= 3.5.0" in finding.evidence["why"]["X25519MLKEM768"][0]
    assert finding.evidence["target_openssl"] == "OpenSSL 3.0.15 3 Sep 2024"
    assert "X25519MLKEM768" not in finding.evidence["allowed"]


def test_group_is_fine_on_a_new_enough_or_unknown_openssl() -> None:
    for version in ("3.5.0", None):
        finding = {f.id: f for f in judge(_with_hybrid_group(), openssl_version=version)}["kex.groups"]
        assert finding.status == "pass", version
        assert "X25519MLKEM768" in finding.evidence["allowed"]


def test_target_openssl_from_the_command_line_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_scan(monkeypatch, {"127.0.2.10": _with_hybrid_group()})
    argv = ["127.0.2.10:8443", "--sni", "bio.scan.test", "--fail-on", "medium"]
    code, out = _run([*argv, "--target-openssl", "3.0.15"], io.StringIO())
    assert code == 12  # kex.groups is medium
    assert [f["id"] for f in json.loads(out)["findings"] if not f["passed"]] == ["kex.groups"]
    code, _ = _run([*argv, "--target-openssl", "3.5.1"], io.StringIO())
    assert code == 0
