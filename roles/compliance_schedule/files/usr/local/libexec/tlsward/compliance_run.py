#!/usr/bin/python3
"""tlsward scheduled compliance run: run the playbook, then alert on failures and expiring certificates.

    compliance-run [CONFIG]          run once (what the systemd service does)
    compliance-run --check-config F  validate a configuration file and exit

CONFIG (JSON, written by the compliance_schedule role): command, project_dir, reports_dir, keep,
fail_severity, severities (tlsward's severity scale, lowest first, as the controller package
defines it), warning_days (null: the run's own window, the profile's) and webhook_url. The
playbook writes reports_dir/<run_id>/report.json; this script reads it and alerts when the run
failed, the report is missing, a check at or above fail_severity failed, or a certificate expires
within the warning window: an error line in the journal, an optional webhook POST (JSON) and a
non-zero exit status (the unit shows as failed). Python standard library only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "/etc/tlsward/compliance-schedule.json"
# A run id is its UTC second, with -NN appended when several runs start in the same second.
RUN_DIR = re.compile(r"^\d{8}T\d{6}Z(?:-\d{2})?$")
REQUIRED = (
    "command",
    "project_dir",
    "reports_dir",
    "keep",
    "fail_severity",
    "severities",
    "warning_days",
    "webhook_url",
)


def log(priority: int, message: str) -> None:
    # journald reads the <N> prefix as the syslog priority (3 error, 4 warning, 6 info).
    print(f"<{priority}>{message}", flush=True)


def load_config(path: str) -> dict[str, Any]:
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = [f"missing key {k!r}" for k in REQUIRED if k not in config]
    if not problems:
        if not isinstance(config["command"], list) or not config["command"]:
            problems.append("command must be a non-empty list")
        scale = config["severities"]
        if not isinstance(scale, list) or not scale or not all(isinstance(s, str) for s in scale):
            problems.append("severities must be a non-empty list of severity names")
        elif config["fail_severity"] not in scale:
            problems.append(f"fail_severity must be one of {scale}")
        days = config["warning_days"]
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
            problems.append("warning_days must be null or a number of days >= 0")
        if int(config["keep"]) < 1:
            problems.append("keep must be at least 1")
        if config["webhook_url"] and not re.match(r"^https?://", config["webhook_url"]):
            problems.append("webhook_url must be empty or an http(s) URL")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return config


def runs(reports_dir: Path) -> list[Path]:
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.iterdir() if RUN_DIR.match(p.name) and (p / "report.json").is_file())


def post(url: str, payload: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - scheme checked in load_config
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            log(6, f"webhook answered HTTP {response.status}")
    except OSError as exc:
        log(3, f"webhook failed: {exc}")


def alerts_for(report: dict[str, Any], config: dict[str, Any], rc: int, html: str) -> list[str]:
    """One line per failed check at or above the threshold and per certificate in the warning window."""
    alerts = []
    s = report["summary"]
    verdict = "COMPLIANT" if s["compliant"] else "NOT COMPLIANT"
    log(
        6,
        f"run {report['run_id']}: {verdict}: {s['compliant_hosts']}/{s['hosts']} hosts compliant, "
        f"{s['failed']} failed checks, report {html}",
    )
    scale = config["severities"]
    failing = set(scale[scale.index(config["fail_severity"]) :])
    for host in report["hosts"]:
        for f in host["findings"]:
            if not f["passed"] and f["severity"] in failing:
                alerts.append(f"{host['name']}: {f['id']} ({f['severity']}): {f['message']}")
    if not alerts and rc != 0:
        alerts.append(f"the compliance playbook exited with status {rc}")
    # Not set: the window the run itself used (the profile's certificate.min_days_left).
    window = int(report["warning_days"] if config["warning_days"] is None else config["warning_days"])
    for cert in report.get("certificates", []):
        if cert["days_left"] < window:
            alerts.append(
                f"{cert['host']}: {cert['role']} certificate {cert['subject']} expires in "
                f"{cert['days_left']} days ({cert['not_after'][:10]})"
            )
    return alerts


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--check-config":
        load_config(argv[1])
        return 0
    config = load_config(argv[0] if argv else DEFAULT_CONFIG)
    reports_dir = Path(config["reports_dir"])
    before = runs(reports_dir)
    extra = {
        "compliance_reports_dir": str(reports_dir),
        "compliance_keep_reports": int(config["keep"]),
        "compliance_fail_severity": config["fail_severity"],
    }
    if config["warning_days"] is not None:
        extra["compliance_warning_days"] = int(config["warning_days"])
    command = [*config["command"], "-e", json.dumps(extra)]
    log(6, f"compliance run: {' '.join(command[:4])} ...")
    rc = subprocess.run(command, cwd=config["project_dir"], check=False).returncode
    # This run's report is the newest run directory that was not there before it started (a run
    # never overwrites another one's directory, so a name seen before is never this run's).
    new = [run for run in runs(reports_dir) if run not in before]
    report: dict[str, Any] = {}
    html = None
    if not new:
        alerts = [f"the run wrote no report (exit status {rc})"]
    else:
        report = json.loads((new[-1] / "report.json").read_text(encoding="utf-8"))
        html = str(new[-1] / "report.html")
        alerts = alerts_for(report, config, rc, html)
    if not alerts:
        return 0
    for line in alerts:
        log(3, f"ALERT {line}")
    if config["webhook_url"]:
        post(
            config["webhook_url"],
            {
                "text": f"tlsward compliance: {len(alerts)} alert(s)",
                "run_id": report.get("run_id"),
                "compliant": report.get("summary", {}).get("compliant"),
                "alerts": alerts,
                "report": html,
            },
        )
    return 2


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except (OSError, ValueError, KeyError) as exc:
        log(3, f"ALERT compliance run could not complete: {exc}")
        status = 1
    if sys.argv[1:2] != ["--check-config"]:
        # Always the run's last journal line: a reader (or a test) knows the run's output is complete.
        log(6 if status == 0 else 3, f"compliance run finished with status {status}")
    sys.exit(status)
