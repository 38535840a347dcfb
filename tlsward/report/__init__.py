"""Compliance reports per run: ``report.json`` (stable schema), ``junit.xml``, ``report.html``, and
``report.sarif`` (SARIF 2.1.0), ``metrics.prom`` (Prometheus textfile) and ``cbom.cdx.json``
(CycloneDX 1.6 cryptographic BOM) beside them (``REPORT_FILES``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

from tlsward.defaults import DEFAULT_FAIL_SEVERITY
from tlsward.report.cbom import to_cbom
from tlsward.report.history import claim_run_dir, previous_report, prune, runs
from tlsward.report.html import REPORT_FILES, default_links, to_html
from tlsward.report.junit import to_junit
from tlsward.report.model import SCHEMA, SCHEMA_VERSION, build_report, diff_reports, run_id_for
from tlsward.report.prometheus import to_text
from tlsward.report.sarif import to_sarif

__all__ = [
    "REPORT_FILES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "build_report",
    "claim_run_dir",
    "diff_reports",
    "previous_report",
    "prune",
    "run_id_for",
    "runs",
    "to_cbom",
    "to_html",
    "to_junit",
    "to_sarif",
    "to_text",
    "write_reports",
]


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_reports(
    reports_dir: Path,
    *,
    tls_results: list[dict[str, Any]],
    host_findings: dict[str, list[dict[str, Any]]] | None = None,
    policy: str,
    fail_severity: str = DEFAULT_FAIL_SEVERITY,
    warning_days: int | None = None,
    keep: int = 0,
    now: dt.datetime | None = None,
    tool_versions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Build the report against the previous run, write its files (``REPORT_FILES``), prune old runs.

    The run gets a directory of its own (see ``claim_run_dir``): an existing run is never overwritten.
    ``warning_days`` defaults to the profile's ``certificate.min_days_left`` (see ``build_report``).

    Returns the report and the paths written.
    """
    now = now or dt.datetime.now(dt.UTC)
    reports_dir = Path(reports_dir)
    out = claim_run_dir(reports_dir, run_id_for(now))
    run_id = out.name
    try:
        report = build_report(
            tls_results=tls_results,
            host_findings=host_findings,
            policy=policy,
            fail_severity=fail_severity,
            warning_days=warning_days,
            run_id=run_id,
            generated_at=now,
            previous=previous_report(reports_dir, run_id),
            tool_versions=tool_versions,
        )
        paths = {"dir": out, **{kind: out / name for kind, name in REPORT_FILES.items()}}
        _write(paths["json"], json.dumps(report, indent=1, sort_keys=True, default=str) + "\n")
        _write(paths["junit"], to_junit(report))
        _write(paths["sarif"], json.dumps(to_sarif(report), indent=1) + "\n")
        _write(paths["prometheus"], to_text(report))
        _write(paths["cbom"], to_cbom(report) + "\n")
        # The page links the other files by these same relative names.
        _write(paths["html"], to_html(report, default_links()))
    except BaseException:
        # Leave no empty run behind: the next run must not see a half-written one.
        shutil.rmtree(out)
        raise
    removed = prune(reports_dir, keep)
    return {"report": report, "paths": {k: str(v) for k, v in paths.items()}, "pruned": removed}
