"""JUnit XML for CI systems: one test suite per host, one test case per check."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # building XML only; nothing untrusted is parsed
from typing import Any


def to_junit(report: dict[str, Any]) -> str:
    """Failed checks are ``<failure type=severity>``, undecided ones ``<error>``, n/a ones ``<skipped>``."""
    summary = report["summary"]
    suites = ET.Element(
        "testsuites",
        name=f"tlsward compliance {report['run_id']}",
        tests=str(summary["checks"]),
        failures=str(summary["failed"]),
        errors=str(summary["errors"]),
        skipped=str(summary["not_applicable"]),
        time=f"{summary['scan_seconds_max']:.3f}",
    )
    for host in report["hosts"]:
        counts = host["counts"]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=host["name"],
            tests=str(len(host["findings"])),
            failures=str(counts["failed"]),
            errors=str(counts["errors"]),
            skipped=str(counts["not_applicable"]),
            timestamp=(host["scanned_at"] or report["generated_at"])[:19],
            time=f"{host['scan_seconds'] or 0:.3f}",
        )
        for finding in host["findings"]:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"tlsward.{host['name']}.{finding['source']}",
                name=finding["id"],
                time="0",
            )
            evidence = json.dumps(finding["evidence"], indent=1, sort_keys=True, default=str)
            if finding["status"] == "fail":
                node = ET.SubElement(case, "failure", message=finding["message"], type=finding["severity"])
                node.text = evidence
            elif finding["status"] == "error":
                node = ET.SubElement(case, "error", message=finding["message"], type=finding["severity"])
                node.text = evidence
            elif finding["status"] == "not_applicable":
                ET.SubElement(case, "skipped", message=finding["message"])
            out = ET.SubElement(case, "system-out")
            out.text = f"[{finding['severity']}] {finding['message']}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
