"""Profiles that explain a missed bar: py-spy for Python processes, summarised into the
functions that take the most samples (self) and the frames most samples pass through."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Callable
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


# Seconds of a perf recording that explains a missed bar.
PERF_SECONDS = 4
_PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.+?)\s*$")


def perf_record(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes]:
    """Start ``perf record`` on one process for ``seconds`` (bounded); wait on the handle."""
    return subprocess.Popen(
        ["perf", "record", "-F", "499", "-p", str(pid), "-o", str(out), "--", "sleep", str(seconds)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def perf_during(pid: int, out: Path, work: Callable[[], object], seconds: int = PERF_SECONDS) -> Path:
    """Record ``perf`` on process ``pid`` while ``work()`` puts load on it; the recording stops
    after ``seconds`` (bounded), whatever the work takes."""
    perf = perf_record(pid, seconds, out)
    work()
    perf.wait(timeout=seconds + 60)
    return out


def _perf_report(
    data: Path, sort: str, pattern: re.Pattern[str], label: Any, top: int
) -> list[tuple[str, float]]:
    """The first ``top`` lines of ``perf report --sort SORT`` that ``label(match)`` names."""
    proc = run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", sort], 120)
    out: list[tuple[str, float]] = []
    for line in proc.stdout.splitlines():
        match = pattern.match(line)
        name = label(match) if match else None
        if match and name:
            out.append((name, float(match.group(1))))
        if len(out) == top:
            break
    return out


def _symbol(match: re.Match[str]) -> str | None:
    symbol = re.split(r"\s{2,}", match.group(3))[0]
    # An unresolved address (a container's stripped library) names nothing.
    return None if symbol.startswith("0x") else f"{match.group(2)}: {symbol}"


def perf_top(data: Path, top: int = 8) -> list[tuple[str, float]]:
    """The symbols with the most samples (self) in a ``perf record`` file: [(dso: symbol, %)]."""
    return _perf_report(data, "dso,symbol", _PERF_LINE, _symbol, top)


def describe_perf(symbols: list[tuple[str, float]], n: int = 5) -> str:
    return "perf, most self time: " + ", ".join(f"{s} {p}%" for s, p in symbols[:n])


_DSO_LINE = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s*$")


def perf_dso(data: Path, top: int = 6) -> list[tuple[str, float]]:
    """Share of samples per binary or library (kernel, libcrypto, libssl, nginx, libc...)."""
    return _perf_report(data, "dso", _DSO_LINE, lambda m: m.group(2), top)


def describe_dso(dsos: list[tuple[str, float]], n: int = 5) -> str:
    return ", ".join(f"{dso} {p}%" for dso, p in dsos[:n])
