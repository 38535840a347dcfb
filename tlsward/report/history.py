"""The report directory: ``<reports_dir>/<run_id>/report.json`` per run, oldest pruned first.

A run id is the run's UTC second (``20261124T201500Z``). A run that starts in a second that already
has runs gets ``-01``, ``-02``... appended, so a report is never overwritten by a later run, the ids
still sort in run order (what pruning and "changes since the previous run" rely on), and an auditor
keeps every run's evidence.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from tlsward.errors import TlswardError

RUN_DIR = re.compile(r"^(?P<second>\d{8}T\d{6}Z)(?:-(?P<n>\d{2}))?$")
MAX_RUNS_PER_SECOND = 100


def _run_key(name: str) -> tuple[str, int] | None:
    match = RUN_DIR.match(name)
    if not match:
        return None
    return match["second"], int(match["n"] or 0)


def claim_run_dir(reports_dir: Path, base_id: str) -> Path:
    """Create and return a new, empty run directory named after ``base_id`` that sorts after every
    existing run.

    Within a second the suffix counts on from the newest run of that second, never back into a
    name that pruning freed (which would sort first and be pruned at once). If the newest existing
    run is from a later second (a clock stepped back), the run continues that second's sequence so
    the order stays the run order; ``generated_at`` in the report keeps the real time. ``mkdir``
    without ``exist_ok`` is the claim, so two runs racing for the same name each get their own.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    second, n = base_id, 0
    newest = max((key for key in map(_run_key, (p.name for p in reports_dir.iterdir())) if key), default=None)
    if newest and newest[0] >= base_id:
        second, n = newest[0], newest[1] + 1
    while n < MAX_RUNS_PER_SECOND:
        candidate = reports_dir / (second if n == 0 else f"{second}-{n:02d}")
        try:
            candidate.mkdir()
        except FileExistsError:
            n += 1
            continue
        return candidate
    raise TlswardError(
        "write_reports",
        f"{reports_dir}: {MAX_RUNS_PER_SECOND} runs already started in the second {second}; "
        "not overwriting any",
    )


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
