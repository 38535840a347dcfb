"""Profiles that explain a missed bar: py-spy for Python processes, summarised into the
functions that take the most samples (self) and the frames most samples pass through."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import REPO, BenchError, run

PY_SPY = REPO / ".venv/bin/py-spy"
_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^)]*)\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    parts = Path(path.split(":")[0]).parts
    for anchor in ("site-packages", "tlsward", "bench", "tlsward_biometric", "lib"):
        if anchor in parts:
            parts = (
                parts[parts.index(anchor) + 1 :]
                if anchor in ("site-packages", "lib")
                else parts[parts.index(anchor) :]
            )
            break
    return f"{match.group('func')} ({'/'.join(parts)})"


def summarise(collapsed: str, top: int = 8) -> dict[str, Any]:
    """Collapsed stacks (``a;b;c 12`` per line) -> top self and inclusive frames in percent."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            incl_counts[frame] += count
    if not total:
        raise BenchError("py-spy recorded no samples")
    return {
        "samples": total,
        "self": [(f, round(100 * c / total, 1)) for f, c in self_counts.most_common(top)],
        "inclusive": [
            (f, round(100 * c / total, 1))
            for f, c in incl_counts.most_common(top * 4)
            if round(100 * c / total) < 100
        ][:top],
    }


def pyspy(argv: list[str], out: Path, timeout: float, *, native: bool = False) -> dict[str, Any]:
    """Run ``argv`` under ``py-spy record`` (subprocesses included) and summarise it."""
    if not PY_SPY.exists():
        raise BenchError("py-spy is not installed in .venv (make venv)")
    cmd = [str(PY_SPY), "record", "--format", "raw", "--rate", "250", "--subprocesses", "-o", str(out)]
    if native:
        cmd.append("--native")
    run([*cmd, "--", *argv], timeout)
    summary = summarise(out.read_text())
    summary["collapsed_file"] = out.name
    return summary


def describe(summary: dict[str, Any], n: int = 4) -> str:
    top_self = ", ".join(f"{f} {p}%" for f, p in summary["self"][:n])
    return f"py-spy ({summary['samples']} samples), most self time: {top_self}"
