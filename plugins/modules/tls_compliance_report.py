#!/usr/bin/python
"""Ansible module tls_compliance_report: a thin wrapper over tlsward.report and tlsward.scan.hostchecks."""

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_compliance_report
short_description: Judge host-side compliance facts and write the compliance reports of one run
description:
  - Judges the raw facts the compliance playbook gathered on each host (key file modes, C(nginx -T),
    C(systemd-analyze security), the biometric store's key status) into C(host.*) findings.
  - Merges them with C(tls_scan) results and writes C(<reports_dir>/<run_id>/report.json) (schema
    C(tlsward.compliance-report) version 1, docs/compliance.md), C(junit.xml) and C(report.html),
    compared with the previous run in the same directory; keeps the I(keep) newest runs.
  - Runs on the controller with the tlsward virtualenv's python.
options:
  reports_dir:
    description: Directory holding one sub-directory per run.
    type: path
    required: true
  tls_results:
    description: The C(results) of C(tls_scan).
    type: list
    elements: dict
    default: []
  host_facts:
    description:
      - Host name to gathered facts (key_files, nginx, openssl_version, units, template_store,
        policy, overrides).
    type: dict
    default: {}
  expected_hosts:
    description: Hosts this run covers; one without facts is reported with a failed C(host.reachable).
    type: list
    elements: str
    default: []
  policy:
    description:
      - Profile name shown in the report and used for hosts whose facts name none.
      - Defaults to the collection's default profile (C(tlsward.policy.DEFAULT_POLICY), biometric-strict).
    type: str
  fail_severity:
    description:
      - A failed finding at or above this severity makes the run non-compliant.
      - A severity of tlsward's scale, C(tlsward.severities.SEVERITIES) (from info, the lowest, to
        critical).
      - Defaults to the collection's threshold (C(tlsward.defaults.DEFAULT_FAIL_SEVERITY), high), the
        one C(tls_scan) uses.
    type: str
  warning_days:
    description:
      - Certificates expiring within this many days are listed as expiring.
      - Defaults to the profile's C(certificate.min_days_left) (the window in which tls_pki renews).
    type: int
  keep:
    description: Keep this many newest runs in I(reports_dir); 0 keeps all.
    type: int
    default: 0
  max_unit_exposure:
    description:
      - Highest acceptable C(systemd-analyze security) exposure level (0 to 10).
      - Defaults to the collection's limit (C(tlsward.defaults.MAX_UNIT_EXPOSURE), 5.0), the one the
        nginx_tls role enforces.
    type: float
author:
  - tlsward maintainers (@tlsward)
"""

EXAMPLES = r"""
- name: Write the reports
  tls_compliance_report:
    reports_dir: "{{ playbook_dir }}/../reports"
    tls_results: "{{ compliance_scan.results }}"
    host_facts:
      web1: "{{ hostvars['web1'].compliance_host_facts }}"
"""

RETURN = r"""
compliant:
  description: No finding at or above I(fail_severity) failed on any host.
  returned: always
  type: bool
fail_severity:
  description: The threshold the run was judged at (I(fail_severity) or its default).
  returned: always
  type: str
