"""playbooks/compliance.yml end to end against real nginx endpoints, and its HTML in headless Chromium.

Three inventory hosts on the controller itself (connection local) stand for front ends: their
host-side checks read the test nginx configurations and key files; their endpoints are the
integration nginx processes. The run is made twice so the second report has a previous one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import scan_endpoints as se
import yaml

pytestmark = pytest.mark.integration

# As the nginx_tls role deploys the front end (VerifyMode Require: the drift check expects it).
COMPLIANT = "hardened_require"
HOSTS = (COMPLIANT, "no_hsts", "server_tokens")


def _release_key(directory: Path, key: Path, release_mode: int = 0o755) -> Path:
    """The server key as tls_pki deploys it: privkey.pem -> current/privkey.pem, current ->
    releases/r1, the real file 0600 in the release directory."""
    release = directory / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "privkey.pem").write_bytes(key.read_bytes())
    (release / "privkey.pem").chmod(0o600)
    (directory / "releases").chmod(release_mode)
    (directory / "current").symlink_to("releases/r1")
    (directory / "privkey.pem").symlink_to("current/privkey.pem")
    return directory / "privkey.pem"


def _inventory(tmp: Path, fleet: list[se.Endpoint], material: se.Pki) -> Path:
    good_key = Path(material.chains["good"][1])
    loose_key = tmp / "loose.key"
    loose_key.write_bytes(good_key.read_bytes())
    loose_key.chmod(0o644)
    # hardened_require: the release layout (must pass); no_hsts also has a release directory anyone can
    # write; server_tokens' key is a symlink out of its directory.
    outside = tmp / "elsewhere.key"
    outside.write_bytes(good_key.read_bytes())
    outside.chmod(0o600)
    (tmp / "server_tokens-key").mkdir()
    (tmp / "server_tokens-key" / "privkey.pem").symlink_to(outside)
    keys = {
        COMPLIANT: [_release_key(tmp / "hardened-key", good_key)],
        "no_hsts": [loose_key, _release_key(tmp / "no_hsts-key", good_key, 0o777)],
        "server_tokens": [tmp / "server_tokens-key" / "privkey.pem"],
    }
    hosts: dict[str, Any] = {}
    for ep in fleet:
        if ep.name not in HOSTS:
            continue
        assert ep.directory is not None
        hosts[ep.name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "tlsward_listen_address": ep.address,
            "tlsward_https_port": ep.port,
            "tlsward_server_names": [se.SERVER_NAME],
            "tlsward_environment": ep.environment,
            "compliance_nginx_command": (
                f"{se.NGINX} -T -q -p {ep.directory} -e {ep.directory}/error.log -c {ep.directory}/nginx.conf"
            ),
            "compliance_key_files": [{"path": str(key), "kind": "server_key"} for key in keys[ep.name]],
            "compliance_units": ["tlsward-no-such-unit.service"],
        }
    inventory = {"all": {"children": {"frontends": {"hosts": hosts}}}}
    path = tmp / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def _run(
    repo: Path, inventory: Path, reports: Path, material: se.Pki, *extra: str
) -> subprocess.CompletedProcess[str]:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(repo / "ansible.cfg"),
        # Without the venv on PATH the hosts have no tlsward-biometric command: store check n/a.
        "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != venv_bin),
        "ANSIBLE_LOCAL_TEMP": str(reports.parent / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(reports.parent / "ansible-tmp"),
    }
    extra_vars = {
        "compliance_reports_dir": str(reports),
        "compliance_ca_file": str(material.server_ca),
        "compliance_client_cert": str(material.device[0]),
        "compliance_client_key": str(material.device[1]),
        "compliance_revoked_client_cert": str(material.revoked_device[0]),
        "compliance_revoked_client_key": str(material.revoked_device[1]),
        "compliance_http_path": "/",
        "ansible_become": False,
    }
    return subprocess.run(
        [
            str(venv_bin / "ansible-playbook"),
            "-i",
            str(inventory),
            "tlsward.tls.compliance",
            "-e",
            json.dumps(extra_vars),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def compliance_runs(
    tmp_path_factory: pytest.TempPathFactory,
    scan_fleet: list[se.Endpoint],
    scan_material: se.Pki,
    repo_root: Path,
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("compliance")
    inventory = _inventory(tmp, scan_fleet, scan_material)
    reports = tmp / "reports"
    first = _run(repo_root, inventory, reports, scan_material)
    second = _run(repo_root, inventory, reports, scan_material)
    lenient = _run(
        repo_root,
        inventory,
        tmp / "reports-lenient",
        scan_material,
        "-e",
        "compliance_fail_severity=critical",
    )
    runs = sorted(p for p in reports.iterdir() if p.is_dir())
    return {"first": first, "second": second, "lenient": lenient, "runs": runs, "tmp": tmp}


def test_run_fails_on_high_findings_and_prints_summary(compliance_runs: dict[str, Any]) -> None:
    first = compliance_runs["first"]
    assert first.returncode == 2, first.stdout[-3000:] + first.stderr[-3000:]
    assert "NOT COMPLIANT" in first.stdout
    html = compliance_runs["runs"][-1] / "report.html"
    assert f"report: {html}" in compliance_runs["second"].stdout


def test_threshold_decides_the_exit_status(compliance_runs: dict[str, Any]) -> None:
    lenient = compliance_runs["lenient"]
    assert lenient.returncode == 0, lenient.stdout[-3000:]


def test_report_json_has_every_host_and_the_right_failures(compliance_runs: dict[str, Any]) -> None:
    report = json.loads((compliance_runs["runs"][-1] / "report.json").read_text(encoding="utf-8"))
    assert (report["schema"], report["schema_version"]) == ("tlsward.compliance-report", 1)
    hosts = {h["name"]: h for h in report["hosts"]}
    assert set(hosts) == set(HOSTS)
    failed = {name: {f["id"] for f in h["findings"] if not f["passed"]} for name, h in hosts.items()}
    assert failed[COMPLIANT] == set()
    # no_hsts: the endpoint lacks the header, the deployed config differs from the profile
    # (drift), and its key files are not root's alone (world-readable; release dir writable).
    assert failed["no_hsts"] == {"hsts.present", "host.drift", "host.key_files"}
    assert failed["server_tokens"] == {"http.server_tokens", "host.drift", "host.key_files"}
    tmp = compliance_runs["tmp"]
    keys = {name: next(f for f in h["findings"] if f["id"] == "host.key_files") for name, h in hosts.items()}
    # The symlinked release layout is judged by the file it resolves to (0600), not the link (0777).
    [release] = keys[COMPLIANT]["evidence"]["files"]
    assert (release["symlink"], release["mode"]) == (True, "0600")
    assert release["resolved"] == str((tmp / "hardened-key" / "releases" / "r1" / "privkey.pem").resolve())
    assert keys["no_hsts"]["evidence"]["problems"] == [
        f"{tmp / 'loose.key'}: mode 0644 gives access to everyone",
        f"{tmp / 'no_hsts-key' / 'privkey.pem'}: directory {(tmp / 'no_hsts-key' / 'releases').resolve()} "
        "on the way is writable by group and others (drwxrwxrwx)",
    ]
    assert keys["server_tokens"]["evidence"]["problems"] == [
        f"{tmp / 'server_tokens-key' / 'privkey.pem'}: symlink resolves to "
        f"{(tmp / 'elsewhere.key').resolve()}, outside {tmp / 'server_tokens-key'}"
    ]
    drift = next(f for f in hosts["server_tokens"]["findings"] if f["id"] == "host.drift")
    assert [(d["directive"], d["expected"], d["found"]) for d in drift["evidence"]["drift"]] == [
        ("server_tokens", "off", "on")
    ]
    by_id = {f["id"]: f for f in hosts[COMPLIANT]["findings"]}
    assert by_id["host.unit_hardening.tlsward-no-such-unit"]["status"] == "not_applicable"
    assert by_id["host.template_store"]["status"] == "not_applicable"
    assert by_id["mtls.revoked_refused"]["status"] == "pass"
    assert report["summary"]["compliant"] is False
    assert {c["host"] for c in report["certificates"]} == set(HOSTS)


def test_second_run_reports_changes_since_the_first(compliance_runs: dict[str, Any]) -> None:
    first, second = compliance_runs["runs"][-2:]
    report = json.loads((second / "report.json").read_text(encoding="utf-8"))
    assert report["changes"]["previous_run"] == first.name
    assert report["changes"]["newly_failed"] == []


def test_junit_has_one_testcase_per_host_and_check(compliance_runs: dict[str, Any]) -> None:
    run = compliance_runs["runs"][-1]
    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    root = ET.parse(run / "junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == set(HOSTS)
    for host in report["hosts"]:
        cases = suites[host["name"]].findall("testcase")
        assert [c.get("name") for c in cases] == [f["id"] for f in host["findings"]]
        failures = {c.get("name") for c in cases if c.find("failure") is not None}
        assert failures == {f["id"] for f in host["findings"] if f["status"] == "fail"}


def test_html_report_renders_in_headless_chromium(compliance_runs: dict[str, Any]) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by scripts/unit.sh"
    run = compliance_runs["runs"][-1]
    profile = compliance_runs["tmp"] / "chromium-profile"
    base = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]
    url = (run / "report.html").as_uri()
    screenshot = run / "report.png"
    shot = subprocess.run(
        [*base, "--window-size=1400,1800", f"--screenshot={screenshot}", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<table id="hosts">' in dom.stdout
    for host in HOSTS:
        assert f'<tr data-host="{host}">' in dom.stdout
    assert 'id="timeline"' in dom.stdout
    assert "Changes since the previous run" in dom.stdout
