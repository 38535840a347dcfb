"""The report directory: ``<reports_dir>/<run_id>/report.json`` per run, oldest pruned first."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

RUN_DIR = re.compile(r"^\d{8}T\d{6}Z$")


def runs(reports_dir: Path) -> list[Path]:
    """Run directories holding a report.json, oldest first (run ids sort by time)."""
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.iterdir() if RUN_DIR.match(p.name) and (p / "report.json").is_file())


def previous_report(reports_dir: Path, run_id: str) -> dict[str, Any] | None:
    """The newest report older than ``run_id``, or None (unreadable reports are skipped)."""
    for run in reversed(runs(reports_dir)):
        if run.name >= run_id:
            continue
        try:
            return json.loads((run / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def prune(reports_dir: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest runs (``keep`` <= 0 keeps everything); returns removed run ids."""
    if keep <= 0:
        return []
    old = runs(reports_dir)[:-keep]
    for run in old:
        shutil.rmtree(run)
    return [r.name for r in old]