warning_days:
  description: The certificate warning window of the run (I(warning_days) or the profile's).
  returned: always
  type: int
summary:
  description: The report's summary block.
  returned: always
  type: dict
paths:
  description: Paths written (dir, json, junit, html).
  returned: always
  type: dict
expiring:
  description: Certificates expiring within I(warning_days) (host, role, subject, not_after, days_left).
  returned: always
  type: list
  elements: dict
lines:
  description: A short human-readable summary, one line per item.
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule


def _summary_lines(report: dict[str, Any], paths: dict[str, str]) -> list[str]:
    s = report["summary"]
    verdict = "COMPLIANT" if s["compliant"] else "NOT COMPLIANT"
    lines = [
        f"tlsward compliance {report['run_id']}: {verdict} (policy {report['policy']}, "
        f"failing at {report['fail_severity']} and above)",
        f"hosts {s['compliant_hosts']}/{s['hosts']} compliant; checks {s['checks']}: {s['passed']} passed, "
        f"{s['failed']} failed, {s['errors']} undecided, {s['not_applicable']} not applicable",
    ]
    for host in report["hosts"]:
        failed = [f for f in host["findings"] if not f["passed"]]
        state = "ok" if host["compliant"] else "NOT COMPLIANT"
        ids = ", ".join(f"{f['id']} ({f['severity']})" for f in failed) or "no failed check"
        lines.append(f"  {host['name']}: {state}: {ids}")
    for cert in report["certificates"]:
        if cert["days_left"] < report["warning_days"]:
            lines.append(
                f"  expiring: {cert['host']} {cert['role']} {cert['subject']} in {cert['days_left']} days"
            )
    changes = report["changes"]
    if changes["previous_run"]:
        lines.append(
            f"since {changes['previous_run']}: {len(changes['newly_failed'])} newly failed, "
            f"{len(changes['resolved'])} resolved, "
            f"{len(changes['certificates_changed'])} certificate(s) replaced"
        )
    lines.append(f"report: {paths['html']}")
    return lines


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "reports_dir": {"type": "path", "required": True},
            "tls_results": {"type": "list", "elements": "dict", "default": []},
            "host_facts": {"type": "dict", "default": {}},
            "expected_hosts": {"type": "list", "elements": "str", "default": []},
            "policy": {"type": "str"},
            "fail_severity": {"type": "str"},
            "warning_days": {"type": "int"},
            "keep": {"type": "int", "default": 0},
            "max_unit_exposure": {"type": "float"},
        },
        supports_check_mode=False,
    )
    try:
        from sslyze.__version__ import __version__ as sslyze_version  # noqa: PLC0415

        from tlsward.defaults import DEFAULT_FAIL_SEVERITY, MAX_UNIT_EXPOSURE  # noqa: PLC0415
        from tlsward.errors import TlswardError  # noqa: PLC0415
        from tlsward.policy import DEFAULT_POLICY  # noqa: PLC0415
        from tlsward.report import write_reports  # noqa: PLC0415
        from tlsward.scan.hostchecks import judge_host  # noqa: PLC0415
        from tlsward.scan.model import SEVERITIES, check  # noqa: PLC0415
    except ImportError as exc:
        module.fail_json(
            msg=f"tls_compliance_report: cannot import tlsward ({exc}); run it on the controller with the "
            "tlsward virtualenv's python (ansible_python_interpreter: '{{ ansible_playbook_python }}')"
        )
        return
    p = module.params
    policy = p["policy"] or DEFAULT_POLICY
    fail_severity = p["fail_severity"] or DEFAULT_FAIL_SEVERITY
    if fail_severity not in SEVERITIES:
        module.fail_json(
            msg=f"tls_compliance_report: fail_severity {fail_severity!r} is not a severity; "
            f"one of {', '.join(SEVERITIES)}"
        )
    max_exposure = MAX_UNIT_EXPOSURE if p["max_unit_exposure"] is None else p["max_unit_exposure"]
    host_findings: dict[str, list[dict[str, Any]]] = {}
    try:
        for host in p["expected_hosts"]:
            if not p["host_facts"].get(host):
                host_findings[host] = [
                    check(
                        "host.reachable",
                        False,
                        "high",
                        "no facts gathered: the host was unreachable or failed",
                    ).as_dict()
                ]
        for host, facts in p["host_facts"].items():
            if not facts:
                continue
            findings = judge_host(
                facts,
                facts.get("policy") or policy,
                overrides=facts.get("overrides") or None,
                max_exposure=max_exposure,
            )
            host_findings[host] = [
                check("host.reachable", True, "high", "host-side facts gathered").as_dict(),
                *(f.as_dict() for f in findings),
            ]
        written = write_reports(
            p["reports_dir"],
            tls_results=p["tls_results"],
            host_findings=host_findings,
            policy=policy,
            fail_severity=fail_severity,
            # None: the profile's certificate.min_days_left (tlsward.report.build_report)
            warning_days=p["warning_days"],
            keep=p["keep"],
            tool_versions={"sslyze": sslyze_version},
        )
    except TlswardError as exc:
        module.fail_json(msg=f"tls_compliance_report: {exc}", problems=exc.problems)
        return
    except OSError as exc:
        module.fail_json(msg=f"tls_compliance_report: cannot write reports under {p['reports_dir']}: {exc}")
        return
    report = written["report"]
    module.exit_json(
        changed=True,
        compliant=report["summary"]["compliant"],
        fail_severity=report["fail_severity"],
        warning_days=report["warning_days"],
        summary=report["summary"],
        paths=written["paths"],
        pruned=written["pruned"],
        expiring=[c for c in report["certificates"] if c["days_left"] < report["warning_days"]],
        newly_failed=report["changes"]["newly_failed"],
        lines=_summary_lines(report, written["paths"]),
    )


if __name__ == "__main__":
    main()
