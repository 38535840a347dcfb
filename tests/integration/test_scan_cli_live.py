"""The installed console script ``tlsward-scan`` against real nginx endpoints (scan_endpoints.py).

It is run as a separate process, exactly as a person or a CI job runs it, with standard output and
standard error piped.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET  # parsing XML the tool under test produced
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import scan_endpoints as se

from tlsward.scan import Identity, Target, scan_endpoints

pytestmark = pytest.mark.integration

# The console script of the environment running the tests (make venv installs it beside python).
SCRIPT = Path(sys.executable).parent / "tlsward-scan"


def _endpoint(fleet: list[se.Endpoint], name: str) -> se.Endpoint:
    return next(ep for ep in fleet if ep.name == name)


def _label(ep: se.Endpoint) -> str:
    return f"{ep.address}:{ep.port}"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.is_file():
        pytest.fail(f"{SCRIPT} is missing: the package is not installed with its console scripts (make venv)")
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False)


def _options(material: se.Pki, ep: se.Endpoint) -> list[str]:
    return [
        "--sni",
        se.SERVER_NAME,
        "--environment",
        ep.environment,
        "--ca-file",
        str(material.server_ca),
        "--client-cert",
        str(material.device[0]),
        "--client-key",
        str(material.device[1]),
    ]


def _statuses(findings: list[dict[str, Any]]) -> dict[str, str]:
    return {f["id"]: f["status"] for f in findings}


def test_json_of_a_hardened_endpoint_is_the_module_s_verdict(
    scan_fleet: list[se.Endpoint], scan_material: se.Pki
) -> None:
    ep = _endpoint(scan_fleet, "hardened")
    proc = _cli(_label(ep), *_options(scan_material, ep), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # piped: no progress line
    out = json.loads(proc.stdout)
    assert out["compliant"] is True
    assert out["worst_failed_severity"] is None
    assert out["findings"] == out["results"][0]["findings"]
    for finding in out["findings"]:
        assert {"id", "passed", "status", "severity", "message", "evidence"} <= set(finding)
    # The same target scanned in-process through the module's code path gives the same verdicts.
    target = Target(
        host=ep.address,
        port=ep.port,
        server_name=se.SERVER_NAME,
        environment=ep.environment,
        ca_file=scan_material.server_ca,
        client=Identity(*scan_material.device),
    )
    (direct,) = scan_endpoints([target])
    assert _statuses(out["findings"]) == _statuses(direct["findings"])
    statuses = _statuses(out["findings"])
    assert statuses["protocol.tls1_3"] == "pass"
    assert statuses["mtls.valid_client_cert_accepted"] == "pass"
    assert statuses["mtls.revoked_refused"] == "not_applicable"  # no revoked identity on the command line
    assert len(statuses) >= 30


def test_junit_of_a_bad_endpoint_fails_with_its_severity_code(
    scan_fleet: list[se.Endpoint], scan_material: se.Pki
) -> None:
    ep = _endpoint(scan_fleet, "no_hsts")
    proc = _cli(_label(ep), *_options(scan_material, ep), "--format", "junit")
    assert proc.returncode == 13, proc.stderr  # hsts.present is high
    assert proc.stderr == ""
    root = ET.fromstring(proc.stdout)
    (suite,) = root.iter("testsuite")
    assert suite.get("name") == _label(ep)
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["hsts.present"]
    assert int(suite.get("tests") or 0) >= 30


def test_fail_on_above_the_failure_exits_0(scan_fleet: list[se.Endpoint], scan_material: se.Pki) -> None:
    ep = _endpoint(scan_fleet, "no_hsts")
    proc = _cli(_label(ep), *_options(scan_material, ep), "--fail-on", "critical")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["compliant"] is True
    assert out["worst_failed_severity"] == "high"


def test_several_endpoints_in_one_run(scan_fleet: list[se.Endpoint], scan_material: se.Pki) -> None:
    good, bad = _endpoint(scan_fleet, "hardened"), _endpoint(scan_fleet, "cbc")
    proc = _cli(_label(good), _label(bad), *_options(scan_material, good))
    out = json.loads(proc.stdout)
    assert [r["name"] for r in out["results"]] == [_label(good), _label(bad)]
    assert [r["compliant"] for r in out["results"]] == [True, False]
    failed = {f["id"] for f in out["results"][1]["findings"] if not f["passed"]}
    assert failed == bad.expect_failed
    # cipher.tls1_2.not_in_policy and cipher.aead are both high.
    assert proc.returncode == 13, proc.stderr


# A fatal TLS alert record: handshake_failure (RFC 8446 section 6), what a server sends to refuse.
HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])


@contextlib.contextmanager
def _refusing_listener() -> Iterator[int]:
    """A loopback listener that answers every ClientHello with handshake_failure; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(16384)
                    conn.sendall(HANDSHAKE_FAILURE_ALERT)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def test_refused_handshake_is_one_line_and_exit_3() -> None:
    with _refusing_listener() as port:
        proc = _cli(f"127.0.0.1:{port}")
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"tlsward-scan: 127.0.0.1:{port} - TLS handshake failed ("), lines[0]
    assert "Traceback" not in proc.stderr
    assert [f["id"] for f in json.loads(proc.stdout)["findings"]] == ["connectivity"]


def test_endpoint_requiring_a_client_certificate_without_one(
    scan_fleet: list[se.Endpoint], scan_material: se.Pki
) -> None:
    # The handshake asks for a client certificate and fails without one: sslyze still connects and
    # the checks it cannot finish are undecided (not passed); a hint names the endpoint.
    ep = _endpoint(scan_fleet, "hardened_require")
    proc = _cli(
        _label(ep),
        "--sni",
        se.SERVER_NAME,
        "--environment",
        ep.environment,
        "--ca-file",
        str(scan_material.server_ca),
    )
    assert proc.stderr.splitlines() == [
        f"tlsward-scan: {_label(ep)} - the endpoint requires a client certificate; without --client-cert "
        "and --client-key the checks that need one are undecided"
    ]
    out = json.loads(proc.stdout)
    statuses = _statuses(out["findings"])
    assert statuses["connectivity"] == "pass"
    assert statuses["hsts.present"] == "error"  # high: sslyze could not fetch the headers
    assert proc.returncode == 13


@pytest.mark.parametrize("fmt", ["sarif", "prometheus", "cbom"])
def test_report_formats(fmt: str, scan_fleet: list[se.Endpoint], scan_material: se.Pki) -> None:
    pytest.importorskip(f"tlsward.report.{fmt}")
    ep = _endpoint(scan_fleet, "no_hsts")
    proc = _cli(_label(ep), *_options(scan_material, ep), "--format", fmt)
    assert proc.returncode == 13, proc.stderr
    assert proc.stderr == ""
    if fmt == "sarif":
        sarif = json.loads(proc.stdout)
        assert sarif["version"] == "2.1.0"
        assert [r["ruleId"] for run in sarif["runs"] for r in run["results"] if r.get("kind") == "fail"] == [
            "hsts.present"
        ]
    elif fmt == "prometheus":
        samples = [line for line in proc.stdout.splitlines() if line and not line.startswith("#")]
        assert any(_label(ep) in line for line in samples), proc.stdout[:2000]
    else:
        bom = json.loads(proc.stdout)
        assert bom["bomFormat"] == "CycloneDX"
        assert bom.get("components"), "the CBOM lists the endpoint's algorithms"
