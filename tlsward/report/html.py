"""The HTML report a person reads: summary, per-host table, certificate expiry timeline, changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The files of one run, side by side in its directory (``write_reports``); the HTML links the others.
REPORT_FILES = {
    "json": "report.json",
    "junit": "junit.xml",
    "html": "report.html",
    "sarif": "report.sarif",
    "prometheus": "metrics.prom",
    "cbom": "cbom.cdx.json",
}
LINK_LABELS = {
    "json": "report.json (tlsward.compliance-report)",
    "junit": "JUnit XML",
    "sarif": "SARIF 2.1.0",
    "prometheus": "Prometheus metrics (textfile collector)",
    "cbom": "CycloneDX 1.6 cryptographic BOM",
}
# Timeline scale: up to 400 days (longer-lived certificates fill the bar), at least twice the window.
MAX_SCALE_DAYS = 400
TICK_STEPS = (7, 14, 30, 60, 90, 180)
MAX_TICKS = 8


def default_links() -> dict[str, str]:
    """The other formats of a run as ``write_reports`` lays them out (relative file names)."""
    return {k: v for k, v in REPORT_FILES.items() if k != "html"}


def timeline(report: dict[str, Any]) -> dict[str, Any]:
    """Scale and dated axis of the expiry timeline.

    Bars start at the report's date (day 0) and are ``days_left`` long; the axis has a tick every
    ``step`` days (the smallest of ``TICK_STEPS`` giving at most ``MAX_TICKS`` + 1 ticks), each
    labelled with its calendar date, and the warning window's end is dated too.
    """
    days = [int(c["days_left"]) for c in report["certificates"]]
    warning = int(report["warning_days"])
    scale = max(min(max(days, default=0), MAX_SCALE_DAYS), warning * 2, 1)
    start = dt.datetime.fromisoformat(report["generated_at"]).date()
    step = next((s for s in TICK_STEPS if scale / s <= MAX_TICKS), TICK_STEPS[-1])
    ticks = [
        {
            "days": d,
            "date": (start + dt.timedelta(days=d)).isoformat(),
            "pct": round(100.0 * d / scale, 1),
        }
        for d in range(0, scale + 1, step)
    ]
    return {
        "scale": scale,
        "start": start.isoformat(),
        "step": step,
        "ticks": ticks,
        "window_pct": round(100.0 * min(warning, scale) / scale, 1),
        "window_date": (start + dt.timedelta(days=warning)).isoformat(),
    }


def to_html(report: dict[str, Any], links: Mapping[str, str] | None = None) -> str:
    """The page; ``links`` maps a format (``REPORT_FILES`` keys) to its file name relative to the
    page (``default_links()``: the files ``write_reports`` writes beside it). No links without it:
    a page rendered on its own has no other files beside it."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    chosen = dict(links or {})
    return template.render(
        report=report,
        s=report["summary"],
        c=report["changes"],
        tl=timeline(report),
        links=[(k, LINK_LABELS.get(k, k), v) for k, v in chosen.items()],
    )
