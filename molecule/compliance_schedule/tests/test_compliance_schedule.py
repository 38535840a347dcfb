"""The runner has a daily timer; a run alerts (failed unit, journal, webhook) on failures and expiry."""

from __future__ import annotations

import json
import re

import pytest

UNIT = "tlsward-compliance"


def test_timer_is_enabled_and_daily(host):
    timer = host.service(f"{UNIT}.timer")
    assert timer.is_enabled
    assert timer.is_running
    calendar = host.check_output(f"systemctl show -p TimersCalendar {UNIT}.timer")
    assert "OnCalendar=*-*-* 00:00:00" in calendar
    host.run_expect(
        [0], f"systemd-analyze verify /etc/systemd/system/{UNIT}.service /etc/systemd/system/{UNIT}.timer"
    )


def test_files_and_modes(host):
    config = host.file("/etc/tlsward/compliance-schedule.json")
    assert (config.mode, config.user, config.group) == (0o640, "root", "tlsward-compliance")
    data = json.loads(config.content_string)
    assert data["webhook_url"] == "http://127.0.1.40:8099/hook"
    assert data["keep"] == 3
    script = host.file("/usr/local/libexec/tlsward/compliance-run")
    assert script.mode == 0o755
    host.run_expect(
        [0], "/usr/local/libexec/tlsward/compliance-run --check-config /etc/tlsward/compliance-schedule.json"
    )
    assert host.user("tlsward-compliance").shell == "/usr/sbin/nologin"


def _run(host, report: str):
    """Start the service once; its result and its journal lines up to the run's last line."""
    host.run_expect([0], f"echo /opt/tlsward-stand-in/{report} > /etc/tlsward/stand-in-report")
    host.run(f"systemctl reset-failed {UNIT}.service")
    cursor = host.check_output("journalctl --show-cursor -n 0 --no-pager | sed -n 's/^-- cursor: //p'")
    result = host.run(f"systemctl start {UNIT}.service")
    # journald reads the unit's stdout asynchronously: wait for the run's own last line.
    journal = ""
    for _ in range(60):
        journal = host.check_output(
            f"journalctl -u {UNIT}.service --after-cursor '{cursor}' --no-pager -o cat"
        )
        if "compliance run finished with status" in journal:
            break
        host.run("sleep 0.5")
    assert "compliance run finished with status" in journal, journal
    return result, journal


@pytest.fixture(scope="module")
def failing_run(host):
    host.run("rm -f /var/tmp/webhook.log")
    return _run(host, "report-not-compliant.json")


def test_failing_run_fails_the_unit_and_logs_alerts(host, failing_run):
    result, journal = failing_run
    assert result.rc != 0
    assert host.run(f"systemctl is-failed {UNIT}.service").stdout.strip() == "failed"
    assert "ALERT no_hsts: hsts.present (high)" in journal
    assert "ALERT expiring_soon: leaf certificate" in journal
    assert "NOT COMPLIANT" in journal
    priorities = host.check_output(f"journalctl -u {UNIT}.service -p err --no-pager -o cat")
    assert "ALERT no_hsts" in priorities


def test_failing_run_posts_the_webhook(host, failing_run):
    body = json.loads(host.file("/var/tmp/webhook.log").content_string.splitlines()[-1])
    assert body["compliant"] is False
    assert any("hsts.present" in a for a in body["alerts"])
    assert any("expires in" in a for a in body["alerts"])


def test_compliant_run_succeeds_and_keeps_n_reports(host, failing_run):
    # Back to back, so runs often share a second: each still gets its own report directory and
    # judges its own report, never the previous run's.
    ids = []
    for _ in range(5):
        result, journal = _run(host, "report-compliant.json")
        assert result.rc == 0, journal
        assert "COMPLIANT" in journal
        assert "ALERT" not in journal
        assert "compliance run finished with status 0" in journal
        ids.append(re.search(r"^run (\S+): COMPLIANT", journal, re.MULTILINE).group(1))
    assert len(set(ids)) == 5, ids
    runs = host.check_output("LC_ALL=C ls /var/lib/tlsward/compliance/reports").split()
    assert runs == ids[-3:], (runs, ids)
